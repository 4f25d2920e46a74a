"""An OpenFeature application served by each flagport provider, vendors included.

The common product scenario (gate ``new_checkout``, experiment ``button_color``,
config ``pricing``) is bootstrapped offline in each vendor's own format (the vendors'
``testing`` modules hold them). Through OpenFeature every provider must give exactly
the answers flagport gives directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from scenario_flags import SCENARIO_FLAGS_YAML as SCENARIO_YAML  # tests/support

from flagport import Flagport, User
from flagport_featbit.testing import data_sync, scenario_flags
from flagport_growthbook.testing import scenario_payload
from flagport_openfeature import FlagportProvider
from flagport_statsig.testing import scenario_specs


def _local(tmp: Path) -> dict[str, Any]:
    (tmp / "flags.yaml").write_text(SCENARIO_YAML)
    return {"provider": "local", "path": str(tmp / "flags.yaml"), "watch": False}


def _bootstrapped(name: str, payload: Callable[[], dict[str, Any]]) -> Any:
    def options(tmp: Path) -> dict[str, Any]:
        path = tmp / f"{name}.json"
        path.write_text(json.dumps(payload()))
        return {"provider": name, "offline": True, "bootstrap": str(path)}

    return options


def _migration(tmp: Path) -> dict[str, Any]:
    new = _bootstrapped("growthbook", scenario_payload)(tmp)
    return {"provider": "migration", "from": _local(tmp), "to": new, "stage": "shadow"}


PROVIDERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "migration": _migration,
    "local": _local,
    "statsig": _bootstrapped("statsig", scenario_specs),
    "growthbook": _bootstrapped("growthbook", scenario_payload),
    "featbit": _bootstrapped("featbit", lambda: data_sync(scenario_flags())),
}


@pytest.fixture(params=sorted(PROVIDERS))
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Flagport]]:
    fp = Flagport(**PROVIDERS[request.param](tmp_path), strict=True)
    api.set_provider_and_wait(FlagportProvider(fp, shutdown_client=False))
    yield request.param, fp
    api.shutdown()
    fp.shutdown(timeout=10)


def test_openfeature_answers_are_flagports(served: tuple[str, Flagport]) -> None:
    name, fp = served
    client = api.get_client()
    assert api.get_provider_metadata().name == f"flagport:{name}"
    groups, gates = set(), set()
    for i in range(40):
        country, plan = ("US", "pro") if i % 4 == 0 else ("DE", "free")
        user = User(
            user_id=f"user-{i}", country=country, app_version="2.1.0", custom={"plan": plan}
        )
        ctx = EvaluationContext(
            f"user-{i}", {"country": country, "app_version": "2.1.0", "plan": plan}
        )
        gate = client.get_boolean_details("new_checkout", False, ctx)
        assert gate.error_code is None, gate.error_message
        assert gate.value is fp.check_gate(user, "new_checkout")
        experiment = fp.get_experiment(user, "button_color")
        details = client.get_object_details("button_color", {}, ctx)
        assert (details.variant, details.value) == (experiment.group, dict(experiment.value))
        assert client.get_string_value("button_color.color", "", ctx) == experiment.get("color")
        discount = client.get_float_details("pricing.discount", -1.0, ctx)
        assert discount.error_code is None, discount.error_message
        assert discount.value == fp.get_config(user, "pricing").get("discount", 0.0)
        assert discount.value == (0.1 if plan == "pro" else 0.0)
        groups.add(details.variant)
        gates.add(gate.value)
    assert groups == {"control", "blue", "green"}
    assert gates == {True, False}
    missing = client.get_boolean_details("new_chekout", False, EvaluationContext("1"))
    assert missing.error_code == "FLAG_NOT_FOUND"
