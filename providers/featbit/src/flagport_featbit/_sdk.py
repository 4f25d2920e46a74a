"""Glue on FeatBit's documented extension points (``Config.data_storage`` and
``Config.event_processor_imp``).

* :class:`WatchedStorage` tells the provider when definitions change, so the set of
  known flag names (for ``FlagNotFoundError``) is refreshed exactly then.
* :class:`InsightProcessor` lets one evaluation skip its insight event (``expose=False``)
  and counts accepted events, so ``flush()`` can wait for their delivery.
* :class:`InsightSender` posts insights as the SDK's own sender does, but removes
  private attributes from every payload right before it is posted, follows a redirect
  only within ``event_url``'s server (urllib3 follows one anywhere, dropping the key but
  carrying the users' attributes there), and counts what was delivered.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import re
import socket
import threading
import time
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from fbclient.data_storage import InMemoryDataStorage
from fbclient.event_processor import DefaultEventProcessor
from fbclient.event_types import FlagEvent
from fbclient.interfaces import Sender
from fbclient.utils.http_client import build_http_factory
from urllib3 import BaseHTTPResponse
from urllib3.connectionpool import ConnectionPool
from urllib3.util.retry import Retry

from flagport._redirects import RedirectRefused, SameServer, shown_origin
from flagport_featbit._convert import PRIVATE_MARKER

__all__ = ["Counters", "InsightProcessor", "InsightSender", "WatchedStorage", "quiet"]

logger = logging.getLogger("flagport.featbit")
#: Insight posts carry the users' attributes (and the env_secret, which urllib3 drops
#: on a redirect to another server, unlike the attributes in the body).
#: An object's address in an error's words (it would make each failure a new one).
_ADDRESS = re.compile(r" (object )?at 0x[0-9a-fA-F]+")
_INSIGHTS = SameServer("the insight post", "event_url", "the users' attributes")


class _Quiet(threading.local):
    on = False


#: Set ``quiet.on`` around an SDK call on this thread to drop its insight event.
quiet = _Quiet()


class Counters:
    """Event counters shared by the processor and the sender of one SDK client."""

    def __init__(self) -> None:
        self._accepted = itertools.count()
        self._peeks = 0
        self._peek_lock = threading.Lock()
        self.suppressed = 0
        self.delivered = 0
        self.failed = 0
        self.posts = 0
        self.redacted_users = 0
        self._done = threading.Condition()
        #: The senders of the running SDK client, hung up by :meth:`hang_up`.
        self.senders: list[InsightSender] = []

    def hang_up(self) -> None:
        """End every insight post in flight now, and refuse later ones (at shutdown, once
        the flush had its time: a post to a server dripping its answer would hold the
        SDK's threads for as long as it drips)."""
        senders, self.senders = self.senders, []
        for sender in senders:
            sender.hang_up()

    def accept(self) -> None:
        # next() on itertools.count is atomic under the GIL: no lock on the evaluation
        # path, and no lost update between threads.
        next(self._accepted)

    @property
    def accepted(self) -> int:
        """Events accepted so far (reading the count consumes a number: subtract those)."""
        with self._peek_lock:
            total = next(self._accepted) - self._peeks
            self._peeks += 1
        return total

    def finished(self, events: int, ok: bool) -> None:
        with self._done:
            self.posts += 1
            if ok:
                self.delivered += events
            else:
                self.failed += events
            self._done.notify_all()

    def wait_for(self, target: int, timeout: float) -> bool:
        """Wait until ``target`` accepted events were posted (or failed), within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._done:
            while self.delivered + self.failed < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._done.wait(left)
        return True

    def as_dict(self) -> dict[str, int]:
        return {
            "events_accepted": self.accepted,
            "events_delivered": self.delivered,
            "events_failed": self.failed,
            "insight_posts": self.posts,
            "exposures_suppressed": self.suppressed,
            "users_redacted": self.redacted_users,
        }


class WatchedStorage(InMemoryDataStorage):  # type: ignore[misc]
    """FeatBit's in-memory storage that calls ``on_change`` after every accepted write."""

    def __init__(self, on_change: Callable[[WatchedStorage], None]) -> None:
        super().__init__()
        self._on_change = on_change

    def init(self, all_data: Any, version: int = 0) -> bool:
        ok = bool(super().init(all_data, version))
        if ok:
            self._on_change(self)
        return ok

    def upsert(self, kind: Any, key: str, item: dict[str, Any], version: int = 0) -> bool:
        ok = bool(super().upsert(kind, key, item, version))
        if ok:
            self._on_change(self)
        return ok


class InsightProcessor(DefaultEventProcessor):  # type: ignore[misc]
    """FeatBit's batching event processor, plus per-call suppression and counting."""

    def __init__(self, config: Any, sender: Any, counters: Counters) -> None:
        self._counters = counters
        # The SDK's sender is replaced before it has opened a connection.
        sender.stop()
        super().__init__(config, InsightSender(config, counters))

    def send_event(self, event: Any) -> None:
        if quiet.on and isinstance(event, FlagEvent):
            self._counters.suppressed += 1
            return
        self._counters.accept()
        super().send_event(event)


def processor_factory(counters: Counters) -> Callable[[Any, Any], InsightProcessor]:
    """The ``Config.event_processor_imp`` building an :class:`InsightProcessor`."""

    def build(config: Any, sender: Any) -> InsightProcessor:
        return InsightProcessor(config, sender, counters)

    return build


def redact(items: list[dict[str, Any]]) -> int:
    """Remove private properties (listed under the marker) from insight items in place.

    :returns: how many users had private properties removed.
    """
    count = 0
    for item in items:
        user = item.get("user") if isinstance(item, dict) else None
        if not isinstance(user, dict) or not user.get("customizedProperties"):
            continue
        props: list[dict[str, Any]] = user["customizedProperties"]
        hidden: set[str] = set()
        for prop in props:
            if prop.get("name") == PRIVATE_MARKER:
                hidden.update(json.loads(prop.get("value") or "[]"))
        if hidden or any(p.get("name") == PRIVATE_MARKER for p in props):
            hidden.add(PRIVATE_MARKER)
            user["customizedProperties"] = [p for p in props if p.get("name") not in hidden]
            count += 1
    return count


class _WithinServer(Retry):
    """urllib3's retries, following a redirect only as :data:`_INSIGHTS` allows.

    urllib3's ``PoolManager`` asks the request's ``Retry`` for leave before it follows a
    redirect (``increment`` with the response and the URL that answered it), so that is
    where a redirect elsewhere is refused; it is raised to the caller as is.
    """

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        location = response.get_redirect_location() if response is not None else None
        if response is not None and location is not False and url:
            hops = sum(1 for step in self.history if step.redirect_location)
            try:
                _INSIGHTS.follow(url, location, status=response.status, hops=hops)
            except RedirectRefused:
                response.drain_conn()
                raise
        return super().increment(method, url, response, error, _pool, _stacktrace)


class InsightSender(Sender):  # type: ignore[misc]
    """The SDK's ``DefaultSender`` as flagport needs it: the same connection pool (built by
    the SDK from its ``Config``: the env_secret header, timeouts, TLS, proxy) and the same
    retries, but private attributes never leave the process, a redirect is followed only
    within ``event_url``'s server (or up to TLS on its host), and every batch is counted
    delivered or failed."""

    def __init__(self, config: Any, counters: Counters) -> None:
        self._http = build_http_factory(config).create_http_client(max_size=10)
        self._tries = 1 + int(config.events_max_retries)
        self._pause = float(config.events_retry_interval)
        self._counters = counters
        self._refused: set[str] = set()
        self._failures: set[str] = set()
        self._stopped = False
        # The connections of the posts in flight, from the pools' own check-outs.
        self._held: weakref.WeakSet[Any] = weakref.WeakSet()
        self._http.pool_classes_by_scheme = {
            scheme: _watched(pool, self._held)
            for scheme, pool in self._http.pool_classes_by_scheme.items()
        }
        counters.senders.append(self)

    def hang_up(self) -> None:
        """Shut the connections of the posts in flight; no post is tried afterwards."""
        self._stopped = True
        for connection in list(self._held):
            sock = getattr(connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def postJson(self, url: str, json_str: str, fetch_response: bool = True) -> str | None:
        events = 0
        answer: str | None = None
        try:
            items = json.loads(json_str)
            events = len(items) if isinstance(items, list) else 1
            if isinstance(items, list) and PRIVATE_MARKER in json_str:
                self._counters.redacted_users += redact(items)
                json_str = json.dumps(items)
            answer = self._post(url, json_str, events)
        finally:
            self._counters.finished(events, ok=answer is not None)
        return answer if fetch_response else None

    def _post(self, url: str, body: str, events: int) -> str | None:
        for attempt in range(self._tries):
            if attempt:
                time.sleep(self._pause)
            if self._stopped:
                return None
            try:
                response = self._http.request("POST", url, body=body, retries=_WithinServer(3))
            except RedirectRefused as exc:
                self._refuse(str(exc), events)
                return None  # a retry would be redirected the same way
            except Exception as exc:  # as the SDK's sender: logged, then retried
                self._failed(url, exc)
                continue
            if response.status == 200:
                return str(response.data.decode("utf-8"))
        return None

    def _failed(self, url: str, exc: Exception) -> None:
        if self._stopped:
            return  # hung up by shutdown: nothing went wrong
        # One line, not the SDK's traceback per attempt: a network error is no bug. Once
        # per kind of failure (each flush would repeat it); the count is in stats().
        words = _ADDRESS.sub("", " ".join(str(exc).split()))
        why = f"{type(exc).__name__}: {words[:200]}"
        level = logging.DEBUG if why in self._failures else logging.WARNING
        self._failures.add(why)
        logger.log(
            level,
            "flagport featbit: an insight post to %s failed (%s); it is retried, then counted "
            "in events_failed; check event_url and the network",
            shown_origin(url),
            why,
        )

    def _refuse(self, why: str, events: int) -> None:
        # Once per redirect target (each flush would repeat it); the count is in stats().
        level = logging.DEBUG if why in self._refused else logging.WARNING
        self._refused.add(why)
        logger.log(level, "flagport featbit: %s; %d insight event(s) not delivered", why, events)

    def stop(self) -> None:
        self._http.clear()


def _watched(pool: type[Any], held: weakref.WeakSet[Any]) -> type[Any]:
    """``pool`` (an urllib3 connection pool class) whose checked-out connections are in
    ``held`` until they come back."""

    class Watched(pool):  # type: ignore[misc]
        def _get_conn(self, timeout: float | None = None) -> Any:
            connection = super()._get_conn(timeout)
            held.add(connection)
            return connection

        def _put_conn(self, conn: Any) -> None:
            if conn is not None:
                held.discard(conn)
            super()._put_conn(conn)

    return Watched
