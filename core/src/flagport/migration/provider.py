"""``migration``: two providers side by side, flag by flag, with evidence.

Each flag has a stage (``from``, ``shadow``, ``live``, ``to``) and optionally a ramp.
The served side answers the caller; in ``shadow`` and ``live`` the other side (the
*secondary*) is evaluated too, without exposures, and the two answers are compared.

The secondary never changes the answer, and where it runs (the caller's thread or a
worker, so that it cannot delay the answer beyond ``secondary_timeout_ms``) is decided
by :class:`~flagport.migration.secondary.SecondaryRunner`. Evidence goes to
:mod:`flagport.migration.evidence`; stages change through the API or the control file
(:mod:`flagport.migration.control`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from flagport.errors import ConfigurationError, Location
from flagport.events.model import Event, EventKind
from flagport.migration.control import ControlFileReader
from flagport.migration.evidence import NEW, OLD, Evidence, FlagEvidence, MismatchLog, UnitHasher
from flagport.migration.options import MigrationOptions, Stage
from flagport.migration.ramp import BUCKETS, threshold, unit_point
from flagport.migration.sampling import WindowSampler
from flagport.migration.secondary import SecondaryRunner
from flagport.plugins import get_plugin_manager, get_provider_class
from flagport.provider import FlagNames, Provider, ProviderStatus
from flagport.results import ConfigResult, ExperimentResult, GateResult
from flagport.settings import validate_options

if TYPE_CHECKING:
    from flagport.user import User

__all__ = ["STATS_WAIT_S", "TIME_EVERY", "MigrationProvider", "build_side"]

logger = logging.getLogger("flagport.migration")

# Evaluation kinds, as indexes into the per-side method tables.
_CHECK, _GATE, _EXPERIMENT, _CONFIG = 0, 1, 2, 3
_KIND_NAMES = ("gate", "gate", "experiment", "config")
_METHOD_NAMES = ("check_gate", "evaluate_gate", "evaluate_experiment", "evaluate_config")
TIME_EVERY = 64
"""One offloaded comparison in this many is timed, on both sides (a power of two)."""
STATS_WAIT_S = 1.0
"""How long ``stats()`` waits for the worker to finish the comparisons queued for it."""


_Job = tuple["User", str, Any, int]
"""A queued comparison: the user, the flag, the served answer, what it took (ns, or
-1 when not timed)."""
_Evaluated = tuple[_Job, Any, int]
"""A job with the secondary's answer and what it took (ns, or -1 when not timed)."""


class _Route:
    """How one flag is served: precomputed so the hot path only reads it.

    :ivar side: the side that serves, or -1 when the ramp decides per unit.
    :ivar compare: whether the other side is evaluated and compared.
    :ivar covered: with a ramp, how many buckets the new side serves.
    """

    __slots__ = ("cache_key", "compare", "covered", "flag", "ramp", "side", "stage")

    def __init__(self, flag: str | None, stage: Stage, ramp: float | None) -> None:
        self.stage = stage
        self.ramp = ramp
        self.flag = flag or ""
        self.cache_key = ("flagport.migration.ramp", self.flag)
        self.covered = 0
        self.compare = stage in (Stage.SHADOW, Stage.LIVE)
        if not self.compare:
            self.side = OLD if stage is Stage.FROM else NEW
            return
        pct = ramp if ramp is not None else (0.0 if stage is Stage.SHADOW else 100.0)
        self.covered = threshold(pct)
        self.side = OLD if self.covered == 0 else NEW if self.covered == BUCKETS else -1


class _Everywhere(Mapping[str, str]):
    """A sources mapping that names the same place for every key."""

    def __init__(self, where: str) -> None:
        self._where = where

    def __getitem__(self, key: str) -> str:
        return self._where

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def build_side(side: str, spec: Mapping[str, Any]) -> Provider:
    """Build one side of a migration from ``{"provider": NAME, ...options}``.

    :param side: ``"from"`` or ``"to"``, for error locations (``migration.from.x``).
    :raises ConfigurationError: unknown provider or bad options, located.
    """
    options = dict(spec)
    name = options.pop("provider")
    prefix = f"migration.{side}"
    try:
        cls = get_provider_class(name)
        validated = validate_options(
            cls.Options,
            options,
            _Everywhere(f"migration option {side!r}"),
            f"provider {name!r} (the migration's {side!r} side)",
        )
    except ConfigurationError as exc:
        problems = [
            (Location(loc.source, f"{prefix}.{loc.path}" if loc.path else prefix, loc.line), text)
            for loc, text in exc.problems
        ] or [(Location(f"migration option {side!r}", f"{prefix}.provider"), str(exc))]
        raise ConfigurationError(
            f"invalid {side!r} provider {name!r} of the migration provider", problems
        ) from None
    return cls(validated)


