"""Vendor-neutral stickiness: the group any provider served is stored, and a stored
group wins over any provider's later answer.

Reads happen once per request scope (:meth:`Stickiness.prefetch`); writes are queued
and saved behind the request by a :class:`~flagport.events.worker.SinkWorker`, the
same bounded, batched, counted worker the event sinks use. A store that fails never
fails an evaluation: the failure is counted, logged once, and the fresh assignment
is served.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flagport.errors import describe
from flagport.events.settings import EventSettings
from flagport.events.worker import SinkWorker
from flagport.reasons import Reason
from flagport.scope import current_scope
from flagport.sticky.growthbook import apply_growthbook
from flagport.sticky.handover import Handover
from flagport.sticky.policy import DEFAULT_POLICY, StickyPolicy
from flagport.sticky.store import NOT_STORED, Assignment, StickyStore, Write

if TYPE_CHECKING:
    from flagport.results import ExperimentResult, JsonValue
    from flagport.scope import Scope
    from flagport.sticky.settings import StickySettings
    from flagport.user import User

__all__ = ["Renames", "Stickiness", "on_event_loop"]

Renames = tuple[Mapping[str, str], Mapping[str, str]]
"""A provider's group names: (served -> stored, stored -> served)."""

_Memo = tuple["ExperimentResult", "ExperimentResult"]

logger = logging.getLogger("flagport.sticky")
#: Sticky results remembered ((provider result, stored group, version) -> served).
_MEMO_SIZE = 4096


