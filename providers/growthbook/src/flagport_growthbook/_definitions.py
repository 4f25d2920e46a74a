"""One generation of GrowthBook definitions, ready for lock-free evaluation.

A :class:`Definitions` is built once per payload and never changed afterwards (its
result caches only grow), so a reload swaps one reference and an evaluation never
sees half of an update. It holds the SDK's own evaluation context
(``GlobalContext``), the known names by flagport kind and, per rule, the flagport
reason an answer from that rule carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from growthbook import Feature, FeatureRepository, Options
from growthbook.common_types import GlobalContext
from pydantic import SecretStr

from flagport._changes import changed_names
from flagport.errors import ConfigurationError, Location
from flagport.provider import FlagNames
from flagport.reasons import Reason
from flagport.results import ConfigResult, ExperimentResult, GateResult
from flagport_growthbook._convert import as_mapping
from flagport_growthbook._sticky import identifier_attributes

__all__ = [
    "Definitions",
    "build_definitions",
    "changed_features",
    "decrypt_payload",
    "experiment_groups",
    "features_section",
]


@dataclass(slots=True)
class Definitions:
    """Everything evaluation needs from one payload.

    :ivar context: the SDK's global evaluation context (features, saved groups).
    :ivar names: the flags by flagport kind (each feature in exactly one kind).
    :ivar rule_reasons: flagport reason of a ``force`` rule, by ``(feature, rule id)``.
    :ivar has_rules: features with at least one rule (others are ``STATIC``).
    :ivar version: ``dateUpdated`` of the payload, when it has one.
    :ivar sticky_attributes: the attributes GrowthBook keeps sticky documents for.
    """

    context: GlobalContext
    names: FlagNames
    rule_reasons: dict[tuple[str, str | None], Reason]
    has_rules: frozenset[str]
    version: str | None = None
    sticky_attributes: tuple[str, ...] = ()
    # Results are frozen and depend only on (feature, rule, value), so each distinct
    # one is built once per generation and handed to every caller.
    gates: dict[tuple[str, str | None, bool, str], GateResult] = field(default_factory=dict)
    experiments: dict[tuple[str, str, int, str, bool], ExperimentResult] = field(
        default_factory=dict
    )
    configs: dict[tuple[str, str, int, str, bool], ConfigResult] = field(default_factory=dict)
    #: Each experiment's groups with their values (``experiment_groups``), once built.
    groups: dict[str, Mapping[str, Mapping[str, Any]] | None] = field(default_factory=dict)


def features_section(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The features map of a payload; a bare features map is accepted as well."""
    if "features" in payload and isinstance(payload["features"], Mapping):
        return payload["features"]
    return payload


def _is_experiment_rule(rule: Mapping[str, Any]) -> bool:
    return rule.get("force") is None and (
        rule.get("variations") is not None or rule.get("contextualVariations") is not None
    )


def _values(feature: Mapping[str, Any]) -> list[Any]:
    values = [feature.get("defaultValue")]
    for rule in feature.get("rules") or []:
        if rule.get("force") is not None:
            values.append(rule["force"])
        values.extend(rule.get("variations") or [])
    return [v for v in values if v is not None]


def _force_reason(rule: Mapping[str, Any]) -> Reason:
    coverage = rule.get("coverage")
    partial = (coverage is not None and coverage < 1) or rule.get("range") is not None
    return Reason.SPLIT if partial else Reason.TARGETING_MATCH


#: The payload's sections besides ``features``, each a map (absent: empty).
_SECTIONS = ("savedGroups", "contextualBandits")
#: The rule fields that name a user attribute (a string, or absent).
_ATTRIBUTE_FIELDS = ("hashAttribute", "fallbackAttribute")


def _section(payload: Mapping[str, Any], name: str, wrapped: bool) -> Mapping[str, Any] | None:
    """Section ``name`` of a payload (empty when absent or the payload is a bare features
    map); None when it is there but not a map."""
    value = payload.get(name) if wrapped else None
    if value is None:
        return {}
    return value if isinstance(value, Mapping) else None


def _attribute_problems(rules: list[Any], where: Location) -> list[tuple[Location, str]]:
    """A rule whose attribute name is not a string: the SDK would hash it as a name."""
    return [
        (
            Location(where.source, f"{where.path}[{i}].{name}"),
            f"must be the name of an attribute (a string), not {type(rule[name]).__name__}",
        )
        for i, rule in enumerate(rules)
        for name in _ATTRIBUTE_FIELDS
        if rule.get(name) is not None and not isinstance(rule[name], str)
    ]


