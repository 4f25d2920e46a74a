"""flagport local -> OpenFeature -> flagport ``openfeature`` provider answers as local does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flagport import Flagport, User
from flagport_openfeature import FlagportProvider, OpenFeatureProvider

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flags.yaml"
COUNTRIES = ["US", "DE", "CA", "IE", "JP"]
PLANS = ["free", "pro", "team", "enterprise"]


def users() -> list[User]:
    found = []
    for i in range(48):
        custom: dict[str, Any] = {"plan": PLANS[i % 4]}
        if i % 5 == 0:
            custom["email_domain"] = "example.com"
        found.append(
            User(
                user_id=str(i) if i % 11 else "12",  # "12" is a beta tester and an override
                country=COUNTRIES[i % 5],
                app_version=f"{1 + i % 4}.{i % 3}.0",
                custom=custom,
                custom_ids={"company_id": f"c{i % 7}"} if i % 3 else {},
                private={"internal": True} if i % 4 == 0 else {},
            )
        )
    return found


def answer(result: Any) -> tuple[Any, ...]:
    fields = ("value", "reason", "rule_id", "error_code", "group", "in_experiment")
    return tuple(getattr(result, f, None) for f in fields)


@pytest.mark.parametrize("domain", [None, "roundtrip"])
def test_round_trip_gives_the_local_answers(domain: str | None) -> None:
    local = Flagport(provider="local", path=str(EXAMPLE), watch=False)
    names = local.names()
    bridge = FlagportProvider(provider="local", path=str(EXAMPLE), watch=False)
    back = Flagport(
        OpenFeatureProvider.from_options(
            of_provider=bridge,
            domain=domain,
            gates=sorted(names.gates),
            experiments=sorted(names.experiments),
            configs=sorted(names.configs),
        )
    )
    compared = 0
    kinds: set[str] = set()
    with local, back:
        for user in users():
            for gate in sorted(names.gates):
                assert answer(back.get_gate(user, gate)) == answer(local.get_gate(user, gate))
                assert back.check_gate(user, gate) is local.check_gate(user, gate)
            for exp in sorted(names.experiments):
                expected = local.get_experiment(user, exp)
                assert answer(back.get_experiment(user, exp)) == answer(expected), (exp, user)
                kinds.add(expected.reason.value)
            for cfg in sorted(names.configs):
                assert answer(back.get_config(user, cfg)) == answer(local.get_config(user, cfg))
            compared += 1
            mine, theirs = back.evaluate_all(user).to_dict(), local.evaluate_all(user).to_dict()
            for section in mine.values():
                for result in section.values():
                    result.pop("provider")
                    result.pop("error_message")
            for section in theirs.values():
                for result in section.values():
                    result.pop("provider")
                    result.pop("error_message")
            assert mine == theirs
    assert compared == 48
    # The example file exercises assignments, launched winners, stopped experiments
    # and overrides: every one of them survived the trip.
    assert {"SPLIT", "STATIC", "DISABLED", "TARGETING_MATCH"} <= kinds
