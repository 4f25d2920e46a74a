"""The proof ``flagport import --verify`` gives, run on a payload from a test.

:func:`verify_payload` writes the payload and the users to a fresh temporary folder and
runs the command itself (``flagport import VENDOR payload.json -o flags.yaml --verify
users.jsonl --json``): the vendor's real SDK, offline and bootstrapped with the payload,
against the local provider on the written file, through the engine of ``flagport
compare``. :func:`odd_users` writes users whose attributes are the awkward ones:
missing, null, numbers as text and text as numbers, empty strings, non-ASCII,
versions with suffixes, lists, case variants.
"""

from __future__ import annotations

import json
import logging
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, settings

from flagport.cli import cli

#: Payloads per test; raise it for a long run (FLAGPORT_PROOF_EXAMPLES=200).
EXAMPLES = int(os.environ.get("FLAGPORT_PROOF_EXAMPLES", "10"))
#: The settings of every generated-payload test. No shrinking: each example costs
#: seconds, and a failure already names the flag, the users and both answers (and
#: Hypothesis prints the payload).
proof_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Seconds a generated-payload test may take (a long run takes longer).
proof_timeout = pytest.mark.timeout(max(600, EXAMPLES * 60))

#: Values any custom attribute may take, besides those of its own kind.
ODD: tuple[Any, ...] = (None, "", " ", 0, -1, 1.5, "0", "1.5", True, False, "ünï-😀", "用户")
_KINDS: dict[str, tuple[Any, ...]] = {
    "plan": ("pro", "PRO", "Pro", "free", "enterprise", "pro "),
    "age": (17, 18, 40, 90, "18", "40", "abc", 17.9, "1e3"),
    "version": ("1.2.3", "1.10.0", "1.2.3-beta", "2", "v1.2", "1.2", "10.0.0"),
    "company": ("acme", "Acme", "c1", "c10", 7, 12, "7"),
    "tags": (["a", "b"], ["pro"], [], [1, "2"], "a"),
    "name": ("n1", "n13", "ann", "Ünï"),
}
_IDS: tuple[str, ...] = ("ünï-😀", "0", "U1", "1.2.3", " x", "用户-7")


def odd_users(count: int, seed: int, *, gb_id: bool = False) -> list[dict[str, Any]]:
    """``count`` users as ``flagport compare`` reads them (one JSON object per user).

    Every user has a non-empty ``user_id`` (FeatBit needs a key). Each custom attribute
    is missing, a value of its kind or an odd value; built-ins are missing or odd text.

    :param gb_id: also set GrowthBook's ``id`` attribute (its default hash attribute):
        the user id most of the time, an odd value sometimes.
    """
    rng = random.Random(seed)
    rows = []
    for number in range(count):
        user_id = f"u{number}" if number % 11 else rng.choice(_IDS) + f"-{number}"
        row: dict[str, Any] = {"user_id": user_id}
        for name, pool in (
            ("email", ("a@acme.com", "B@ACME.COM", "", "pro@x.io", "ünï@例え.jp")),
            ("country", ("US", "us", "FR", "DE", "", "Ünï")),
            ("app_version", ("1.2.3", "1.10.0-beta", "2", "", "v1", "1.2")),
            ("environment_tier", ("production", "staging", "development", "Production")),
        ):
            if rng.random() < 0.7:
                row[name] = rng.choice(pool)
        custom: dict[str, Any] = {}
        for name, pool in _KINDS.items():
            roll = rng.random()
            # A missing, null or blank ``name`` is exercised too: FeatBit's provider sends
            # the user id as the name then, and an imported file must follow.
            if roll >= 0.2:
                custom[name] = rng.choice(pool if roll < 0.8 else ODD)
        if gb_id:
            custom["id"] = user_id if rng.random() < 0.9 else rng.choice(ODD)
        row["custom"] = custom
        # Every user carries the custom unit; statsig_payloads.statsig_users takes it away,
        # lower-cases it or moves it to an attribute for some.
        row["custom_ids"] = {"companyID": rng.choice(("c1", "c2", "C1", "10", "ünï", "c7"))}
        rows.append(row)
    return rows


def verify_payload(vendor: str, payload: dict[str, Any], users: list[dict[str, Any]]) -> None:
    """Import ``payload`` and verify it over ``users`` with the CLI; fail with the evidence.

    :raises AssertionError: anything was left out, the command failed, or a flag
        disagrees (the message names the flags, the users and both answers).
    """
    logging.getLogger("growthbook").setLevel(logging.CRITICAL)  # unknown parents, by design
    with tempfile.TemporaryDirectory(prefix="flagport-proof-") as tmp:
        source, people = Path(tmp, "payload.json"), Path(tmp, "users.jsonl")
        out = Path(tmp, "flags.yaml")
        source.write_text(json.dumps(payload), encoding="utf-8")
        people.write_text("\n".join(json.dumps(u) for u in users), encoding="utf-8")
        args = ["import", vendor, str(source), "-o", str(out), "--verify", str(people), "--json"]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        written = out.read_text(encoding="utf-8") if out.exists() else "(nothing written)"
    assert result.exit_code == 0 or result.stdout.strip(), result.output
    report = json.loads(result.stdout)
    if "agree" not in report:  # the import report: something was left out
        raise AssertionError(f"left out: {report['left_out']}")
    failing = {
        name: {"examples": data["examples"], "errors": data["errors"]}
        for name, data in report["flags"].items()
        if data.get("mismatches") or any(data["errors"].values())
    }
    assert not failing, (
        f"{len(failing)} flag(s) disagree: {json.dumps(failing, ensure_ascii=False)}\n"
        f"written file:\n{written}"
    )
    assert report["agree"]
    assert result.exit_code == 0
    assert report["users"] == len(users)
    # Every flag an application can evaluate was compared; only Statsig's segments and
    # holdouts (checked through the gates that reference them) may be left aside.
    assert set(report["flags"]) == _offered(vendor, payload)
    assert all(name.startswith(("segment:", "holdout:")) for name in report["not_compared"])


def _offered(vendor: str, payload: dict[str, Any]) -> set[str]:
    if vendor == "growthbook":
        return set(payload["features"])
    if vendor == "featbit":
        return {f["key"] for f in payload["data"]["featureFlags"] if not f.get("isArchived")}
    gates = payload["feature_gates"]
    return {n for n, s in gates.items() if s["entity"] == "feature_gate"} | set(
        payload["dynamic_configs"]
    )
