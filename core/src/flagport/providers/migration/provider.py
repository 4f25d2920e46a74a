"""``migration``: two providers side by side, flag by flag, with evidence.

Each flag has a stage (``from``, ``shadow``, ``live``, ``to``) and optionally a ramp.
The served side answers the caller; in ``shadow`` and ``live`` a share of the
evaluations (``sample_rate``, drawn per call) is evaluated by the other side too, the
*secondary*, without exposures, and the two answers are compared.

The secondary never changes the answer. Where it runs (the caller's thread, or a worker
so that the answer never waits for it) is the :mod:`~flagport.providers.migration.comparator`'s
business. Evidence goes to :mod:`flagport.providers.migration.evidence`; stages change through the
API or the control file (:mod:`flagport.providers.migration.control`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from flagport.events.model import EventKind
from flagport.plugins import get_plugin_manager
from flagport.provider import FlagNames, Provider, ProviderStatus
from flagport.providers.migration.comparator import (
    Comparator,
    Comparison,
    InlineComparator,
    OffloadComparator,
)
from flagport.providers.migration.control import ControlFileReader, Housekeeping
from flagport.providers.migration.evidence import Evidence, FlagEvidence, Mismatch
from flagport.providers.migration.mismatch_log import MismatchLog, UnitHasher
from flagport.providers.migration.options import NEW, OLD, MigrationOptions, Side, Stage, build_side
from flagport.providers.migration.ramp import Route, moved, routing

if TYPE_CHECKING:
    from flagport.events.model import Event
    from flagport.user import User

__all__ = ["STATS_WAIT_S", "TIME_EVERY", "MigrationProvider"]

logger = logging.getLogger("flagport.providers.migration")

STATS_WAIT_S = 1.0
"""How long ``stats()`` waits for the worker to finish the comparisons queued for it."""
TIME_EVERY = 16
"""One comparison in this many is timed on both sides, for the latency evidence: reading
the clock costs about a tenth of a comparison's bookkeeping."""
KINDS = {
    "check_gate": "gate",
    "evaluate_gate": "gate",
    "evaluate_experiment": "experiment",
    "evaluate_config": "config",
}
"""The evidence kind of each evaluation method of a provider."""


def _evaluation(method: str) -> Any:
    """The migration provider's ``method``: served by the flag's side, and a sampled share
    of the calls (in stages that compare) handed to the comparator too."""

    def evaluate(self: MigrationProvider, user: User, name: str, *, expose: bool = True) -> Any:
        routes, default = self._routing
        route = routes.get(name, default)
        serve = (route.serving or route.unit_serving(user))[method]
        if route.skip:  # not compared (two threads may count one: sampling is a share)
            route.skip -= 1
            return serve(user, name, expose=expose)
        route.skip = route.gap()
        side = route.side or route.unit_side(user)
        self._compared += 1
        timed = self._compared % TIME_EVERY == 1
        start = perf_counter_ns() if timed else 0
        try:
            served = serve(user, name, expose=expose)
        except Exception as exc:
            self.evidence.flag(name, KINDS[method]).error(side, exc)
            raise
        served_ns = perf_counter_ns() - start if timed else -1
        self.comparator.submit((method, side, user, name, served, served_ns))
        return served

    evaluate.__name__ = evaluate.__qualname__ = method
    return evaluate


