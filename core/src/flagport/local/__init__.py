"""The ``local`` provider: flags from a file, evaluated in process.

``Flagport(provider="local", path="flags.yaml")`` selects it; the file format is
described by :mod:`flagport.local.models` and ``docs/flags-file.md``.
"""

from __future__ import annotations

from flagport.local.provider import LocalOptions, LocalProvider

__all__ = ["LocalOptions", "LocalProvider"]
