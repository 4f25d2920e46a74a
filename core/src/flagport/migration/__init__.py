"""Gradual vendor migration: the ``migration`` provider and its evidence.

Run two providers side by side, compare their answers on live traffic, move flag by
flag (or percentage by percentage) and prove the new one agrees before the old one
is removed. See ``docs/migration.md``.
"""

from __future__ import annotations

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
