"""Small pieces of English for messages, so every message words them the same way."""

from __future__ import annotations

__all__ = ["with_article"]


def with_article(noun: str) -> str:
    """``noun`` after its indefinite article: ``"a gate"``, ``"an experiment"``.

    By its first letter, which is right for the nouns flagport's messages put in
    (flag kinds, JSON and Python type names), not for English at large ("an hour").
    """
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
