"""The plugin over the ``local`` provider and a real flags file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLE_APP = Path(__file__).parents[2] / "examples" / "app"

FLAGS = """
gates:
  new_checkout:
    rules:
      - id: us
        when: {country: US}
experiments:
  button_color:
    groups:
      - {name: control, weight: 50, value: {color: gray}}
      - {name: blue, weight: 50, value: {color: blue}}
configs:
  pricing:
    default: {discount: 0}
    rules:
      - {id: pro, when: {plan: pro}, value: {discount: 0.1}}
"""

TESTS = """
import pytest
import flagport as fm
from flagport import Flagport, FlagNotFoundError, Reason, User

US, DE = User(user_id="1", country="US"), User(user_id="2", country="DE")
PRO = User(user_id="3", custom={"plan": "pro"})
BUILT_AT_IMPORT = Flagport.from_settings()

def test_unforced_flags_follow_the_file(flagport):
    assert flagport.client.provider_name == "local"
    assert fm.check_gate(US, "new_checkout") is True
    assert fm.check_gate(DE, "new_checkout") is False
    assert BUILT_AT_IMPORT.get_config(PRO, "pricing").get("discount") == 0.1
    assert fm.get_experiment(US, "button_color").group in {"control", "blue"}

def test_forced_values_win_over_the_file(flagport):
    flagport.force_gate("new_checkout", True)
    flagport.force_config("pricing", {"discount": 0.5})
    assert BUILT_AT_IMPORT.check_gate(DE, "new_checkout") is True
    assert Flagport.from_settings().get_config(PRO, "pricing").get("discount") == 0.5
    assert fm.get_gate(DE, "new_checkout").reason is Reason.OVERRIDE

@pytest.mark.flagport(gates={"new_checkout": False})
def test_markers_work_the_same():
    assert fm.check_gate(US, "new_checkout") is False

def test_a_misspelt_name_in_application_code(flagport):
    fm.check_gate(US, "new_chekout")

def test_a_misspelt_name_when_forcing(flagport):
    flagport.force_gate("new_chekout", True)
"""


@pytest.fixture
def shop(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yaml", flags=FLAGS)
    pytester.makepyfile(test_shop=TESTS)
    return pytester


def test_a_suite_runs_against_the_flags_file_in_strict_mode(shop: pytest.Pytester) -> None:
    result = shop.runpytest(
        "--flagport-provider",
        "local",
        "--flagport-option",
        "path=flags.yaml",
        "--flagport-option",
        "watch=false",
    )
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(["flagport: provider local, strict"])
    result.stdout.fnmatch_lines(["E*FlagNotFoundError*new_chekout*"])
    result.stdout.fnmatch_lines(
        [
            "E*FlagNotFoundError: cannot force gate 'new_chekout': provider 'local' has no "
            "such gate; did you mean 'new_checkout'?"
        ]
    )
    result.stdout.fnmatch_lines_random(
        [
            "FAILED test_shop.py::test_a_misspelt_name_in_application_code*",
            "FAILED test_shop.py::test_a_misspelt_name_when_forcing*",
        ]
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing.yaml", "missing.yaml: cannot read the flags file (No such file or directory)"),
        ("broken.yaml", "broken.yaml:1 at gates: must map each name to its definition, not list"),
    ],
)
def test_a_flags_file_that_does_not_load_is_one_usage_error(
    shop: pytest.Pytester, path: str, message: str
) -> None:
    # Every test failed with a traceback through flagport's internals, the file's problem
    # at its end, instead of the run stopping once with the problem.
    shop.makefile(".yaml", broken="gates: [oops]\n")
    result = shop.runpytest("--flagport-provider", "local", "--flagport-option", f"path={path}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_misspelt_name_when_forcing_fails_at_the_test_s_line(shop: pytest.Pytester) -> None:
    # The traceback went on through the plugin's force_gate and _check_name.
    result = shop.runpytest(
        "--flagport-provider", "local", "--flagport-option", "path=flags.yaml",
        "-k", "when_forcing",
    )  # fmt: skip
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['>       flagport.force_gate("new_chekout", True)', "E*"])
    assert "pytest_flagport" not in result.stdout.str()
    assert "def _check_name" not in result.stdout.str()


def test_without_strict_mode_a_misspelt_name_serves_the_default(shop: pytest.Pytester) -> None:
    shop.makeini(
        """
        [pytest]
        flagport_provider = local
        flagport_options =
            path=flags.yaml
            watch=false
        flagport_strict = false
        """
    )
    result = shop.runpytest()
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["flagport: provider local, not strict"])


def test_the_sample_application_suite_passes(pytester: pytest.Pytester) -> None:
    shutil.copytree(
        EXAMPLE_APP, pytester.path / "app", ignore=shutil.ignore_patterns("__pycache__")
    )
    result = pytester.runpytest("app", "-v")
    result.assert_outcomes(passed=15)
    result.stdout.fnmatch_lines(["flagport: provider local, strict"])
    result.stdout.fnmatch_lines(
        [
            "*::test_every_combination_of_checkout_and_search_works"
            "[[]new_checkout=on-search_v2=off[]] PASSED*"
        ]
    )
    assert "dead overrides" not in result.stdout.str()


FORCED_GROUPS = """
import pytest
import flagport as fm
from flagport import Reason, User