def on_event_loop() -> bool:
    """Whether this thread runs an event loop (a store read would block it)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


#: Seconds waited before each new attempt of a batch the store refused: a store busy
#: for a moment (another process's SQLite write outlasting the busy timeout, a Redis
#: fail-over) loses nothing. A save replaces, so saving a batch twice is harmless.
RETRY_AFTER_S = (0.05, 0.25, 1.0)


class _StoreSink:
    """The store as the worker's sink: a batch of writes is one :meth:`save`, tried
    again after each of :data:`RETRY_AFTER_S` before it counts as failed."""

    name = "sticky"
    wants_models = False

    def __init__(self, store: StickyStore) -> None:
        self.store = store

    def deliver(self, batch: Sequence[Write]) -> None:
        for pause in RETRY_AFTER_S:
            try:
                self.store.save(batch)
            except Exception as exc:
                logger.debug("flagport: sticky store refused a batch (%s); again", describe(exc))
                time.sleep(pause)
            else:
                return
        self.store.save(batch)

    def close(self) -> None:
        """The store outlives the worker (a forked child starts a new worker)."""


def _as_write(record: Any) -> Write:
    unit, experiment, assignment, _name = record
    return unit, experiment, assignment


class Stickiness:
    """One client's sticky assignments: its store, its write queue, its counters.

    :ivar read_failures: store reads that failed (the fresh assignment was served).
    :ivar served: evaluations that served a stored group.
    """

    def __init__(self, store: StickyStore, settings: StickySettings) -> None:
        self.store = store
        self._worker_settings = EventSettings(
            max_queue=settings.max_queue,
            batch_size=settings.batch_size,
            flush_interval=settings.flush_interval,
        )
        self.read_failures = 0
        self.served = 0
        self._logged_down = False
        self._results: dict[tuple[int, str, int], _Memo] = {}
        self._worker = self._new_worker()
        #: The provider's ``sticky_policy(name)``, when it has one (the local provider).
        self.policy: Callable[[str], StickyPolicy | None] | None = None
        #: A migration's sides, each keeping its assignments as it would alone.
        self.handover: Handover | None = None
        #: The migration provider's ``sticky_group_names(user, name)``: stored groups are
        #: named as the new vendor names them.
        self.group_names: Callable[[User, str], Renames | None] | None = None
        #: The provider's ``experiment_groups(name)``: each group's current value.
        self.groups: Callable[[str], Mapping[str, JsonValue] | None] | None = None

    def bind(self, provider: Any) -> None:
        """Ask ``provider`` (now started; None: stopped) for experiments' sticky policies,
        and offer it the store (``attach_sticky(self)``: a provider with sticky
        assignments of its own, such as GrowthBook's, keeps them here)."""
        attach = getattr(provider, "attach_sticky", None)
        if attach is not None:
            attach(self)
        self.policy = getattr(provider, "sticky_policy", None)
        self.handover = None
        sides = getattr(provider, "sides", None)
        if isinstance(sides, Mapping) and hasattr(provider, "serves_new"):
            # A migration: each side keeps its assignments in the store as it would alone.
            for side in sides.values():
                self.bind_side(side)
            self.handover = Handover(provider)
        self.group_names = getattr(provider, "sticky_group_names", None)
        self.groups = getattr(provider, "experiment_groups", None)
        self._results.clear()

    def bind_side(self, side: Any) -> None:
        """Offer the store to one side of a migration (GrowthBook keeps its documents
        there, so both sides of a GrowthBook move read the same assignments)."""
        attach = getattr(side, "attach_sticky", None)
        if attach is not None:
            attach(self)

    def _new_worker(self) -> SinkWorker:
        return SinkWorker(_StoreSink(self.store), self._worker_settings, _as_write)

    # -- reads ------------------------------------------------------------------
    def load(self, unit: str) -> dict[str, Assignment]:
        """``unit``'s stored assignments, or none when the store cannot answer."""
        try:
            return self.store.load(unit)
        except Exception as exc:
            self._read_failed(exc)
            return {}

    async def aload(self, unit: str) -> dict[str, Assignment]:
        """:meth:`load` without blocking the event loop."""
        try:
            return await self.store.aload(unit)
        except Exception as exc:
            self._read_failed(exc)
            return {}

    def _read_failed(self, exc: BaseException) -> None:
        self.read_failures += 1
        if not self._logged_down:
            self._logged_down = True
            logger.warning(
                "flagport: sticky store %r cannot be read (%s); fresh assignments are "
                "served and failures counted in stats()['sticky']",
                self.store.name,
                describe(exc),
            )

    def prefetch(self, active: Scope) -> None:
        """Load the scope's user's assignments into the scope (one round trip)."""
        user = active.user
        if user is not None and user.user_id:
            active.sticky[self, user.user_id] = self.load(user.user_id)

    async def aprefetch(self, active: Scope) -> None:
        user = active.user
        if user is not None and user.user_id:
            active.sticky[self, user.user_id] = await self.aload(user.user_id)

    # -- the evaluation hook ----------------------------------------------------------
    def apply(self, user: User, name: str, result: ExperimentResult) -> ExperimentResult:
        """The stored group of ``user`` in ``name`` if there is one, else ``result``
        (stored, when it is an assignment of the experiment's own).

        A stored group served from the scope's assignments is kept in the scope with the
        provider result it was resolved against: the client's evaluation path serves it
        again while the provider answers with that same result object. A provider builds
        new result objects when its definitions change, so the same result means the
        same policy and the same group values. A migration renames groups per user: its
        results are never kept.
        """
        if result.reason is Reason.OVERRIDE:
            return result  # overrides live above providers and stored groups alike
        if self.handover is not None:
            return self.handover.apply(self, user, name, result)
        policy = DEFAULT_POLICY  # sticky
        if self.policy is not None:
            policy = self.policy(name) or DEFAULT_POLICY
        if not policy.sticky:
            return result
        if policy.growthbook:
            return apply_growthbook(self, policy, user, name, result)
        return self.apply_policy(policy, user, name, result)

    def apply_policy(
        self,
        policy: StickyPolicy,
        user: User,
        name: str,
        result: ExperimentResult,
        handed: Callable[[], Assignment | None] | None = None,
    ) -> ExperimentResult:
        """:meth:`apply` by flagport's rules (``policy``: not GrowthBook's).

        :param handed: () -> the group another side of a migration stored for the user its
            own way (:mod:`flagport.sticky.handover`), asked when he has none here.
        """
        primary, fallback = policy.units(user)
        if primary is None and fallback is None:
            return result  # units without an id are never stored
        own = self.assignments(policy.key(primary)) if primary else {}
        other = (
            self.assignments(policy.key(fallback, fallback=True))
            if fallback and policy.fallback_unit
            else {}
        )
        entry = policy.entry or name  # experiments sharing a key share stored groups
        mine, theirs = own.get(entry), other.get(entry)
        renames = self.group_names(user, name) if self.group_names is not None else None
        # The unit's own stored group wins, else its fallback unit's.
        stored = mine if mine is not None and policy.keeps(mine) else None
        if stored is None and theirs is not None and policy.keeps(theirs):
            stored = theirs
        if stored is None and handed is not None and primary:
            stored = handed()
        if stored is not None:
            kept = stored.group if renames is None else renames[1].get(stored.group, stored.group)
            known, value = self._current_value(name, kept, result, stored)
            if known:
                served = self._served_result(result, kept, value)
                if stored is not mine and primary:
                    # Kept under the unit itself from now on (GrowthBook "upgrades" a
                    # fallback document the same way).
                    self._store(policy, primary, own, entry, stored.group, value)
                active = current_scope()
                if renames is None and active is not None and active.user is user:
                    active.sticky_served[self, name] = (result, served)
                return served
        group = result.group
        if group is not None and result.in_experiment and result.reason not in NOT_STORED:
            if renames is not None:
                group = renames[0].get(group, group)
            if primary:
                self._store(policy, primary, own, entry, group, result.value)
            else:
                unit = fallback or ""
                self._store(policy, unit, other, entry, group, result.value, fallback=True)
        return result

    def _served_result(
        self, result: ExperimentResult, group: str, value: JsonValue
    ) -> ExperimentResult:
        """``result`` serving the stored ``group`` with ``value`` (reason STICKY).

        Building a result costs more than the rest of an evaluation: one per (provider
        result, group, value), shared by every request.
        """
        self.served += 1
        key = (id(result), group, id(value))
        known = self._results.get(key)
        if known is not None and known[0] is result and known[1].value is value:
            return known[1]
        served = replace(result, group=group, value=value, reason=Reason.STICKY, in_experiment=True)
        if len(self._results) >= _MEMO_SIZE:
            self._results.clear()
        self._results[key] = (result, served)
        return served

    def _store(
        self,
        policy: StickyPolicy,
        unit: str,
        assignments: dict[str, Assignment],
        name: str,
        group: str,
        value: JsonValue,
        *,
        fallback: bool = False,
    ) -> None:
        """Store ``group`` for ``unit`` at the policy's version."""
        assignment = Assignment(group, value if value is not None else {}, policy.version)
        assignments[name] = assignment
        self.put((policy.key(unit, fallback=fallback), name, assignment))

    def _current_value(
        self, name: str, group: str, result: ExperimentResult, stored: Assignment
    ) -> tuple[bool, JsonValue]:
        """The experiment's current value of ``group``: the provider's when it serves that
        group now or can tell the group's value, else the value stored with the group.
        ``(False, None)`` when the provider knows the experiment's groups and ``group`` is
        not one of them any more (the stored assignment no longer counts).
        """
        if result.group == group:
            return True, result.value
        groups = self.groups(name) if self.groups is not None else None
        if groups is None:
            return True, stored.value
        if group not in groups:
            return False, None
        return True, groups[group]

    # -- for providers that keep assignments their own way (GrowthBook's service) -----
    def assignments(self, unit: str) -> dict[str, Assignment]:
        """``unit``'s stored assignments: the scope's when it loaded that unit, else read
        from the store (a store that cannot answer gives none)."""
        active = current_scope()
        if active is None:
            return self.load(unit)
        found = active.sticky.get((self, unit))
        if found is None:
            found = active.sticky[self, unit] = self.load(unit)
        return found

    def remember(self, unit: str, name: str, assignment: Assignment) -> None:
        """Store ``assignment`` behind the request (and in the scope, when it holds
        ``unit``, so the rest of the request reads it)."""
        active = current_scope()
        if active is not None and (loaded := active.sticky.get((self, unit))) is not None:
            loaded[name] = assignment
        self.put((unit, name, assignment))

    # -- writes -----------------------------------------------------------------------
    def put(self, write: Write) -> None:
        """Queue a write behind the request (dropped and counted when the queue is full)."""
        worker = self._worker
        if worker.thread is None:
            worker.start()
        if len(worker.queue) >= worker.max_queue:
            worker.refuse(full=True)
            return
        worker.accepted += 1
        worker.queue.append(((*write, write[1]), 0, False))  # type: ignore[arg-type]

    def flush(self, timeout: float = 5.0) -> bool:
        """Save the queued writes within ``timeout`` seconds."""
        worker = self._worker
        if worker.thread is None:
            return True
        return worker.wait(worker.accepted, time.monotonic() + timeout)

    def stats(self) -> dict[str, int]:
        counters = self._worker.stats()
        counters["read_failures"] = self.read_failures
        counters["served"] = self.served
        return counters

    def after_fork_in_child(self) -> None:
        # Plain assignments only (runs inside os.fork()): the parent's thread is gone.
        self.store.after_fork_in_child()
        self._worker = self._new_worker()

    def shutdown(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        worker = self._worker
        if worker.thread is not None:
            worker.stopping = True
            worker.wake.set()
            worker.thread.join(timeout)
        self.store.close()
