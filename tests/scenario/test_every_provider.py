"""One product scenario, every provider: swapping the provider setting changes nothing.

The scenario (a gate on for US users and 50% of the rest, a three-group experiment, a
JSON config, a custom event) is written in each vendor's own format (the vendors'
``testing`` modules hold them), as a local flags file (read from disk, and polled from a
URL), and as an OpenFeature
in-memory provider driven through the ``openfeature`` provider. The application below builds
its client from settings only; each run writes a different ``flagport.toml`` and
nothing else, and the application-level behaviour must be the same.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flag_server import FlagServer, flag_server  # tests/support
from scenario_flags import SCENARIO_FLAGS_YAML as FLAGS_YAML  # tests/support

from flagport import Event, Flagport, User
from flagport_featbit.testing import data_sync, scenario_flags
from flagport_growthbook.testing import scenario_payload
from flagport_statsig.testing import scenario_specs

COLORS = {"control": "gray", "blue": "blue", "green": "green"}
Writer = Callable[[Path], str]


def local(tmp: Path) -> str:
    (tmp / "flags.yaml").write_text(FLAGS_YAML)
    return 'provider = "local"\n[local]\npath = "flags.yaml"\n'


# The same file polled from a URL (the test server below), with the on-disk cache.
URL_PLACEHOLDER = "@FLAGS_URL@"


def local_url(tmp: Path) -> str:
    return (
        f'provider = "local"\n[local]\nurl = "{URL_PLACEHOLDER}"\ncache_path = "cache/flags.yaml"\n'
    )


def bootstrapped(name: str, payload: Callable[[], dict[str, Any]]) -> Writer:
    def write(tmp: Path) -> str:
        (tmp / f"{name}.json").write_text(json.dumps(payload()))
        return f'provider = "{name}"\n[{name}]\noffline = true\nbootstrap = "{name}.json"\n'

    return write


PROVIDERS: dict[str, Writer] = {
    "local": local,
    "local-url": local_url,
    "statsig": bootstrapped("statsig", scenario_specs),
    "growthbook": bootstrapped("growthbook", scenario_payload),
    "featbit": bootstrapped("featbit", lambda: data_sync(scenario_flags())),
    # any OpenFeature provider, here the SDK's own in-memory one holding the scenario
    "openfeature": lambda tmp: (
        'provider = "openfeature"\n[openfeature]\n'
        'of_provider = "flagport_openfeature.testing:scenario_provider"\n'
        'gates = ["new_checkout"]\n'
    ),
}


def checkout_page(fp: Flagport, user: User) -> dict[str, Any]:
    """The application: what one user's checkout page looks like."""
    experiment = fp.get_experiment(user, "button_color")
    page = {
        "new_checkout": fp.check_gate(user, "new_checkout"),
        "group": experiment.group,
        "color": experiment.get("color", "gray"),
        "discount": fp.get_config(user, "pricing").get("discount", 0.0),
    }
    fp.log_event(user, "purchase", 19.99, {"sku": "A1"})
    return page


@pytest.fixture(scope="module")
def url_server() -> Iterator[FlagServer]:
    with flag_server() as server:
        server.put("/flags.yaml", FLAGS_YAML)
        yield server


@pytest.fixture(params=sorted(PROVIDERS))
def app(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    url_server: FlagServer,
) -> Iterator[tuple[Flagport, list[Event]]]:
    settings = PROVIDERS[request.param](tmp_path).replace(URL_PLACEHOLDER, url_server.url())
    (tmp_path / "flagport.toml").write_text(settings)
    monkeypatch.chdir(tmp_path)
    for var in ("FLAGPORT_PROVIDER", "FLAGPORT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    events: list[Event] = []
    fp = Flagport.from_settings(strict=True, events={"sinks": ["provider", events.append]})
    assert fp.provider_name == request.param.removesuffix("-url")
    yield fp, events
    fp.shutdown(timeout=10)


def test_us_users_get_the_new_checkout(app: tuple[Flagport, list[Event]]) -> None:
    fp, _ = app
    pages = [checkout_page(fp, User(user_id=f"us-{i}", country="US")) for i in range(50)]
    assert all(page["new_checkout"] for page in pages)


def test_half_of_everyone_else_gets_it(app: tuple[Flagport, list[Event]]) -> None:
    fp, _ = app
    users = [User(user_id=f"user-{i}", country="DE") for i in range(2000)]
    share = sum(fp.check_gate(u, "new_checkout") for u in users) / len(users)
    assert 0.45 < share < 0.55


def test_experiment_splits_in_thirds_with_matching_parameters(
    app: tuple[Flagport, list[Event]],
) -> None:
    fp, _ = app
    groups: Counter[str | None] = Counter()
    for i in range(3000):
        result = fp.get_experiment(User(user_id=f"user-{i}", app_version="2.1.0"), "button_color")
        assert result.in_experiment
        assert result.get("color", "") == COLORS[result.group or ""]
        groups[result.group] += 1
    assert set(groups) == {"control", "blue", "green"}
    assert all(900 < n < 1100 for n in groups.values()), groups


def test_pricing_follows_the_plan(app: tuple[Flagport, list[Event]]) -> None:
    fp, _ = app
    assert checkout_page(fp, User(user_id="1", custom={"plan": "pro"}))["discount"] == 0.1
    assert checkout_page(fp, User(user_id="2", custom={"plan": "free"}))["discount"] == 0.0


def test_purchases_and_exposures_reach_the_event_pipeline(
    app: tuple[Flagport, list[Event]],
) -> None:
    fp, events = app
    user = User(user_id="buyer-1", country="US")
    page = checkout_page(fp, user)
    checkout_page(fp, user)
    assert fp.flush(timeout=10)
    purchases = [e for e in events if e.name == "purchase"]
    exposures = [e for e in events if e.kind.value == "exposure"]
    assert [(e.value, dict(e.metadata)) for e in purchases] == [(19.99, {"sku": "A1"})] * 2
    assert [(e.name, e.group) for e in exposures] == [("button_color", page["group"])]


def test_misspelt_flags_fail_the_same_way(app: tuple[Flagport, list[Event]]) -> None:
    from flagport import FlagNotFoundError

    fp, _ = app
    with pytest.raises(FlagNotFoundError):
        fp.check_gate(User(user_id="1"), "new_chekout")