U = User(user_id="1")

@pytest.mark.flagport(experiments={"button_color": "blue"})
def test_a_forced_group_serves_its_value_from_the_file():
    result = fm.get_experiment(U, "button_color")
    assert (result.group, dict(result.value), result.reason) == (
        "blue", {"color": "blue"}, Reason.OVERRIDE
    )

def test_the_fixture_forces_a_group_with_its_value(flagport):
    flagport.force_experiment("button_color", group="control")
    assert dict(fm.get_experiment(U, "button_color").value) == {"color": "gray"}

@pytest.mark.flagport(experiments={"button_color": {"group": "blue", "value": {"color": "navy"}}})
def test_a_value_given_with_the_group_wins():
    assert fm.get_experiment(U, "button_color").get("color") == "navy"

@pytest.mark.flagport(experiments={"button_color": "purple"})
def test_a_group_the_file_does_not_define():
    fm.get_experiment(U, "button_color")
"""


def test_a_forced_group_takes_its_value_from_the_flags_file(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", flags=FLAGS)
    pytester.makepyfile(test_groups=FORCED_GROUPS)
    args = ("--flagport-provider", "local", "--flagport-option", "path=flags.yaml")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*cannot force experiment 'button_color' into group 'purple': provider 'local' "
            "defines the groups 'control', 'blue'*"
        ]
    )

    relaxed = pytester.runpytest(*args, "-o", "flagport_strict=false")
    relaxed.assert_outcomes(passed=4)


SCALAR_FLAGS = """
experiments:
  page_size:
    groups:
      - {name: small, weight: 50, value: 10}
      - {name: none, weight: 50, value: 0}
configs:
  banner:
    default: hello
"""

FORCED_SCALARS = """
import pytest
import flagport as fm
from flagport import User

U = User(user_id="1")

def test_a_group_with_a_falsy_scalar_value_is_forced(flagport):
    flagport.force_experiment("page_size", group="none")
    result = fm.get_experiment(U, "page_size")
    assert (result.group, result.value) == ("none", 0)

def test_a_scalar_config_is_forced(flagport):
    flagport.force_config("banner", "")
    assert fm.get_config(U, "banner").value == ""

@pytest.mark.flagport(
    configs={"banner": "bye"}, experiments={"page_size": {"group": "small", "value": 25}}
)
def test_markers_force_scalar_values():
    assert fm.get_config(U, "banner").value == "bye"
    assert fm.get_experiment(U, "page_size").value == 25
"""


def test_scalar_groups_and_configs_are_forced(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", flags=SCALAR_FLAGS)
    pytester.makepyfile(test_scalars=FORCED_SCALARS)
    args = ("--flagport-provider", "local", "--flagport-option", "path=flags.yaml")
    pytester.runpytest(*args).assert_outcomes(passed=3)
