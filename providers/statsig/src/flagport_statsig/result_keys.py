"""What tells the statsig provider's cached results apart, cheaply.

A result is cached under Statsig's own identity of the answer: the flag, the rule id
(and group), the evaluation details and the definitions' time (``lcut``). Units that
match the same rule can still get two values: a rule with a partial pass percentage
serves its value to the units inside and the spec's default to those outside, under
the same rule id. Serialising the value to tell them apart costs as much as the SDK's
own evaluation for a large config, so the definitions are read once instead
(:func:`build_value_index`):

- a rule that serves one value (a pass percentage of 0 or 100, or the same value as
  the default), and a config's or experiment's ``default``/``disabled`` answer, need
  nothing more than the rule id;
- a partial rollout tells its two values apart by one parameter whose values differ
  (the smallest; they must differ in Python, where ``1`` and ``true`` are equal);
- anything else (a layer rule delegating to an experiment, a local override,
  definitions other than those the index was built from) is told by the value's
  ``repr``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["ValueIndex", "build_value_index"]

_UNKNOWN: Final = object()
_WHOLE: Final = object()  # the whole value tells a rollout's two values apart
_ABSENT: Final = object()  # a parameter one of the two values does not have
#: Rule ids under which a config or experiment serves its default.
_DEFAULT_RULES = ("default", "disabled")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class ValueIndex:
    """(flag name, rule id) -> the values its units can get, for one version of the specs.

    :ivar time: the definitions' time (``lcut``) the index describes.
    """

    __slots__ = ("_values", "time")

    def __init__(
        self, time: int | None = None, values: dict[tuple[str, str], Any] | None = None
    ) -> None:
        self.time = time
        # None: one value; (parameter, inside, outside): how a partial rollout's two
        # values differ.
        self._values: dict[tuple[str, str], Any] = values or {}

    def tell(self, name: str, rule_id: str, details: Any, value: Any) -> Any:
        """What, besides the rule id, identifies ``value`` among the rule's answers.

        :param details: the SDK's evaluation details (its ``lcut`` and ``reason``).
        :returns: None (the rule serves one value), True/False (inside or outside a
            partial rollout) or the value's ``repr`` (not known from the specs).
        """
        known = self.time is not None and details.lcut == self.time
        if known and not details.reason.startswith("LocalOverride"):
            found = self._values.get((name, rule_id), _UNKNOWN)
            if found is None:
                return None
            if type(found) is tuple:
                # The SDK serves one of the two: the parameter that tells them apart
                # decides (or the whole value, when it is not an object).
                param, inside, outside = found
                if param is _WHOLE:
                    part = value
                else:
                    part = value.get(param, _ABSENT) if isinstance(value, dict) else _UNKNOWN
                if part == inside:
                    return True
                if part == outside:
                    return False
        return repr(value)


def _served(value: Any) -> Any:
    # What the SDK's result objects hold: a missing or empty value is {}.
    return value or {}


def build_value_index(specs: Mapping[str, Any]) -> ValueIndex:
    """Read which values each config, experiment and layer rule serves (see the module)."""
    time = specs.get("time")
    values: dict[tuple[str, str], Any] = {}
    repeated: set[tuple[str, str]] = set()
    for section in ("dynamic_configs", "layer_configs"):
        entries = specs.get(section)
        if not isinstance(entries, Mapping):
            continue
        for name, spec in entries.items():
            if not isinstance(spec, Mapping) or not isinstance(name, str):
                continue
            default = _served(spec.get("defaultValue"))
            if section == "dynamic_configs":
                for rule_id in _DEFAULT_RULES:
                    values[(name, rule_id)] = None
            for rule in spec.get("rules") or ():
                found = rule.get("id") if isinstance(rule, Mapping) else None
                if not isinstance(found, str) or rule.get("configDelegate"):
                    continue
                key = (name, found)
                if key in values and found not in _DEFAULT_RULES:
                    repeated.add(key)  # two rules with one id: not told apart here
                values[key] = _rule_values(rule, default)
    for key in repeated:
        values.pop(key, None)
    return ValueIndex(time if isinstance(time, int) else None, values)


def _rule_values(rule: Mapping[str, Any], default: Any) -> Any:
    percentage = rule.get("passPercentage", 100)
    inside = _served(rule.get("returnValue"))
    if not isinstance(percentage, int | float) or isinstance(percentage, bool):
        return _UNKNOWN
    if not 0 < percentage < 100:
        return None  # everyone matching gets the value, or everyone the default
    if _json(inside) == _json(default):
        return None
    return _telling(inside, default)


def _telling(inside: Any, outside: Any) -> Any:
    """(parameter, its value inside, outside): the smallest parameter whose values
    differ in Python (1 and true do not); the whole values when they are not objects;
    unknown when no such parameter exists."""
    if isinstance(inside, Mapping) and isinstance(outside, Mapping):
        best: tuple[int, Any] | None = None
        for param in inside.keys() | outside.keys():
            a, b = inside.get(param, _ABSENT), outside.get(param, _ABSENT)
            if a != b:
                size = len(_json(a if a is not _ABSENT else b))
                if best is None or size < best[0]:
                    best = (size, (param, a, b))
        return _UNKNOWN if best is None else best[1]
    return _UNKNOWN if inside == outside else (_WHOLE, inside, outside)
