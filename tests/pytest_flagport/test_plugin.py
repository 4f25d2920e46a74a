"""Session-wide behaviour: options, the pass-all switch, dead overrides, pytest-xdist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

FORCING_TESTS = """
import flagport as fm
from flagport import User

U = User(user_id="42")

def test_evaluates_what_it_forces(flagport):
    flagport.force_gate("used", False)
    assert fm.check_gate(U, "used") is False

def test_forces_a_gate_it_never_reads(flagport):
    flagport.force_gate("used", True)
    flagport.force_config("forgotten_config", {"a": 1})
    assert fm.check_gate(U, "used") is True

def test_fails_before_reading(flagport):
    flagport.force_gate("never_reached", True)
    raise AssertionError("failed first")
"""


def test_pass_all_gates_covers_every_client_for_the_whole_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import flagport as fm
        from flagport import Flagport, User

        U = User(user_id="42")
        BUILT_AT_IMPORT = Flagport.from_settings()

        def test_without_the_fixture():
            assert "FLAGPORT_PROVIDER" not in os.environ  # settings, not the environment
            assert fm.check_gate(U, "anything") is True
            assert BUILT_AT_IMPORT.check_gate(U, "anything_else") is True
            assert Flagport.from_settings().provider_name == "passall"

        def test_forcing_still_wins(flagport):
            flagport.force_gate("anything", False)
            assert BUILT_AT_IMPORT.check_gate(U, "anything") is False
        """
    )
    result = pytester.runpytest("--flagport-pass-all-gates")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["flagport: provider passall, strict, all gates pass"])

    ini = pytester.runpytest("-o", "flagport_pass_all_gates=true")
    ini.assert_outcomes(passed=2)


def test_without_options_the_session_environment_is_untouched(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os

        def test_environment():
            assert "FLAGPORT_PROVIDER" not in os.environ
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "flagport:" not in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--flagport-pass-all-gates", "--flagport-provider", "local"],
            "*--flagport-pass-all-gates runs every test on the 'passall' provider, but the "
            "provider is set to 'local'; drop one of the two options",
        ),
        (
            ["--flagport-provider", "lcoal"],
            "*flagport: unknown provider 'lcoal'; installed providers: *local*passall*",
        ),
        (
            ["--flagport-option", "gate_value"],
            "*--flagport-option: 'gate_value' is not KEY=VALUE; write e.g. path=flags.yaml",
        ),
        (["--flagport-option", "gate_vlaue=1"], "*did you mean 'gate_value'?*"),
        (
            ["-o", "flagport_dead_overrides=loud"],
            "*flagport_dead_overrides is 'loud'; use one of report, error, off",
        ),
        (
            ["--flagport-known-flags", "missing.yaml"],
            "*missing.yaml: cannot read the flagport known flags file (No such file or directory)*",
        ),
    ],
)
def test_bad_options_stop_the_run_with_the_fix(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    pytester.makepyfile("def test_never_runs():\n    raise AssertionError\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_dead_overrides_are_reported_once_at_the_end(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(FORCING_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*= flagport: dead overrides =*",
            "1 forced flag(s) never evaluated by their test (the override does nothing: "
            "remove it, or fix the flag name):",
            "  config 'forgotten_config' in test_dead_overrides_are_reported_once_at_the_end.py"
            "::test_forces_a_gate_it_never_reads",
        ]
    )
    # A failed test may not have reached its evaluations: it is not reported.
    assert "gate 'never_reached' in" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_dead_overrides_can_fail_the_run_or_be_ignored(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(FORCING_TESTS.split("def test_fails_before_reading")[0])

    error = pytester.runpytest("--flagport-dead-overrides=error")
    error.assert_outcomes(passed=2)
    assert error.ret == pytest.ExitCode.TESTS_FAILED
    error.stdout.fnmatch_lines(
        ["*config 'forgotten_config' in *", "the run fails: flagport_dead_overrides is 'error'"]
    )

    off = pytester.runpytest("-o", "flagport_dead_overrides=off")
    off.assert_outcomes(passed=2)
    assert off.ret == pytest.ExitCode.OK
    assert "dead overrides" not in off.stdout.str()


def test_parallel_workers_keep_their_forced_values_apart(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each test forces its own value for the same gate and checks that no other
    # test's value shows through, across workers and within one worker.
    # Only built-in providers are needed: spare the workers importing vendor SDKs.
    monkeypatch.setenv("FLAGPORT_DISABLE_PLUGINS", "1")
    tests = "\n".join(
        f"""
def test_value_{i}(flagport):
    flagport.force_gate("shared", {i % 2 == 0})
    flagport.force_config("who", {{"test": {i}}})
    for _ in range(50):
        assert fm.check_gate(U, "shared") is {i % 2 == 0}
        assert fm.get_config(U, "who").get("test") == {i}
    fm.log_event(U, "done", {i})
    flagport.assert_logged("done", value={i}, times=1)
"""
        for i in range(8)
    )
    pytester.makepyfile(
        "import flagport as fm\nfrom flagport import User\nU = User(user_id='1')\n"
        + tests
        + "\ndef test_dead(flagport):\n    flagport.force_gate('unused_in_worker', True)\n"
    )
    result = pytester.runpytest_subprocess("-n", "2", "--flagport-dead-overrides=error")
    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines(
        [
            "*= flagport: dead overrides =*",
            "  gate 'unused_in_worker' in test_parallel_workers_keep_their_forced_values_apart.py"
            "::test_dead",
            "the run fails: flagport_dead_overrides is 'error'",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_the_docs_name_only_options_that_exist(pytester: pytest.Pytester) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "pytest.md").read_text()
    help_text = pytester.runpytest("--help").stdout.str()
    flags = set(re.findall(r"--flagport-[a-z-]+[a-z]", docs))
    inis = set(re.findall(r"\bflagport_[a-z_]+[a-z]\b", docs)) - {"flagport_matrix"}
    assert flags >= {"--flagport-provider", "--flagport-pass-all-gates"}
    assert inis >= {"flagport_strict", "flagport_dead_overrides"}
    documented_in_help = {name for name in flags | inis if name in help_text}
    assert documented_in_help == flags | inis
