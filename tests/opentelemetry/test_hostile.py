"""Telemetry under hostile users and forked workers: bounded attributes, own counts."""

from __future__ import annotations

import os

import pytest
from forking import child_exit_code
from otel_memory import Otel

import flagport_opentelemetry
from flagport import ConfigurationError, Flagport, User
from flagport_opentelemetry.attributes import MAX_TEXT

HUGE = User(user_id="u" * 200_000, custom={"is_staff": True})


def test_a_huge_user_id_is_cut_in_the_context_id(otel: Otel, client: Flagport) -> None:
    # It went whole into feature_flag.context.id: a user id read from a request header
    # made every event (and log line exported) 200 kB.
    otel.enable("all", include_context_id=True)
    client.check_gate(HUGE, "new_checkout")
    (event,) = otel.events()
    assert len(event["feature_flag.context.id"]) == MAX_TEXT
    assert event["feature_flag.context.id"].startswith("uuu")


def test_an_exposure_cuts_a_huge_user_id_too(otel: Otel, client: Flagport) -> None:
    otel.enable("exposures", include_context_id=True)
    client.get_experiment(HUGE, "button_color")
    (event,) = otel.events()
    assert len(event["feature_flag.context.id"]) == MAX_TEXT


def test_a_forked_worker_counts_only_its_own_evaluations(otel: Otel, client: Flagport) -> None:
    # A child inherited the parent's counts and reported them as its own: with gunicorn
    # --preload every worker reported the master's evaluations again.
    otel.enable("all", log_events=False, span_events=False)
    for _ in range(5):
        client.check_gate(HUGE, "everyone")
    assert list(otel.points("flagport.evaluations").values()) == [5]
    pid = os.fork()
    if pid == 0:
        try:
            client.check_gate(HUGE, "everyone")
            counts = list(otel.points("flagport.evaluations").values())
            os._exit(0 if counts == [1] else 10 + sum(counts))
        except BaseException:
            os._exit(99)
    assert child_exit_code(pid) == 0, "the child reported counts it did not make"
    assert list(otel.points("flagport.evaluations").values()) == [5]


def test_a_mistyped_option_in_code_names_the_option_and_the_fix() -> None:
    # enable(includ_value=True) was pydantic's ValidationError ("Extra inputs are not
    # permitted", a link to pydantic's site), unlike the same mistake in flagport.toml.
    with pytest.raises(ConfigurationError) as raised:
        flagport_opentelemetry.enable("all", includ_value=True)
    assert "unknown option 'includ_value'; did you mean 'include_value'?" in str(raised.value)
    assert "flagport_opentelemetry.enable()" in str(raised.value)
    with pytest.raises(ConfigurationError, match="'al' is not a volume"):
        flagport_opentelemetry.enable("al")
    assert flagport_opentelemetry.current() is None
