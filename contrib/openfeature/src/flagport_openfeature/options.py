"""Options of the ``openfeature`` provider.

Set them in code, in the environment (``FLAGPORT_OPENFEATURE_OF_PROVIDER=pkg.mod:Factory``)
or in ``flagport.toml`` under ``[openfeature]``. The provider to drive is
``of_provider``, not ``provider``: ``Flagport(provider="openfeature", ...)`` already
uses that name, and so do the tables of a migration.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from flagport.provider import ProviderOptions

__all__ = ["OpenFeatureOptions"]


def _check_import_path(path: str) -> str:
    module, colon, attr = path.partition(":")
    if not colon or not module or not attr:
        raise ValueError(
            f"{path!r} is not an import path; give 'package.module:factory', e.g. "
            f"'openfeature.contrib.provider.flagd:FlagdProvider'"
        )
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise ValueError(
            f"module {module!r} of {path!r} is not installed; install the package that "
            f"provides it, or fix the import path"
        )
    return path


class OpenFeatureOptions(ProviderOptions):
    """Which OpenFeature provider answers, and how flagport drives it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    of_provider: Any = Field(
        default=None,
        description=(
            "The OpenFeature provider: an import path 'package.module:factory' (a class "
            "or function called with of_provider_options, or a provider object), or, in "
            "code, a factory or a provider instance. A factory is called once per "
            "process, so it is fork-safe; an instance is not."
        ),
    )
    of_provider_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Keyword arguments for the of_provider factory.",
    )
    domain: str | None = Field(
        default=None,
        description=(
            "OpenFeature domain. With of_provider, flagport registers the provider with "
            "the OpenFeature API under it and evaluates through an OpenFeature client "
            "(API hooks and context apply); alone, flagport uses the provider the "
            "application registered for it."
        ),
    )
    gates: tuple[str, ...] = Field(
        default=(), description="Names of the boolean flags (OpenFeature cannot list flags)."
    )
    experiments: tuple[str, ...] = Field(
        default=(), description="Names of the object flags served as experiments (variant = group)."
    )
    configs: tuple[str, ...] = Field(
        default=(), description="Names of the object flags served as configs."
    )
    include_private: bool = Field(
        default=True,
        description=(
            "Pass the user's private attributes to the OpenFeature provider (targeting "
            "may need them; OpenFeature has no notion of private attributes)."
        ),
    )
    init_timeout: float = Field(
        default=10.0, ge=0, description="Seconds start() waits for the provider to initialize."
    )
    shutdown_timeout: float = Field(
        default=5.0, ge=0, description="Longest wait for the provider's shutdown, in seconds."
    )

    @field_validator("of_provider")
    @classmethod
    def _provider(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            return _check_import_path(value)
        if callable(getattr(value, "resolve_boolean_details", None)) or callable(value):
            return value
        raise ValueError(
            f"of_provider must be an import path 'package.module:factory', a factory or "
            f"an OpenFeature provider, got {type(value).__name__}: {value!r}"
        )

    @model_validator(mode="after")
    def _needs_a_provider(self) -> OpenFeatureOptions:
        if self.of_provider is None and self.domain is None:
            raise ValueError(
                "the openfeature provider needs of_provider='package.module:factory' (the "
                "OpenFeature provider to drive) or domain='...' (use the provider the "
                "application registered with OpenFeature for that domain), e.g. "
                "FLAGPORT_OPENFEATURE_OF_PROVIDER=package.module:Factory"
            )
        return self
