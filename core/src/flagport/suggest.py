""" "Did you mean …?" for names a person typed (flags, options, keys).

One place for the closeness rule, so the CLI, the pytest plugin and error messages
suggest the same name for the same typo.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["closest_name", "did_you_mean"]


def closest_name(name: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The candidate ``name`` is most likely a typo of, if any is close enough.

    :param cutoff: how alike they must be (0 to 1); raise it where ``name`` may well be
        no typo at all.
    """
    import difflib  # with the first typo, not with every module that may report one

    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` for the closest candidate, or ``""`` when none is close."""
    close = closest_name(name, candidates)
    return f"did you mean {close!r}?" if close else ""
