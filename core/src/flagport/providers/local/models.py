"""The flags file, as pydantic models.

These models are the single description of the format: the loader validates files
with them, ``flagport schema`` prints their JSON Schema for editors, and
``docs/flags-file.md`` is checked against that schema by a test. Every model forbids
unknown keys, so a typo (``pass_precentage``) is an error rather than a silently
ignored line.

Conditions (``when``) are kept as plain mappings here; their language is checked
when they are compiled (:mod:`flagport.providers.local.conditions`).

No ``from __future__ import annotations`` here (see
:mod:`flagport.providers.local.rule_models`): pydantic reads the annotations as Python
evaluated them.
"""

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
)

from flagport._field_defaults import new_dict, new_list
from flagport.providers.local.conditions.options import Semantics
from flagport.providers.local.conditions.segments import SegmentDef
from flagport.providers.local.rule_models import (
    Condition,
    Definition,
    FilterDef,
    HashMode,
    OutsideDef,
    Percentage,
    PrerequisiteDef,
    RuleDef,
    SplitDef,
    Value,
    VariantDef,
)

__all__ = [
    "HASH_MODES",
    "ConfigDef",
    "ConfigRuleDef",
    "ExperimentDef",
    "ExperimentRuleDef",
    "FilterDef",
    "FlagsFile",
    "GateDef",
    "GateRuleDef",
    "GroupDef",
    "HashMode",
    "NamespaceDef",
    "OutsideDef",
    "PrerequisiteDef",
    "RuleDef",
    "SplitDef",
    "VariantDef",
    "flags_file_schema",
]

HASH_MODES: tuple[str, ...] = ("statsig", "growthbook", "growthbook_v1", "featbit")


def _string_keys(value: Any) -> Any:
    # YAML reads `12: true` with an integer key; ids are strings everywhere else.
    if isinstance(value, dict):
        return {str(k) if isinstance(k, int | float) else k: v for k, v in value.items()}
    return value


def _segment_kind(value: Any) -> str:
    return "definition" if isinstance(value, dict | SegmentDef) else "ids"


# Tagged, so a wrong value is reported against one form, not against both.
SegmentValue = Annotated[
    Annotated[list[str | int | float | bool], Tag("ids")]
    | Annotated[SegmentDef, Tag("definition")],
    Discriminator(_segment_kind),
]
UnitIds = Annotated[dict[str, bool], BeforeValidator(_string_keys)]


class GateRuleDef(RuleDef, defer_build=False):
    """One rule of a gate. The first rule whose `when` holds decides the gate."""

    value: bool = Field(default=True, description="What the gate answers when the rule serves.")


class GateDef(Definition):
    """A feature gate: a boolean decided by ordered rules."""

    description: str | None = Field(default=None, description="Free text for people; not used.")
    enabled: bool = Field(
        default=True, description="False serves False to everyone (reason DISABLED)."
    )
    unit: str = Field(
        default="user_id",
        min_length=1,
        description="The id percentages hash: user_id or a custom_ids key such as company_id.",
    )
    salt: str | None = Field(
        default=None, min_length=1, description="Gate-level hash salt; defaults to the gate name."
    )
    hash: HashMode | None = Field(
        default=None, description="Bucketing algorithm for this gate; defaults to the file's."
    )
    off: bool = Field(
        default=False, description="Served while enabled is false (FeatBit's off variation)."
    )
    overrides: UnitIds = Field(
        default_factory=new_dict,
        description="user_id -> value, decided before any rule (rule_id 'override').",
    )
    rules: list[GateRuleDef] = Field(
        default_factory=new_list, description="Ordered rules; none matching means False."
    )


class ConfigRuleDef(RuleDef, defer_build=False):
    """One rule of a dynamic config; the first matching rule's value is served."""

    value: Value | None = Field(
        default=None, description="The JSON value served when the rule decides (or a split)."
    )


class ExperimentRuleDef(RuleDef, defer_build=False):
    """A rule of an experiment, tried before its groups' split (the implicit last rule)."""

    group: str | None = Field(
        default=None, min_length=1, description="Serve this group (in_experiment false)."
    )
    value: Value | None = Field(
        default=None, description="Serve this value with no group (in_experiment false)."
    )


class GroupDef(Definition):
    """One group (variation) of an experiment."""

    name: str = Field(min_length=1, description="Group name, e.g. control.")
    weight: Percentage = Field(description="Share of allocated units, in percent; all sum to 100.")
    value: Value = Field(default_factory=new_dict)


class NamespaceDef(Definition):
    """A slice of a namespace: experiments in one namespace with disjoint ranges never
    share a unit."""

    name: str = Field(min_length=1, description="Namespace id shared by the exclusive experiments.")
    range: tuple[float, float] = Field(
        description="[start, end) as fractions of the namespace, 0 <= start < end <= 1."
    )


