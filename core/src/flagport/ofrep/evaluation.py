"""flagport's gates, experiments and configs as OFREP flag evaluations.

OFREP knows one kind of thing, a flag with a JSON value; flagport three. The mapping:

* a **gate** is a boolean flag: ``value`` is whether it passes, ``variant`` is
  ``"true"`` or ``"false"``;
* an **experiment** is an object flag: ``variant`` is the user's group and ``value``
  the group's parameters; a user in no group gets no ``value`` (OFREP's "use the code
  default") and the variant ``"default"``;
* a **config** is an object flag: ``value`` is the config's value, ``variant`` the id
  of the rule that served it (``"default"`` when none did).

Gates, experiments and configs have separate namespaces in flagport and one in OFREP:
a name used by several kinds is served as the gate, else as the experiment (a warning
says so once per name). Every evaluation carries ``metadata.kind`` (``gate``,
``experiment``, ``config``) and, when there is one, ``metadata.ruleId``.

Reasons are OpenFeature's; ``OVERRIDE`` and ``STICKY`` (which OpenFeature clients do
not know) are sent as ``STATIC`` and ``CACHED``, each with ``metadata.flagportReason``.
Error codes outside OFREP's set (``TYPE_MISMATCH``, ``PROVIDER_NOT_READY``) are sent as
``GENERAL`` with flagport's code in ``metadata.flagportErrorCode``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flagport.context import user_from_context
from flagport.errors import FlagportError, InvalidContextError, shown
from flagport.finite_json import finite
from flagport.reasons import ErrorCode, Reason
from flagport.results import ExperimentResult, FrozenDict, GateResult, Result

if TYPE_CHECKING:
    from flagport.client import Flagport
    from flagport.provider import FlagNames
    from flagport.user import User

__all__ = [
    "BulkEncoder",
    "RequestError",
    "encode_json",
    "evaluate_bulk",
    "evaluate_flag",
    "flag_evaluation",
    "provider_problem",
    "user_from_request",
]

logger = logging.getLogger("flagport.ofrep")

#: The deepest a request's context may nest (the context object itself is level 1).
MAX_CONTEXT_DEPTH = 32
#: Where a code default applies: OFREP's ``variant`` for "no group" and "no rule".
DEFAULT_VARIANT = "default"

_REASONS: dict[Reason, str] = {
    Reason.STATIC: "STATIC",
    Reason.DEFAULT: "DEFAULT",
    Reason.TARGETING_MATCH: "TARGETING_MATCH",
    Reason.SPLIT: "SPLIT",
    Reason.DISABLED: "DISABLED",
    Reason.OVERRIDE: "STATIC",
    # A group kept from an earlier assignment (sticky assignments).
    Reason.STICKY: "CACHED",
    Reason.ERROR: "ERROR",  # never sent: an error is an evaluation failure
}
#: flagport's error codes as OFREP's (its failure schema names PARSE_ERROR,
#: TARGETING_KEY_MISSING, INVALID_CONTEXT, GENERAL, and FLAG_NOT_FOUND for a 404).
_ERROR_CODES: dict[ErrorCode, str] = {
    ErrorCode.FLAG_NOT_FOUND: "FLAG_NOT_FOUND",
    ErrorCode.PARSE_ERROR: "PARSE_ERROR",
    ErrorCode.INVALID_CONTEXT: "INVALID_CONTEXT",
    ErrorCode.TYPE_MISMATCH: "GENERAL",
    ErrorCode.PROVIDER_NOT_READY: "GENERAL",
    ErrorCode.GENERAL: "GENERAL",
}
_warned_collisions: set[str] = set()


class RequestError(Exception):
    """A request OFREP answers with an error for the whole request (status 400)."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


