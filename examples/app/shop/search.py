"""Search: uses its own client, built from settings (flagport.toml / environment)."""

from __future__ import annotations

from functools import cache

from flagport import Flagport, User

CATALOGUE = ("red shoes", "blue shoes", "red hat")


@cache
def flags() -> Flagport:
    return Flagport.from_settings()


def search(user: User, query: str) -> list[str]:
    """Products matching the query; search v2 also ranks exact word matches first."""
    words = query.lower().split()
    found = [p for p in CATALOGUE if any(w in p for w in words)]
    if flags().check_gate(user, "search_v2"):
        found.sort(key=lambda p: -sum(w in p.split() for w in words))
        flags().log_event(user, "search_v2_query", metadata={"results": len(found)})
    return found
