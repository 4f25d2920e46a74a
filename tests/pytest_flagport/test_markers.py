"""The ``flagport`` and ``flagport_matrix`` markers."""

from __future__ import annotations

import pytest

from pytest_flagport.markers import matrix_combinations

pytest_plugins = ["pytester"]


def test_matrix_combinations_cover_every_on_off_pair_with_readable_ids() -> None:
    combos, ids = matrix_combinations(["gate_a", "gate_b"])
    assert ids == [
        "gate_a=on-gate_b=on",
        "gate_a=on-gate_b=off",
        "gate_a=off-gate_b=on",
        "gate_a=off-gate_b=off",
    ]
    assert combos[1] == {"gate_a": True, "gate_b": False}
    assert len({tuple(c.items()) for c in combos}) == 4


def test_markers_on_module_class_and_test_closest_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import flagport as fm
        from flagport import User

        U = User(user_id="42")
        pytestmark = pytest.mark.flagport(
            gates={"a": True, "b": True}, configs={"c": {"v": 1}}
        )

        def values():
            return fm.check_gate(U, "a"), fm.check_gate(U, "b"), fm.get_config(U, "c").value

        def test_module_marker_without_the_fixture():
            assert values() == (True, True, {"v": 1})

        @pytest.mark.flagport(gates={"a": False})
        class TestClass:
            def test_class_marker(self):
                assert values() == (False, True, {"v": 1})

            @pytest.mark.flagport(gates={"b": False}, experiments={"x": "blue"})
            def test_closest_marker(self, flagport):
                assert values() == (False, False, {"v": 1})
                assert fm.get_experiment(U, "x").group == "blue"
                flagport.assert_exposed("x", group="blue")

        @pytest.mark.flagport(experiments={"x": {"group": "green", "value": {"n": 2}}})
        def test_experiment_with_parameters():
            values()
            result = fm.get_experiment(U, "x")
            assert (result.group, result.get("n")) == ("green", 2)
        """
    )
    pytester.makepyfile(
        test_unmarked="""
        import flagport as fm
        from flagport import User

        def test_unmarked_tests_are_left_alone():
            fm.set_client(fm.Flagport(provider="passall", gate_value=False))
            assert fm.check_gate(User(user_id="42"), "a") is False
        """
    )
    pytester.runpytest().assert_outcomes(passed=5)


def test_matrix_runs_every_combination_with_readable_ids(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import flagport as fm
        from flagport import User

        U = User(user_id="42")

        @pytest.mark.flagport_matrix("gate_a", "gate_b")
        def test_checkout(request):
            a, b = fm.check_gate(U, "gate_a"), fm.check_gate(U, "gate_b")
            assert request.node.name == (
                f"test_checkout[gate_a={'on' if a else 'off'}-gate_b={'on' if b else 'off'}]"
            )

        @pytest.mark.flagport(gates={"other": False})
        @pytest.mark.flagport_matrix("gate_a")
        @pytest.mark.parametrize("n", [1, 2])
        def test_with_parameters_and_markers(n, flagport, request):
            a = flagport.check_gate(U, "gate_a")
            assert fm.check_gate(U, "other") is False
            assert f"gate_a={'on' if a else 'off'}" in request.node.name
        """
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines_random(
        [
            "*::test_checkout[[]gate_a=on-gate_b=on[]] PASSED*",
            "*::test_checkout[[]gate_a=on-gate_b=off[]] PASSED*",
            "*::test_checkout[[]gate_a=off-gate_b=on[]] PASSED*",
            "*::test_checkout[[]gate_a=off-gate_b=off[]] PASSED*",
        ]
    )


def test_malformed_markers_say_how_to_write_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad_flagport="""
        import pytest

        @pytest.mark.flagport(gates={"a": "yes"})
        def test_gate_value():
            pass

        @pytest.mark.flagport(gate={"a": True})
        def test_keyword():
            pass

        @pytest.mark.flagport(experiments={"x": 3})
        def test_experiment():
            pass
        """,
        test_bad_matrix="""
        import pytest

        @pytest.mark.flagport_matrix()
        def test_empty():
            pass
        """,
    )
    result = pytester.runpytest("--continue-on-collection-errors")
    result.assert_outcomes(errors=4)
    out = result.stdout.str()
    for message in (
        "@pytest.mark.flagport: gates['a'] must be True or False, not 'yes'",
        "@pytest.mark.flagport takes only the keywords gates=, experiments=, configs= "
        "(got ['gate'])",
        "@pytest.mark.flagport: experiments['x'] must be a group name or "
        "{'group': 'blue', 'value': {...}}, not 3",
        "@pytest.mark.flagport_matrix takes gate names, e.g. "
        "@pytest.mark.flagport_matrix('new_checkout', 'dark_mode')",
    ):
        assert message in out
    assert "During handling of the above exception" not in result.stdout.str()


def test_a_malformed_matrix_names_its_test(pytester: pytest.Pytester) -> None:
    # Collection errors are headed by the file alone ("ERROR collecting test_shop.py"):
    # the message did not say which test carried the marker.
    pytester.makepyfile(
        test_shop="""
        import pytest

        def test_fine():
            pass

        @pytest.mark.flagport_matrix("a", 3)
        def test_checkout():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert "test_shop.py::test_checkout: @pytest.mark.flagport_matrix: 3 is not a gate name" in (
        result.stdout.str()
    )


def test_markers_are_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.flagport(gates=*", "@pytest.mark.flagport_matrix(*"])