def user_from_request(body: Any) -> User:
    """The user a decoded request body's ``context`` describes.

    :raises RequestError: the body is not an object with a ``context`` object, or the
        context does not make a valid user (``INVALID_CONTEXT``).
    """
    if not isinstance(body, Mapping):
        raise RequestError(
            "INVALID_CONTEXT",
            f"the request body must be a JSON object with a 'context' object, "
            f"got a JSON {_json_type(body)}",
        )
    context = body.get("context")
    if context is None:
        raise RequestError(
            "INVALID_CONTEXT",
            'the request body has no \'context\': send {"context": {"targetingKey": '
            '"<user id>", ...attributes}}',
        )
    if not isinstance(context, Mapping):
        raise RequestError(
            "INVALID_CONTEXT", f"'context' must be a JSON object, got a JSON {_json_type(context)}"
        )
    _check_context(context)
    attributes = dict(context)
    targeting_key = attributes.pop("targetingKey", None)
    try:
        return user_from_context(targeting_key, attributes)
    except InvalidContextError as exc:
        raise RequestError("INVALID_CONTEXT", str(exc)) from None


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def provider_problem(fp: Flagport) -> str | None:
    """Why ``fp``'s provider cannot answer (not started, failed, shut down), or ``None``.

    Answering "no such flag" or an empty flag list then would be a lie a client caches.
    """
    return fp._lifecycle.unready()[1]


def _kind_of(names: FlagNames, key: str) -> str | None:
    kinds = [
        kind
        for kind, known in (
            ("gate", names.gates),
            ("experiment", names.experiments),
            ("config", names.configs),
        )
        if key in known
    ]
    if len(kinds) > 1 and key not in _warned_collisions and len(_warned_collisions) < 10_000:
        _warned_collisions.add(key)
        logger.warning(
            "flagport OFREP: %s is a %s; OFREP has one namespace and serves the %s",
            shown(key),
            " and a ".join(kinds),
            kinds[0],
        )
    return kinds[0] if kinds else None


def _failure(key: str, kind: str | None, code: ErrorCode, message: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "key": key,
        "errorCode": _ERROR_CODES[code],
        "errorDetails": message or f"{code.value}: the flag could not be evaluated",
    }
    metadata: dict[str, Any] = {}
    if kind is not None:
        metadata["kind"] = kind
    if _ERROR_CODES[code] != code.value:
        metadata["flagportErrorCode"] = code.value
    if metadata:
        item["metadata"] = metadata
    return item


def flag_evaluation(key: str, kind: str, result: Result) -> dict[str, Any]:
    """One OFREP evaluation (success or failure) for a flagport result."""
    if result.error_code is not None:
        return _failure(key, kind, result.error_code, result.error_message)
    item: dict[str, Any] = {"key": key, "reason": _REASONS[result.reason]}
    if isinstance(result, GateResult):
        item["value"] = result.value
        item["variant"] = "true" if result.value else "false"
    elif isinstance(result, ExperimentResult):
        if result.group is None:
            item["variant"] = DEFAULT_VARIANT  # no value: the caller's code default
        else:
            item["value"] = result.value
            item["variant"] = result.group
    else:
        item["value"] = result.value
        item["variant"] = result.rule_id or DEFAULT_VARIANT
    metadata: dict[str, Any] = {"kind": kind}
    if result.rule_id is not None:
        metadata["ruleId"] = result.rule_id
    if result.reason is Reason.OVERRIDE or result.reason is Reason.STICKY:
        metadata["flagportReason"] = result.reason.value
    item["metadata"] = metadata
    return item


def evaluate_flag(fp: Flagport, user: User, key: str) -> tuple[int, dict[str, Any]]:
    """The status and body of a single-flag evaluation (exposures are logged: the
    caller uses the value now)."""
    kind = _kind_of(fp.names(), key)
    try:
        result: Result
        if kind == "gate":
            result = fp.get_gate(user, key)
        elif kind == "experiment":
            result = fp.get_experiment(user, key)
        elif kind == "config":
            result = fp.get_config(user, key)
        else:
            return 404, _failure(
                key, None, ErrorCode.FLAG_NOT_FOUND, f"no gate, experiment or config {shown(key)}"
            )
        item = flag_evaluation(key, kind, result)
    except FlagportError as exc:  # a strict client raises instead of serving the default
        item = _failure(key, kind, exc.code, str(exc))
    if "errorCode" not in item:
        return 200, item
    return (404 if item["errorCode"] == "FLAG_NOT_FOUND" else 400), item


