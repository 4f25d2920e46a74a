"""Signed flags files: ``flagport keygen``, ``flagport sign``, and a provider given the
public key refusing what does not verify (a compromised bucket or CDN cannot flip flags)."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flag_server import FlagServer, flag_server  # tests/support
from url_helpers import USER, flags, local_provider, version  # tests/support

from flagport import Flagport
from flagport.cli import cli
from flagport.provider import ProviderStatus

Waiter = Callable[..., bool]


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, str]:
    """A private key file made by ``flagport keygen``, and the public key it printed."""
    key = tmp_path / "flags.key"
    done = CliRunner().invoke(cli, ["keygen", str(key)])
    assert done.exit_code == 0, done.output
    return key, done.stdout.strip()


def signed(tmp_path: Path, key: Path, text: str) -> tuple[bytes, bytes]:
    """``text`` written to a file and signed with ``flagport sign``: (file, signature)."""
    file = tmp_path / "flags.yaml"
    file.write_text(text)
    done = CliRunner().invoke(cli, ["sign", str(file), "--key", str(key)])
    assert done.exit_code == 0, done.output
    return file.read_bytes(), (tmp_path / "flags.yaml.sig").read_bytes()


@pytest.fixture
def server() -> Iterator[FlagServer]:
    with flag_server() as running:
        yield running


def status(fp: Flagport) -> ProviderStatus:
    return local_provider(fp).status


def test_keygen_writes_a_private_key_only_its_owner_reads(keys: tuple[Path, str]) -> None:
    key, public = keys
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(public) == 44  # base64 of 32 bytes
    again = CliRunner().invoke(cli, ["keygen", str(key)])
    assert again.exit_code == 1
    assert "exists" in again.output


def test_a_signed_file_is_served(
    server: FlagServer, keys: tuple[Path, str], tmp_path: Path
) -> None:
    key, public = keys
    body, signature = signed(tmp_path, key, flags(1))
    server.put("/flags.yaml", body)
    server.put("/flags.yaml.sig", signature)
    with Flagport(provider="local", url=server.url(), public_key=public, watch=False) as fp:
        assert version(fp) == 1
        assert status(fp) == ProviderStatus.READY


def test_an_unsigned_file_is_refused(server: FlagServer, keys: tuple[Path, str]) -> None:
    server.put("/flags.yaml", flags(1))
    with Flagport(provider="local", url=server.url(), public_key=keys[1], watch=False) as fp:
        result = fp.get_config(USER, "release")
        assert result.error_code == "PROVIDER_NOT_READY"
        assert "no signature at" in (result.error_message or "")
        assert f"{server.url()}.sig" in (result.error_message or "")


def test_a_changed_file_is_refused_and_the_last_good_keeps_serving(
    server: FlagServer, keys: tuple[Path, str], tmp_path: Path, wait_for: Waiter
) -> None:
    key, public = keys
    body, signature = signed(tmp_path, key, flags(1))
    server.put("/flags.yaml", body)
    server.put("/flags.yaml.sig", signature)
    options = {"poll_interval": 0.05, "poll_jitter": 0, "backoff_max": 0.1}
    with Flagport(provider="local", url=server.url(), public_key=public, **options) as fp:
        assert version(fp) == 1
        # An attacker with write access to the bucket, but not to the key.
        server.put("/flags.yaml", flags(666))
        assert wait_for(lambda: status(fp) == ProviderStatus.STALE)
        assert version(fp) == 1
        error = fp.stats()["provider"]["url"]["last_error"]
        assert "does not match the file" in error
        # The publisher signs the new version: it goes live.
        body, signature = signed(tmp_path, key, flags(2))
        server.put("/flags.yaml", body)
        server.put("/flags.yaml.sig", signature)
        assert wait_for(lambda: version(fp) == 2)
        assert status(fp) == ProviderStatus.READY


def test_a_file_signed_with_another_key_is_refused(
    server: FlagServer, keys: tuple[Path, str], tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    other_key = other / "k.key"
    assert CliRunner().invoke(cli, ["keygen", str(other_key)]).exit_code == 0
    body, signature = signed(other, other_key, flags(1))
    server.put("/flags.yaml", body)
    server.put("/flags.yaml.sig", signature)
    with Flagport(provider="local", url=server.url(), public_key=keys[1], watch=False) as fp:
        assert "signed with another key" in (fp.get_config(USER, "release").error_message or "")


def test_a_garbled_signature_is_refused(server: FlagServer, keys: tuple[Path, str]) -> None:
    server.put("/flags.yaml", flags(1))
    server.put("/flags.yaml.sig", "not a signature\n")
    with Flagport(provider="local", url=server.url(), public_key=keys[1], watch=False) as fp:
        assert "is not a signature" in (fp.get_config(USER, "release").error_message or "")


def test_sign_refuses_a_file_with_problems(keys: tuple[Path, str], tmp_path: Path) -> None:
    file = tmp_path / "flags.yaml"
    file.write_text("configs:\n  release:\n    defualt: {}\n")
    done = CliRunner().invoke(cli, ["sign", str(file), "--key", str(keys[0])])
    assert done.exit_code == 1
    assert "defualt" in done.output
    assert not (tmp_path / "flags.yaml.sig").exists()


def test_sign_says_what_is_wrong_with_a_key_that_is_not_one(tmp_path: Path) -> None:
    file = tmp_path / "flags.yaml"
    file.write_text(flags(1))
    bad = tmp_path / "bad.key"
    bad.write_text("hello")
    done = CliRunner().invoke(cli, ["sign", str(file), "--key", str(bad)])
    assert done.exit_code == 1
    assert "not an unencrypted PEM private key" in done.output
    assert "Traceback" not in done.output
