"""What a condition is compiled with, and what compiling it produces."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from flagport.providers.local.conditions.segments import Segment
    from flagport.user import User

__all__ = ["SEMANTICS", "Condition", "ConditionError", "ConditionOptions", "Semantics"]

Semantics = Literal["growthbook", "statsig", "featbit"]
SEMANTICS: tuple[str, ...] = ("growthbook", "statsig", "featbit")

Condition = Callable[[Mapping[str, Any], "User"], bool]
"""A compiled condition: ``(user.attributes, user) -> match``. Never raises.

The attributes come first because nearly every test reads only them, and the rule
evaluator already holds them; the user is there for custom ids, the environment tier,
the current time and references to other flags.
"""


class ConditionError(ValueError):
    """A condition that cannot be compiled.

    :ivar path: where in the condition, e.g. ``"country.$inn"`` or ``"$or[1].plan"``.
    :ivar message: what is wrong and how to fix it.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class ConditionOptions:
    """Everything a condition may refer to besides the user, fixed at compile time.

    :ivar semantics: whose matching rules apply: ``growthbook`` (the default),
        ``statsig`` or ``featbit`` (coercion, case, version comparison).
    :ivar segments: named segments for ``$inGroup`` / ``$inSegment``.
    :ivar flag_value: ``(kind, name, user) -> value`` of another flag, bound late by
        the rule compiler; ``$passGate`` calls it with kind ``"gate"``.
    :ivar flag_names: the gates that exist, so a reference to another name is refused
        with its place; None accepts any name.
    :ivar environment: the environment tier when the user carries none.
    :ivar lenient: evaluate what GrowthBook accepts in a vendor payload instead of
        refusing it as a typo: an unknown ``$`` key at condition level is an attribute
        name, an unknown operator never matches, an unknown saved group is empty.
    """

    semantics: Semantics = "growthbook"
    segments: Mapping[str, Segment | Collection[Any]] = field(default_factory=dict)
    flag_value: Callable[[str, str, User], Any] | None = None
    flag_names: Collection[str] | None = None
    environment: str | None = None
    lenient: bool = False
