"""Sticky assignments in Redis (the ``redis`` client; ``pip install flagport[redis]``).

One hash per unit (``<prefix><unit>``, a field per experiment): a unit's assignments
are one ``HGETALL``, a batch of writes one pipelined round trip. The client's
connection pool reconnects by itself once the server is back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flagport._redact import protect
from flagport.errors import ConfigurationError
from flagport.sticky.store import Assignment, StickyStore, Write

__all__ = ["RedisStore", "masked_url"]


def masked_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisStore(StickyStore):
    """Assignments in the Redis server at ``url``.

    :param prefix: prepended to every key.
    :param ttl: seconds a unit's assignments live after its last write (None: forever).
    :param timeout: seconds a command waits (a slow or gone server must not hold a
        request long: the fresh assignment is served instead).
    """

    name = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "flagport:sticky:",
        ttl: int | None = None,
        timeout: float = 0.25,
    ) -> None:
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                "the redis sticky store needs the redis client: pip install 'flagport[redis]'"
            ) from None
        self.url = masked_url(url)
        protect(self, urlsplit(url).password or "")
        self.prefix = prefix
        self.ttl = ttl
        self._redis = redis
        self._options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "decode_responses": True,
        }
        self._secret_url = url
        self._client: Any = redis.Redis.from_url(url, **self._options)

    def load(self, unit: str) -> dict[str, Assignment]:
        fields = self._client.hgetall(self.prefix + unit)
        found: dict[str, Assignment] = {}
        for experiment, text in fields.items():
            try:
                assignment = Assignment.from_json(json.loads(text))
            except ValueError:
                continue
            if assignment is not None:
                found[experiment] = assignment
        return found

    def save(self, writes: Sequence[Write]) -> None:
        by_unit: dict[str, dict[str, str]] = {}
        for unit, experiment, assignment in writes:
            text = json.dumps(assignment.as_json(), separators=(",", ":"))
            by_unit.setdefault(self.prefix + unit, {})[experiment] = text
        pipe = self._client.pipeline(transaction=False)
        for key, mapping in by_unit.items():
            pipe.hset(key, mapping=mapping)
            if self.ttl is not None:
                pipe.expire(key, self.ttl)
        pipe.execute()

    def after_fork_in_child(self) -> None:
        # The parent's sockets are shared with it after fork: a new pool of our own.
        self._client = self._redis.Redis.from_url(self._secret_url, **self._options)

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"RedisStore({self.url!r})"
