"""The URL source's options: the ``url`` extra is checked when the client is built."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from child_python import run_python  # tests/support

#: Installed as ``sitecustomize`` of a child interpreter: importing ``{blocked}`` fails
#: the way it does when the package is not installed.
_BLOCKER = """
import sys

class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
"""

#: Builds a client, then reports what construction did.
_BUILD = """
from flagport import ConfigurationError, Flagport

try:
    Flagport(provider="local", url="http://127.0.0.1:9/flags.yaml", {extra})
except ConfigurationError as exc:
    print("refused:", exc)
else:
    print("constructed")
"""


def _run_without(tmp_path: Path, blocked: set[str], code: str) -> str:
    """What ``code`` prints in a child interpreter in which ``blocked`` is not installed."""
    (tmp_path / "sitecustomize.py").write_text(_BLOCKER.format(blocked=blocked))
    paths = [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return run_python(textwrap.dedent(code), tmp_path, env)


def _build_without(tmp_path: Path, blocked: set[str], extra: str = "") -> str:
    return _run_without(tmp_path, blocked, _BUILD.format(extra=extra))


@pytest.mark.parametrize("missing", ["httpx", "httpcore"])
def test_a_url_without_the_extra_is_refused_at_construction(tmp_path: Path, missing: str) -> None:
    said = _build_without(tmp_path, {missing})
    assert said.startswith("refused:"), said
    assert f"reading flags from a URL needs {missing!r}, which is not installed" in said
    assert "pip install 'flagport[url]'" in said
    assert "no settings file found" not in said


def test_a_cache_path_without_filelock_is_refused_at_construction(tmp_path: Path) -> None:
    said = _build_without(tmp_path, {"filelock"}, extra="cache_path='cache/flags.yaml'")
    assert said.startswith("refused:"), said
    assert "needs 'filelock'" in said
    assert "pip install 'flagport[url]'" in said


def test_the_blocker_blocks_only_what_it_names(tmp_path: Path) -> None:
    assert _build_without(tmp_path, {"filelock"}).strip() == "constructed"


@pytest.mark.parametrize("command", [["keygen", "new.key"], ["sign", "flags.yaml"]])
def test_signing_without_the_extra_says_signing_needs_it(
    tmp_path: Path, command: list[str]
) -> None:
    # It said "reading flags from a URL needs 'cryptography'", with no URL in sight.
    (tmp_path / "flags.yaml").write_text("gates: {}\n")
    (tmp_path / "flags.key").write_text("not read: the library is missing first\n")
    extra = ["--key", "flags.key"] if command[0] == "sign" else []
    said = _run_without(
        tmp_path,
        {"cryptography"},
        "from click.testing import CliRunner\n"
        "from flagport.cli import cli\n"
        f"print(CliRunner().invoke(cli, {[*command, *extra]!r}).output)\n",
    )
    assert "error: signing flags files and checking their signatures needs 'cryptography'" in (said)
    assert "pip install 'flagport[url]'" in said
