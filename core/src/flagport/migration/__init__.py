"""Gradual vendor migration: the ``migration`` provider and its evidence.

Run two providers side by side, compare their answers on live traffic, move flag by
flag (or percentage by percentage) and prove the new one agrees before the old one
is removed. See ``docs/migration.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagport._exports import lazy_export

if TYPE_CHECKING:
    from flagport.migration.compare import ChiSquare, Verdict, chi_square, split_verdict
    from flagport.migration.evidence import Evidence, FlagEvidence
    from flagport.migration.mismatch_log import MismatchLog
    from flagport.migration.options import ControlFile, MigrationOptions, Side, Stage
    from flagport.migration.provider import MigrationProvider

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
    "ChiSquare": "flagport.migration.compare",
    "Verdict": "flagport.migration.compare",
    "chi_square": "flagport.migration.compare",
    "split_verdict": "flagport.migration.compare",
    "Evidence": "flagport.migration.evidence",
    "FlagEvidence": "flagport.migration.evidence",
    "MismatchLog": "flagport.migration.mismatch_log",
    "ControlFile": "flagport.migration.options",
    "MigrationOptions": "flagport.migration.options",
    "Side": "flagport.migration.options",
    "Stage": "flagport.migration.options",
    "MigrationProvider": "flagport.migration.provider",
}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, name, _LAZY)
