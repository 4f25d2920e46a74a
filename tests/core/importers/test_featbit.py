"""FeatBit import: the written file sees a user as the featbit provider sends it to
FeatBit's SDK (``name`` is the user id without a non-blank custom name, a custom id
wins over an attribute of its name, nested values are found under dot paths), checked
against the real SDK by ``flagport import featbit --verify``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from featbit_payloads import SEGMENTS, flag_spec

from flagport.cli import cli
from flagport.importers.run import import_payload


def _split(dispatch_key: str | None, cut: float = 0.5) -> dict[str, Any]:
    return {
        "dispatchKey": dispatch_key,
        "includedInExpt": False,
        "variations": [
            {"id": "v-a", "rollout": [0, cut], "exptRollout": 1},
            {"id": "v-b", "rollout": [cut, 1], "exptRollout": 1},
        ],
    }


def _rule(number: int, conditions: list[dict[str, Any]], dispatch_key: str | None) -> Any:
    return {"id": f"r{number}", "name": f"r{number}", "conditions": conditions,
            **_split(dispatch_key, 1.0)}  # fmt: skip


#: Rules and dispatch keys on ``name``, on a name that is also a custom id, on a
#: nested value, and a segment whose rule tests ``name``.
PAYLOAD: dict[str, Any] = {
    "messageType": "data-sync",
    "data": {
        "eventType": "full",
        "segments": [
            *SEGMENTS,
            {
                **SEGMENTS[0], "id": "seg-named", "name": "named", "included": [], "excluded": [],
                "rules": [{"id": "s", "name": "s", "conditions": [
                    {"property": "name", "op": "StartsWith", "value": "u"}]}],
                "isArchived": False,
            },
        ],
        "featureFlags": [
            flag_spec("by_name", "string", [
                _rule(0, [{"property": "name", "op": "Equal", "value": "u3"}], None),
                _rule(1, [{"property": "NAME", "op": "StartsWith", "value": "u1"}], None),
            ], _split("name")),
            flag_spec("by_company", "string", [
                _rule(0, [{"property": "company", "op": "Equal", "value": "c9"}], None),
            ], _split("company")),
            flag_spec("by_city", "string", [
                _rule(0, [{"property": "address.city", "op": "Equal", "value": "Paris"}], None),
            ], _split("address.city")),
            flag_spec("by_key", "string", [], _split(None), targetUsers=[
                {"variationId": "v-b", "keyIds": ["u1", "u2", "u3"]}]),
            flag_spec("in_segment", "string", [
                _rule(0, [{"property": "User is in segment", "op": None,
                           "value": '["seg-named"]'}], None),
            ], _split(None, 0.0)),
        ],
    },
}  # fmt: skip


def _users(kind: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(60):
        row: dict[str, Any] = {"user_id": f"u{i}"}
        if kind == "blank_name":
            row["custom"] = {"name": ["", "  ", None][i % 3]}
        elif kind == "custom_name":
            row["custom"] = {"name": f"n{i}" if i % 2 else f"u{i + 1}"}
        elif kind == "custom_id_clash":
            row["custom"] = {"company": "c9" if i % 2 else f"co-{i}"}
            row["custom_ids"] = {"company": "c9" if i % 3 else f"id-{i}"}
        elif kind == "custom_id_key":
            # FeatBit's key stays the user id; custom ids named like its fields are dropped.
            clash = ["key", "keyId", "KEY", "name"][i % 4]
            row["custom_ids"] = {clash: f"u{(i + 1) % 60}", "company": f"c{i}"}
        elif kind == "nested":
            row["custom"] = {"address": {"city": "Paris" if i % 2 else f"city-{i}"}}
        rows.append(row)
    return rows


@pytest.mark.parametrize(
    "kind", ["no_name", "blank_name", "custom_name", "custom_id_clash", "custom_id_key", "nested"]
)
def test_imported_file_sees_the_user_the_featbit_provider_sends(tmp_path: Path, kind: str) -> None:
    source, users = tmp_path / "payload.json", tmp_path / "users.jsonl"
    out = tmp_path / "flags.yaml"
    source.write_text(json.dumps(PAYLOAD))
    users.write_text("\n".join(json.dumps(r) for r in _users(kind)) + "\n")
    args = ["import", "featbit", str(source), "-o", str(out), "--verify", str(users), "--json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["agree"], result.output
    assert report["users"] == 60
    assert all(not flag["mismatches"] for flag in report["flags"].values()), result.output


def test_conditions_and_dispatch_keys_read_featbits_view() -> None:
    flags = import_payload("featbit", PAYLOAD).flags
    rules = flags["experiments"]["by_name"]["rules"]
    assert rules[0]["when"] == {"$featbit": {"$attributes": {"name": {"$eq": "u3"}}}}
    assert rules[-1]["unit"] == "$featbit.name"
    assert flags["experiments"]["in_segment"]["rules"][-1]["unit"] == "user_id"
    assert flags["segments"]["seg-named"]["when"] == {
        "$featbit": {"$or": [{"$and": [{"$attributes": {"name": {"$startsWith": "u"}}}]}]}
    }
