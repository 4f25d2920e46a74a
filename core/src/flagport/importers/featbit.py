"""FeatBit data-sync payload -> flags file.

Every FeatBit flag becomes an *experiment* of the flags file whose groups are FeatBit's
variation ids, so an evaluation reports FeatBit's value and variation id. The order is
FeatBit's (``fbclient.evaluator``): a disabled flag serves its off variation
(``disabledVariationId``), then targeted users, then the first rule whose conditions
all hold, then the fallthrough. Each rule's variations become a ``split`` with
explicit ``ranges`` hashed FeatBit's way (``featbit``: MD5 of the flag key followed by
the dispatch key's value). Conditions and segments (with their rules) are written in
the ``featbit`` semantics by ``featbit_condition``. A user missing the dispatch key is
hashed as the empty string (``missing_unit: empty``), as FeatBit does. A partial
rollout that holds no variation falls through to the flag's fallthrough
(``outside: {rule: fallthrough}``), not to the next rule, which is what FeatBit does.

A user is seen as the featbit provider sends it to the SDK
(:mod:`flagport.providers.local.featbit_view`): every rule and segment condition is
wrapped in ``$featbit`` and a dispatch key other than the user key is the unit
``$featbit.<property>``, so ``name`` is the user id when there is no custom name, a
custom id wins over an attribute of its name, and nested values are found under their
dot paths, exactly as for the SDK behind the provider. Targeted users stay a test of
the user id (``keyId``), which the provider sends as FeatBit's key.

Values are cast by the flag's ``variationType`` as the SDK casts them (``boolean`` and
``json`` parsed as JSON, ``number`` as an int when whole, strings unchanged; a value
that does not parse stays text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from flagport.importers import Imported
from flagport.providers.local.conditions.featbit import featbit_condition, featbit_segment
from flagport.providers.local.featbit_view import FEATBIT_UNIT

__all__ = ["FALLTHROUGH", "cast_value", "import_payload"]

#: The id of the rule a flag's fallthrough becomes.
FALLTHROUGH = "fallthrough"
_USER_KEYS = {"key": "user_id", "keyid": "user_id"}


def cast_value(variation_type: str, value: Any) -> Any:
    """A variation's value as FeatBit's SDK hands it to the application."""
    try:
        if variation_type in ("boolean", "json"):
            return json.loads(value)
        if variation_type == "number":
            number = float(value)
            return int(number) if number.is_integer() else number
    except (TypeError, ValueError):
        pass
    return value


def import_payload(payload: Mapping[str, Any] | str) -> Imported:
    """Translate a FeatBit data-sync message (or its ``data``) into a flags file."""
    message = json.loads(payload) if isinstance(payload, str) else payload
    data = message.get("data", message)
    out = Imported()
    segments = {
        str(s.get("id")): _segment(s)
        for s in data.get("segments") or ()
        if isinstance(s, Mapping) and not s.get("isArchived")
    }
    # FeatBit finds nobody in an archived or unknown segment: such a segment is written
    # as one with nobody in it, so the conditions naming it stay valid.
    for name in sorted(_segment_ids(data) - segments.keys()):
        segments[name] = {"included": [], "excluded": []}
    experiments: dict[str, Any] = {}
    for flag in data.get("featureFlags") or ():
        if not isinstance(flag, Mapping) or "key" not in flag:
            out.leave_out("?", "", "a flag without a key was skipped")
            continue
        if flag.get("isArchived"):
            continue
        experiments[str(flag["key"])] = _flag(flag, out)
    out.flags = {"hash": "featbit", "semantics": "featbit", "experiments": experiments}
    if segments:
        out.flags["segments"] = segments
    return out


def _segment_ids(data: Mapping[str, Any]) -> set[str]:
    """The segment ids named by the clauses of every flag and segment rule."""
    found: set[str] = set()
    for item in [*(data.get("featureFlags") or ()), *(data.get("segments") or ())]:
        for rule in item.get("rules") or () if isinstance(item, Mapping) else ():
            for clause in rule.get("conditions") or () if isinstance(rule, Mapping) else ():
                kind = clause.get("op") or clause.get("property")
                if kind not in ("User is in segment", "User is not in segment"):
                    continue
                try:
                    ids = json.loads(clause.get("value") or "null")
                except (TypeError, ValueError):
                    continue
                if isinstance(ids, list):
                    found.update(str(i) for i in ids)
    return found


def _segment(segment: Mapping[str, Any]) -> dict[str, Any]:
    found = featbit_segment(segment)
    if "when" in found:
        found["when"] = {"$featbit": found["when"]}
    return found


def _unit(dispatch_key: Any) -> str:
    """FeatBit's dispatch key as a unit: the property the provider sends."""
    name = str(dispatch_key or "keyId")
    return _USER_KEYS.get(name.lower(), FEATBIT_UNIT + name)


def _flag(flag: Mapping[str, Any], out: Imported) -> dict[str, Any]:
    key = str(flag["key"])
    kind = str(flag.get("variationType") or "string")
    values = {str(v["id"]): cast_value(kind, v.get("value")) for v in flag.get("variations") or ()}

    def serve(variation_id: Any) -> dict[str, Any]:
        vid = str(variation_id)
        return {"group": vid, "value": values.get(vid)}

    rules: list[dict[str, Any]] = []
    if not flag.get("isEnabled", True):
        return {"rules": [{"id": "off", **serve(flag.get("disabledVariationId"))}]}
    for number, target in enumerate(flag.get("targetUsers") or ()):
        ids = [str(k) for k in target.get("keyIds") or ()]
        if ids:
            targeted = {"keyId": {"$in": ids}}
            rules.append(
                {"id": f"target_{number}", "when": targeted, **serve(target["variationId"])}
            )
    for number, rule in enumerate(flag.get("rules") or ()):
        when = _conditions(key, rule.get("conditions") or (), f"rules[{number}]", out)
        if when is None:
            continue
        compiled = _rollout(rule, f"rule_{number}", serve)
        compiled["outside"] = {"rule": FALLTHROUGH}
        if when:
            compiled["when"] = {"$featbit": when}
        rules.append(compiled)
    rules.append(_rollout(flag.get("fallthrough") or {}, FALLTHROUGH, serve))
    return {"rules": rules}


def _rollout(rule: Mapping[str, Any], rule_id: str, serve: Any) -> dict[str, Any]:
    variants = [
        {**serve(v["id"]), "ranges": [[float(v["rollout"][0]), float(v["rollout"][1])]]}
        for v in rule.get("variations") or ()
    ]
    return {
        "id": rule_id,
        "unit": _unit(rule.get("dispatchKey")),
        "missing_unit": "empty",
        "split": {"variants": variants or [{"ranges": [[0.0, 0.0]]}]},
        "outside": "default",
    }


def _conditions(
    key: str, conditions: Sequence[Mapping[str, Any]], where: str, out: Imported
) -> dict[str, Any] | None:
    """FeatBit conditions (all must hold) as one condition; None when left out."""
    parts: list[dict[str, Any]] = []
    for number, clause in enumerate(conditions):
        part = featbit_condition(clause)
        if part is None:
            out.leave_out(
                key,
                f"{where}.conditions[{number}]",
                f"operator {clause.get('op')!r} is not FeatBit's; the rule is skipped",
            )
            return None
        parts.append(part)
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}
