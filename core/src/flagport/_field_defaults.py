"""Default factories for pydantic fields: a new empty ``dict`` or ``list``.

``Field(default_factory=dict)`` costs a cold start: pydantic asks every default
factory's signature (does it take the validated data?), and a builtin type's signature
is parsed from its text form with :mod:`tokenize`, whose first use compiles a large
regular expression (about 4 ms, then 0.2 ms per field). A Python function's signature
is read from its code object, so the models on the first evaluation's path use these.
"""

from __future__ import annotations

from typing import Any

__all__ = ["new_dict", "new_list"]


def new_dict() -> dict[Any, Any]:
    """A new empty ``dict``."""
    return {}


def new_list() -> list[Any]:
    """A new empty ``list``."""
    return []
