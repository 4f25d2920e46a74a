"""Watch one flags file and call back when it changes.

A daemon thread per process (started by the provider's ``start()``, never at
construction, so a forked child starts its own). It watches the file's *directory*,
because editors and deploy tools often replace a file by renaming a new one over it,
which a watch on the file itself would lose. Every ``interval`` seconds it also
compares the file's ``stat`` with the last one seen, so a change is noticed even
where file-system events are not delivered (network mounts, some containers), and
in a process forked from one that was watching, which only polls. For its first
second a watcher only polls (every 50 ms): importing watchfiles would cost a
short-lived process more than its first evaluation.

The path is watched as given, never resolved: ``stat`` follows symbolic links each
time, so when a link is pointed somewhere else the new target is what is seen. A
Kubernetes ConfigMap volume updates exactly that way (``flags.yaml -> ..data/flags.yaml``
and ``..data`` swapped to a new timestamped directory), as do deploy tools that switch
a ``current`` link between releases.

A change is reported only once the file has stayed the same (inode, size,
modification time) for ``settle`` seconds, so a writer that writes part of the file,
pauses and writes the rest is not served the part: YAML cut at a line end is often
valid YAML. Renaming a complete new file over the old one is the safe way to write.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flagport._fork import in_child

__all__ = ["FileWatcher"]

logger = logging.getLogger("flagport.providers.local")

_Signature = tuple[int, int, int] | None

# watchfiles' native watcher holds locks on threads that do not survive fork(); a child
# forked while its parent was watching cannot safely start another one, so it polls.
_watching_in_this_process = False
_forked_from_a_watcher = False


def _note_fork() -> None:
    global _forked_from_a_watcher, _watching_in_this_process
    _forked_from_a_watcher = _forked_from_a_watcher or _watching_in_this_process
    _watching_in_this_process = False


in_child(_note_fork)


def file_signature(path: Path) -> _Signature:
    """What identifies one version of the file: inode, size and modification time."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


# How long a new watcher polls before it imports watchfiles, and how often meanwhile.
_POLL_BEFORE_WATCHING_S = 1.0
_FIRST_POLL_STEP_S = 0.05


class FileWatcher:
    """Calls ``on_change()`` (from its own thread) after the file changes and settles.

    :param path: the file to watch; symbolic links in it are followed on every check.
    :param on_change: called with no arguments; exceptions are logged, not raised.
    :param interval: seconds between ``stat`` checks; also the longest a missed
        file-system event can delay a reload.
    :param settle: seconds the file must stay unchanged before ``on_change`` is
        called (0: at once).
    """

    def __init__(
        self,
        path: Path,
        on_change: Callable[[], object],
        interval: float = 0.5,
        settle: float = 0.0,
    ) -> None:
        # Absolute, so a later chdir changes nothing, but not resolved: resolving once
        # would pin the watch to the link's first target.
        self.path = Path(os.path.abspath(path))
        self.on_change = on_change
        self.interval = interval
        self.settle = settle
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: _Signature = None

    @property
    def running(self) -> bool:
        # In a forked child the parent's thread counts as stopped (threading marks it
        # so), so a watcher inherited through fork() is not running there.
        return self._thread is not None and self._thread.is_alive()

    def start(self, seen: _Signature = None) -> None:
        """Start the thread (again, in a forked child).

        :param seen: the signature of the version already loaded.
        """
        global _watching_in_this_process
        if self.running:
            return
        # Set before the thread exists: a fork at any later moment (even while the
        # thread is still importing watchfiles) must leave the child polling.
        _watching_in_this_process = True
        self._seen = seen if seen is not None else file_signature(self.path)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"flagport-local-watch:{self.path.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and wait at most ``timeout`` seconds for it."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)  # returns at once for a parent's thread in a forked child
        self._thread = None

    def _check(self, trusted: bool) -> None:
        """Call back once the file has settled, if it changed.

        :param trusted: a file-system event named the file itself; it is trusted even
            when ``stat`` looks unchanged, because two writes within the file system's
            timestamp granularity look identical.
        """
        if not trusted and file_signature(self.path) == self._seen:
            return
        if self._settled():
            self._fire()

    def _settled(self) -> bool:
        """Wait until the file has stayed the same for ``settle`` seconds.

        :returns: False when the watcher is stopping or the file is gone.
        """
        current = file_signature(self.path)
        quiet_since = time.monotonic()
        while self.settle > 0:
            left = self.settle - (time.monotonic() - quiet_since)
            if left <= 0:
                break
            if self._stop.wait(min(self.interval, left)):
                return False
            later = file_signature(self.path)
            if later != current:
                current, quiet_since = later, time.monotonic()
        self._seen = current
        return current is not None

    def _fire(self) -> None:
        try:
            self.on_change()
        except Exception:
            logger.exception("flagport: reloading %s failed", self.path)

    def _run(self) -> None:
        if _forked_from_a_watcher:
            self._poll()
            return
        # Poll for a second, then watch: importing watchfiles costs about as much as a
        # first evaluation, on the process's CPU while it evaluates, and a short-lived
        # process (a CLI call, a serverless function) is gone before it would be used.
        if self._poll(_POLL_BEFORE_WATCHING_S, min(self.interval, _FIRST_POLL_STEP_S)):
            return
        try:
            from watchfiles import watch
        except ImportError:  # pragma: no cover - watchfiles is a core dependency
            self._poll()
            return
        # The watch is registered only once ``watch()`` first runs, some time after
        # start() took the loaded version's signature: a change in between raises no
        # event. A stat at least every second closes that gap (and any missed event).
        step_ms = max(10, int(min(self.interval, 1.0) * 1000))
        # Events name the file under the directory as given or as the platform resolved it.
        real_parent = os.path.realpath(self.path.parent)
        targets = {str(self.path), os.path.join(real_parent, self.path.name)}
        try:
            # Every entry of the directory, not only the file: swapping a link the
            # path goes through (a ConfigMap's ``..data``) changes no event's path to
            # the file itself. Events for other entries are checked against ``stat``.
            for changes in watch(
                self.path.parent,
                watch_filter=None,  # the default filter drops paths under .git, .venv...
                debounce=50,
                step=10,
                rust_timeout=step_ms,
                yield_on_timeout=True,
                stop_event=self._stop,
                recursive=False,
                raise_interrupt=False,
            ):
                if self._stop.is_set():
                    return
                self._check(trusted=any(changed in targets for _, changed in changes))
        except Exception as exc:
            # The directory vanished or the platform refused a watch: keep polling.
            if not self._stop.is_set():
                logger.warning(
                    "flagport: watching %s failed (%s); polling every %.1fs instead",
                    self.path,
                    exc,
                    self.interval,
                )
                self._poll()

    def _poll(self, duration: float = math.inf, step: float | None = None) -> bool:
        """Check the file every ``step`` seconds (default ``interval``) for ``duration``.

        :returns: True when the watcher was stopped meanwhile.
        """
        deadline = time.monotonic() + duration
        while (left := deadline - time.monotonic()) > 0:
            if self._stop.wait(min(step or self.interval, left)):
                return True
            self._check(trusted=False)
        return False
