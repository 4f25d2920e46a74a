"""Values built to break code that walks data: cycles, depth, shared references."""

from __future__ import annotations

from typing import Any


def self_referencing() -> dict[str, Any]:
    """``{"user_id": "1", "self": [<itself>]}``."""
    loop: dict[str, Any] = {"user_id": "1"}
    loop["self"] = [loop]
    return loop


def deep(levels: int = 3_000) -> dict[str, Any]:
    """``{"x": {"x": ...}}``, ``levels`` deep."""
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["x"] = {}
        node = node["x"]
    return root


def shared(levels: int = 40) -> dict[str, Any]:
    """2**levels paths through ``levels`` objects: walking paths never finishes."""
    node: dict[str, Any] = {"leaf": 1}
    for _ in range(levels):
        node = {"a": node, "b": [node]}
    return node
