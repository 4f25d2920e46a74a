from __future__ import annotations

import json
import math
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest

from flagport.reasons import ErrorCode
from flagport.results import (
    MAX_VALUE_DEPTH,
    ConfigResult,
    Evaluations,
    ExperimentResult,
    FrozenDict,
    freeze,
    thaw,
)


class Level(IntEnum):
    LOW = 1
    HIGH = 2


def config(**value: Any) -> ConfigResult:
    return ConfigResult(name="pricing", value=freeze(value))


@pytest.mark.parametrize(
    ("stored", "default", "expected"),
    [
        # a number default takes the stored number as it is: int stays int, float float
        (0.2, 0, 0.2),
        (9.99, 0, 9.99),
        (-0.7, 0, -0.7),
        (3, 0.0, 3),
        (7, 0, 7),
        (2.5, Level.LOW, 2.5),
        (2, Level.LOW, 2),
        (10**30, 0, 10**30),
        # bool is not a number: neither way
        (True, 0, 0),
        (1, False, False),
        (0.0, True, True),
        (False, True, False),
        # anything else: the stored value when it is of the default's type
        ("blue", "gray", "blue"),
        (3, "gray", "gray"),
        ("3", 0, 0),
        ({"a": 1}, {}, FrozenDict({"a": 1})),
        ([1, 2], [], (1, 2)),
        ("x", [], []),
        (None, 0, 0),
        ("blue", None, "blue"),
    ],
)
def test_get_keeps_stored_numbers_and_types(stored: Any, default: Any, expected: Any) -> None:
    found = config(key=stored).get("key", default)
    assert found == expected
    assert type(found) is type(expected)


@pytest.mark.parametrize("stored", [math.inf, -math.inf])
def test_get_serves_infinities_with_any_number_default(stored: float) -> None:
    # int(inf) raised OverflowError
    assert config(price=stored).get("price", 0) == stored
    assert config(price=stored).get("price", 0.0) == stored


def test_get_serves_nan_with_an_int_default() -> None:
    # int(nan) raised ValueError
    assert math.isnan(config(price=math.nan).get("price", 0))


def test_int_enum_default_is_returned_when_missing() -> None:
    result = config(other=1)
    assert result.get("level", Level.HIGH) is Level.HIGH
    assert result.get("level", 0) == 0


def test_get_with_missing_keys_values_and_odd_keys() -> None:
    assert config().get("missing", 5) == 5
    assert config().get("missing") is None
    assert config(a=1).get(["unhashable"], 5) == 5  # type: ignore[arg-type]
    assert ConfigResult(name="x", value=None).get("a", 1) == 1  # type: ignore[arg-type]


def test_experiment_result_get_follows_the_same_rule() -> None:
    exp = ExperimentResult(name="button", group="big", value=freeze({"size": 1.5}))
    assert exp.get("size", 0) == 1.5
    assert exp.get("size", True) is True


def test_freeze_and_thaw_round_trip() -> None:
    data = {"a": [1, {"b": (2, 3)}], 4: "four"}
    frozen = freeze(data)
    assert isinstance(frozen, FrozenDict)
    assert frozen == {"a": (1, {"b": (2, 3)}), "4": "four"}
    assert thaw(frozen) == {"a": [1, {"b": [2, 3]}], "4": "four"}
    with pytest.raises(TypeError, match="read-only"):
        frozen["x"] = 1


def test_freeze_refuses_a_value_that_refers_to_itself() -> None:
    loop: dict[str, Any] = {"a": [1]}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r"refers to itself at value\['a'\]\[1\]"):
        freeze(loop)
    with pytest.raises(ValueError, match="refers to itself"):
        thaw(loop)


def test_freeze_refuses_values_nested_too_deep() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(3_000):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(ValueError, match=f"deeper than {MAX_VALUE_DEPTH} levels"):
        freeze(deep)
    with pytest.raises(ValueError, match=f"deeper than {MAX_VALUE_DEPTH} levels"):
        thaw(deep)
    shallow: dict[str, Any] = {}
    node = shallow
    for _ in range(MAX_VALUE_DEPTH - 1):
        node["x"] = {}
        node = node["x"]
    assert thaw(freeze(shallow)) == shallow


