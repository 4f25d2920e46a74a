"""``feature_flag.version``: which definitions a provider served.

A provider says so in its ``stats()``: the ETag of definitions read over HTTP
(``etag``), or the version its vendor's payload carries (``version``: GrowthBook's
``dateUpdated``). A provider that reports neither leaves the attribute out. Reading
the stats costs more than an evaluation, so each provider's answer is kept for a
second: a reload shows within that second.
"""

from __future__ import annotations

import time

from flagport._lifecycle import live_clients
from flagport_opentelemetry._locks import fork_safe_lock

__all__ = ["DefinitionVersions"]

#: The stats keys that name the served definitions, most specific first.
_VERSION_KEYS = ("etag", "version")


class DefinitionVersions:
    """The version of the definitions each provider (by name) serves, or None.

    :param ttl: seconds an answer is reused.
    """

    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl = ttl
        self._cache: dict[str | None, tuple[float, str | None]] = {}
        self._lock = fork_safe_lock(self)

    def get(self, provider: str | None) -> str | None:
        """The version for ``provider``, the name a result carries."""
        now = time.monotonic()
        found = self._cache.get(provider)
        if found is not None and found[0] > now:
            return found[1]
        with self._lock:
            version = _read(provider) if provider else None
            if len(self._cache) > 1000:  # provider names come from plugins: few
                self._cache.clear()
            self._cache[provider] = (now + self.ttl, version)
        return version


def _read(provider: str) -> str | None:
    # Every live client serving this provider (and not shut down) must agree: two
    # clients reading two files under one provider name leave the version unknown.
    versions: set[str] = set()
    for client in live_clients():
        if client.provider_name != provider or client.closed:
            continue
        stats = client.stats()["provider"]
        for key in _VERSION_KEYS:
            value = stats.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                versions.add(str(value))
                break
    return versions.pop() if len(versions) == 1 else None
