"""Routes: which side serves a flag, and deterministic per-unit ramps.

Each (flag, unit) pair has a fixed point in ``[0, BUCKETS)``; a ramp of *p* % covers
the points below ``p * BUCKETS / 100``. So one flag keeps every unit on the same side
as the percentage grows (a unit served by the new provider at 10 % is still served by
it at 50 %), and different flags ramp independent sets of units.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from flagport.providers.migration.options import NEW, OLD, Side, Stage

if TYPE_CHECKING:
    from flagport.providers.migration.options import MigrationOptions
    from flagport.user import User

__all__ = ["BUCKETS", "Route", "in_ramp", "threshold", "unit_point"]

T = TypeVar("T")

BUCKETS = 10_000
"""Resolution of a ramp: 0.01 %."""

_draw = random.Random().random  # its own stream: sampling leaves the process's alone


def unit_point(flag: str, unit: str) -> int:
    """The unit's position for the flag: the same in every process and every run."""
    digest = hashlib.blake2b(f"{flag}.{unit}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def threshold(percentage: float) -> int:
    """The number of buckets (out of :data:`BUCKETS`) a percentage covers."""
    return max(0, min(BUCKETS, round(percentage * BUCKETS / 100)))


def in_ramp(point: int, covered: int) -> bool:
    """Whether a unit at ``point`` (-1: no unit) is inside a ramp of ``covered`` buckets."""
    return 0 <= point < covered


class Route(Generic[T]):
    """How one flag is served and compared, worked out when the settings change, so an
    evaluation only reads it.

    :param flag: the flag (``None`` for the default route).
    :param ramp_unit: the unit a ramp splits by (``user_id`` or a ``custom_ids`` key).
    :param sample_rate: the share of evaluations compared in a stage that compares.
    :param sides: what each side serves with (the migration provider: its methods by name).
    :ivar side: the side that serves, or ``None`` when the ramp decides per unit.
    :ivar serving: ``sides[side]``, or ``None`` when the ramp decides per unit: an
        evaluation then reads one attribute of the route, not two mappings.
    :ivar compares: whether the stage compares the two sides.
    :ivar sample_rate: the share of this flag's evaluations compared: 0 in a stage that
        does not compare.
    :ivar skip: evaluations left before the next compared one (infinite when none is).
    """

    __slots__ = (
        "cache_key",
        "compares",
        "covered",
        "flag",
        "ramp",
        "ramp_unit",
        "sample_rate",
        "serving",
        "side",
        "sides",
        "skip",
        "stage",
    )

    def __init__(
        self,
        flag: str | None,
        stage: Stage,
        ramp: float | None,
        ramp_unit: str,
        sample_rate: float = 1.0,
        sides: Mapping[Side, T] | None = None,
    ) -> None:
        self.stage = stage
        self.ramp = ramp
        self.flag = flag or ""
        self.ramp_unit = ramp_unit
        self.cache_key = ("flagport.providers.migration.ramp", self.flag)
        self.compares = stage in (Stage.SHADOW, Stage.LIVE)
        self.sample_rate = sample_rate if self.compares else 0.0
        self.covered = 0
        self.side: Side | None = OLD if stage is Stage.FROM else NEW
        if self.compares:
            pct = ramp if ramp is not None else (0.0 if stage is Stage.SHADOW else 100.0)
            self.covered = threshold(pct)
            if self.covered == 0:
                self.side = OLD
            elif self.covered < BUCKETS:
                self.side = None
        self.sides = sides or {}
        self.serving = self.sides.get(self.side) if self.side is not None else None
        self.skip = self.gap()

    def describe(self) -> dict[str, Any]:
        """The flag's stage, and its ramp if it has one, as the evidence shows them."""
        if self.ramp is None:
            return {"stage": self.stage.value}
        return {"stage": self.stage.value, "ramp": self.ramp}

    def gap(self) -> float:
        """How many evaluations go uncompared before the next compared one.

        Comparing each evaluation with probability ``sample_rate`` leaves gaps that
        follow a geometric distribution; drawing the gap once per compared evaluation
        samples exactly like a draw per evaluation, and an uncompared one only counts.
        """
        rate = self.sample_rate
        if rate >= 1.0:
            return 0
        if rate <= 0.0:
            return math.inf
        return int(math.log(1.0 - _draw()) / math.log1p(-rate))

    def unit_side(self, user: User) -> Side:
        """The side a ramp serves this user from (the old one without the unit)."""
        # The point is cached on the user, so a request that evaluates a ramped flag
        # several times hashes once.
        cache = user.provider_cache
        point = cache.get(self.cache_key)
        if point is None:
            unit = user.unit(self.ramp_unit)
            point = cache[self.cache_key] = unit_point(self.flag, unit) if unit else -1
        return NEW if in_ramp(point, self.covered) else OLD

    def unit_serving(self, user: User) -> T:
        """What serves this user while the ramp decides per unit."""
        return self.sides[self.unit_side(user)]


Routing = tuple[dict[str, Route[T]], Route[T]]
"""The routes of the flags with a stage or ramp of their own, and the default route."""


def routing(options: MigrationOptions, sides: Mapping[Side, T]) -> Routing[T]:
    """Every route the options describe."""
    unit, rate = options.ramp_unit, options.sample_rate
    default = Route(None, options.stage, None, unit, rate, sides)
    routes = {
        flag: Route(
            flag, options.stages.get(flag, options.stage), options.ramp.get(flag), unit, rate, sides
        )
        for flag in set(options.stages) | set(options.ramp)
    }
    return routes, default


def moved(before: Routing[T], after: Routing[T]) -> frozenset[str] | None:
    """The flags whose users are served by another side (or another share of them) after
    than before: ``None`` when the default route moved (any flag without a route of its
    own may have), empty when none did. A stage change that keeps the serving side (from
    ``from`` to ``shadow``) or a new sample rate moves nobody."""
    (routes, default), (new_routes, new_default) = before, after
    if _serves(default) != _serves(new_default):
        return None
    return frozenset(
        flag
        for flag in routes.keys() | new_routes.keys()
        if _serves(routes.get(flag, default)) != _serves(new_routes.get(flag, new_default))
    )


def _serves(route: Route[Any]) -> Side | tuple[int, str]:
    """Who the route serves from: a side, or the share of units a ramp gives the new one."""
    return route.side if route.side is not None else (route.covered, route.ramp_unit)
