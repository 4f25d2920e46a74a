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
from flagport.sticky.policy import DEFAULT_POLICY, StickyPolicy
from flagport.sticky.store import Assignment, StickyStore, Write

if TYPE_CHECKING:
    from flagport.results import ExperimentResult, JsonValue
    from flagport.scope import Scope
    from flagport.sticky.settings import StickySettings
    from flagport.user import User

__all__ = ["Renames", "Stickiness", "on_event_loop"]

Renames = tuple[Mapping[str, str], Mapping[str, str]]
"""A provider's group names: (served -> stored, stored -> served)."""

_Memo = tuple["ExperimentResult", "JsonValue", "ExperimentResult"]

logger = logging.getLogger("flagport.sticky")
#: Sticky results remembered (a provider result and a group -> the result served).
_MEMO_SIZE = 4096
#: Reasons whose group is not the experiment's own assignment, never stored.
_NOT_STORED = frozenset({Reason.ERROR, Reason.OVERRIDE, Reason.STICKY})


def on_event_loop() -> bool:
    """Whether this thread runs an event loop (a store read would block it)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _StoreSink:
    """The store as the worker's sink: a batch of writes is one :meth:`save`."""

    name = "sticky"
    wants_models = False

    def __init__(self, store: StickyStore) -> None:
        self.store = store

    def deliver(self, batch: Sequence[Write]) -> None:
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
        self._results: dict[tuple[int, str, int | None], _Memo] = {}
        self._worker = self._new_worker()
        #: The provider's ``sticky_policy(name)``, when it has one (the local provider).
        self.policy: Callable[[str], StickyPolicy | None] | None = None
        #: The migration provider's ``sticky_group_names(user, name)``: stored groups are
        #: named as the new vendor names them.
        self.group_names: Callable[[User, str], Renames | None] | None = None

    def bind(self, provider: Any) -> None:
        """Ask ``provider`` (now started; None: stopped) for experiments' sticky policies."""
        self.policy = getattr(provider, "sticky_policy", None)
        self.group_names = getattr(provider, "sticky_group_names", None)

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
            active.sticky = self.load(user.user_id)
            active.sticky_unit = user.user_id

    async def aprefetch(self, active: Scope) -> None:
        user = active.user
        if user is not None and user.user_id:
            active.sticky = await self.aload(user.user_id)
            active.sticky_unit = user.user_id

    # -- the evaluation hook ----------------------------------------------------------
    def apply(self, user: User, name: str, result: ExperimentResult) -> ExperimentResult:
        """The stored group of ``user`` in ``name`` if there is one, else ``result``
        (stored, when it is an assignment of the experiment's own)."""
        unit = user.user_id
        if not unit:
            return result  # units without an id are never stored
        policy = DEFAULT_POLICY
        if self.policy is not None:
            policy = self.policy(name) or DEFAULT_POLICY
            if not policy.sticky:
                return result
        active = current_scope()
        if active is not None and active.sticky_unit == unit and active.sticky is not None:
            assignments = active.sticky
        else:
            assignments = self.load(unit)
        renames = self.group_names(user, name) if self.group_names is not None else None
        stored = assignments.get(name)
        if stored is not None and policy.keeps(stored.version):
            self.served += 1
            kept = stored.group if renames is None else renames[1].get(stored.group, stored.group)
            # The provider's own value of that group when it served the same one (fresh
            # parameters), else the value stored with the group. Results are memoised:
            # building one costs more than the whole rest of an evaluation.
            own = result.group == kept
            value = result.value if own else stored.value
            key = (id(result), kept, None if own else id(value))
            memo = self._results.get(key)
            if memo is not None and memo[0] is result and memo[1] is (None if own else value):
                return memo[2]
            served = replace(
                result, group=kept, value=value, reason=Reason.STICKY, in_experiment=True
            )
            if len(self._results) >= _MEMO_SIZE:
                self._results.clear()
            self._results[key] = (result, None if own else value, served)
            return served
        group = result.group
        if group is not None and result.in_experiment and result.reason not in _NOT_STORED:
            if renames is not None:
                group = renames[0].get(group, group)
            assignment = Assignment(group, result.value, policy.version)
            assignments[name] = assignment
            self.put((unit, name, assignment))
        return result

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
