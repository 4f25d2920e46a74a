"""Reasons and error codes, in the OpenFeature vocabulary (plus ``OVERRIDE``)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ErrorCode", "Reason"]


class Reason(StrEnum):
    """Why an evaluation produced its value."""

    STATIC = "STATIC"
    """The value does not depend on the user (a flag with no rules, the pass-all provider)."""
    DEFAULT = "DEFAULT"
    """No rule matched; the flag's default (or fall-through) value was served."""
    TARGETING_MATCH = "TARGETING_MATCH"
    """A targeting rule matched the user."""
    SPLIT = "SPLIT"
    """The user was bucketed into a percentage rollout or an experiment group."""
    DISABLED = "DISABLED"
    """The flag is disabled or the experiment is not running."""
    ERROR = "ERROR"
    """Evaluation failed; see the result's ``error_code``."""
    OVERRIDE = "OVERRIDE"
    """A value forced with ``override_*`` (or by the pytest plugin) was served."""
    STICKY = "STICKY"
    """A stored sticky assignment was served (it wins over the provider's answer)."""


class ErrorCode(StrEnum):
    """What went wrong when a result's reason is :attr:`Reason.ERROR`."""

    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
    PARSE_ERROR = "PARSE_ERROR"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    PROVIDER_NOT_READY = "PROVIDER_NOT_READY"
    INVALID_CONTEXT = "INVALID_CONTEXT"
    GENERAL = "GENERAL"