def test_shared_references_cost_their_size_not_their_paths() -> None:
    # 2**60 paths, 60 distinct nodes: converted once each and shared
    shared: dict[str, Any] = {"leaf": 1}
    for _ in range(60):
        shared = {"a": shared, "b": [shared]}
    frozen = freeze(shared)
    assert frozen["a"] is frozen["b"][0]
    thawed = thaw(frozen)
    assert thawed["a"] is thawed["b"][0]


def test_evaluations_carry_an_error_only_when_there_is_one() -> None:
    ok = Evaluations({}, {}, {})
    assert not ok.is_error
    assert ok.to_dict() == {"gates": {}, "experiments": {}, "configs": {}}
    failed = Evaluations({}, {}, {}, error_code=ErrorCode.INVALID_CONTEXT, error_message="no")
    assert failed.is_error
    assert json.loads(json.dumps(failed.to_dict()))["error_code"] == "INVALID_CONTEXT"


TYPED_GETS = """
from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import Any, assert_type

from flagport import ConfigResult, ExperimentResult


class Level(IntEnum):
    LOW = 1


def check(config: ConfigResult, experiment: ExperimentResult) -> None:
    assert_type(config.get("discount", 0), int | float)
    assert_type(config.get("discount", 0.0), int | float)
    assert_type(experiment.get("level", Level.LOW), int | float)
    assert_type(config.get("beta", False), bool)
    assert_type(config.get("color", "gray"), str)
    assert_type(config.get("tags", ["a"]), Sequence[str])
    assert_type(config.get("limits", {"rps": 1}), Mapping[str, int])
    assert_type(experiment.get("anything"), Any)
"""


def test_type_checkers_see_what_get_can_return(tmp_path: Path) -> None:
    from mypy import api

    snippet = tmp_path / "typed_gets.py"
    snippet.write_text(TYPED_GETS)
    out, err, status = api.run(["--strict", "--no-error-summary", str(snippet)])
    assert status == 0, out + err


SCALAR_VALUES = """
from flagport.results import ConfigResult, ExperimentResult, FrozenDict


def build() -> None:
    ConfigResult(name="limit", value=3)
    ConfigResult(name="color", value="red")
    ConfigResult(name="off", value=None)
    ConfigResult(name="tags", value=("a", "b"))
    ConfigResult(name="nested", value=FrozenDict(a=(1, FrozenDict(b=None))))
    ExperimentResult(name="button", group="b", value="blue")


def narrow(config: ConfigResult) -> str:
    value = config.value
    if isinstance(value, str):
        return value
    return ""
"""


def test_type_checkers_accept_any_json_value(tmp_path: Path) -> None:
    # Rules v2 configs and groups serve scalars and lists, not only mappings.
    from mypy import api

    snippet = tmp_path / "scalar_values.py"
    snippet.write_text(SCALAR_VALUES)
    out, err, status = api.run(["--strict", "--no-error-summary", str(snippet)])
    assert status == 0, out + err


@pytest.mark.parametrize(
    "value", ["red", 3, 0.5, True, None, ("a", 1), freeze({"a": [1, {"b": None}]})]
)
def test_results_with_any_json_value_validate_and_serialise(value: Any) -> None:
    from pydantic import TypeAdapter

    adapter = TypeAdapter(ConfigResult)
    result = ConfigResult(name="c", value=value)
    dumped = json.loads(adapter.dump_json(result))
    assert dumped["value"] == thaw(value)
    assert adapter.validate_python(dumped).value == thaw(value)
    assert result.to_dict()["value"] == thaw(value)
    if not isinstance(value, dict):  # get() on a value that is no mapping finds no key
        assert result.get("a", 7) == 7
