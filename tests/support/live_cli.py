"""``flagport import VENDOR --live`` run by the tests that point it at misbehaving
servers (``test_live_hostile.py``, ``test_live_redirects.py``, the stalled-DNS run):
the ``--option`` pairs, the run, and the one ``error:`` line a failure must be."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from click.testing import CliRunner

from flagport.cli import cli

#: A key no output may contain (nor a slice of it long enough to recognise).
SECRET = "sekret-4b1e9a77-hostile-key"
HTTP_VENDORS = ["statsig", "growthbook"]
PAYLOAD = Path(__file__).parents[2] / "examples" / "import" / "growthbook_features.json"
FEATBIT_PAYLOAD = PAYLOAD.with_name("featbit_data_sync.json")
#: Long enough for any answer on a loaded machine; the drip tests give up sooner.
PATIENT = 10.0
SHORT = 0.3


class Listening(Protocol):
    @property
    def port(self) -> int: ...


def options(
    vendor: str, server: Listening | str, timeout: float = PATIENT, *, tls: bool = False
) -> list[str]:
    """``--option`` pairs pointing ``vendor`` at ``server`` (a ``host:port``, or a server
    on 127.0.0.1; over TLS: ``https://``, ``wss://``), giving up after ``timeout``."""
    address = server if isinstance(server, str) else f"127.0.0.1:{server.port}"
    url = f"http{'s' if tls else ''}://{address}"
    given: dict[str, Any] = {
        "statsig": {
            "server_secret": SECRET,
            "specs_url": url,
            "init_timeout_ms": int(timeout * 1000),
        },
        "growthbook": {"client_key": SECRET, "api_host": url, "http_timeout": timeout},
        "featbit": {
            "env_secret": SECRET,
            "streaming_url": f"ws{'s' if tls else ''}://{address}",
            "event_url": f"http://{address}",
            "connect_timeout": timeout,
        },
    }[vendor]
    return [f"--option={name}={value}" for name, value in given.items()]


def run_live(
    vendor: str, server: Listening | str, tmp_path: Path, timeout: float = PATIENT, *,
    tls: bool = False,
) -> Any:  # fmt: skip
    """The CLI's result (the file written to ``tmp_path/flags.yaml``); a failed run
    writes none."""
    out = tmp_path / "flags.yaml"
    result = CliRunner().invoke(
        cli,
        ["import", vendor, "--live", *options(vendor, server, timeout, tls=tls), "-o", str(out)],
        catch_exceptions=False,
    )
    if result.exit_code:
        assert not out.exists()
    return result


def one_error_line(result: Any) -> str:
    """The single ``error:`` line of a failed run, checked free of the key."""
    assert result.exit_code == 1, result.output
    for text in (result.stdout, result.stderr):
        assert SECRET not in text
        assert SECRET[:12] not in text
        assert "Traceback" not in text
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]
