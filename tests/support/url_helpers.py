"""What the URL source's tests share: a versioned flags file and how to read it back."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flagport import Flagport, User
from flagport.providers.local import LocalProvider

USER = User(user_id="user-1")


def flags(version: int) -> str:
    """A flags file whose config ``release`` says which version it is, and a gate on
    for everyone."""
    return f"""\
configs:
  release:
    default: {{version: {version}}}
gates:
  new_checkout:
    rules:
      - id: all
        pass_percentage: 100
"""


def version(fp: Flagport) -> Any:
    """The version of the flags file ``fp`` serves (None: defaults)."""
    return fp.get_config(USER, "release").value.get("version")


def local_provider(fp: Flagport) -> LocalProvider:
    provider = fp._provider
    assert isinstance(provider, LocalProvider)
    return provider


def publish(root: Path, name: str, text: str) -> None:
    """Write the way a deploy does: a new file renamed over the old one."""
    temp = root / f".{name}.tmp"
    temp.write_text(text)
    os.replace(temp, root / name)


def url_client(url: str, **options: Any) -> Flagport:
    """A local client reading ``url``, polling every 50 ms without jitter by default."""
    options.setdefault("poll_interval", 0.05)
    options.setdefault("poll_jitter", 0)
    return Flagport(provider="local", url=url, **options)


def url_stats(fp: Flagport) -> dict[str, Any]:
    """The client's URL source statistics."""
    stats: dict[str, Any] = fp.stats()["provider"]["url"]
    return stats