def build_definitions(payload: Mapping[str, Any], source: str = "payload") -> Definitions:
    """Parse a decrypted GrowthBook SDK payload into :class:`Definitions`.

    :param source: where the payload came from, for error messages.
    :raises ConfigurationError: a feature or rule is not in GrowthBook's format.
    """
    raw = features_section(payload)
    features: dict[str, Feature] = {}
    problems: list[tuple[Location, str]] = []
    gates: set[str] = set()
    experiments: set[str] = set()
    configs: set[str] = set()
    rule_reasons: dict[tuple[str, str | None], Reason] = {}
    has_rules: set[str] = set()
    prefix = "features." if raw is not payload else ""
    for key, spec in raw.items():
        if not isinstance(spec, Mapping):
            problems.append((Location(source, f"{prefix}{key}"), "a feature must be an object"))
            continue
        try:
            rules = list(spec.get("rules") or [])
            feature = Feature(rules=rules, defaultValue=spec.get("defaultValue"))
            reasons = {
                (key, rule.get("id")): _force_reason(rule)
                for rule in rules
                if rule.get("force") is not None
            }
            is_experiment = any(_is_experiment_rule(r) for r in rules)
            problems.extend(_attribute_problems(rules, Location(source, f"{prefix}{key}.rules")))
        except (TypeError, ValueError, AttributeError) as exc:
            problems.append(
                (Location(source, f"{prefix}{key}.rules"), f"not a GrowthBook rule list: {exc}")
            )
            continue
        features[key] = feature
        rule_reasons.update(reasons)
        if rules:
            has_rules.add(key)
        if is_experiment:
            experiments.add(key)
        elif all(isinstance(v, bool) for v in _values(spec)):
            gates.add(key)
        else:
            configs.add(key)
    sections = {name: _section(payload, name, raw is not payload) for name in _SECTIONS}
    problems.extend(
        (Location(source, name), "must be an object (a map of names), or absent")
        for name, section in sections.items()
        if section is None
    )
    if problems:
        raise ConfigurationError("invalid GrowthBook payload", problems)
    context = GlobalContext(
        options=Options(api_host=None),
        features=features,
        saved_groups=dict(sections["savedGroups"] or {}),
        contextual_bandits=dict(sections["contextualBandits"] or {}),
    )
    version = payload.get("dateUpdated") if raw is not payload else None
    return Definitions(
        context=context,
        names=FlagNames(frozenset(gates), frozenset(experiments), frozenset(configs)),
        rule_reasons=rule_reasons,
        has_rules=frozenset(has_rules),
        version=str(version) if version is not None else None,
        sticky_attributes=identifier_attributes(features),
    )


def experiment_groups(defs: Definitions, name: str) -> Mapping[str, Mapping[str, Any]] | None:
    """The variations of feature ``name``'s experiment rule by key (``meta[i].key``, else
    the index), each with its value; None unless the feature has exactly one."""
    if name in defs.groups:
        return defs.groups[name]
    feature = defs.context.features.get(name)
    rules = [r for r in (feature.rules if feature else ()) if r.variations is not None]
    groups: dict[str, Mapping[str, Any]] | None = None
    if len(rules) == 1 and rules[0].force is None:
        metas = rules[0].meta or []
        groups = {}
        for i, variation in enumerate(rules[0].variations or ()):
            key = metas[i].get("key", str(i)) if i < len(metas) else str(i)
            groups[str(key)] = as_mapping(variation)
    defs.groups[name] = groups
    return groups


def changed_features(old: Definitions | None, new: Definitions) -> set[str] | None:
    """The features whose definitions differ; ``None`` when the saved groups (which any
    feature's conditions may read) changed too. Every feature of ``new`` when there were
    no definitions before (``old`` is None)."""
    if old is None:
        return set(new.context.features)
    before, after = old.context, new.context
    if before.saved_groups != after.saved_groups:
        return None
    return changed_names(
        {name: feature.to_dict() for name, feature in before.features.items()},
        {name: feature.to_dict() for name, feature in after.features.items()},
    )


def decrypt_payload(
    payload: Mapping[str, Any], source: str, key: SecretStr | None
) -> Mapping[str, Any]:
    """``payload`` with its encrypted sections decrypted with ``key`` (a bootstrap, as an
    encrypted SDK connection serves it); unchanged when nothing in it is encrypted.

    :raises ConfigurationError: it is encrypted and ``key`` is missing or wrong.
    """
    encrypted = [k for k in ("encryptedFeatures", "encryptedSavedGroups") if k in payload]
    if not encrypted:
        return payload
    if key is None:
        raise ConfigurationError(
            "growthbook bootstrap is encrypted",
            [
                (
                    Location(source, encrypted[0]),
                    "set decryption_key (FLAGPORT_GROWTHBOOK_DECRYPTION_KEY) "
                    "to the SDK connection's key",
                )
            ],
        )
    data = FeatureRepository().decrypt_response(dict(payload), key.get_secret_value())
    if data is None or "features" not in data:
        raise ConfigurationError(
            "growthbook bootstrap cannot be decrypted",
            [(Location(source, encrypted[0]), "check decryption_key")],
        )
    return data
