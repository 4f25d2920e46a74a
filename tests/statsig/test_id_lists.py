"""Hashed ID lists: Statsig's SDK, downloading them from the loopback server with
Statsig's protocol, and the local provider, on the imported definitions with the same
lists stored hashed, answer every gate alike.

The gates test membership (``in_segment_list`` / ``not_in_segment_list``) of the user
id, of a custom id (in any case) and of a user field, alone and with other conditions.
"""

from __future__ import annotations

import random
from typing import Any

from flagport import Flagport, User
from flagport.importers.statsig import import_statsig
from flagport_statsig.testing import (
    SpecsBuilder,
    StatsigLoopbackServer,
    rule,
    unit_id,
    user_field,
)

BETA = [f"u{i}" for i in range(0, 400, 3)] + ["", "ünï-😀"]
COMPANIES = [f"c{i}" for i in range(0, 50, 2)]
EMAILS = [f"u{i}@acme.com" for i in range(0, 400, 5)]
ODD_VALUES = ["12", "1.5", "true", "False", "[1,2]", "ABC", "", "1e3"]
ODD = [12, 12.0, 1.5, True, False, [1, 2], "abc", "ABC", "", 1e3, 1000, None, "12"]
REMOVED = ["u3", "u6", "u9"]


def specs() -> dict[str, Any]:
    return (
        SpecsBuilder()
        .gate("beta", [rule("in_beta", [unit_id("userID", "in_segment_list", "beta_users")])])
        .gate(
            "not_beta",
            [rule("outside", [unit_id("userID", "not_in_segment_list", "beta_users")])],
        )
        .gate(
            "company",
            [
                rule(
                    "listed",
                    [unit_id("companyID", "in_segment_list", "companies")],
                    id_type="companyID",
                )
            ],
            id_type="companyID",
        )
        .gate(
            "email_pro",
            [
                rule(
                    "listed_pro",
                    [
                        user_field("email", "in_segment_list", "emails"),
                        user_field("plan", "any", ["pro"]),
                    ],
                ),
                rule(
                    "half",
                    [user_field("email", "not_in_segment_list", "emails")],
                    pass_percentage=50,
                ),
            ],
        )
        .gate("odd", [rule("listed", [user_field("Odd", "in_segment_list", "odd_values")])])
        .gate("no_list", [rule("missing", [unit_id("userID", "in_segment_list", "nope")])])
        .build()
    )


def users() -> list[User]:
    rng = random.Random(7)
    found = [User(), User(user_id=""), User(user_id="ünï-😀")]
    for i in range(400):
        custom_ids = {}
        if i % 3:
            key = "companyID" if i % 2 else "companyid"
            custom_ids[key] = f"c{rng.randrange(60)}"
        found.append(
            User(
                user_id=f"u{i}",
                email=f"u{i}@acme.com" if i % 7 else None,
                custom={"plan": rng.choice(["pro", "free"]), "odd": rng.choice(ODD)},
                custom_ids=custom_ids,
            )
        )
    return found


def answers(fp: Flagport, people: list[User]) -> dict[str, list[bool]]:
    names = ["beta", "not_beta", "company", "email_pro", "odd", "no_list"]
    return {name: [fp.check_gate(u, name) for u in people] for name in names}


def test_hashed_id_lists_answer_as_statsig_does_over_its_id_list_protocol() -> None:
    definitions = specs()
    lists = {"beta_users": BETA, "companies": COMPANIES, "emails": EMAILS, "odd_values": ODD_VALUES}
    with StatsigLoopbackServer(definitions, id_lists=lists) as server:
        server.id_lists.change("beta_users", remove=REMOVED)  # "-id" lines
        imported = import_statsig(definitions, server.id_lists.members())
        # A list the server does not have is reported, and empty as for the SDK.
        assert [(i.flag, "'nope'" in i.reason) for i in imported.left_out] == [("no_list", True)]
        stored = imported.flags["segments"]["beta_users"]["hashed_ids"]
        assert "u0" not in stored
        assert len(stored) == len(BETA) - len(REMOVED)
        people = users()
        with (
            Flagport(provider="statsig", **server.provider_options()) as statsig,
            Flagport(provider="local", flags=imported.flags, watch=False) as local,
        ):
            theirs, ours = answers(statsig, people), answers(local, people)
        paths = [r[1] for r in server.requests]
    assert "/v1/get_id_lists" in paths
    assert any(p.startswith("/id_list_files/") for p in paths)
    for name, values in theirs.items():
        diff = [(p, a, b) for p, a, b in zip(people, values, ours[name], strict=True) if a != b]
        assert not diff, f"{name}: {diff[:3]}"
    # Both answers occur, and removals count: u3 was added, then removed.
    assert set(theirs["beta"]) == {True, False}
    assert set(theirs["company"]) == {True, False}
    assert set(theirs["email_pro"]) == {True, False}
    assert set(theirs["odd"]) == {True, False}
    position = {u.user_id: i for i, u in enumerate(people)}
    assert theirs["beta"][position["u0"]] is True
    assert theirs["beta"][position["u3"]] is False
