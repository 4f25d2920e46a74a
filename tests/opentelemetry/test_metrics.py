"""Evaluation and error counters, and the event pipeline's counters, as metrics."""

from __future__ import annotations

import threading

from otel_memory import Otel

from flagport import Flagport, User

US = User(user_id="u-42", country="US")
FR = User(user_id="u-7", country="FR")


def test_evaluations_are_counted_by_flag_variant_reason_and_provider(
    otel: Otel, client: Flagport
) -> None:
    otel.enable("all")
    for _ in range(3):
        client.check_gate(US, "us_only")
    client.check_gate(FR, "us_only")
    points = otel.points("flagport.evaluations")
    base = {("feature_flag.key", "us_only"), ("feature_flag.provider.name", "local")}
    matched = base | {
        ("feature_flag.result.variant", "true"),
        ("feature_flag.result.reason", "targeting_match"),
    }
    missed = base | {
        ("feature_flag.result.variant", "false"),
        ("feature_flag.result.reason", "default"),
    }
    assert points == {frozenset(matched): 3, frozenset(missed): 1}


def test_errors_are_counted_by_type(otel: Otel, client: Flagport) -> None:
    otel.enable("all")
    client.check_gate(US, "typo")
    client.check_gate(US, "typo")
    client.check_gate({"user_id": ["not", "an", "id"]}, "new_checkout")
    errors = otel.points("flagport.evaluation.errors")
    assert errors == {
        frozenset(
            {
                ("error.type", "flag_not_found"),
                ("feature_flag.key", "typo"),
                ("feature_flag.provider.name", "local"),
            }
        ): 2,
        frozenset(
            {
                ("error.type", "invalid_context"),
                ("feature_flag.key", "new_checkout"),
                ("feature_flag.provider.name", "local"),
            }
        ): 1,
    }


def test_metrics_can_be_turned_off(otel: Otel, client: Flagport) -> None:
    otel.enable("all", metrics=False)
    client.check_gate(US, "new_checkout")
    assert otel.points("flagport.evaluations") == {}
    assert len(otel.events()) == 1


def test_the_event_pipeline_counters_are_observed(otel: Otel) -> None:
    otel.enable("exposures")
    release = threading.Event()

    def slow_sink(event: object) -> None:
        release.wait(30)

    with Flagport(provider="passall", events={"sinks": [slow_sink], "max_queue": 2}) as fp:
        for i in range(10):  # the sink is stuck: the queue fills and the rest is dropped
            fp.log_event(US, f"purchase{i}")
        release.set()
        assert fp.flush(30)
        (sink, stats), *others = fp.events.stats().items()
        assert not others
        assert stats["accepted"] == 10
        assert stats["dropped"] > 0
        assert stats["delivered"] > 0
        where = frozenset({("flagport.events.sink", sink)})
        # Read while the client is open: a shut-down client is no longer a live client.
        for counter in ("accepted", "delivered", "dropped", "failed"):
            # Other live clients report their own sinks; this one is named after its function.
            assert otel.points(f"flagport.events.{counter}")[where] == stats[counter], counter
        assert otel.points("flagport.events.queued")[where] == 0