class ExperimentDef(Definition):
    """An experiment: units split into groups by weight."""

    description: str | None = Field(default=None, description="Free text for people; not used.")
    unit: str = Field(
        default="user_id",
        min_length=1,
        description="The bucketing unit: user_id or a custom_ids key such as company_id.",
    )
    salt: str | None = Field(
        default=None, min_length=1, description="Hash salt; defaults to the experiment name."
    )
    hash: HashMode | None = Field(
        default=None, description="Bucketing algorithm for this experiment; defaults to the file's."
    )
    status: Literal["running", "stopped", "launched"] = Field(
        default="running",
        description=(
            "running assigns units; stopped serves the default to everyone (DISABLED); "
            "launched serves the winner's value to everyone (STATIC)."
        ),
    )
    winner: str | None = Field(
        default=None, description="The launched group's name (status launched)."
    )
    allocation: Percentage = Field(
        default=100, description="Percent of eligible units in the experiment."
    )
    when: Condition | None = Field(
        default=None, description="Who is eligible; omitted means everyone with a unit id."
    )
    namespace: NamespaceDef | None = Field(
        default=None, description="Mutual exclusion with others."
    )
    rules: list[ExperimentRuleDef] | None = Field(
        default=None,
        description=(
            "Rules tried before the groups' split, which acts as the last rule; given "
            "without groups, the experiment serves its default when no rule does."
        ),
    )
    groups: list[GroupDef] = Field(
        default_factory=new_list,
        validate_default=True,
        description="The groups, weights summing to 100 (may be empty when rules serve).",
    )
    overrides: Annotated[dict[str, str], BeforeValidator(_string_keys)] = Field(
        default_factory=new_dict, description="Unit id -> group name, decided before bucketing."
    )
    default: Value | None = Field(
        default=None,
        description=("Value for units not in the experiment; omitted means the caller's default."),
    )
    sticky: bool | None = Field(
        default=None,
        description=(
            "true: a unit keeps its stored group (needs a sticky store); false: never stored; "
            "omitted: sticky when the client has sticky settings."
        ),
    )
    sticky_rules: Literal["flagport", "growthbook"] = Field(
        default="flagport",
        description=(
            "flagport: a stored group wins while min_bucket_version <= its version <= "
            "bucket_version; older ones are reassigned. growthbook: GrowthBook's sticky "
            "bucketing: only a group stored at bucket_version wins, and a unit once "
            "assigned below min_bucket_version (default 0) is blocked (gets the default)."
        ),
    )
    fallback_unit: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "The unit bucketed and stored when `unit` is missing (GrowthBook's "
            "fallbackAttribute), e.g. device_id, by the groups and by split rules naming no "
            "unit, while the client has a sticky store; its stored group counts when `unit` "
            "has none."
        ),
    )
    sticky_key: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "The name a unit's stored group is kept under (defaults to the experiment's "
            "name); experiments with the same sticky_key share stored groups, as "
            "GrowthBook's experiment key does across features."
        ),
    )
    bucket_version: int = Field(
        default=0, ge=0, description="Raise it to reassign every unit (sticky experiments)."
    )
    min_bucket_version: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Stored assignments of an older bucket version are discarded (sticky_rules "
            "growthbook: their units are blocked); defaults to bucket_version (growthbook: 0)."
        ),
    )

    @field_validator("groups")
    @classmethod
    def _groups_or_rules(cls, groups: list[GroupDef], info: ValidationInfo) -> list[GroupDef]:
        # `rules` is declared first, so it is known here: None when omitted, absent
        # when it was itself invalid (already reported).
        if not groups and "rules" in info.data and info.data["rules"] is None:
            raise ValueError("an experiment needs groups (or rules that serve); add groups")
        return groups


class ConfigDef(Definition):
    """A dynamic config: a JSON object chosen by ordered rules."""

    description: str | None = Field(default=None, description="Free text for people; not used.")
    unit: str = Field(default="user_id", min_length=1, description="The id percentages hash.")
    salt: str | None = Field(default=None, min_length=1, description="Defaults to the config name.")
    hash: HashMode | None = Field(default=None, description="Defaults to the file's.")
    enabled: bool = Field(default=True, description="False serves `off` to everyone (DISABLED).")
    off: Value | None = Field(
        default=None, description="Served while disabled; defaults to the default."
    )
    default: Value = Field(default_factory=new_dict, description="Served when no rule matches.")
    rules: list[ConfigRuleDef] = Field(
        default_factory=new_list, description="Ordered rules; the first matching rule decides."
    )


class FlagsFile(Definition):
    """A flagport flags file (YAML, JSON or TOML)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        # A non-finite number in a segment is reported by the compiler's audit, once,
        # rather than once per member of the segment's value union.
        allow_inf_nan=True,
        title="flagport flags file",
        populate_by_name=True,
    )

    schema_: str | None = Field(
        default=None, alias="$schema", description="Optional JSON Schema reference, for editors."
    )
    version: Literal[1] = Field(default=1, description="Format version.")
    hash: HashMode | None = Field(
        default=None,
        description=(
            "Default bucketing algorithm: statsig (default), growthbook (hash v2), "
            "growthbook_v1 or featbit, so units keep their buckets when moved from a vendor."
        ),
    )
    semantics: Semantics = Field(
        default="growthbook",
        description=(
            "Whose matching rules conditions follow: growthbook (default), statsig "
            "(numbers and strings coerced, field names case-insensitive, Statsig's "
            "version comparison) or featbit (values compared as text)."
        ),
    )
    strict_conditions: bool = Field(
        default=True,
        description=(
            "False evaluates what a GrowthBook payload accepts instead of refusing it as "
            "a typo: an unknown $ key at condition level is an attribute, an unknown "
            "operator never matches, an unknown segment is empty."
        ),
    )
    segments: dict[str, SegmentValue] = Field(
        default_factory=new_dict,
        description=(
            "Named segments: a list of values for $inGroup / $notInGroup, or a mapping "
            "with hashed_ids (Statsig ID lists) and/or a condition with included and "
            "excluded units, tested with $inSegment."
        ),
    )
    gates: dict[str, GateDef] = Field(
        default_factory=new_dict, description="Feature gates by name (booleans)."
    )
    experiments: dict[str, ExperimentDef] = Field(
        default_factory=new_dict, description="Experiments by name (a group and its parameters)."
    )
    configs: dict[str, ConfigDef] = Field(
        default_factory=new_dict, description="Dynamic configs by name (JSON objects)."
    )


def flags_file_schema() -> dict[str, Any]:
    """The JSON Schema of the flags file (what ``flagport schema`` prints)."""
    schema = FlagsFile.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
