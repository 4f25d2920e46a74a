"""Watch everything a flagport client shows for a canary secret.

Used by ``test_secrets.py`` in every provider's test folder: :class:`LeakWatch` records
every log record of every logger at DEBUG (through a handler on the root logger, with
the exception text and stack each record would print), and every text a test adds
(reprs, stats, results, exception messages, CLI output); :func:`exercise` drives a
client through everything that can show an option.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, quote_plus

import pytest

from flagport import Flagport, FlagportError

USER = {"user_id": "u-1", "country": "US", "private": {"ssn": "000-00-0000"}}


class _Capture(logging.Handler):
    def __init__(self, texts: list[tuple[str, str]]) -> None:
        super().__init__(logging.DEBUG)
        self.texts = texts
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        # Everything a handler may print: the formatted text (message, exception,
        # stack) and the raw parts a structured handler reads.
        text = "\n".join(
            [self.format(record), str(record.msg), repr(record.args), str(record.exc_info)]
        )
        self.texts.append((f"log {record.name}", text))


class LeakWatch:
    """Collects what a run shows and asserts that ``canary`` is in none of it.

    :param canary: the secret to look for.
    :param loggers: loggers to open to DEBUG for the run (vendor SDKs that tests and
        conftests usually quiet).
    :param ignore: loggers whose records are not the client's (a loopback server
        logging the requests it receives).
    """

    def __init__(
        self, canary: str, loggers: Iterable[str] = (), ignore: Iterable[str] = ()
    ) -> None:
        self.canary = canary
        self.texts: list[tuple[str, str]] = []
        self._handler = _Capture(self.texts)
        self._loggers = [logging.getLogger(), *(logging.getLogger(n) for n in loggers)]
        self._levels: list[int] = []
        self._ignore = tuple(f"log {n}" for n in ignore)

    def __enter__(self) -> Self:
        self._levels = [lg.level for lg in self._loggers]
        for lg in self._loggers:
            lg.setLevel(logging.DEBUG)
        logging.getLogger().addHandler(self._handler)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        logging.getLogger().removeHandler(self._handler)
        for lg, level in zip(self._loggers, self._levels, strict=True):
            lg.setLevel(level)

    def add(self, label: str, value: Any) -> None:
        """Record what the run shows as ``label`` (its ``str``)."""
        self.texts.append((label, str(value)))

    def leaks(self) -> list[str]:
        """Labels and excerpts of every text holding the canary, as is or URL-encoded."""
        forms = {self.canary, quote(self.canary, safe=""), quote_plus(self.canary)}
        found = []
        for label, text in self.texts:
            if label.startswith(self._ignore):
                continue
            for form in (f for f in forms if f in text):
                at = text.index(form)
                found.append(f"{label}: ...{text[max(0, at - 120) : at + 40]}...")
        return found

    def assert_clean(self, capfd: pytest.CaptureFixture[str] | None = None) -> None:
        """Fail listing each leak; ``capfd`` adds what reached stdout and stderr."""
        if capfd is not None:
            out, err = capfd.readouterr()
            self.add("stdout", out)
            self.add("stderr", err)
        leaks = self.leaks()
        assert not leaks, f"{len(leaks)} leaks of the canary:\n" + "\n".join(leaks[:20])
        # The watch saw something: an empty capture would prove nothing.
        assert any(label.startswith("log ") for label, _ in self.texts)


def exercise(fp: Flagport, watch: LeakWatch) -> dict[str, Any]:
    """Drive ``fp`` through every call that can show an option, then shut it down.

    :returns: the client's stats before the shutdown.
    """
    watch.add("repr(fp)", repr(fp))
    watch.add("repr(settings)", repr(fp.settings))
    watch.add("str(settings.options)", fp.settings.options)
    provider = fp.provider  # starts it: the vendor SDK connects now
    watch.add("repr(options)", repr(provider.options))
    watch.add("str(options)", str(provider.options))
    watch.add("describe", provider.describe())
    for result in (
        fp.get_gate(USER, "new_checkout"),
        fp.get_experiment(USER, "button_color"),
        fp.get_config(USER, "pricing"),
        fp.get_gate(USER, "no_such_flag"),
    ):
        watch.add("result", repr(result))
    watch.add("evaluate_all", fp.evaluate_all(USER))
    for call in (provider.evaluate_gate, provider.evaluate_config):
        try:
            call(_user(), "no_such_flag")
        except FlagportError as exc:
            watch.add("exception", f"{exc!s} {exc!r}")
    fp.log_event(USER, "purchase", value=9.99, metadata={"sku": "A1"})
    fp.flush(3)
    stats = fp.stats()
    watch.add("stats", stats)
    fp.shutdown(3)
    watch.add("stats after shutdown", fp.stats())
    return stats


def _user() -> Any:
    from flagport.user import as_user

    return as_user(USER)


SOURCES = ("constructor", "environment", "toml")
_PLUGIN_SWITCHES = {"FLAGPORT_DISABLE_PLUGINS", "FLAGPORT_PLUGINS"}
SERVERS = ("down", "wrong", "right")


def start_wait(server_state: str) -> float:
    """Seconds the provider's start may wait for definitions against ``server_state``.

    Short where the start cannot succeed (the test would only wait); long where it
    must, since the test then asserts that definitions arrived: under load (two test
    workers and other processes on two cores) a first download took longer than half a
    second, the start gave up and the provider was not ready yet when its stats were
    read. A start that succeeds returns as soon as the definitions arrive.
    """
    return 30.0 if server_state == "right" else 0.5


def run_provider(
    provider: str,
    secret_option: str,
    canary: str,
    server: Any,
    options_of: Callable[[Any], dict[str, Any]],
    *,
    source: str,
    server_state: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    loggers: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> tuple[LeakWatch, dict[str, Any]]:
    """Run a client of ``provider`` through :func:`exercise` against a loopback ``server``.

    The canary is given through ``source`` (see :data:`SOURCES`); the server is stopped
    first when ``server_state`` is ``"down"``.

    :param server: a loopback server, not started, expecting the right or a wrong secret.
    :param options_of: the provider options pointing at the started server.
    :returns: the watch (to assert on) and the provider's stats before the shutdown.
    """
    given = settle_source(source, provider, secret_option, canary, tmp_path, monkeypatch)
    with server, LeakWatch(canary, loggers, ignore) as watch:
        options = {k: v for k, v in options_of(server).items() if k != secret_option}
        if server_state == "down":
            server.stop()
        stats = exercise(Flagport(provider=provider, **given, **options), watch)
    return watch, stats["provider"]


def settle_source(
    source: str,
    provider: str,
    secret_option: str,
    canary: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """Put the canary where ``source`` says; the constructor options that remain.

    :returns: ``{secret_option: canary}`` for the constructor, else ``{}``.
    """
    monkeypatch.chdir(tmp_path)
    for var in list(os.environ):
        if var.startswith("FLAGPORT_") and var not in {
            "FLAGPORT_DISABLE_PLUGINS",
            "FLAGPORT_PLUGINS",
        }:
            monkeypatch.delenv(var)
    if source == "environment":
        monkeypatch.setenv(f"FLAGPORT_{provider.upper()}_{secret_option.upper()}", canary)
        return {}
    if source == "toml":
        (tmp_path / "flagport.toml").write_text(
            f'provider = "{provider}"\n[{provider}]\n{secret_option} = "{canary}"\n'
        )
        return {}
    return {secret_option: canary}
