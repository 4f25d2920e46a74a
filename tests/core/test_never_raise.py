"""Evaluation never raises into application code (issue 12).

Every public call of the client and of the module-level shortcuts, on every built-in
provider (``local``, ``passall``, ``migration`` both ways between them), gets odd
users, names, defaults and event values drawn by hypothesis, hostile ones included
(self-referencing and 3,000-deep structures, a megabyte of text, lone surrogates,
wrong types). Without ``strict`` nothing raises and a result built from input that
cannot be evaluated carries an error code; with ``strict`` only
:class:`~flagport.FlagportError` subclasses raise. A ``local`` provider whose flags
file cannot be loaded (however hostile the file) serves defaults the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hostile_values import deep, self_referencing, shared
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flagport
from flagport import (
    ConfigResult,
    ErrorCode,
    Evaluations,
    ExperimentResult,
    Flagport,
    FlagportError,
    GateResult,
    Reason,
    User,
)
from flagport.user import as_user

FLAGS: dict[str, Any] = {
    "segments": {"beta": ["1", "2"]},
    "gates": {
        "new_checkout": {
            "rules": [
                {"id": "us", "when": {"country": "US"}},
                {"id": "beta", "when": {"user_id": {"$inGroup": "beta"}}},
                {"id": "rollout", "pass_percentage": 50},
            ]
        }
    },
    "experiments": {
        "button_color": {
            "groups": [
                {"name": "control", "weight": 50, "value": {"color": "gray"}},
                {"name": "blue", "weight": 50, "value": {"color": "blue"}},
            ]
        }
    },
    "configs": {
        "pricing": {
            "default": {"discount": 0},
            "rules": [{"id": "pro", "when": {"plan": "pro"}, "value": {"discount": 0.1}}],
        }
    },
}

PROVIDERS: dict[str, dict[str, Any]] = {
    "local": {"provider": "local", "flags": FLAGS},
    "passall": {"provider": "passall"},
    "migration-local-to-passall": {
        "provider": "migration",
        "from": {"provider": "local", "flags": FLAGS},
        "to": {"provider": "passall"},
        "stage": "shadow",
        "compare_on": "caller",
    },
    "migration-passall-to-local": {
        "provider": "migration",
        "from": {"provider": "passall"},
        "to": {"provider": "local", "flags": FLAGS},
        "stage": "live",
        "compare_on": "caller",
    },
}


# -- hostile values ------------------------------------------------------------------------


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__

    def __bool__(self) -> bool:
        raise RuntimeError("no truth value")


HUGE = "x" * 1_000_000
UNICODE = "ünï\u0000\ud800😀\u202e"
HOSTILE = [
    None,
    0,
    -1,
    2**80,
    1.5,
    math.nan,
    math.inf,
    True,
    b"bytes",
    object(),
    Unprintable(),
    HUGE,
    UNICODE,
    "",
    [1, [2]],
    ("t",),
    {1, 2},
    self_referencing(),
    deep(),
    shared(),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
odd_values = st.one_of(json_values, st.sampled_from(HOSTILE))

odd_users = st.one_of(
    st.builds(
        User,
        user_id=st.one_of(st.none(), st.text(max_size=10), st.sampled_from(["1", HUGE])),
        country=st.one_of(st.none(), st.sampled_from(["US", UNICODE])),
        custom=st.dictionaries(st.text(max_size=5), odd_values, max_size=2),
        private=st.dictionaries(st.text(max_size=5), odd_values, max_size=2),
    ),
    st.dictionaries(
        st.one_of(
            st.sampled_from(["user_id", "country", "custom", "private", "custom_ids", "plan"]),
            st.text(max_size=5),
            st.integers(),
            st.none(),
        ),
        odd_values,
        max_size=4,
    ),
    st.sampled_from(
        [
            {"custom": [{None: "x"}]},
            {"user_id": "1", "custom": {"loop": self_referencing()}},
            {"user_id": "1", "private": {"deep": deep()}},
            {"user_id": "1", "custom": {"shared": shared()}},
            {"user_id": HUGE, "country": HUGE},
            {"user_id": ["1"]},
            {"user_id": 7, "custom_ids": {"company_id": 5}},
            {"app_version": "not.a.version", "email": UNICODE},
            self_referencing(),
        ]
    ),
    st.sampled_from(HOSTILE),
)
odd_names = st.one_of(
    st.sampled_from(["new_checkout", "button_color", "pricing", "new_checkout "]),
    st.text(max_size=30),
    st.sampled_from(HOSTILE),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
odd_defaults = st.one_of(st.none(), st.booleans(), json_values, st.sampled_from(HOSTILE))

HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _is_valid_user(user: Any) -> bool:
    try:
        as_user(user)
    except FlagportError:
        return False
    return True


# -- the calls ------------------------------------------------------------------------------


Call = tuple[str, Callable[[], Any]]


def _calls(fp: Flagport, user: Any, name: Any, default: Any) -> Iterator[Call]:
    """Every public call with these arguments, as (label, thunk)."""
    yield "check_gate", lambda: fp.check_gate(user, name, default=default)
    yield "get_gate", lambda: fp.get_gate(user, name, default=default)
    yield "get_experiment", lambda: fp.get_experiment(user, name, default=default)
    yield "get_config", lambda: fp.get_config(user, name, default=default, expose=False)
    yield "log_event", lambda: fp.log_event(user, name, default, default)
    yield "log_exposure", lambda: fp.log_exposure(user, name)
    yield "evaluate_all", lambda: fp.evaluate_all(user)
    yield "override_gate", lambda: fp.override_gate(name, default, user_id=user)
    yield "override_experiment", lambda: fp.override_experiment(name, name, default, user_id=user)
    yield "override_config", lambda: fp.override_config(name, default)
    yield "override_user", lambda: fp.override_gate("new_checkout", True, user_id=name)
    yield "overridden_get_gate", lambda: fp.get_gate(user, "new_checkout")
    yield "overridden_get_config", lambda: fp.get_config(user, name, default=default)
    yield "clear_overrides", lambda: fp.clear_overrides(name)
    yield "clear_all_overrides", fp.clear_overrides

    def in_scope() -> list[Any]:
        with flagport.bind_client(fp), fp.scope(user):
            return [
                flagport.check_gate(name, default=default),
                flagport.get_gate(name, default=default),
                flagport.get_experiment(name, default=default),
                flagport.get_config(name, default=default),
                flagport.evaluate_all(),
                flagport.log_event(name, value=default, metadata=default),
            ]

    def shortcuts() -> list[Any]:
        with flagport.bind_client(fp):
            return [
                flagport.check_gate(user, name, default=default),
                flagport.get_gate(user, name, default=default),
                flagport.get_experiment(user, name, default=default),
                flagport.get_config(user, name, default=default),
                flagport.evaluate_all(user),
                flagport.log_event(user, name, default, default),
                flagport.check_gate(user),  # the name forgotten
            ]

    yield "scope", in_scope
    yield "shortcuts", shortcuts

    def result_methods() -> list[Any]:
        results = [fp.get_experiment(user, name), fp.get_config(user, name)]
        return [(r.get(name, default), r.to_dict()) for r in results]

    yield "result_methods", result_methods


def _check_result(result: Any, user: Any, name: Any) -> None:
    """What every returned value must be, whatever the input."""
    if isinstance(result, list):
        for item in result:
            _check_result(item, user, name)
        return
    if isinstance(result, GateResult | ExperimentResult | ConfigResult):
        assert isinstance(result.name, str)
        assert (result.reason is Reason.ERROR) == (result.error_code is not None), result
        if isinstance(result, GateResult):
            assert type(result.value) is bool
        else:
            assert isinstance(result.value, Mapping)
        if not isinstance(name, str) and result.reason is not Reason.OVERRIDE:
            assert result.error_code is not None
        if not _is_valid_user(user):
            assert result.error_code is not None
    elif isinstance(result, Evaluations) and not _is_valid_user(user):
        assert result.error_code is ErrorCode.INVALID_CONTEXT
        assert (result.gates, result.experiments, result.configs) == ({}, {}, {})


_NOTHING_ALLOWED: tuple[type[BaseException], ...] = ()


def _run(label: str, call: Callable[[], Any], allowed: tuple[type[BaseException], ...]) -> Any:
    """``call()``; an exception not in ``allowed`` fails the test, naming the call."""
    try:
        return call()
    except allowed:
        return None
    except BaseException as exc:
        raise AssertionError(f"{label} raised {type(exc).__name__}: {exc!s:.300}") from exc


@pytest.fixture(scope="module", params=list(PROVIDERS))
def clients(request: pytest.FixtureRequest) -> Iterator[tuple[Flagport, Flagport]]:
    """A lenient and a strict client of one provider, shared by the examples."""
    options = PROVIDERS[request.param]
    lenient = Flagport(events={"sinks": ["provider"]}, **options)
    strict = Flagport(strict=True, events={"sinks": ["provider"]}, **options)
    yield lenient, strict
    lenient.shutdown()
    strict.shutdown()


@HYPOTHESIS
@given(user=odd_users, name=odd_names, default=odd_defaults)
def test_nothing_raises_without_strict(
    clients: tuple[Flagport, Flagport], user: Any, name: Any, default: Any
) -> None:
    fp = clients[0]
    for label, call in _calls(fp, user, name, default):
        result = _run(label, call, _NOTHING_ALLOWED)
        if label == "check_gate":
            assert type(result) is bool
        elif label in ("get_gate", "get_experiment", "get_config", "evaluate_all", "scope"):
            _check_result(result, user, name)
    fp.clear_overrides()


@HYPOTHESIS
@given(user=odd_users, name=odd_names, default=odd_defaults)
def test_strict_raises_only_flagport_errors(
    clients: tuple[Flagport, Flagport], user: Any, name: Any, default: Any
) -> None:
    fp = clients[1]
    for label, call in _calls(fp, user, name, default):
        result = _run(label, call, (FlagportError,))
        if label in ("get_gate", "get_experiment", "get_config", "evaluate_all"):
            _check_result(result, user, name)
    fp.clear_overrides()


def test_hostile_values_each_on_every_call(clients: tuple[Flagport, Flagport]) -> None:
    """Every hostile value in every position, not only those hypothesis happens to draw."""
    fp = clients[0]
    for value in HOSTILE:
        for user, name, default in ((value, "new_checkout", None), (None, value, None)):
            for label, call in _calls(fp, user, name, default):
                _run(label, call, _NOTHING_ALLOWED)
        for label, call in _calls(fp, {"user_id": "1"}, "pricing", value):
            _run(label, call, _NOTHING_ALLOWED)
    fp.clear_overrides()


# -- flags files that cannot be loaded -------------------------------------------------------

HOSTILE_FILES: dict[str, str | bytes] = {
    "syntax.yaml": "gates: [unclosed\n",
    "list.yaml": "- just\n- a list\n",
    "empty.yaml": "",
    "binary.yaml": b"\x00\xff\xfe\x80" * 100,
    "self_alias.yaml": "gates: &a\n  g: {rules: [{when: {x: *a}}]}\n",
    "type_list.yaml": "gates:\n  g:\n    rules:\n      - when: {n: {$type: [x]}}\n",
    "digits.yaml": "gates:\n  g:\n    rules:\n      - when: {n: " + "9" * 5_000 + "}\n",
    "nested.json": "[" * 3_000 + "]" * 3_000,
    "nested_not.json": (
        '{"gates": {"g": {"rules": [{"when": ' + '{"$not": ' * 600 + "{}" + "}" * 600 + "}]}}}"
    ),
    "nested.toml": "a = " + "[" * 1_000 + "]" * 1_000 + "\n",
    "regex_groups.yaml": (
        "gates:\n  g:\n    rules:\n      - when: {n: {$regex: '"
        + "(" * 1_000
        + "a"
        + ")" * 1_000
        + "'}}\n"
    ),
    "not_flags.toml": "gates = 5\n",
}


@pytest.fixture(params=[*HOSTILE_FILES, "missing.yaml"])
def hostile_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / str(request.param)
    content = HOSTILE_FILES.get(request.param)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    return path


@pytest.mark.parametrize("migration", [False, True])
def test_a_file_that_cannot_be_loaded_serves_defaults(hostile_file: Path, migration: bool) -> None:
    local = {"provider": "local", "path": str(hostile_file), "watch": False}
    options: dict[str, Any] = (
        {"provider": "migration", "from": local, "to": {"provider": "passall"}, "stage": "shadow"}
        if migration
        else local
    )
    with Flagport(**options) as fp:
        for label, call in _calls(fp, {"user_id": "1"}, "g", None):
            result = _run(label, call, _NOTHING_ALLOWED)
            if label == "check_gate":
                assert result is False  # not loaded, or loaded without a matching rule
            elif label in ("get_gate", "get_experiment", "get_config", "evaluate_all"):
                _check_result(result, {"user_id": "1"}, "g")
    with Flagport(strict=True, **options) as fp:
        for label, call in _calls(fp, {"user_id": "1"}, "g", None):
            _run(label, call, (FlagportError,))
