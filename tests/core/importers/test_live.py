"""``flagport import VENDOR --live`` against the loopback servers the provider tests use:
the provider's options from settings, environment or ``--option``; the key never shows
in output, errors or the written file; errors are one line with exit code 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tls_relays import ConnectProxy, TlsTerminator, self_signed  # tests/support

from flagport.cli import cli

EXAMPLES = Path(__file__).parents[3] / "examples" / "import"
#: A key no output may contain (nor a slice of it long enough to recognise).
SECRET = "sekret-9f3c1d7e-live-key"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No settings file or FLAGPORT_* variable of the machine running the tests.
    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("FLAGPORT_")]:
        monkeypatch.delenv(name)


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return loaded


@contextmanager
def serving(vendor: str, secret: str = SECRET) -> Iterator[dict[str, Any]]:
    """A loopback server with the vendor's example payload; yields the provider options."""
    if vendor == "statsig":
        from flagport_statsig.testing import StatsigLoopbackServer

        with StatsigLoopbackServer(_example("statsig_specs.json"), server_secret=secret) as s:
            yield {"server_secret": SECRET, "specs_url": s.specs_url}
    elif vendor == "growthbook":
        from flagport_growthbook.testing import GrowthBookLoopback

        with GrowthBookLoopback(_example("growthbook_features.json"), client_key=secret) as g:
            yield {"client_key": SECRET, "api_host": g.url}
    else:
        from flagport_featbit.testing import FeatBitLoopback

        data = _example("featbit_data_sync.json")["data"]
        flags, segments = data["featureFlags"], data.get("segments") or []
        with FeatBitLoopback(flags, segments, env_secret=secret) as f:
            yield {"env_secret": SECRET, "streaming_url": f.streaming_url, "event_url": f.event_url}


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["import", *args], catch_exceptions=False)


def _no_secret(result: Any, *files: Path) -> None:
    texts = [result.stdout, result.stderr, *(f.read_text() for f in files if f.exists())]
    for text in texts:
        assert SECRET not in text
        assert SECRET[:12] not in text


VENDORS = ["featbit", "growthbook", "statsig"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_live_options_import_and_verify(vendor: str, tmp_path: Path) -> None:
    out = tmp_path / "flags.yaml"
    with serving(vendor) as options:
        pairs = [f"--option={k}={v}" for k, v in options.items()]
        result = _run(vendor, "--live", *pairs, "-o", str(out), "--verify-random", "100")
    assert result.exit_code == 0, result.output
    assert "agree" in result.output
    assert "mismatch" not in result.output
    assert "downloaded from" in out.read_text()
    _no_secret(result, out)


@pytest.mark.parametrize("vendor", VENDORS)
def test_live_reads_the_settings_file_and_the_environment(
    vendor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "flags.json"
    with serving(vendor) as options:
        key, *rest = options.items()
        # The key from the environment, the server from flagport.toml's section.
        monkeypatch.setenv(f"FLAGPORT_{vendor.upper()}_{key[0].upper()}", key[1])
        section = "".join(f"{name} = {json.dumps(value)}\n" for name, value in rest)
        (tmp_path / "flagport.toml").write_text(f"[{vendor}]\n{section}")
        result = _run(vendor, "--live", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())
    _no_secret(result, out)


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_refused_key_is_one_line_exit_1(vendor: str, tmp_path: Path) -> None:
    out = tmp_path / "flags.yaml"
    with serving(vendor, secret="the-right-key") as options:
        pairs = [f"--option={k}={v}" for k, v in options.items()]
        result = _run(vendor, "--live", *pairs, "-o", str(out))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "refused the key" in lines[0] or "no payload for this key" in lines[0]
    assert not out.exists()
    _no_secret(result, out)


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_server_that_is_down_is_one_line_exit_1(vendor: str, tmp_path: Path) -> None:
    out = tmp_path / "flags.yaml"
    with serving(vendor) as options:
        pass  # the server has stopped: its address refuses connections
    pairs = [f"--option={k}={v}" for k, v in options.items()]
    result = _run(vendor, "--live", *pairs, "-o", str(out))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot reach ")
    assert "127.0.0.1" in lines[0]
    _no_secret(result, out)


@contextmanager
def featbit_over_tls_via_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[list[str], ConnectProxy]]:
    """The FeatBit loopback behind TLS (a certificate no authority signed) and the
    environment's proxy; yields the ``--option`` pairs and the proxy."""
    cert_file, key_file = self_signed(tmp_path)
    for name in ("no_proxy", "NO_PROXY", "HTTPS_PROXY", "WEBSOCKET_CLIENT_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    with (
        serving("featbit") as options,
        TlsTerminator(cert_file, key_file, int(options["streaming_url"].rsplit(":", 1)[1])) as tls,
        ConnectProxy() as proxy,
    ):
        monkeypatch.setenv("https_proxy", proxy.url)
        options["streaming_url"] = f"wss://127.0.0.1:{tls.port}"
        yield [f"--option={k}={v}" for k, v in options.items()], proxy


def test_featbit_over_wss_goes_through_the_proxy_and_checks_the_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "flags.yaml"
    with featbit_over_tls_via_proxy(tmp_path, monkeypatch) as (pairs, proxy):
        refused = _run("featbit", "--live", *pairs, "-o", str(out))
        # websocket-client's own setting for the authorities it trusts, as for the SDK.
        monkeypatch.setenv("WEBSOCKET_CLIENT_CA_BUNDLE", str(tmp_path / "cert.pem"))
        result = _run("featbit", "--live", *pairs, "-o", str(out), "--verify-random", "20")
    assert refused.exit_code == 1
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr
    assert result.exit_code == 0, result.output
    assert "mismatch" not in result.output
    assert len(proxy.requests) == 2
    assert all(line.startswith(b"CONNECT 127.0.0.1:") for line in proxy.requests)
    _no_secret(result, out)
    _no_secret(refused)


def test_live_without_a_key_says_where_to_set_it(tmp_path: Path) -> None:
    result = _run("growthbook", "--live", "-o", str(tmp_path / "f.yaml"))
    assert result.exit_code == 1
    assert "client_key" in result.stderr
    assert "FLAGPORT_GROWTHBOOK_CLIENT_KEY" in result.stderr


def test_a_misspelt_option_is_located(tmp_path: Path) -> None:
    result = _run("statsig", "--live", "--option", "server_secrte=x", "-o", str(tmp_path / "f"))
    assert result.exit_code == 1
    assert "server_secrte" in result.stderr
    assert "server_secret" in result.stderr


def test_source_and_live_together_are_a_usage_error(tmp_path: Path) -> None:
    source = str(EXAMPLES / "growthbook_features.json")
    assert _run("growthbook", source, "--live", "-o", str(tmp_path / "f.yaml")).exit_code == 2
    assert _run("growthbook", "-o", str(tmp_path / "f.yaml")).exit_code == 2
