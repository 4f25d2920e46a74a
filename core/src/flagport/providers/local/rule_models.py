"""The rule model of the flags file, shared by gates, experiments and configs.

A rule has a condition (``when``), optional *prerequisites* (conditions on other
flags' values), optional *bucketing* (who among the matching units it serves: a
``pass_percentage``, an explicit ``range`` and ``filters``, hashed on the rule's
``unit`` with its ``seed`` and ``hash``) and what it *serves*: a ``value``, a
``group`` (experiments) or a ``split`` between variants. ``outside`` says what a unit
outside the rollout, split or filters gets: the next rule, the flag's default, a
value, or a later rule by id.

A rule with only ``when``/``pass_percentage``/``salt``/``value`` means what it meant in
version 1 of the format: a miss serves the default and stops evaluation.

This module and :mod:`flagport.providers.local.models` leave out ``from __future__
import annotations``: pydantic reads their annotations as Python evaluated them, where
it would compile and evaluate each one from its text (about 1.5 ms of a cold start).
"""

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from flagport._field_defaults import new_list
from flagport.providers.local.conditions.options import Semantics

__all__ = [
    "Condition",
    "Definition",
    "FilterDef",
    "HashMode",
    "OutsideDef",
    "Percentage",
    "PrerequisiteDef",
    "RuleDef",
    "SplitDef",
    "SplitStickyDef",
    "Value",
    "VariantDef",
]

HashMode = Literal["statsig", "growthbook", "growthbook_v1", "featbit"]

Condition = Annotated[
    dict[str, Any],
    Field(
        description=(
            "A condition in the MongoDB-style language GrowthBook uses: attribute names "
            "(dot paths allowed) mapped to a value or to operators such as $eq, $in, "
            "$gte, $regex, $vgte, $inGroup, combined with $and/$or/$nor/$not."
        ),
        json_schema_extra={"examples": [{"country": "US"}, {"app_version": {"$vgte": "2.0.0"}}]},
    ),
]


# Any, not pydantic's JsonValue: the compiler's audit checks values (JSON types, finite
# numbers, size) once and reports each problem at its own place.
def _copy_mapping(value: Any) -> Any:
    # As a dict field did: the value's top mapping is a copy, so a YAML alias cycle
    # closes where it did in version 1 and is reported at the same place.
    return dict(value) if isinstance(value, dict) else value


Value = Annotated[
    Any,
    BeforeValidator(_copy_mapping),
    Field(description="A JSON value handed to the application: an object, list or scalar."),
]
Percentage = Annotated[float, Field(ge=0, le=100)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Range = Annotated[
    tuple[Fraction, Fraction],
    Field(description="[start, end) as fractions of the bucket space, 0 <= start <= end <= 1."),
]
UnitName = Annotated[
    str,
    Field(
        min_length=1,
        description=(
            "What is hashed: user_id, a custom_ids key, or an attribute (dot paths into "
            "nested values); numbers become text the way the hash's vendor writes them."
        ),
    ),
]


class Definition(BaseModel):
    """Base of the flags file's models: unknown keys are errors, values immutable."""

    # No inf/nan: JSON cannot write them, so they could not be served or reported.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PrerequisiteDef(Definition):
    """A condition on another flag's value (GrowthBook ``parentConditions``)."""

    flag: str = Field(min_length=1, description="A gate, config or experiment of this file.")
    when: Condition = Field(
        default_factory=lambda: {"value": True},
        description=(
            "Condition on {value: <that flag's value>}; an experiment's value is its "
            "group's value. Defaults to {value: true} (the gate passes)."
        ),
    )
    gate: bool = Field(
        default=False,
        description=(
            "True: when it fails the whole flag serves its default at once (GrowthBook's "
            "gating prerequisite); false: only this rule is skipped."
        ),
    )


class FilterDef(Definition):
    """A bucket set the unit must fall in (GrowthBook filters and namespaces, Statsig
    layers): the unit's position for ``seed`` lies in one of ``ranges``."""

    unit: UnitName | None = Field(default=None, description="Defaults to the rule's unit.")
    seed: str = Field(description="The hash seed of the bucket set (a namespace's name).")
    hash: HashMode | None = Field(default=None, description="Defaults to the rule's hash.")
    ranges: list[Range] = Field(min_length=1, description="The ranges that hold the unit.")


class OutsideDef(Definition):
    """What a unit outside a rule's rollout, split or filters is served."""

    value: Value | None = Field(default=None, description="Serve this value.")
    rule: str | None = Field(
        default=None, min_length=1, description="Continue at this later rule (by id)."
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.rule is None) == ("value" not in self.model_fields_set):
            raise ValueError("give exactly one of 'value' or 'rule'")
        return self


class VariantDef(Definition):
    """One variant of a split, with its share: a weight or explicit bucket ranges."""

    group: str | None = Field(
        default=None,
        min_length=1,
        description="The group reported (experiments); its value unless `value` is given.",
    )
    value: Value | None = Field(default=None, description="The value served to the variant.")
    weight: Percentage | None = Field(default=None, description="Share of the split, percent.")
    range: Range | None = Field(default=None, description="Explicit bucket range.")
    ranges: list[Range] | None = Field(
        default=None, description="Several explicit bucket ranges (FeatBit n-way slices)."
    )
    passthrough: bool = Field(
        default=False,
        description="Units assigned here continue to the next rule (GrowthBook passthrough).",
    )


class SplitStickyDef(Definition):
    """How a split other than an experiment's first is bucketed stickily under GrowthBook's
    rules (``sticky_rules: growthbook``; the first split takes the experiment's fields):
    each experiment rule of a GrowthBook feature keeps its units under its own key."""

    key: str = Field(min_length=1, description="The stored entry's name (the experiment key).")
    bucket_version: int = Field(default=0, ge=0, description="GrowthBook's bucketVersion.")
    min_bucket_version: int = Field(
        default=0,
        ge=0,
        description="GrowthBook's minBucketVersion (units assigned below it are blocked).",
    )
    fallback_unit: UnitName | None = Field(
        default=None, description="GrowthBook's fallbackAttribute (only with a sticky store)."
    )


class SplitDef(Definition):
    """An n-way split of a rule's units between variants."""

    coverage: Percentage = Field(
        default=100, description="Percent of units in the split (GrowthBook coverage)."
    )
    force: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Index of a variant served to every unit that passes targeting and coverage "
            "(GrowthBook's forced variation)."
        ),
    )
    variants: list[VariantDef] = Field(min_length=1, description="The variants, in order.")
    sticky: SplitStickyDef | Literal[False] | None = Field(
        default=None,
        description=(
            "sticky_rules growthbook, a split after the experiment's first: its own sticky "
            "key and bucket versions, or false (GrowthBook's disableStickyBucketing); "
            "omitted: not sticky."
        ),
    )


