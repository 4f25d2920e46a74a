"""The core's process-wide override layer the plugin forces through.

(It lives in ``flagport.overrides``; tested here because the plugin is its user.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flagport import Flagport, Reason, User
from flagport.overrides import global_overrides

U = User(user_id="42")
OTHER = User(user_id="7")


@pytest.fixture(autouse=True)
def _clear() -> Iterator[None]:
    global_overrides.clear()
    yield
    global_overrides.clear()


def test_clients_built_before_and_after_forcing_both_see_it() -> None:
    before = Flagport(provider="passall")
    assert before.overrides.gates.active is False
    global_overrides.gate("g", False)
    after = Flagport(provider="passall")
    for client in (before, after):
        assert client.overrides.gates.active is True
        assert client.check_gate(U, "g") is False
        assert client.get_gate(U, "g").reason is Reason.OVERRIDE
        assert "g" in client.names().gates
    global_overrides.clear()
    assert before.overrides.gates.active is False
    assert after.check_gate(U, "g") is True


def test_a_clients_own_override_wins_over_the_global_one() -> None:
    client = Flagport(provider="passall")
    global_overrides.gate("g", False)
    global_overrides.gate("g", True, user_id="7")
    client.override_gate("g", True)
    assert client.check_gate(U, "g") is True
    client.override_gate("g", False, user_id="7")
    assert client.check_gate(OTHER, "g") is False
    client.clear_overrides()
    # Its own entries gone, the global ones show again and the table stays active.
    assert client.overrides.gates.active is True
    assert client.check_gate(U, "g") is False
    assert client.check_gate(OTHER, "g") is True


def test_a_user_specific_global_value_falls_back_for_other_users() -> None:
    client = Flagport(provider="passall", gate_value=False)
    global_overrides.gate("g", True, user_id="42")
    assert client.check_gate(U, "g") is True
    assert client.check_gate(OTHER, "g") is False


def test_experiments_and_configs_are_layered_the_same_way() -> None:
    client = Flagport(provider="passall")
    global_overrides.experiment("e", "blue", {"c": "blue"})
    global_overrides.config("c", {"v": 1})
    assert client.get_experiment(U, "e").group == "blue"
    assert client.get_config(U, "c").value == {"v": 1}
    client.override_config("c", {"v": 2})
    assert client.get_config(U, "c").value == {"v": 2}
    global_overrides.clear("e")
    assert client.overrides.experiments.active is False
    assert client.get_experiment(U, "e").group is None
