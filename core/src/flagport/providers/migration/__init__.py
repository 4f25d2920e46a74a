"""Gradual vendor migration: the ``migration`` provider and its evidence.

Run two providers side by side, compare their answers on live traffic, move flag by
flag (or percentage by percentage) and prove the new one agrees before the old one
is removed. See ``docs/migration.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

if TYPE_CHECKING:
    from flagport.providers.migration.compare import ChiSquare, Verdict, chi_square, split_verdict
    from flagport.providers.migration.evidence import Evidence, FlagEvidence
    from flagport.providers.migration.mismatch_log import MismatchLog
    from flagport.providers.migration.options import ControlFile, MigrationOptions, Side, Stage
    from flagport.providers.migration.provider import MigrationProvider

__all__ = [
    "ChiSquare",
    "ControlFile",
    "Evidence",
    "FlagEvidence",
    "MigrationOptions",
    "MigrationProvider",
    "MismatchLog",
    "Side",
    "Stage",
    "Verdict",
    "chi_square",
    "split_verdict",
]

# Imported on first use: a client of another provider never loads the migration code.
_LAZY = {
    "ChiSquare": "flagport.providers.migration.compare",
    "Verdict": "flagport.providers.migration.compare",
    "chi_square": "flagport.providers.migration.compare",
    "split_verdict": "flagport.providers.migration.compare",
    "Evidence": "flagport.providers.migration.evidence",
    "FlagEvidence": "flagport.providers.migration.evidence",
    "MismatchLog": "flagport.providers.migration.mismatch_log",
    "ControlFile": "flagport.providers.migration.options",
    "MigrationOptions": "flagport.providers.migration.options",
    "Side": "flagport.providers.migration.options",
    "Stage": "flagport.providers.migration.options",
    "MigrationProvider": "flagport.providers.migration.provider",
}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, _LAZY)
