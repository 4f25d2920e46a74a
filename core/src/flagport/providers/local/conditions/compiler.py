"""Conditions (mappings of attribute to test, and logical keys) -> closures.

A compiled condition is called as ``condition(attributes, user)``; see
:data:`~flagport.providers.local.conditions.options.Condition`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flagport.providers.local.conditions.featbit import FEATBIT_OPERATORS, featbit_field
from flagport.providers.local.conditions.operators import ValueCompiler
from flagport.providers.local.conditions.options import (
    Condition,
    ConditionError,
    ConditionOptions,
)
from flagport.providers.local.conditions.segments import Segment
from flagport.providers.local.conditions.statsig import STATSIG_OPERATORS, statsig_field
from flagport.providers.local.conditions.statsig_bucket import (
    compile_user_bucket,
    statsig_custom_id,
    statsig_id_type,
)
from flagport.providers.local.conditions.timing import now_millis
from flagport.providers.local.conditions.values import Predicate, get_path, join, suggest
from flagport.providers.local.featbit_view import featbit_properties, featbit_property
from flagport.providers.local.growthbook_view import growthbook_attributes
from flagport.providers.local.limits import MAX_CONDITION_SIZE, Audit

if TYPE_CHECKING:
    from flagport.user import User

__all__ = ["CONTEXT_KEYS", "LOGICAL_KEYS", "ConditionCompiler", "check_limits"]

LOGICAL_KEYS = ("$or", "$nor", "$and", "$not")
CONTEXT_KEYS = (
    *("$attributes", "$customIds", "$growthbook", "$featbit", "$environment", "$now"),
    *("$passGate", "$failGate", "$inSegment", "$notInSegment", "$userBucket"),
)
_CONDITION_KEYS = (*LOGICAL_KEYS, *CONTEXT_KEYS)
_MAX_REFERENCE_DEPTH = 32  # gate -> gate -> ... beyond this is a cycle: no match
_references = threading.local()  # how deep this thread is in gate references


def _true(attributes: Any, user: Any) -> bool:
    return True


def cond_all(parts: Sequence[Condition]) -> Condition:
    if not parts:
        return _true
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda a, u: first(a, u) and second(a, u)
    chain = tuple(parts)

    # Plain loops rather than all()/any(): no generator per evaluation on the hot path.
    def all_of(attributes: Any, user: Any) -> bool:
        for part in chain:  # noqa: SIM110
            if not part(attributes, user):
                return False
        return True

    return all_of


def cond_any(parts: Sequence[Condition]) -> Condition:
    if not parts:
        return _true  # an empty $or passes, as in GrowthBook (so an empty $nor fails)
    if len(parts) == 1:
        return parts[0]
    chain = tuple(parts)

    def any_of(attributes: Any, user: Any) -> bool:
        for part in chain:  # noqa: SIM110
            if part(attributes, user):
                return True
        return False

    return any_of


def cond_not(part: Condition) -> Condition:
    return lambda a, u: not part(a, u)


class ConditionCompiler(ValueCompiler):
    """Turns a condition mapping into closures; one instance per compile."""

    def __init__(self, options: ConditionOptions) -> None:
        super().__init__(options)
        self.statsig = options.semantics == "statsig"
        self.featbit = options.semantics == "featbit"
        self.generic = False  # compiling a condition on list elements ($elemMatch)
        self.in_featbit = False  # compiling inside $featbit: attributes are FeatBit's
        if self.statsig:
            self.operators = {**self.operators, **STATSIG_OPERATORS}
        elif self.featbit:
            self.operators = {**self.operators, **FEATBIT_OPERATORS}

    def literal(self, expected: Any, *, insensitive: bool = False) -> Predicate:
        if (self.statsig or self.featbit) and not insensitive:
            return self.operator("$eq", expected, "")
        return super().literal(expected, insensitive=insensitive)

    def condition(self, cond: Any, path: str) -> Condition:
        """Compile a whole condition into ``(attributes, user) -> bool``."""
        return cond_all([entry for _, entry in self.entries(cond, path)])

    def element_condition(self, cond: Any, path: str) -> Predicate:
        # Inside $elemMatch each element plays the attributes; context keys have no user.
        outer, self.generic = self.generic, True
        try:
            test = self.condition(cond, path)
        finally:
            self.generic = outer
        return lambda item: test(item, _NO_USER)

    def entries(self, cond: Any, path: str) -> Iterator[tuple[str, Condition]]:
        if not isinstance(cond, Mapping):
            raise ConditionError(
                path, f"a condition must be a mapping of attribute to value, got {cond!r}"
            )
        for key, value in cond.items():
            if not isinstance(key, str):
                raise ConditionError(path, f"condition keys must be strings, got {key!r}")
            yield key, self.entry(key, value, join(path, key))

    def entry(self, key: str, value: Any, path: str) -> Condition:
        if key.startswith("$") and (key in _CONDITION_KEYS or not self.options.lenient):
            return self.keyword(key, value, path)
        return self.attribute(key, value, path)

    def attribute(self, key: str, value: Any, path: str) -> Condition:
        """The test of one attribute (a dot path into nested values)."""
        test = self.value(value, path)
        if self.in_featbit and not self.generic:
            return lambda properties, user: test(featbit_property(properties, key))
        if (self.statsig or self.featbit) and not self.generic:
            lookup = statsig_field(key) if self.statsig else featbit_field(key)
            return lambda attributes, user: test(lookup(attributes, user))
        if "." not in key and not self.generic:
            if isinstance(value, str):
                return lambda attributes, user: attributes.get(key) == value
            return lambda attributes, user: test(attributes.get(key))
        segments = tuple(key.split("."))
        return lambda attributes, user: test(get_path(attributes, segments))

    def keyword(self, key: str, value: Any, path: str) -> Condition:
        if key == "$not":
            return cond_not(self.condition(value, path))
        if key in ("$or", "$nor", "$and"):
            if not isinstance(value, list | tuple):
                raise ConditionError(path, f"{key} takes a list of conditions, got {value!r}")
            parts = [self.condition(sub, f"{path}[{i}]") for i, sub in enumerate(value)]
            if key == "$and":
                return cond_all(parts)
            either = cond_any(parts)
            return either if key == "$or" else cond_not(either)
        if key in CONTEXT_KEYS:
            return self.context(key, value, path)
        if key in ("$savedGroup", "$savedGroups"):
            raise ConditionError(
                path,
                f"{key} (GrowthBook typed saved groups) is not supported; "
                "use {attribute: {$inGroup: segment}}",
            )
        raise ConditionError(
            path,
            f"unknown key {key} at condition level (expected an attribute name or one of "
            f"{', '.join(_CONDITION_KEYS)}; write an attribute whose name starts with $ "
            f'as {{"$attributes": {{"{key}": ...}}}}){suggest(key, _CONDITION_KEYS)}',
        )

    # -- the evaluation context ------------------------------------------------------

    def context(self, key: str, value: Any, path: str) -> Condition:
        if key == "$attributes":
            if not isinstance(value, Mapping):
                raise ConditionError(path, f"$attributes takes a mapping, got {value!r}")
            return cond_all(
                [self.attribute(str(k), v, join(path, str(k))) for k, v in value.items()]
            )
        if key == "$customIds":
            return self.custom_ids(value, path)
        if key == "$growthbook":
            return self.growthbook_view(value, path)
        if key == "$featbit":
            return self.featbit_view(value, path)
        if key == "$environment":
            test = self.value(value, path)
            default = self.options.environment
            return lambda a, user: test(getattr(user, "environment_tier", None) or default)
        if key == "$now":
            test = self.value(value, path)
            return lambda a, user: test(now_millis(user))
        if key in ("$passGate", "$failGate"):
            return self.gate_reference(key, value, path)
        if key == "$userBucket":
            return compile_user_bucket(value, path, self.value)
        return self.segment_reference(key, value, path)

    def custom_ids(self, value: Any, path: str) -> Condition:
        if not isinstance(value, Mapping):
            raise ConditionError(
                path, f"$customIds takes a mapping of id type to test, got {value!r}"
            )
        parts: list[Condition] = []
        absent = "" if self.statsig else None
        for id_type, expected in value.items():
            test = self.value(expected, join(path, str(id_type)))
            # $statsig.<idType> is Statsig's id type as written: user_id is a custom id.
            name = statsig_id_type(str(id_type))
            if name.lower() == "userid":
                # The statsig provider sends a missing user id as "", which Statsig tests.
                def user_id(
                    a: Any, user: User, test: Predicate = test, missing: str | None = absent
                ) -> bool:
                    found = user.user_id
                    return test(missing if found is None else found)

                parts.append(user_id)
                continue

            def unit(a: Any, user: User, name: str = name, test: Predicate = test) -> bool:
                return test(statsig_custom_id(user.custom_ids, name))

            parts.append(unit)
        return cond_all(parts)

    def growthbook_view(self, value: Any, path: str) -> Condition:
        """The condition tested on the attributes the growthbook provider sends."""
        if self.generic:
            raise ConditionError(path, "$growthbook tests the user; it cannot be in $elemMatch")
        test = self.condition(value, path)
        return lambda attributes, user: test(growthbook_attributes(user), user)

    def featbit_view(self, value: Any, path: str) -> Condition:
        """The condition tested on the properties the featbit provider sends, each
        found as FeatBit's SDK finds it."""
        if self.generic:
            raise ConditionError(path, "$featbit tests the user; it cannot be in $elemMatch")
        outer, self.in_featbit = self.in_featbit, True
        try:
            test = self.condition(value, path)
        finally:
            self.in_featbit = outer
        return lambda attributes, user: test(featbit_properties(user), user)

    def gate_reference(self, key: str, value: Any, path: str) -> Condition:
        names = [value] if isinstance(value, str) else value
        if (
            not isinstance(names, list | tuple)
            or not names
            or not all(isinstance(n, str) and n for n in names)
        ):
            raise ConditionError(path, f"{key} takes a gate name or a list of them, got {value!r}")
        known = self.options.flag_names
        for index, name in enumerate(names):
            if known is not None and name not in known:
                where = path if isinstance(value, str) else f"{path}[{index}]"
                raise ConditionError(
                    where,
                    f"{key} names gate {name!r}, which is not defined"
                    f"{suggest(name, sorted(known))}",
                )
        flag_value = self.options.flag_value
        if flag_value is None:
            raise ConditionError(path, f"{key} needs the flags file's gates (not available here)")
        wanted = key == "$passGate"
        gates = tuple(names)

        def passes(attributes: Any, user: User) -> bool:
            # A cycle the compiler missed ends here, as no match, rather than recursing.
            depth = getattr(_references, "depth", 0)
            if depth >= _MAX_REFERENCE_DEPTH:
                return False
            _references.depth = depth + 1
            try:
                return any(bool(flag_value("gate", name, user)) is wanted for name in gates)
            finally:
                _references.depth = depth

        return passes

    def segment_reference(self, key: str, value: Any, path: str) -> Condition:
        segment = self.options.segments.get(value) if isinstance(value, str) else None
        if not isinstance(segment, Segment):
            names = sorted(self.options.segments)
            raise ConditionError(
                path,
                f"{key} names a segment, got {value!r}; defined segments: "
                f"{', '.join(names) or 'none'}"
                + (suggest(value, names) if isinstance(value, str) else ""),
            )
        wanted = key == "$inSegment"
        unit_type = segment.unit

        def in_segment(attributes: Any, user: User) -> bool:
            unit = user.unit(unit_type) if hasattr(user, "unit") else None
            if unit is not None and unit in segment.excluded:
                return not wanted
            if unit is not None and unit in segment.included:
                return wanted
            when = segment.when
            return (when is not None and when(attributes, user)) is wanted

        return in_segment


class _NoUser:
    """The user seen by conditions inside ``$elemMatch`` (no ids, no time, no tier)."""

    user_id = None
    custom_ids: Mapping[str, str] = {}
    custom: Mapping[str, Any] = {}
    private: Mapping[str, Any] = {}
    environment_tier = None
    now = None

    def unit(self, unit_type: str) -> None:
        return None


_NO_USER: Any = _NoUser()


def check_limits(cond: Any, path: str, audit: Audit) -> None:
    """Raise the first limit of :mod:`.limits` the condition breaks, with its place."""
    for where, message in audit.check(cond, path, max_size=MAX_CONDITION_SIZE):
        raise ConditionError(where, message)