def _check_context(context: Mapping[str, Any]) -> None:
    """Refuse, as the client's mistake, a context no flag needs and the rest of flagport
    should not see: nested deeper than :data:`MAX_CONTEXT_DEPTH` (it would exhaust the
    stack of whatever walks it, and log a traceback a thousand frames long per request),
    or holding a string that is not Unicode text (JSON's ``"\\ud800"``, a lone surrogate,
    which no hash or encoder takes). Walked without recursion."""
    pending: list[tuple[Any, int]] = [(context, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            try:
                value.encode()
            except UnicodeEncodeError:
                raise RequestError(
                    "INVALID_CONTEXT",
                    f"the context holds {shown(value)}, which is not Unicode text (a lone "
                    "surrogate escape such as \\ud800); send valid UTF-16 pairs or UTF-8",
                ) from None
            continue
        if isinstance(value, Mapping):
            children: list[Any] = [*value, *value.values()]
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_CONTEXT_DEPTH:
            raise RequestError(
                "INVALID_CONTEXT",
                f"the context nests deeper than {MAX_CONTEXT_DEPTH} levels; send attributes "
                "as flat values",
            )
        pending.extend((child, depth + 1) for child in children)


def encode_json(data: Any) -> bytes:
    """Compact UTF-8 JSON; a non-finite number (JSON has none) is spelled as a string."""
    try:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(finite(data), separators=(",", ":"), ensure_ascii=False)
    # A lone surrogate (a flag key some servers decode from a path) becomes its JSON
    # escape, \udcff, instead of failing the answer.
    return text.encode("utf-8", "backslashreplace")


_IMMUTABLE = (bool, FrozenDict)


class BulkEncoder:
    """Encodes bulk evaluations, reusing a flag's JSON while its answer is unchanged.

    Most flags give most users one of a few answers, each the same frozen value object
    (the local evaluator freezes definitions once); re-encoding 200 of them per request
    would cost more than evaluating them. An answer is reused only when its reason,
    rule, group and error are equal and its value is the *same* immutable object (held
    here, so its identity cannot pass to another object).
    """

    def __init__(self) -> None:
        self._parts: dict[tuple[str, str], tuple[tuple[Any, ...], Any, bytes]] = {}

    def encode(self, kind: str, key: str, result: Result) -> bytes:
        value = result.value
        signature = (
            result.reason,
            result.rule_id,
            getattr(result, "group", None),
            result.error_code,
            result.error_message,
        )
        cached = self._parts.get((kind, key))
        if cached is not None and cached[1] is value and cached[0] == signature:
            return cached[2]
        data = encode_json(flag_evaluation(key, kind, result))
        if isinstance(value, _IMMUTABLE):
            if len(self._parts) > 100_000:  # names that come and go: start afresh
                self._parts.clear()
            self._parts[(kind, key)] = (signature, value, data)
        return data


def evaluate_bulk(fp: Flagport, user: User, encoder: BulkEncoder) -> bytes:
    """The JSON body of a bulk evaluation: every flag for the user (no exposures: a
    client caches the answers and uses some of them later, or never)."""
    names = fp.names()
    parts: list[bytes] = []
    seen: set[str] = set()
    kinds: tuple[tuple[str, frozenset[str], Any], ...] = (
        ("gate", names.gates, fp.get_gate),
        ("experiment", names.experiments, fp.get_experiment),
        ("config", names.configs, fp.get_config),
    )
    for kind, known, evaluate in kinds:
        for key in sorted(known):
            if key in seen:
                _kind_of(names, key)  # warns once
                continue
            seen.add(key)
            try:
                result: Result = evaluate(user, key, expose=False)
            except FlagportError as exc:
                parts.append(encode_json(_failure(key, kind, exc.code, str(exc))))
                continue
            parts.append(encoder.encode(kind, key, result))
    return b'{"flags":[' + b",".join(parts) + b"]}"
