"""The ``flagport`` fixture, run in real pytest sessions (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_forced_values_reach_every_client_in_the_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import flagport as fm
        from flagport import Flagport, Reason, User

        U, OTHER = User(user_id="42"), User(user_id="7")

        def test_forcing(flagport):
            from_settings = Flagport.from_settings()
            explicit = Flagport(provider="passall", gate_value=False)
            flagport.force_gate("new_checkout", False)
            flagport.force_gate("beta", True, user_id="42")
            flagport.force_experiment("button_color", group="blue", value={"color": "blue"})
            flagport.force_config("pricing", {"discount": 0.2})
            for client in (flagport, fm, from_settings, explicit):
                assert client.check_gate(U, "new_checkout") is False
                assert client.get_gate(U, "new_checkout").reason is Reason.OVERRIDE
                assert client.get_experiment(U, "button_color").group == "blue"
                assert client.get_experiment(U, "button_color").get("color") == "blue"
                assert client.get_config(U, "pricing").get("discount") == 0.2
            assert explicit.check_gate(U, "beta") is True
            assert explicit.check_gate(OTHER, "beta") is False
            assert fm.get_client() is flagport.client
            assert flagport.client.strict and flagport.client.provider_name == "passall"

        def test_flags_is_the_same_fixture(flags, flagport):
            assert flags is flagport
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_everything_is_restored_after_a_failing_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import flagport
        APP_CLIENT = flagport.Flagport(provider="passall", gate_value=False)
        flagport.set_client(APP_CLIENT)
        """
    )
    pytester.makepyfile(
        """
        import os
        import flagport as fm
        from flagport import User
        from flagport.overrides import global_overrides
        from flagport.settings import load_settings

        U = User(user_id="42")

        def test_fails_while_forcing(flagport):
            flagport.force_gate("g", True)
            assert fm.check_gate(U, "g") is True
            assert load_settings().provider == "passall"
            raise AssertionError("boom")

        def test_nothing_leaks_into_the_next_test():
            import conftest
            assert fm.get_client() is conftest.APP_CLIENT
            assert fm.check_gate(U, "g") is False
            assert "FLAGPORT_PROVIDER" not in os.environ
            assert load_settings().provider == "local"  # the default again
            assert not global_overrides.gates.table
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: boom*"])


def test_events_from_every_client_are_captured_and_asserted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import flagport as fm
        from flagport import Flagport, User

        U = User(user_id="42")
        APP = Flagport(provider="passall")  # lives across tests, like an app's client

        def test_logged(flagport):
            flagport.log_event(U, "purchase", 9.99, {"sku": "A1", "qty": 2})
            fm.log_event(U, "signup")
            APP.log_event(User(user_id="7"), "refund", "full")
            flagport.force_experiment("button_color", group="blue")
            APP.get_experiment(U, "button_color")
            names = [e.name for e in flagport.custom_events]
            assert names == ["purchase", "signup", "refund"]
            assert [e.group for e in flagport.exposure_events] == ["blue"]
            flagport.assert_logged("purchase", value=pytest.approx(9.99), metadata={"sku": "A1"})
            flagport.assert_logged("signup", user_id="42", times=1)
            flagport.assert_logged("refund", value="full", user_id="7")
            flagport.assert_exposed("button_color", group="blue", user_id="42", times=1)
            flagport.assert_not_logged("purchase", user_id="7")
            flagport.clear_events()
            assert flagport.events == []

        def test_exposures_are_not_deduplicated_across_tests(flagport):
            flagport.force_experiment("button_color", group="blue")
            APP.get_experiment(U, "button_color")
            APP.get_experiment(U, "button_color")
            flagport.assert_exposed("button_color", group="blue", times=1)
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_failed_event_assertions_show_what_was_logged(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from flagport import User

        U = User(user_id="42")

        def test_wrong_event(flagport):
            flagport.log_event(U, "purchase", 5.0, {"sku": "B2"})
            flagport.log_event(U, "signup")
            flagport.assert_logged("purchase", value=9.99, metadata={"sku": "A1"})

        def test_wrong_group(flagport):
            flagport.force_experiment("button_color", group="green")
            flagport.get_experiment(U, "button_color")
            flagport.assert_exposed("button_color", group="blue")

        def test_nothing_logged(flagport):
            flagport.assert_logged("purchase")

        def test_too_many(flagport):
            flagport.log_event(U, "signup")
            flagport.log_event(U, "signup")
            flagport.assert_logged("signup", times=1)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(
        [
            '>*flagport.assert_logged("purchase", value=9.99, metadata={"sku": "A1"})',
            "E*AssertionError: no custom event 'purchase' with value=9.99, metadata "
            "containing {'sku': 'A1'} was logged",
            "E*custom events logged (2):",
            "E*'purchase' value=5.0 metadata={'sku': 'B2'} user_id='42'",
            "E*'signup' value=None metadata={} user_id='42'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E*no exposure 'button_color' with group='blue' was logged",
            "E*exposures logged (1):",
            "E*'button_color' group='green' flag_kind=experiment user_id='42'",
        ]
    )
    result.stdout.fnmatch_lines(
        ["E*no custom event 'purchase' was logged; no custom events were logged at all"]
    )
    result.stdout.fnmatch_lines(
        ["E*custom event 'signup' was logged 2 time(s), expected 1", "E*custom events logged (2):"]
    )
    # The traceback ends in the test, not inside the plugin.
    assert "pytest_flagport/client.py" not in result.stdout.str()


def test_known_flags_file_turns_typos_into_failures(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".yaml",
        known="gates:\n  new_checkout: {}\nexperiments:\n  button_color: {}\nconfigs: [pricing]\n",
    )
    pytester.makepyfile(
        """
        import flagport as fm
        from flagport import User

        U = User(user_id="42")

        def test_typo_in_application_code(flagport):
            fm.check_gate(U, "new_chekout")
            fm.get_config(U, "pricing")

        def test_typo_when_forcing(flagport):
            flagport.force_experiment("buton_color", group="blue")

        def test_known_names(flagport):
            flagport.force_gate("new_checkout", False)
            assert fm.check_gate(U, "new_checkout") is False
            assert fm.get_experiment(U, "button_color").group is None
            fm.get_config(U, "pricing")
        """
    )
    result = pytester.runpytest("--flagport-known-flags", "known.yaml")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*flags evaluated that *known.yaml does not name (strict mode; a typo, or a flag "
            "missing from that file):",
            "*gate 'new_chekout' (did you mean 'new_checkout'?)",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E*FlagNotFoundError: cannot force experiment 'buton_color': *known.yaml has no "
            "such experiment; did you mean 'button_color'?"
        ]
    )
    assert "config 'pricing'" not in result.stdout.str()

    relaxed = pytester.runpytest(
        "--flagport-known-flags", "known.yaml", "-o", "flagport_strict=false"
    )
    relaxed.assert_outcomes(passed=3)


def test_an_anonymous_request_is_served_defaults_as_in_production(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        from wsgiref.util import setup_testing_defaults

        import pytest
        import flagport as fm
        from flagport import ErrorCode, FlagNotFoundError, Reason, User
        from flagport.middleware import FlagportWSGIMiddleware

        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            fm.log_event("page_view")
            return [b"new" if fm.check_gate("new_checkout") else b"old"]

        def user_from_environ(environ):
            user_id = environ.get("HTTP_X_USER_ID")
            return User(user_id=user_id) if user_id else None

        application = FlagportWSGIMiddleware(app, user_from_environ)

        def get(**headers):
            environ = {f"HTTP_{k.upper()}": v for k, v in headers.items()}
            setup_testing_defaults(environ)
            return b"".join(application(environ, lambda status, headers: None))

        def test_anonymous_and_signed_in(flags):
            assert flags.strict
            assert get() == b"old"
            assert get(x_user_id="42") == b"new"
            assert [e.user.user_id for e in flags.custom_events] == ["42"]

        def test_the_absent_user_has_a_reason(flags):
            for result in (fm.get_gate("g"), fm.get_experiment("e"), fm.get_config("c")):
                assert result.reason is Reason.ERROR
                assert result.error_code is ErrorCode.INVALID_CONTEXT
            assert fm.get_gate("g", default=True).value is True
            assert flags.get_config(None, "c", default={"n": 1}).get("n") == 1

        def test_strict_still_rejects_an_invalid_user(flags):
            with pytest.raises(fm.InvalidContextError):
                flags.check_gate(42, "g")
        """
    )
    pytester.runpytest().assert_outcomes(passed=3)


def test_a_client_the_test_set_up_is_shut_down_when_the_fixture_restores(
    pytester: pytest.Pytester,
) -> None:
    flags = "gates:\n  beta: {rules: [{pass_percentage: 100}]}\n"
    (pytester.path / "set_up_by_a_test.yaml").write_text(flags)
    pytester.makepyfile(
        """
        import threading

        import flagport as fm

        made = []

        def watchers():
            # This file's: a worker runs other tests' clients too.
            name = "flagport-local-watch:set_up_by_a_test.yaml"
            return [t for t in threading.enumerate() if t.name == name]

        def test_sets_up_its_own_client(flagport):
            made.append(fm.setup(provider="local", path="set_up_by_a_test.yaml", watch=True))
            assert fm.check_gate({"user_id": "1"}, "beta")
            assert watchers()

        def test_it_was_shut_down_when_the_fixture_put_the_previous_client_back():
            assert made[0].closed
            assert watchers() == []
            assert fm.get_client() is not made[0]

        def test_a_client_installed_with_set_client_stays_its_owners(flagport):
            made.append(fm.Flagport(provider="passall"))
            fm.set_client(made[-1])

        def test_it_was_left_running():
            assert not made[-1].closed
            made[-1].shutdown()
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=4)
