"""flagport -> OpenFeature: :class:`FlagportProvider`, an OpenFeature provider backed by flagport.

An application written against the OpenFeature SDK sets :class:`FlagportProvider`
as its provider and is then served by flagport's local flags file, Statsig,
GrowthBook, FeatBit, a migration, or anything else flagport can load.

Kinds map onto OpenFeature's typed flags as follows (README.md has the table):
booleans are gates; objects are configs, or experiments when the provider knows the
name as an experiment; strings, integers and floats are a whole config (or an
experiment's group, for a string) addressed as ``"flag"``, or one parameter of it
addressed as ``"flag.key"`` (a dot path into nested values).

When flagport's provider announces new definitions (a reload, a vendor sync), the
bridge emits OpenFeature's ``PROVIDER_CONFIGURATION_CHANGED``, with ``flags_changed``
when the provider can tell which flags changed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode as OFErrorCode
from openfeature.exception import GeneralError as OFGeneralError
from openfeature.flag_evaluation import FlagMetadata, FlagResolutionDetails, FlagValueType
from openfeature.hook import Hook
from openfeature.provider import AbstractProvider, Metadata
from openfeature.track import TrackingEventDetails

from flagport import ChangeSubscription
from flagport.client import Flagport
from flagport.errors import FlagportError
from flagport.provider import DefinitionsChanged, ProviderStatus
from flagport.reasons import ErrorCode, Reason
from flagport.results import ConfigResult, ExperimentResult, GateResult, thaw
from flagport.user import User
from flagport_openfeature._convert import context_to_user, of_error_code, of_reason

__all__ = ["FlagportProvider"]

logger = logging.getLogger("flagport.openfeature")

T = TypeVar("T")
_MISSING = object()
_DEFAULT = of_reason(Reason.DEFAULT)
_ERROR = of_reason(Reason.ERROR)
ObjectValue = Sequence[FlagValueType] | Mapping[str, FlagValueType]


class FlagportProvider(AbstractProvider):
    """An OpenFeature provider that asks a :class:`flagport.Flagport` client.

    :param client: the flagport client to ask; without it one is built from
        ``options`` (and the environment and settings files, as
        ``Flagport(**options)`` does), never strict, so evaluation never raises.
    :param shutdown_client: shut the client down when OpenFeature shuts the provider
        down (a client built here always is).
    :param options: ``Flagport(...)`` arguments when no ``client`` is given, e.g.
        ``provider="local", path="flags.yaml"``.
    """

    def __init__(
        self, client: Flagport | None = None, *, shutdown_client: bool = True, **options: Any
    ) -> None:
        super().__init__()
        if client is None:
            options.setdefault("strict", False)
            client = Flagport(**options)
            shutdown_client = True
        elif options:
            raise TypeError("Flagport options cannot be given with a client")
        self.client = client
        self._shutdown_client = shutdown_client
        self._metadata = Metadata(name=f"flagport:{client.provider_name}")
        self._changes: ChangeSubscription | None = None

    # -- lifecycle -------------------------------------------------------------------
    def get_metadata(self) -> Metadata:
        """``flagport:<provider>``, e.g. ``flagport:local``."""
        return self._metadata

    def get_provider_hooks(self) -> list[Hook]:
        return []

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Start the flagport provider (flagport would otherwise start it on first use).

        :raises openfeature.exception.GeneralError: it failed to start; OpenFeature then
            reports the provider in ERROR and evaluations serve defaults with the
            error code until it loads definitions.
        """
        if self._changes is None:
            self._changes = self.client.on_change(self._changed)
        try:
            provider = self.client.provider
        except FlagportError as exc:  # a strict client, or one already shut down
            raise OFGeneralError(f"flagport provider failed to start: {exc}") from exc
        if provider.status in (ProviderStatus.ERROR, ProviderStatus.SHUT_DOWN):
            raise OFGeneralError(
                f"flagport provider {provider.name!r} is {provider.status.value} after "
                f"start; see the 'flagport' log for the cause"
            )

    def shutdown(self) -> None:
        """Flush events and stop the flagport provider."""
        changes, self._changes = self._changes, None
        if changes is not None:
            changes.unsubscribe()
        if self._shutdown_client:
            self.client.shutdown()

    def _changed(self, change: DefinitionsChanged) -> None:
        # On flagport's callback thread; OpenFeature runs its handlers from here.
        flags = sorted(change.flags) if change.flags is not None else None
        self.emit_provider_configuration_changed(
            ProviderEventDetails(flags_changed=flags, metadata={"provider": change.provider})
        )

    # -- helpers ---------------------------------------------------------------------
    def _user(self, context: EvaluationContext | None) -> User:
        return context_to_user(context)

    def _is_experiment(self, name: str) -> bool:
        """Whether ``name`` is answered as an experiment (known to the provider as one,
        or overridden as one)."""
        overrides = self.client.overrides.experiments
        if overrides.active and name in overrides.names():
            return True
        return name in self.client.provider.names().experiments

    def _is_known(self, name: str) -> bool:
        """Whether ``name`` is a config or experiment of the provider (or overridden)."""
        overrides = self.client.overrides
        if (overrides.configs.active and name in overrides.configs.names()) or (
            overrides.experiments.active and name in overrides.experiments.names()
        ):
            return True
        names = self.client.provider.names()
        return name in names.configs or name in names.experiments

    def _other_kind(self, name: str, wanted: str) -> str | None:
        """The kind ``name`` has when it is not a ``wanted`` (for TYPE_MISMATCH)."""
        names = self.client.provider.names()
        for kind, known in (
            ("gate", names.gates),
            ("experiment", names.experiments),
            ("config", names.configs),
        ):
            if kind != wanted and name in known:
                return kind
        return None

    def _failed(self, result: Any, default: T, kind: str) -> FlagResolutionDetails[T]:
        code: ErrorCode = result.error_code
        message = result.error_message
        if code is ErrorCode.FLAG_NOT_FOUND:
            other = self._other_kind(result.name, kind)
            if other is not None:
                return _error(
                    default,
                    OFErrorCode.TYPE_MISMATCH,
                    f"{result.name!r} is a flagport {other}, not a {kind}",
                )
        return _error(default, of_error_code(code), message)

    def _flagged(self, name: str, kind: str, user: User, default: Any) -> Any:
        """Evaluate config or experiment ``name``; ``default`` must be a mapping or None."""
        if kind == "experiment":
            return self.client.get_experiment(user, name, default=default)
        return self.client.get_config(user, name, default=default)

    # -- resolvers -------------------------------------------------------------------
    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """A gate."""
        try:
            user = self._user(evaluation_context)
            result = self.client.get_gate(user, flag_key, default=default_value)
        except FlagportError as exc:
            return _error(default_value, of_error_code(exc.code), str(exc))
        except Exception as exc:
            return _error(default_value, OFErrorCode.GENERAL, f"{type(exc).__name__}: {exc}")
        if result.error_code is not None:
            return self._failed(result, default_value, "gate")
        return FlagResolutionDetails(
            value=result.value,
            reason=of_reason(result.reason),
            variant=result.rule_id,
            flag_metadata=_metadata(result),
        )

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[ObjectValue]:
        """A config, or an experiment (value: its parameters, variant: the group)."""
        try:
            user = self._user(evaluation_context)
            kind = "experiment" if self._is_experiment(flag_key) else "config"
            mapping_default = default_value if isinstance(default_value, Mapping) else None
            result = self._flagged(flag_key, kind, user, mapping_default)
        except FlagportError as exc:
            return _error(default_value, of_error_code(exc.code), str(exc))
        except Exception as exc:
            return _error(default_value, OFErrorCode.GENERAL, f"{type(exc).__name__}: {exc}")
        if result.error_code is not None:
            return self._failed(result, default_value, kind)
        value: Any = thaw(result.value)
        if not value and mapping_default is None:
            value = default_value  # a sequence default, and the provider had no value
        return FlagResolutionDetails(
            value=value,
            reason=of_reason(result.reason),
            variant=_variant(result),
            flag_metadata=_metadata(result),
        )

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """A string config or parameter (``"flag.key"``), or an experiment's group."""
        return self._typed(flag_key, default_value, evaluation_context, str)

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        """An integer config or parameter (``"flag.key"``)."""
        return self._typed(flag_key, default_value, evaluation_context, int)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """A number config or parameter (``"flag.key"``); integers are accepted."""
        return self._typed(flag_key, default_value, evaluation_context, float)

    def _split(self, key: str) -> tuple[str, str | None]:
        """``(flag, parameter path)`` for a typed key; the longest known prefix wins, so
        flag names containing dots work."""
        if self._is_known(key):
            return key, None
        end = key.rfind(".")
        while end > 0:
            if self._is_known(key[:end]):
                return key[:end], key[end + 1 :]
            end = key.rfind(".", 0, end)
        # Unknown to the provider (or a provider that cannot list its flags): read
        # "flag.key" as flag "flag", parameter "key".
        flag, dot, rest = key.partition(".")
        return (flag, rest) if dot and flag and rest else (key, None)

    def _typed(
        self,
        flag_key: str,
        default_value: T,
        evaluation_context: EvaluationContext | None,
        wanted: type[T],
    ) -> FlagResolutionDetails[T]:
        try:
            user = self._user(evaluation_context)
            flag, path = self._split(flag_key)
            kind = "experiment" if self._is_experiment(flag) else "config"
            result = self._flagged(flag, kind, user, None)
        except FlagportError as exc:
            return _error(default_value, of_error_code(exc.code), str(exc))
        except Exception as exc:
            return _error(default_value, OFErrorCode.GENERAL, f"{type(exc).__name__}: {exc}")
        if result.error_code is not None:
            return self._failed(result, default_value, kind)
        variant, metadata = _variant(result), _metadata(result)
        if path is None:
            if isinstance(result, ExperimentResult) and wanted is str:
                found: Any = result.group if result.group is not None else _MISSING
            else:
                found = result.value
                if isinstance(found, Mapping) and len(found) == 1 and "value" in found:
                    # How the GrowthBook and FeatBit providers present a scalar flag.
                    found = found["value"]
        else:
            found = _dig(result.value, path)
        if found is _MISSING:
            # The parameter is absent for this user: the caller's default applies, as
            # with ConfigResult.get(key, default).
            return FlagResolutionDetails(
                value=default_value, reason=_DEFAULT, variant=variant, flag_metadata=metadata
            )
        if isinstance(found, Mapping) and not found and path is None:
            # The provider served no value (passall, a config without a default).
            return FlagResolutionDetails(
                value=default_value,
                reason=of_reason(result.reason),
                variant=variant,
                flag_metadata=metadata,
            )
        value = _coerce(found, wanted)
        if value is _MISSING:
            return _error(
                default_value,
                OFErrorCode.TYPE_MISMATCH,
                f"{flag_key!r} is {_json_type(found)} {found!r}, not {_json_type(wanted())}",
            )
        return FlagResolutionDetails(
            value=value,
            reason=of_reason(result.reason),
            variant=variant,
            flag_metadata=metadata,
        )

    # -- events ----------------------------------------------------------------------
    def track(
        self,
        tracking_event_name: str,
        evaluation_context: EvaluationContext | None = None,
        tracking_event_details: TrackingEventDetails | None = None,
    ) -> None:
        """Log a custom event: the details' value and attributes become the event's."""
        try:
            user = self._user(evaluation_context)
        except FlagportError as exc:
            logger.warning("flagport: event %r dropped: %s", tracking_event_name, exc)
            return
        value = None
        metadata: Mapping[str, Any] | None = None
        if tracking_event_details is not None:
            value = tracking_event_details.value
            metadata = tracking_event_details.attributes or None
        self.client.log_event(user, tracking_event_name, value, metadata)


