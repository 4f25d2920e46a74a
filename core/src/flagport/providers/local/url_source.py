"""Keep the local provider's definitions in step with a flags file at a URL.

A daemon thread per process (started by the provider's ``start()``) polls every
``poll_interval`` seconds plus a random jitter, so a fleet started together does not
poll in lock-step. Requests are conditional: an unchanged file costs a 304 and nothing
else. A failure (network, HTTP status, a bad or unsigned file) is retried after an
exponentially growing pause, up to ``backoff_max``; meanwhile the last good definitions
keep serving and the provider reports ``STALE``, then ``READY`` again once the source
answers.

With ``cache_path``, the processes of one host share the work: the one holding the
cache's file lock polls and writes what it accepted to the cache; the others
(``follower``) reload from the cache file when it is replaced, and try the lock once per
interval, so if the poller dies another takes over within one interval. A process that
starts while the server is down serves the cached copy.

Every version, fetched or cached, goes through the provider's one load path
(:meth:`LocalProvider.reload`): signature check, parse, validation, compile, swap.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from flagport.errors import ProviderNotReadyError
from flagport.provider import ProviderStatus
from flagport.providers.local.url_cache import CacheFiles, HostLock
from flagport.providers.local.url_fetch import FetchError, HttpFetcher, display_url

if TYPE_CHECKING:
    from flagport.providers.local.provider import LocalProvider

__all__ = ["Incoming", "UrlSource"]

logger = logging.getLogger("flagport.providers.local")

#: How often a follower looks at the cache file: a change reaches it this much after
#: the poller wrote it, at most (a ``stat``, about a microsecond).
FOLLOW_STEP_S = 0.05

Role = Literal["alone", "poller", "follower"]


@dataclass(frozen=True)
class Incoming:
    """One version of the flags file, for the provider's load path.

    :ivar source: where it came from, named in every problem (the URL, or the cache).
    :ivar signature: its detached signature, when one was found.
    """

    body: bytes
    source: str
    signature: bytes | None = None


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def _unb64(text: Any) -> bytes | None:
    return base64.b64decode(text) if isinstance(text, str) else None


class UrlSource:
    """The URL side of one :class:`LocalProvider` (one per process)."""

    def __init__(self, provider: LocalProvider) -> None:
        opts = provider.options
        assert opts.url is not None
        self.provider = provider
        self.url = opts.url
        self.display = display_url(opts.url)
        self.cache = CacheFiles(opts.cache_path) if opts.cache_path else None
        self._lock: HostLock | None = None
        if self.cache is not None:
            try:
                self._lock = HostLock(self.cache.lock)
            except OSError as exc:
                self._without_cache(exc)
        self._fetcher: HttpFetcher | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_poll = 0.0
        self._seen: tuple[object, object] = (None, None)
        #: the digest and signature of the last version the load path refused
        self._refused: tuple[bytes, bytes | None] | None = None
        self.role: Role = "alone"
        self.served_from: Literal["url", "cache"] | None = None
        self.responses = {"200": 0, "304": 0, "errors": 0}
        self.failures = 0  # in a row
        self.last_success_at: float | None = None
        self.last_error: str | None = None
        self.last_error_at: float | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Load a first version within ``timeout``, then poll (or follow) in a thread.

        :raises ProviderNotReadyError: neither the URL nor the cache gave definitions
            (the thread keeps trying: the provider becomes ready when one does).
        """
        self._stop = threading.Event()
        acquired = self._try_lock()
        if self._lock is None:
            self._poll()
        elif acquired:
            self.role = "poller"
            self._load_cache(adopt=True)
            self._poll()
        else:
            self.role = "follower"
            self._await_cache()
        self._schedule(ok=self.failures == 0)
        if self.provider.options.watch:
            self._thread = threading.Thread(
                target=self._run, name=f"flagport-local-url:{self.display}", daemon=True
            )
            self._thread.start()
        if not self.provider.snapshot.ready:
            detail = self.last_error or f"{self.display}: no version received yet"
            raise ProviderNotReadyError(f"{detail}; no cached copy to serve")

    def stop(self, timeout: float) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if self._fetcher is not None:
            self._fetcher.close()
        if self._lock is not None:
            self._lock.release()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while True:
            if self.role == "follower":
                if self._stop.wait(FOLLOW_STEP_S):
                    return
                self._follow()
                if time.monotonic() < self._next_poll:
                    continue
                if not self._try_lock():
                    self._schedule(ok=True)
                    continue
                self.role = "poller"
                logger.info("flagport: this process now polls %s for its host", self.display)
                self._adopt(self.cache.read_meta() if self.cache else {})
            elif self._stop.wait(max(0.0, self._next_poll - time.monotonic())):
                return
            self._schedule(ok=self._poll())

    def _try_lock(self) -> bool:
        """Take the host's poller lock; without a usable cache, poll alone."""
        if self._lock is None:
            return False
        try:
            return self._lock.try_acquire()
        except OSError as exc:
            self._without_cache(exc)
            return False

    def _without_cache(self, exc: OSError) -> None:
        """The cache's directory cannot be used: the URL still can, so poll it alone."""
        assert self.cache is not None
        logger.warning(
            "flagport: cannot use the cache %s (%s); polling %s without a cached copy: "
            "make its directory writable or change cache_path",
            self.cache.body,
            exc.strerror or exc,
            self.display,
        )
        self.cache, self._lock, self.role = None, None, "alone"

    def _schedule(self, ok: bool) -> None:
        opts = self.provider.options
        delay = opts.poll_interval
        if not ok:
            delay = min(opts.poll_interval * 2 ** min(self.failures, 30), opts.backoff_max)
        self._next_poll = time.monotonic() + delay * (1 + random.uniform(0, opts.poll_jitter))

    # -- polling ---------------------------------------------------------------------------
    def _fetcher_now(self) -> HttpFetcher:
        if self._fetcher is None:
            opts = self.provider.options
            self._fetcher = HttpFetcher(
                self.url, opts.headers, opts.timeout, signed=opts.public_key is not None
            )
        return self._fetcher

    def _adopt(self, meta: dict[str, Any]) -> None:
        """Revalidate the version being served: send its validators next time."""
        if meta.get("url") == self.display and self.served_from is not None:
            fetcher = self._fetcher_now()
            fetcher.etag, fetcher.last_modified = meta.get("etag"), meta.get("last_modified")

    def _poll(self) -> bool:
        """One conditional request; True when the source answered with something usable."""
        try:
            fetcher = self._fetcher_now()
            fetched = fetcher.fetch()
        except (FetchError, ValueError) as exc:
            self.responses["errors"] += 1
            self._failed(str(exc))
            return False
        if fetched is None:
            self.responses["304"] += 1
            self._succeeded()
            return True
        self.responses["200"] += 1
        # The validators stay those of the version served: a refused file is fetched again
        # next time, so a signature published after its file is picked up. The same bytes
        # again are refused without being parsed, or logged, again.
        version = (hashlib.sha256(fetched.body).digest(), fetched.signature)
        if version == self._refused or not self.provider.reload(
            Incoming(fetched.body, self.display, fetched.signature)
        ):
            self._refused = version
            self.responses["errors"] += 1
            self._failed(self.provider.last_error or "refused", logged=True)
            return False
        self._refused = None
        fetcher.etag, fetcher.last_modified = fetched.etag, fetched.last_modified
        self.served_from = "url"
        if self.cache is not None:
            meta = self._meta(state="ok")
            meta["signature"] = _b64(fetched.signature)
            self._write(lambda cache: cache.write(fetched.body, meta))
        self._succeeded()
        return True

    def _meta(self, state: str) -> dict[str, Any]:
        fetcher = self._fetcher
        return {
            "url": self.display,
            "etag": fetcher.etag if fetcher else None,
            "last_modified": fetcher.last_modified if fetcher else None,
            "signature": (self.cache.read_meta() if self.cache else {}).get("signature"),
            "state": state,
            "last_error": self.last_error if state != "ok" else None,
            "written_at": time.time(),
        }

    def _write(self, action: Any) -> None:
        assert self.cache is not None
        try:
            action(self.cache)
        except OSError as exc:
            logger.warning("flagport: cannot write the cache %s (%s)", self.cache.body, exc)
        self._seen = self.cache.versions()

    def _succeeded(self) -> None:
        self.failures = 0
        self.last_success_at = time.time()
        if self.provider.status != ProviderStatus.READY and self.provider.snapshot.ready:
            if self.last_error is not None:
                logger.warning("flagport: %s answers again", self.display)
            if self.role == "poller":
                self._write(lambda cache: cache.write_meta(self._meta(state="ok")))
        self._set_status(ok=True)

    def _failed(self, error: str, logged: bool = False) -> None:
        """Note a failure; log the first of a run, unless the load path logged it."""
        self.failures += 1
        self.last_error, self.last_error_at = error, time.time()
        if self.failures == 1 and not logged:
            logger.warning(
                "flagport: polling failed: %s; %s",
                error,
                "serving the last good definitions"
                if self.provider.snapshot.ready
                else "serving defaults until it answers",
            )
        if self.failures == 1 and self.role == "poller":
            self._write(lambda cache: cache.write_meta(self._meta(state="failing")))
        self._set_status(ok=False)

    def _set_status(self, ok: bool) -> None:
        provider = self.provider
        if provider.status == ProviderStatus.SHUT_DOWN:
            return
        if provider.snapshot.ready:
            provider.status = ProviderStatus.READY if ok else ProviderStatus.STALE
        else:
            provider.status = ProviderStatus.ERROR

    # -- the cache -------------------------------------------------------------------------
    def _load_cache(self, adopt: bool = False) -> bool:
        """Serve the cached copy, if there is one from this URL; True when it loaded."""
        assert self.cache is not None
        self._seen = self.cache.versions()
        found = self.cache.read()
        if found is None:
            return False
        body, meta = found
        if meta.get("url") not in (None, self.display):
            return False  # a copy of another URL: never served for this one
        source = f"{self.cache.body} (cached copy of {self.display})"
        if not self.provider.reload(Incoming(body, source, _unb64(meta.get("signature")))):
            return False
        self.served_from = "cache"
        if adopt:
            self._adopt(meta)
        return True

    def _await_cache(self) -> None:
        """A follower's start: the cached copy, waiting up to ``timeout`` for the poller
        to write a first one."""
        assert self.cache is not None
        deadline = time.monotonic() + self.provider.options.timeout
        while not self._load_cache():
            if time.monotonic() >= deadline or self._stop.wait(FOLLOW_STEP_S):
                self.last_error = f"no cached copy at {self.cache.body} yet"
                return
        self._follow_state(self.cache.read_meta())

    def _follow(self) -> None:
        assert self.cache is not None
        versions = self.cache.versions()
        if versions == self._seen:
            return
        body_changed = versions[0] != self._seen[0]
        if body_changed and not self._load_cache():
            self._failed(self.provider.last_error or "the cached copy is unreadable", logged=True)
            return
        self._seen = versions
        self._follow_state(self.cache.read_meta())

    def _follow_state(self, meta: dict[str, Any]) -> None:
        """A follower reports what the poller reports: STALE while its source fails."""
        if meta.get("state") == "failing":
            self.last_error = meta.get("last_error") or "the poller's source is failing"
            self._set_status(ok=False)
        else:
            self.last_success_at = meta.get("written_at") or self.last_success_at
            self._set_status(ok=True)

    # -- introspection ---------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        fetcher = self._fetcher
        return {
            "url": self.display,
            "role": self.role,
            "served_from": self.served_from,
            "etag": fetcher.etag if fetcher else None,
            "last_modified": fetcher.last_modified if fetcher else None,
            "last_success_at": self.last_success_at,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "responses": dict(self.responses),
            "consecutive_failures": self.failures,
            "cache_path": str(self.cache.body) if self.cache else None,
            "polling": self.running,
        }