class MigrationProvider(Provider):
    """Serve from one provider while comparing with another, flag by flag.

    Options: see :class:`~flagport.providers.migration.options.MigrationOptions`.

    :ivar old: the provider being left (option ``from``).
    :ivar new: the provider being moved to (option ``to``).
    """

    name = "migration"
    Options = MigrationOptions
    options: MigrationOptions

    def __init__(self, options: MigrationOptions) -> None:
        super().__init__(options)
        self.old = build_side(OLD, options.from_)
        self.new = build_side(NEW, options.to)
        self.sides = {OLD: self.old, NEW: self.new}
        self._methods = {s: {m: getattr(p, m) for m in KINDS} for s, p in self.sides.items()}
        self._log = (
            MismatchLog(options.mismatch_log, options.mismatch_log_max_bytes)
            if options.mismatch_log
            else None
        )
        self.evidence = Evidence(
            options.group_map,
            hasher=UnitHasher(options.hash_salt.get_secret_value()),
            log=self._log,
        )
        self.comparator: Comparator = OffloadComparator(self._compare)
        if options.compare_on == "caller":
            names = {side: p.name for side, p in self.sides.items()}
            self.comparator = InlineComparator(
                self._compare, options.secondary_timeout_ms, self.comparator, names
            )
        self.event_errors = dict.fromkeys(Side, 0)
        self._compared = 0
        self._housekeeping = Housekeeping(self._keep_house)
        self._control = ControlFileReader(options.control_file) if options.control_file else None
        self._next_summary = 0.0
        self._details = self._log is not None  # and when an observer exists (start)
        self._changing = threading.RLock()
        self._apply()

    # -- routes and run-time control ------------------------------------------------------
    def _apply(self) -> None:
        # Replaced whole: an evaluation sees the old routes or the new ones, never a mix.
        self._routing = routing(self.options, self._methods)

    def _route(self, flag: str) -> Route[dict[str, Any]]:
        routes, default = self._routing
        return routes.get(flag, default)

    def _update(self, **changes: Any) -> None:
        # Run-time changes live in the options, so a provider rebuilt after fork from
        # ``type(p)(p.options)`` keeps them.
        with self._changing:
            before = self._routing
            self.options = self.options.model_copy(update=changes)
            self._apply()
            changed = moved(before, self._routing)
        # Flags another side serves now may answer differently (the control file read by
        # start() sets what the first answers are, and changes nothing anyone was served).
        if self.status is ProviderStatus.READY:
            self.announce_change(changed)

    def stage_of(self, flag: str) -> Stage:
        """The flag's current stage."""
        return self._route(flag).stage

    def set_stage(self, flag: str | None, stage: Stage | str) -> None:
        """Move a flag (or, with ``flag=None``, every flag without its own) to a stage.

        :raises ValueError: ``stage`` is not one of from, shadow, live, to.
        """
        value = Stage(stage)
        with self._changing:  # read-modify-write against the control file's thread
            if flag is None:
                self._update(stage=value)
            else:
                self._update(stages={**self.options.stages, flag: value})

    def set_ramp(self, flag: str, percentage: float | None) -> None:
        """Serve the new provider to ``percentage`` % of the flag's units (``None`` removes).

        Applies while the flag is in ``shadow`` or ``live``.

        :raises ValueError: the percentage is outside 0-100.
        """
        if percentage is not None and not 0.0 <= float(percentage) <= 100.0:
            raise ValueError(f"ramp for {flag!r} is {percentage}; use a percentage from 0 to 100")
        with self._changing:
            ramp = dict(self.options.ramp)
            if percentage is None:
                ramp.pop(flag, None)
            else:
                ramp[flag] = float(percentage)
            self._update(ramp=ramp)

    def set_sample_rate(self, rate: float) -> None:
        """Compare this share (0-1) of evaluations from now on."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"sample_rate is {rate}; use a share from 0 to 1")
        self._update(sample_rate=float(rate))

    def reload(self) -> bool:
        """Re-read the control file if it changed. Never raises.

        A bad file is logged (with its location) and the current settings stay.

        :returns: whether new settings were applied.
        """
        control = self._control.read() if self._control is not None else None
        if control is None:
            return False
        self._update(**control.model_dump(exclude_none=True))
        logger.info("flagport: migration control file %s applied", self.options.control_file)
        return True

    @property
    def control_error(self) -> str | None:
        """Why the control file last read could not be used (``None``: it could)."""
        return self._control.error if self._control is not None else None

    def _keep_house(self) -> None:
        # Re-reads the control file and writes periodic summaries, so `flagport migrate
        # plan` sees a long-running process's evidence without waiting for shutdown.
        if self.options.control_file and self.options.control_poll_s > 0:
            self.reload()
        if self._log is not None and time.monotonic() >= self._next_summary:
            self.write_summary()

    # -- lifecycle ---------------------------------------------------------------------------
    def attach(self, emit: Callable[[Event], None]) -> None:
        # Vendor callbacks reach the same client; a side's changes are announced as ours.
        super().attach(emit)
        for side in self.sides.values():
            side.attach(emit)
            side.attach_changes(lambda change: self.announce_change(change.flags))

    def mark_serving(self) -> None:
        # The sides are served from now on too: what they publish later is a change.
        super().mark_serving()
        for side in self.sides.values():
            side.mark_serving()

    def detach(self) -> None:
        for side in self.sides.values():
            side.detach()
        super().detach()

    def start(self) -> None:
        failures: list[BaseException] = []
        for side in self.sides.values():
            try:
                side.start()
            except Exception as exc:
                side.status = ProviderStatus.ERROR
                failures.append(exc)
                logger.error(
                    "flagport: migration side %r failed to start: %s: %s",
                    side.name,
                    type(exc).__name__,
                    exc,
                )
        if len(failures) == len(self.sides):
            raise failures[0]
        hook = get_plugin_manager().hook.flagport_on_mismatch
        self.evidence.observer = hook if hook.get_hookimpls() else None
        self._details = self.evidence.observer is not None or self._log is not None
        self.reload()
        self._next_summary = time.monotonic() + self.options.summary_interval_s
        self.comparator.start()  # again, after a shutdown
        self._housekeeping.start(self.options, summaries=self._log is not None)
        self.status = ProviderStatus.READY

    def flush(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        self.comparator.drain(timeout / 2)
        self.write_summary()
        for side in self.sides.values():
            try:
                side.flush(max(0.0, deadline - time.monotonic()) / 2)
            except Exception as exc:
                logger.warning("flagport: flushing %r failed: %s", side.name, exc)

    def shutdown(self, timeout: float = 5.0) -> None:
        if self.status is ProviderStatus.SHUT_DOWN:
            return
        deadline = time.monotonic() + timeout
        self._housekeeping.stop(timeout / 8)
        self.comparator.drain(timeout / 4)
        self.comparator.stop(timeout / 8)
        self.write_summary()
        if self._log is not None:
            self._log.close()
        for side in self.sides.values():
            try:
                side.shutdown(max(0.0, deadline - time.monotonic()) / 2)
            except Exception as exc:
                logger.warning("flagport: shutting down %r failed: %s", side.name, exc)
        self.status = ProviderStatus.SHUT_DOWN

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait (at most ``timeout`` s) until the comparisons made so far are recorded."""
        return self.comparator.drain(timeout)

    # -- evaluation ----------------------------------------------------------------------------
    # The same code for each method of the sides, made once by _evaluation: an
    # uncompared call is then one frame over the served provider's own.
    check_gate = _evaluation("check_gate")
    evaluate_gate = _evaluation("evaluate_gate")
    evaluate_experiment = _evaluation("evaluate_experiment")
    evaluate_config = _evaluation("evaluate_config")

    def _compare(self, comparisons: list[Comparison]) -> None:
        """Evaluate the other side for served answers, then record the outcomes.

        In two passes: an SDK's evaluation pushes the bookkeeping's code and data out of
        the CPU caches (and the bookkeeping the SDK's), so alternating them costs more
        than each in a pass of its own. Timed on the other side too when the served
        answer was.
        """
        answered = []
        for comparison in comparisons:
            method, served_by, user, name, _, served_ns = comparison
            other = NEW if served_by is OLD else OLD
            start = perf_counter_ns() if served_ns >= 0 else 0
            try:
                answer = self._methods[other][method](user, name, expose=False)
            except Exception as exc:
                self.evidence.flag(name, KINDS[method]).error(other, exc)
                continue
            answered.append((comparison, answer, perf_counter_ns() - start if start else -1))
        details = self._details
        for (method, served_by, user, name, served, served_ns), answer, spent in answered:
            try:
                flag = self.evidence.flag(name, KINDS[method])
                if served_by is OLD:
                    mismatch = flag.compare(served, answer, served_ns, spent, details)
                else:
                    mismatch = flag.compare(answer, served, spent, served_ns, details)
                if mismatch is not None and details:
                    self._report(flag, mismatch, user, served_by)
            except Exception:
                logger.exception("flagport: comparing %r failed", name)

    def _report(self, flag: FlagEvidence, mismatch: Mismatch, user: User, served_by: Side) -> None:
        unit = user.unit(self.options.ramp_unit)
        self.evidence.report(flag, mismatch, unit, served_by, self._route(flag.name).describe())

    def serves_new(self, user: User, flag: str) -> bool:
        """Whether the new provider answers this user's evaluations of ``flag`` now."""
        route = self._route(flag)
        return (route.side or route.unit_side(user)) is NEW

    def sticky_group_names(
        self, user: User, flag: str
    ) -> tuple[Mapping[str, str], Mapping[str, str]] | None:
        """How this user's groups of ``flag`` are named in a sticky store: as the new
        provider names them (through ``group_map``), so that a group the old vendor gave
        him is the group the new vendor serves him. Returns (served name -> stored name,
        stored name -> served name) while the old side serves, None when no renaming
        is needed.
        """
        renames = self.options.group_map.get(flag)
        if not renames or self.serves_new(user, flag):
            return None
        return renames, {new: old for old, new in renames.items()}

    # -- names, events, stats --------------------------------------------------------------------
    def names(self) -> FlagNames:
        return self.old.names() | self.new.names()

    def log_event(self, event: Event) -> None:
        """Exposures go to the side that served the user; other events to both sides
        until the default stage is ``to`` (dual write keeps vendor metrics continuous).
        """
        if event.kind is EventKind.EXPOSURE:
            side = NEW if self.serves_new(event.user, event.name) else OLD
            if not self.sides[side].logs_own_exposures:
                self._send(side, event)
            return
        if self.options.stage is not Stage.TO:
            self._send(OLD, event)
        self._send(NEW, event)

    def _send(self, side: Side, event: Event) -> None:
        try:
            self.sides[side].log_event(event)
        except Exception as exc:
            self.event_errors[side] += 1
            logger.warning(
                "flagport: event %r not delivered to %r: %s: %s",
                event.name,
                self.sides[side].name,
                type(exc).__name__,
                exc,
            )

    def write_summary(self) -> None:
        """Append the evidence so far to the mismatch log (no-op without a log)."""
        if self._log is None:
            return
        self._next_summary = time.monotonic() + self.options.summary_interval_s
        self._log.write({"type": "summary", **self._settings(), "flags": self._flag_stats()})
        self._log.flush()

    def _settings(self, *names: str) -> dict[str, Any]:
        """Options by name, JSON-ready; by default those that change at run time."""
        names = names or ("stage", "stages", "ramp", "sample_rate")
        return self.options.model_dump(mode="json", include=set(names))

    def _flag_stats(self) -> dict[str, Any]:
        flags = self.evidence.to_dict()
        for key, data in flags.items():
            data.update(self._route(self.evidence.flags[key].name).describe())
        return flags

    def stats(self) -> dict[str, Any]:
        """Every comparison of the evaluations made before this call, and the state.

        The comparisons still queued for the worker are waited for, at most
        :data:`STATS_WAIT_S` (this is not a hot path); what a slow or stuck secondary
        leaves is reported as ``secondary.pending``.
        """
        self.comparator.drain(STATS_WAIT_S)
        return {
            **self._settings(),
            "providers": {side.value: p.name for side, p in self.sides.items()},
            "secondary": self.comparator.stats(),
            "event_errors": {side.value: n for side, n in self.event_errors.items()},
            "control_error": self.control_error,
            "mismatch_log": self._log.stats() if self._log is not None else None,
            "flags": self._flag_stats(),
        }

    def describe(self) -> dict[str, Any]:
        # The inner options may hold secrets; each side describes itself safely.
        options = {**self._settings(), **self._settings("compare_on", "secondary_timeout_ms")}
        options["mismatch_log"] = self.options.mismatch_log
        return {
            "status": self.status.value,
            "options": options,
            **{side.value: p.describe() for side, p in self.sides.items()},
        }