# -- module helpers --------------------------------------------------------------------------
def _error(default: T, code: OFErrorCode, message: str | None) -> FlagResolutionDetails[T]:
    return FlagResolutionDetails(
        value=default, reason=_ERROR, error_code=code, error_message=message
    )


def _variant(result: ExperimentResult | ConfigResult) -> str | None:
    if isinstance(result, ExperimentResult):
        return result.group
    return result.rule_id


def _metadata(result: GateResult | ExperimentResult | ConfigResult) -> FlagMetadata:
    metadata: dict[str, bool | int | float | str] = {}
    if result.provider is not None:
        metadata["provider"] = result.provider
    if result.rule_id is not None:
        metadata["rule_id"] = result.rule_id
    if isinstance(result, ExperimentResult):
        metadata["in_experiment"] = result.in_experiment
    return metadata


def _dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number" if not isinstance(value, int) else "an integer"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence):
        return "an array"
    return f"a {type(value).__name__}"


def _coerce(value: Any, wanted: type[Any]) -> Any:
    """``value`` as ``wanted`` when JSON would call it that type, else ``_MISSING``."""
    if isinstance(value, bool):
        return value if wanted is bool else _MISSING
    if wanted is float and isinstance(value, int | float):
        return float(value)
    if wanted is int:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return _MISSING
    return value if isinstance(value, wanted) else _MISSING