class MigrationProvider(Provider):
    """Serve from one provider while comparing with another, flag by flag.

    Options: see :class:`~flagport.migration.options.MigrationOptions`.
    """

    name = "migration"
    Options = MigrationOptions
    options: MigrationOptions

    def __init__(self, options: MigrationOptions) -> None:
        super().__init__(options)
        self.old = build_side("from", options.from_)
        self.new = build_side("to", options.to)
        self.old.emit = self._forward
        self.new.emit = self._forward
        self._sides = (self.old, self.new)
        self._methods: tuple[tuple[Callable[..., Any], ...], ...] = tuple(
            (p.check_gate, p.evaluate_gate, p.evaluate_experiment, p.evaluate_config)
            for p in self._sides
        )
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
        self.secondary = SecondaryRunner(
            options.secondary_mode,
            options.secondary_timeout_ms,
            options.secondary_cooldown_s,
            options.offload_queue,
            (self.old.name, self.new.name),
            self._compare_batch,
            options.batch_size,
        )
        self.sampler = WindowSampler(options.sample_period_s, self._set_window)
        self.event_errors = [0, 0]
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self._control = ControlFileReader(options.control_file) if options.control_file else None
        self.control_error: str | None = None
        self._next_summary = 0.0
        self._details = self._log is not None  # and when an observer exists (start)
        self._changing = threading.RLock()
        kinds = (_CHECK, _GATE, _EXPERIMENT, _CONFIG)
        # Per kind: comparing with the old side serving, with the new side serving,
        # and routing per flag without and with comparing.
        self._served_comparers = tuple(
            (self._comparer(kind, OLD), self._comparer(kind, NEW)) for kind in kinds
        )
        self._routers = tuple(self._router(kind) for kind in kinds)
        self._comparers = tuple(self._router(kind, compare=True) for kind in kinds)
        self._comparing = False
        self._rebuild()

    # -- routes and run-time control ------------------------------------------------------
    def _rebuild(self) -> None:
        opts = self.options
        self._default_route = _Route(None, opts.stage, None)
        routes: dict[str, _Route] = {}
        for flag in set(opts.stages) | set(opts.ramp):
            routes[flag] = _Route(flag, opts.stages.get(flag, opts.stage), opts.ramp.get(flag))
        self._routes = routes
        # What the routing closures read, in one attribute replaced whole, so an
        # evaluation sees the old settings or the new ones, never half of each.
        self._state = (routes, self._default_route)
        every = [self._default_route, *routes.values()]
        sides = {route.side for route in every}
        self._uniform_side = sides.pop() if len(sides) == 1 and -1 not in sides else None
        self._any_compare = any(route.compare for route in every)
        self._all_compare = all(route.compare for route in every)
        rate = opts.sample_rate
        if rate >= 1.0 or rate <= 0.0:
            self._comparing = rate >= 1.0
        if self.status is ProviderStatus.READY:
            self.sampler.set_rate(rate)
        self._install()

    def _update(self, **changes: Any) -> None:
        # Run-time changes live in the options, so a provider rebuilt after fork from
        # ``type(p)(p.options)`` keeps them.
        with self._changing:
            self.options = self.options.model_copy(update=changes)
            self._rebuild()

    def stage_of(self, flag: str) -> Stage:
        """The flag's current stage."""
        return self._routes.get(flag, self._default_route).stage

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
        if self._control is None:
            return False
        try:
            control = self._control.changed()
        except ConfigurationError as exc:
            return self._control_failed(str(exc))
        except Exception as exc:
            return self._control_failed(
                f"migration control file {self._control.path} could not be read "
                f"({type(exc).__name__}: {exc}); the previous stages stay in force"
            )
        if control is None:
            return False
        self.control_error = None
        self._update(**control.model_dump(exclude_none=True))
        logger.info("flagport: migration control file %s applied", self._control.path)
        return True

    def _control_failed(self, message: str) -> bool:
        if message != self.control_error:
            logger.error("flagport: %s", message)
        self.control_error = message
        return False

    def _housekeeping(self) -> None:
        # Re-reads the control file and writes periodic summaries, so `flagport migrate
        # plan` sees a long-running process's evidence without waiting for shutdown.
        polling = self.options.control_file and self.options.control_poll_s > 0
        interval = self.options.control_poll_s if polling else self.options.summary_interval_s
        interval = min(interval, self.options.summary_interval_s) if self._log else interval
        while not self._stop.wait(interval):
            try:
                if polling:
                    self.reload()
                if self._log is not None and time.monotonic() >= self._next_summary:
                    self.write_summary()
            except Exception:
                logger.exception("flagport: migration housekeeping failed")

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        failures: list[BaseException] = []
        for side in self._sides:
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
        if len(failures) == len(self._sides):
            raise failures[0]
        hook = get_plugin_manager().hook.flagport_on_mismatch
        self.evidence.observer = hook if hook.get_hookimpls() else None
        self._details = self.evidence.observer is not None or self._log is not None
        self.reload()
        self.sampler.set_rate(self.options.sample_rate)
        self._next_summary = time.monotonic() + self.options.summary_interval_s
        polling = self.options.control_file and self.options.control_poll_s > 0
        if polling or self._log is not None:
            self._watcher = threading.Thread(
                target=self._housekeeping, name="flagport-migration", daemon=True
            )
            self._watcher.start()
        self.status = ProviderStatus.READY

    def flush(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        self.secondary.drain(timeout / 2)
        self.write_summary()
        for side in self._sides:
            try:
                side.flush(max(0.0, deadline - time.monotonic()) / 2)
            except Exception as exc:
                logger.warning("flagport: flushing %r failed: %s", side.name, exc)

    def shutdown(self, timeout: float = 5.0) -> None:
        if self.status is ProviderStatus.SHUT_DOWN:
            return
        deadline = time.monotonic() + timeout
        self._stop.set()
        self.sampler.stop(timeout / 8)
        if self._watcher is not None:
            self._watcher.join(timeout / 8)
        self.secondary.drain(timeout / 4)
        self.secondary.stop(timeout / 8)
        self.write_summary()
        if self._log is not None:
            self._log.close()
        for side in self._sides:
            try:
                side.shutdown(max(0.0, deadline - time.monotonic()) / 2)
            except Exception as exc:
                logger.warning("flagport: shutting down %r failed: %s", side.name, exc)
        self.status = ProviderStatus.SHUT_DOWN

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until offloaded comparisons are done (at most ``timeout`` seconds).

        :returns: whether none is left.
        """
        return self.secondary.drain(timeout)

    # -- evaluation ----------------------------------------------------------------------------
    def check_gate(self, user: User, name: str, *, expose: bool = True) -> bool:
        return self._evaluate(_CHECK, user, name, expose)  # type: ignore[no-any-return]

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        return self._evaluate(_GATE, user, name, expose)  # type: ignore[no-any-return]

    def evaluate_experiment(
        self, user: User, name: str, *, expose: bool = True
    ) -> ExperimentResult:
        return self._evaluate(_EXPERIMENT, user, name, expose)  # type: ignore[no-any-return]

    def evaluate_config(self, user: User, name: str, *, expose: bool = True) -> ConfigResult:
        return self._evaluate(_CONFIG, user, name, expose)  # type: ignore[no-any-return]

    def serves_new(self, user: User, flag: str) -> bool:
        """Whether the new provider answers this user's evaluations of ``flag`` now."""
        route = self._routes.get(flag, self._default_route)
        return route.side == NEW or (route.side < 0 and self._ramped(user, route))

    def _ramped(self, user: User, route: _Route) -> bool:
        # The point is cached on the user, so a request that evaluates a ramped flag
        # several times hashes once.
        cache = user.provider_cache
        point = cache.get(route.cache_key)
        if point is None:
            unit = user.unit(self.options.ramp_unit)
            point = cache[route.cache_key] = unit_point(route.flag, unit) if unit else -1
        return 0 <= point < route.covered

    def _evaluate(self, kind: int, user: User, name: str, expose: bool) -> Any:
        return getattr(self, _METHOD_NAMES[kind])(user, name, expose=expose)

    def _install(self) -> None:
        """Bind this instance's evaluation methods to what the routes and the sampling
        window call for now, and tell the client (which caches ``check_gate``).

        With the window closed and every flag served by one side, the methods are that
        side's own bound methods: an uncompared evaluation then costs nothing over the
        served provider. Otherwise they are closures that route per flag (and per unit,
        for ramps), and compare while the window is open.
        """
        with self._changing:
            comparing = self._comparing and self._any_compare
            side = self._uniform_side
            for kind, attr in enumerate(_METHOD_NAMES):
                if comparing and side is not None and self._all_compare:
                    method = self._served_comparers[kind][side]
                elif comparing:
                    method = self._comparers[kind]
                elif side is not None:
                    method = self._methods[side][kind]
                else:
                    method = self._routers[kind]
                setattr(self, attr, method)
        self.rebound()

    def _set_window(self, comparing: bool) -> None:
        with self._changing:
            if comparing != self._comparing:
                self._comparing = comparing
                self._install()

    def route_methods(self) -> dict[str, str]:
        """What each evaluation method is bound to now: ``"from"``/``"to"`` (that
        side's own method, nothing in between), ``"route"`` or ``"compare"``."""
        names = {}
        for kind, attr in enumerate(_METHOD_NAMES):
            method = getattr(self, attr)
            if method is self._comparers[kind] or method in self._served_comparers[kind]:
                names[attr] = "compare"
            elif method is self._routers[kind]:
                names[attr] = "route"
            else:
                names[attr] = "from" if method == self._methods[OLD][kind] else "to"
        return names

    def _router(self, kind: int, compare: bool = False) -> Callable[..., Any]:
        """Serve each flag from its side (per unit, for ramps); with ``compare``, hand
        the flags whose stage compares to the comparing closure of their side."""
        methods = (self._methods[OLD][kind], self._methods[NEW][kind])
        comparers = self._served_comparers[kind] if compare else ()
        ramped = self._ramped

        def route(user: User, name: str, *, expose: bool = True) -> Any:
            routes, route = self._state
            if routes:
                route = routes.get(name, route)
            side = route.side
            if side < 0:
                side = NEW if ramped(user, route) else OLD
            if compare and route.compare:
                return comparers[side](user, name, expose=expose)
            # A positional call when exposing (the common case) skips keyword handling.
            if expose:
                return methods[side](user, name)
            return methods[side](user, name, expose=False)

        return route

    def _comparer(self, kind: int, side: int) -> Callable[..., Any]:
        """Serve from ``side`` and queue a comparison with the other side.

        :class:`~flagport.migration.secondary.SecondaryRunner.submit`, inlined: this
        path is what a comparison costs the caller. One queued comparison in
        :data:`TIME_EVERY` is timed, on both sides (reading the clock four times costs
        as much as the rest of a comparison); with a batch of one (``inline``), all are.
        The common case (the caller's thread runs the secondary, the job is not timed,
        the batch not complete) takes the first branch; the rest is in ``queue_job``.
        """
        method, other = self._methods[side][kind], 1 - side
        kind_name, flag_evidence = _KIND_NAMES[kind], self.evidence.flag
        runner, clock, every = self.secondary, perf_counter_ns, TIME_EVERY - 1
        index = kind * 2 + other
        queue, size = runner.queues[index], runner.queue_size
        last = runner.fill - 1  # the job that completes a batch (or fills the queue) runs it
        inline, run_here, wake, auto = runner.inline, runner.run_here, runner.wake, runner.auto

        def compare(user: User, name: str, *, expose: bool = True) -> Any:
            waiting = len(queue)
            if waiting & every and waiting < last and inline[other]:
                try:
                    served = method(user, name) if expose else method(user, name, expose=False)
                except Exception as exc:
                    flag_evidence(name, kind_name).error(side, exc)
                    raise
                queue.append((user, name, served, -1))
                return served
            return queue_job(user, name, expose, waiting)

        def queue_job(user: User, name: str, expose: bool, waiting: int) -> Any:
            if waiting >= size:
                runner.dropped += 1
                return method(user, name) if expose else method(user, name, expose=False)
            now = inline[other]
            try:
                # Untimed but for one in TIME_EVERY; in auto mode, all are timed while
                # the secondary is on the worker (on probation): they decide its move.
                if waiting & every and (now or not auto):
                    served = method(user, name) if expose else method(user, name, expose=False)
                    served_ns = -1
                else:
                    start = clock()
                    served = method(user, name) if expose else method(user, name, expose=False)
                    served_ns = clock() - start
            except Exception as exc:
                flag_evidence(name, kind_name).error(side, exc)
                raise
            queue.append((user, name, served, served_ns))
            if now:
                if waiting >= last:
                    run_here(index)
            elif runner.asleep:
                wake()
            return served

        return compare

    def _compare_batch(self, index: int, on_caller: bool = False, limit: int = 0) -> int:
        """Evaluate the other side of the comparisons in one queue, compare, record.

        In two passes: first the secondary evaluates every job of the run, then the
        answers are compared. An SDK evaluation pushes the comparison's code and data
        out of the CPU caches, so comparing between evaluations cost several times
        what it costs in a pass of its own.

        :param index: the queue: ``kind * 2 + the side to evaluate``.
        :param on_caller: run on a caller's thread: stop once the run has taken the
            bound (``secondary_timeout_ms``) or the side was moved to the worker.
        :param limit: evaluate at most this many (0: all that are queued now).
        :returns: how many jobs it took.
        """
        kind, other = divmod(index, 2)
        method, kind_name, runner = self._methods[other][kind], _KIND_NAMES[kind], self.secondary
        auto, inline, clock = runner.auto, runner.inline, perf_counter_ns
        jobs = runner.queues[index]
        evaluated: list[_Evaluated] = []
        pop, keep = jobs.popleft, evaluated.append
        wanted = min(len(jobs), limit) if limit else len(jobs)
        deadline = clock() + runner.bound_ns if on_caller else 0
        done = served_ns = 0
        while done < wanted:
            if on_caller and done:
                # On a caller's thread, between chunks: the bound (checked after each
                # of the first two jobs, which catch a secondary gone slow, then every
                # 8), and a trip that moved the side to the worker. A run cut short by
                # the bound counts as slow (unless its last job was timed, and so
                # measured, already).
                if clock() > deadline:
                    if auto and served_ns < 0:
                        runner.measured(other, runner.bound_ns + 1)
                    break
                if not inline[other]:
                    break
            chunk = min(wanted - done, (1 if done < 2 else 8) if on_caller else wanted)
            for _ in range(chunk):
                try:
                    job = user, name, _, served_ns = pop()
                except IndexError:  # another thread took the last ones
                    wanted = done
                    break
                done += 1
                try:
                    if served_ns < 0:
                        keep((job, method(user, name, expose=False), -1))
                        continue
                    start = clock()
                    answer = method(user, name, expose=False)
                    spent = clock() - start
                except Exception as exc:
                    self.evidence.flag(name, kind_name).error(other, exc)
                    continue
                keep((job, answer, spent))
                if auto:
                    if on_caller:
                        runner.measured(other, spent)
                    else:
                        runner.promote(other, spent)
        if kind == _CHECK and not self._details:
            evaluated = self._tally(evaluated, 1 - other)
        self._record(evaluated, kind_name, 1 - other)
        return done

    def _tally(self, evaluated: list[_Evaluated], side: int) -> list[_Evaluated]:
        """Record untimed ``check_gate`` comparisons nobody wants the details of:
        counted per flag in a 2x2 table and added once per run (a table cell costs a
        third of a comparison call).

        :returns: the timed ones, still to record.
        """
        # A cell is indexed ``old << 1 | new``: weights for the served answer and the
        # secondary's.
        served_weight, answer_weight = (1, 2) if side else (2, 1)
        tables: dict[str, list[int]] = {}
        table: list[int] = []
        timed, last = [], None
        for item in evaluated:
            (_, name, served, _), answer, spent = item
            if spent >= 0:
                timed.append(item)
                continue
            if name is not last:
                table = tables.get(name) or tables.setdefault(name, [0, 0, 0, 0])
                last = name
            table[(served is True) * served_weight + (answer is True) * answer_weight] += 1
        for name, counts in tables.items():
            self.evidence.flag(name, "gate").tally(counts)
        return timed

    def _record(self, evaluated: list[_Evaluated], kind_name: str, side: int) -> None:
        """Compare the served answers with the secondary's and record the outcomes."""
        evidence, details = self.evidence, self._details
        flags, last = evidence.flags, None
        flag: Any = None
        for (user, name, served, served_ns), answer, spent in evaluated:
            try:
                if name is not last:
                    flag = flags.get(name)
                    if flag is None or flag.kind != kind_name:
                        flag = evidence.flag(name, kind_name)
                    last = name
                mismatch = (
                    flag.compare(answer, served, spent, served_ns, details)
                    if side
                    else flag.compare(served, answer, served_ns, spent, details)
                )
                if mismatch is not None and details:
                    self._mismatch(flag, mismatch, user, side == NEW)
            except Exception:
                logger.exception("flagport: comparing %r failed", name)

    def _mismatch(
        self, evidence: FlagEvidence, mismatch: Any, user: User, served_new: bool
    ) -> None:
        if self.evidence.observer is None and self._log is None:
            return  # counted already; nobody wants the details
        route = self._routes.get(evidence.name, self._default_route)
        extra: dict[str, Any] = {"stage": route.stage.value}
        if route.ramp is not None:
            extra["ramp"] = route.ramp
        self.evidence.report(
            evidence, mismatch, user.unit(self.options.ramp_unit), served_new, extra
        )
        if self._log is not None and time.monotonic() >= self._next_summary:
            self.write_summary()

    # -- names, events, stats --------------------------------------------------------------------
    def names(self) -> FlagNames:
        old, new = self.old.names(), self.new.names()
        return FlagNames(
            old.gates | new.gates, old.experiments | new.experiments, old.configs | new.configs
        )

    def _forward(self, event: Event) -> None:
        self.emit(event)

    def log_event(self, event: Event) -> None:
        """Exposures go to the side that served the user; other events to both sides
        until the default stage is ``to`` (dual write keeps vendor metrics continuous).
        """
        if event.kind is EventKind.EXPOSURE:
            side = NEW if self.serves_new(event.user, event.name) else OLD
            if not self._sides[side].logs_own_exposures:
                self._send(side, event)
            return
        if self.options.stage is not Stage.TO:
            self._send(OLD, event)
        self._send(NEW, event)

    def _send(self, side: int, event: Event) -> None:
        try:
            self._sides[side].log_event(event)
        except Exception as exc:
            self.event_errors[side] += 1
            logger.warning(
                "flagport: event %r not delivered to %r: %s: %s",
                event.name,
                self._sides[side].name,
                type(exc).__name__,
                exc,
            )

    def write_summary(self) -> None:
        """Append the evidence so far to the mismatch log (no-op without a log)."""
        if self._log is None:
            return
        self._next_summary = time.monotonic() + self.options.summary_interval_s
        opts = self.options
        self._log.write(
            {
                "type": "summary",
                "stage": opts.stage.value,
                "stages": {k: v.value for k, v in opts.stages.items()},
                "ramp": dict(opts.ramp),
                "flags": self._flag_stats(),
            }
        )
        self._log.flush()

    def _flag_stats(self) -> dict[str, Any]:
        flags = self.evidence.to_dict()
        for key, data in flags.items():
            route = self._routes.get(self.evidence.flags[key].name, self._default_route)
            data["stage"] = route.stage.value
            if route.ramp is not None:
                data["ramp"] = route.ramp
        return flags

    def stats(self) -> dict[str, Any]:
        """Every comparison of the evaluations made before this call, and the state.

        The comparisons queued when it is called are finished first (this is not a
        hot path): those waiting for a caller's run are run here, and the worker's are
        waited for, in all at most :data:`STATS_WAIT_S`. What a slow or stuck secondary
        leaves is reported as ``secondary.pending``.
        """
        runner = self.secondary
        owed = sum(map(len, runner.queues))
        done = runner.on_callers + runner.offloaded + owed
        deadline = time.monotonic() + STATS_WAIT_S
        # drain() stops a run on this thread at secondary_timeout_ms, as it would on a
        # request's; traffic arriving meanwhile is not waited for.
        while owed and runner.on_callers + runner.offloaded < done:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            runner.drain(left)
        sides = ("from", "to")
        return {
            "stage": self.options.stage.value,
            "stages": {k: v.value for k, v in sorted(self.options.stages.items())},
            "ramp": dict(sorted(self.options.ramp.items())),
            "sample_rate": self.options.sample_rate,
            "sampling": {
                "period_s": self.sampler.period_s,
                "windows": self.sampler.windows,
                "open_s": round(self.sampler.open_s, 3),
                "comparing": self._comparing and self._any_compare,
            },
            "providers": {s: p.name for s, p in zip(sides, self._sides, strict=True)},
            "secondary": self.secondary.stats(),
            "event_errors": dict(zip(sides, self.event_errors, strict=True)),
            "control_error": self.control_error,
            "mismatch_log": self._log.stats() if self._log is not None else None,
            "flags": self._flag_stats(),
        }

    def describe(self) -> dict[str, Any]:
        # The inner options may hold secrets; each side describes itself safely.
        return {
            "status": self.status.value,
            "options": {
                **self.options.control(),
                "stage": self.options.stage.value,
                "stages": {k: v.value for k, v in self.options.stages.items()},
                "secondary_mode": self.options.secondary_mode,
                "secondary_timeout_ms": self.options.secondary_timeout_ms,
                "mismatch_log": self.options.mismatch_log,
            },
            "from": self.old.describe(),
            "to": self.new.describe(),
        }
