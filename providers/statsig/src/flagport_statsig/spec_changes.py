"""The flags one of the SDK's ``specs_updated`` events changes.

Whether an update is a change at all (not within the start, where the SDK runs
``specs_updated`` before its initialisation resolves) is the base provider's rule
(:meth:`flagport.Provider.publish_definitions`).
"""

from __future__ import annotations

from typing import Any

from flagport._changes import changed_names

__all__ = ["Specs", "changed_specs"]

Specs = dict[str, Any]


def changed_specs(old: Specs | None, new: Specs | None) -> set[str] | None:
    """The gates, configs, experiments and layers whose specs differ (a changed condition
    has a new key in ``condition_map``, so the specs using it differ too); ``None`` when
    an update did not carry its specs."""
    if old is None or new is None:
        return None
    changed: set[str] = set()
    for section in ("feature_gates", "dynamic_configs", "layer_configs"):
        before, after = old.get(section) or {}, new.get(section) or {}
        if not isinstance(before, dict) or not isinstance(after, dict):
            return None
        changed |= changed_names(before, after)
    return changed