class RuleDef(Definition):
    """A rule: condition, prerequisites, bucketing and what it serves."""

    # A base class: only its subclasses (a gate's, an experiment's, a config's rule) are
    # validated, each with a schema of its own; RuleDef's would be built for nothing.
    model_config = ConfigDict(defer_build=True)

    id: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "Rule id reported in results and exposures; also the default salt. "
            "Defaults to rule_<index> (0-based)."
        ),
    )
    prerequisites: list[PrerequisiteDef] = Field(
        default_factory=new_list,
        description="Conditions on other flags, all of which must hold (checked first).",
    )
    when: Condition | None = Field(
        default=None, description="Who the rule applies to; omitted means everyone."
    )
    semantics: Semantics | None = Field(
        default=None,
        description="Matching semantics of this rule's condition; defaults to the file's.",
    )
    unit: UnitName | None = Field(default=None, description="Defaults to the flag's unit.")
    missing_unit: Literal["outside", "empty"] = Field(
        default="outside",
        description=(
            "A unit without the rule's unit is outside the rollout (outside), or is "
            "hashed as an empty string, as FeatBit does with a missing dispatch key (empty)."
        ),
    )
    seed: str | None = Field(
        default=None,
        min_length=1,
        description="Hash seed for this rule; defaults to the flag's salt (its name).",
    )
    salt: str | None = Field(
        default=None,
        min_length=1,
        description="Statsig's rule salt for pass_percentage; defaults to the id.",
    )
    hash: HashMode | None = Field(default=None, description="Defaults to the flag's.")
    filters: list[FilterDef] = Field(
        default_factory=new_list,
        description="Bucket sets the unit must be in, all of them (namespaces, layers).",
    )
    pass_percentage: Percentage | None = Field(
        default=None, description="Percent of the matched units the rule serves (0-100)."
    )
    range: Range | None = Field(
        default=None, description="Serve units whose bucket lies in [start, end)."
    )
    split: SplitDef | None = Field(default=None, description="Split the units between variants.")
    outside: Literal["next", "default"] | OutsideDef | None = Field(
        default=None,
        description=(
            "For a unit outside the rollout, split or filters: the next rule, the default, "
            "a value or a later rule. Defaults to default (version-1 meaning)."
        ),
    )

    @model_validator(mode="after")
    def _one_rollout(self) -> Self:
        chosen = [
            key for key in ("pass_percentage", "range", "split") if getattr(self, key) is not None
        ]
        if len(chosen) > 1:
            raise ValueError(f"give at most one of {', '.join(chosen)}")
        return self
