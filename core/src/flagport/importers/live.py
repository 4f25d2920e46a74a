"""``flagport import VENDOR --live``: the vendor's payload, downloaded as its provider's SDK does.

The options are the provider's own: the ``[VENDOR]`` section of ``flagport.toml`` (or
``[tool.flagport]``), ``FLAGPORT_<VENDOR>_<OPTION>`` in the environment and ``--option
key=value``, merged by :func:`flagport.settings.load_settings` and validated by the
provider's options model, so a typo is the same located error the provider gives. Only
the download happens here, on the wire the vendor's SDK uses:

- ``statsig``: ``GET <specs_url>/<server_secret>.json`` with the ``statsig-api-key``
  header (the ``dcs-v2`` config specs);
- ``growthbook``: ``GET <api_host>/api/features/<client_key>`` (an encrypted
  connection's payload is decrypted by the importer with ``decryption_key``);
- ``featbit``: the websocket ``<streaming_url>/streaming`` with the SDK's token and
  ``Authorization`` header, asking for a full ``data-sync`` (timestamp 0).

Keys are secrets: an error names the server (scheme, host and port, never the path that
holds a key) and the status, and any text a library or server gives back is scrubbed of
the keys before it is shown. A redirect is followed only within the server, or from
plain text up to TLS on its host (:mod:`flagport._redirects`, the FeatBit provider's
rule too): following one elsewhere would hand that server the key.

The server is not trusted to behave: the whole download (the name lookup, connect,
handshake, every byte) must end within the provider's timeout option, however slowly
the server (or the DNS server) drips, and at most
:data:`~flagport._documents.MAX_DOCUMENT_BYTES` are read, however large the body or
websocket frame it announces.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from flagport._documents import MAX_DOCUMENT_BYTES
from flagport._redirects import RedirectRefused, SameServer
from flagport._redirects import shown_origin as _origin
from flagport.importers.live_sockets import (
    Sockets,
    watched_handlers,
    watching,
    websocket_connection,
)

__all__ = ["STATSIG_SPECS_URL", "Fetched", "LiveError", "fetch_live", "live_options"]

#: Where Statsig's server SDKs download config specs when ``specs_url`` is not set.
STATSIG_SPECS_URL = "https://api.statsigcdn.com/v2/download_config_specs"
_KEYS = {"statsig": "server_secret", "growthbook": "client_key", "featbit": "env_secret"}
_WEBSOCKET_CLOSE = 0x8
#: FeatBit's data sync: the websocket upgrade carries the env_secret.
_UPGRADE = SameServer("the websocket upgrade", "streaming_url", "the env_secret")
_CHUNK = 65536
T = TypeVar("T")


class LiveError(Exception):
    """The payload could not be downloaded; the message is one line and holds no secret."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A downloaded payload.

    :ivar payload: the response body, as the vendor sent it.
    :ivar origin: the server it came from (scheme, host, port; no path, no key).
    :ivar decryption_key: GrowthBook's ``decryption_key`` option, for an encrypted payload.
    """

    payload: bytes
    origin: str
    decryption_key: str | None = None


def live_options(
    vendor: str, given: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
) -> BaseModel:
    """The vendor provider's options from its settings, the environment and ``given``.

    :raises flagport.errors.ConfigurationError: a settings file or an option is wrong
        (located, values never echoed).
    """
    from flagport.plugins import get_provider_class
    from flagport.settings import load_settings, validate_options

    settings = load_settings(provider=vendor, options=given, environ=environ)
    model = get_provider_class(vendor).Options
    return validate_options(model, settings.options, settings.sources, f"provider {vendor!r}")


def fetch_live(vendor: str, options: BaseModel) -> Fetched:
    """Download ``vendor``'s payload with the provider's ``options``.

    :raises LiveError: no key, the server cannot be reached, refuses the key, or
        answers something other than a payload.
    """
    key_name = _KEYS[vendor]
    key = _secret(getattr(options, key_name, None))
    if not key:
        raise LiveError(
            f"--live needs the {vendor} provider's {key_name}: set it in [{vendor}] of "
            f"flagport.toml, as FLAGPORT_{vendor.upper()}_{key_name.upper()}, or with "
            f"--option {key_name}=..."
        )
    secrets = [key]
    try:
        if vendor == "featbit":
            return _featbit(options, key, secrets)
        if vendor == "statsig":
            base = str(getattr(options, "specs_url", None) or STATSIG_SPECS_URL).rstrip("/")
            timeout = float(getattr(options, "init_timeout_ms", 10_000)) / 1000
            option, setting = "init_timeout_ms", "specs_url"
            url, headers = f"{base}/{key}.json", {"statsig-api-key": key}
        else:
            base = str(getattr(options, "api_host", "")).rstrip("/")
            timeout = float(getattr(options, "http_timeout", 10.0))
            option, setting = "http_timeout", "api_host"
            url, headers = f"{base}/api/features/{key}", {}
        deadline = _Deadline.after(timeout, _origin(url), option)
        redirects = SameServer("the download", setting, f"the {key_name}")
        body = _within(
            deadline,
            lambda sockets: _get(url, headers, deadline, redirects, key_name, secrets, sockets),
        )
    except LiveError:
        raise
    except Exception as exc:  # a library's error, whatever its kind: one line, scrubbed
        raise LiveError(_scrub(f"{vendor} download failed: {exc}", secrets)) from None
    decryption = _secret(getattr(options, "decryption_key", None))
    return Fetched(body, _origin(url), decryption)


def _secret(value: Any) -> str | None:
    if isinstance(value, SecretStr):
        return value.get_secret_value() or None
    return str(value) if value else None


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return " ".join(text.split())


def _refused(status: int, key_name: str) -> str:
    hint = {
        401: f"the server refused the key; check {key_name}",
        403: f"the server refused the key; check {key_name}",
        404: f"the server knows no payload for this key; check {key_name} and the URL",
    }
    return hint.get(status, "the server could not serve the payload; try again later")


@dataclass(frozen=True, slots=True)
class _Deadline:
    """When the download must be over, and the errors that say it was not."""

    at: float
    timeout: float
    origin: str
    option: str

    @classmethod
    def after(cls, timeout: float, origin: str, option: str) -> _Deadline:
        return cls(time.monotonic() + timeout, timeout, origin, option)

    @property
    def late(self) -> str:
        return (
            f"{self.origin} did not send the payload within {self.timeout:g}s (a stalled or "
            f"dripping server?); check the server, or raise the provider's {self.option} "
            "option"
        )

    def unresolved(self, host: str) -> str:
        return (
            f"cannot resolve {host} within {self.timeout:g}s (a stalled DNS server?); check "
            f"the host name and the DNS servers, or raise the provider's {self.option} option"
        )

    def left(self) -> float:
        """Seconds left.

        :raises LiveError: none are (so a read cut short by the deadline is reported as
            the deadline, whoever notices first).
        """
        left = self.at - time.monotonic()
        if left <= 0:
            raise LiveError(self.late)
        return left


def _within(deadline: _Deadline, work: Callable[[Sockets], T]) -> T:
    """``work(sockets)``'s result, or :class:`LiveError` once ``deadline`` has passed.

    A socket timeout bounds each read, not the download: a server sending one byte per
    read could hold it for ever, and nothing bounds a name lookup. So the download runs
    in a daemon thread the caller stops waiting for at the deadline, and then hangs up
    the connections ``work`` opened through ``sockets``: the read the thread is blocked
    in returns (as does its wait for a lookup), the thread sees the deadline passed and
    ends, leaving no socket open.
    """
    outcome: list[Any] = []
    sockets = Sockets()

    def run() -> None:
        try:
            outcome.append((True, work(sockets)))
        except BaseException as exc:  # handed to the waiting thread, raised there
            outcome.append((False, exc))
        finally:
            sockets.release()

    worker = threading.Thread(target=run, name="flagport-live-download", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline.at - time.monotonic()))
    if not outcome:
        looking_up = sockets.hang_up()
        raise LiveError(deadline.unresolved(looking_up[0]) if looking_up else deadline.late)
    done, value = outcome[0]
    if not done:
        raise value
    result: T = value
    return result


class _SameServerRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only as ``rule`` allows: urllib would resend every header (the
    key among them) to whatever server the redirect names."""

    def __init__(self, rule: SameServer) -> None:
        self._rule = rule

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:  # fmt: skip
        # urllib counts the URLs each request was redirected to (after this call).
        hops = sum(getattr(req, "redirect_dict", {}).values())
        try:
            self._rule.follow(req.full_url, newurl, status=code, hops=hops)
        except RedirectRefused as exc:
            raise LiveError(str(exc)) from None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _get(url: str, headers: Mapping[str, str], deadline: _Deadline, redirects: SameServer,
         key_name: str, secrets: list[str], sockets: Sockets) -> bytes:  # fmt: skip
    origin = _origin(url)
    if urlsplit(url).scheme not in ("http", "https"):
        raise LiveError(f"{origin}: not an http(s) URL; check the provider's URL option")
    request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
    opener = urllib.request.build_opener(
        _SameServerRedirects(redirects), *watched_handlers(sockets)
    )
    chunks: list[bytes] = []
    size = 0
    try:
        with opener.open(request, timeout=deadline.timeout) as response:
            while size <= MAX_DOCUMENT_BYTES and deadline.left():
                chunk: bytes = response.read1(_CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except urllib.error.HTTPError as exc:
        raise LiveError(
            f"{origin} answered HTTP {exc.code}: {_refused(exc.code, key_name)}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        deadline.left()  # a read the deadline cut short
        reason = getattr(exc, "reason", exc)
        raise LiveError(_scrub(f"cannot reach {origin}: {reason}", secrets)) from None
    if size > MAX_DOCUMENT_BYTES:
        raise LiveError(f"{origin} sent more than {MAX_DOCUMENT_BYTES} bytes; not a payload")
    return b"".join(chunks)


def _bounded_websocket(origin: str, deadline: _Deadline, sockets: Sockets) -> type[Any]:
    """A websocket-client connection whose reads stop at ``deadline`` and at
    :data:`MAX_DOCUMENT_BYTES` in all: the library itself reads a frame of whatever
    length the server announces, and waits for it as long as bytes keep coming. Its
    socket is watched by ``sockets`` from the moment it has one (before the upgrade
    handshake, which the library reads byte by byte with no deadline)."""
    import websocket

    class BoundedWebSocket(websocket.WebSocket):
        received = 0
        sock = watching(sockets)

        def _recv(self, bufsize: int) -> bytes:
            left = deadline.left()
            if self.sock is not None:
                # Only ever shortened: close() waits a second of its own at most.
                current = self.sock.gettimeout()
                self.sock.settimeout(left if current is None else min(current, left))
            try:
                data: bytes = super()._recv(bufsize)  # type: ignore[no-untyped-call]
            except websocket.WebSocketTimeoutException:
                deadline.left()  # a read the deadline cut short
                raise
            self.received += len(data)
            if self.received > MAX_DOCUMENT_BYTES + _CHUNK:  # the frame header's bytes too
                raise LiveError(
                    f"{origin} sent more than {MAX_DOCUMENT_BYTES} bytes; not a payload"
                )
            return data

    return BoundedWebSocket


def _featbit(options: BaseModel, key: str, secrets: list[str]) -> Fetched:
    from fbclient.utils import build_token

    base = str(getattr(options, "streaming_url", None) or "").rstrip("/")
    if not base:
        raise LiveError(
            "--live needs the featbit provider's streaming_url (ws:// or wss://): set it in "
            "[featbit] of flagport.toml, as FLAGPORT_FEATBIT_STREAMING_URL, or with --option"
        )
    origin = _origin(base)
    secrets.append(build_token(key))
    timeout = float(getattr(options, "connect_timeout", 5.0))
    deadline = _Deadline.after(timeout, origin, "connect_timeout")
    return _within(
        deadline, lambda sockets: _data_sync(base, key, timeout, deadline, secrets, sockets)
    )


def _upgraded(url: str, header: list[str], timeout: float, deadline: _Deadline,
              sockets: Sockets) -> Any:  # fmt: skip
    """The websocket to ``url``, following a redirect of its upgrade only as
    :data:`_UPGRADE` allows: websocket-client would follow one anywhere, with the key's
    header."""
    connection = _bounded_websocket(_origin(url), deadline, sockets)()
    connection.settimeout(timeout)
    try:
        _UPGRADE.connect(
            connection,
            url,
            header=header,
            socket_for=lambda to: websocket_connection(to, timeout, sockets),
        )
    except RedirectRefused as exc:
        raise LiveError(str(exc)) from None
    return connection


def _data_sync(base: str, key: str, timeout: float, deadline: _Deadline,
               secrets: list[str], sockets: Sockets) -> Fetched:  # fmt: skip
    import websocket
    from fbclient.utils import build_headers

    origin = _origin(base)
    header = [f"{name}: {value}" for name, value in build_headers(key).items()]
    url = f"{base}/streaming?token={secrets[-1]}&type=server"
    try:
        connection = _upgraded(url, header, timeout, deadline, sockets)
    except websocket.WebSocketBadStatusException as exc:
        status = int(getattr(exc, "status_code", 0) or 0)
        raise LiveError(
            f"{origin} answered HTTP {status}: {_refused(status, 'env_secret')}"
        ) from None
    except (OSError, websocket.WebSocketException) as exc:
        deadline.left()  # a handshake the deadline cut short
        raise LiveError(_scrub(f"cannot reach {origin}: {exc}", secrets)) from None
    try:
        connection.send(json.dumps({"messageType": "data-sync", "data": {"timestamp": 0}}))
        # Not control frames: the library answers pings itself and returns a close.
        opcode, data = connection.recv_data()
    except (OSError, websocket.WebSocketException) as exc:
        deadline.left()
        raise LiveError(_scrub(f"{origin}: the data sync failed: {exc}", secrets)) from None
    finally:
        connection.close(timeout=1)
    if opcode == _WEBSOCKET_CLOSE:
        code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 0
        raise LiveError(
            f"{origin} closed the connection (code {code}): the server refused the key; "
            "check env_secret"
        )
    return Fetched(bytes(data), origin)
