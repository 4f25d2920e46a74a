"""A key among the OpenFeature factory's keyword arguments never shows.

``of_provider_options`` are whatever the factory takes (an SDK key, headers); flagport
masks them by name when it prints them, and redacts them from every log record and
error while the provider lives.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from leak_watch import LeakWatch, exercise  # tests/support
from openfeature.evaluation_context import EvaluationContext
from openfeature.provider.in_memory_provider import InMemoryProvider

from flagport import ConfigurationError, Flagport
from flagport_openfeature.testing import SCENARIO_KINDS, scenario_flags

CANARY = "of-canary-Vb61nPq0Ks"


class RefusedProvider(InMemoryProvider):
    """Initialization fails with a message that quotes the key, as SDKs' errors do."""

    def __init__(self, sdk_key: str) -> None:
        super().__init__(scenario_flags())
        self.sdk_key = sdk_key

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        raise PermissionError(f"key {self.sdk_key} was refused")


def keyed_provider(
    sdk_key: str, headers: dict[str, str], fail: str | None = None
) -> InMemoryProvider:
    """What a vendor's OpenFeature provider does with its key: log it, or fail with it."""
    logging.getLogger("ofvendor.client").debug("connecting with %s and %r", sdk_key, headers)
    if fail == "construction":
        raise PermissionError(f"key {sdk_key} was refused")
    if fail == "initialize":
        return RefusedProvider(sdk_key)
    return InMemoryProvider(scenario_flags())


def options(**extra: Any) -> dict[str, Any]:
    return {
        "provider": "openfeature",
        "of_provider": keyed_provider,
        "of_provider_options": {"sdk_key": CANARY, "headers": {"Authorization": CANARY}},
        **SCENARIO_KINDS,
        **extra,
    }


def test_the_factorys_key_never_shows(capfd: pytest.CaptureFixture[str]) -> None:
    with LeakWatch(CANARY) as watch:
        fp = Flagport(**options())
        provider = fp.provider
        assert provider.stats()["initialized"]  # the factory got the real key
        exercise(fp, watch)
    assert "connecting with *** and {'Authorization': '***'}" in str(watch.texts)
    watch.assert_clean(capfd)


def test_a_failing_factory_reports_no_key(capfd: pytest.CaptureFixture[str]) -> None:
    of = options(of_provider_options={"sdk_key": CANARY, "headers": {}, "fail": "construction"})
    with LeakWatch(CANARY) as watch:
        with pytest.raises(ConfigurationError) as info:
            Flagport(strict=True, **of).check_gate({"user_id": "1"}, "new_checkout")
        watch.add("exception", f"{info.value!s} {info.value!r}")
        fp = Flagport(**of)
        watch.add("result", fp.get_gate({"user_id": "1"}, "new_checkout"))
        fp.shutdown()
    assert "refused" in str(info.value)
    watch.assert_clean(capfd)


def test_a_provider_failing_to_initialize_reports_no_key(
    capfd: pytest.CaptureFixture[str],
) -> None:
    of = options(of_provider_options={"sdk_key": CANARY, "headers": {}, "fail": "initialize"})
    with LeakWatch(CANARY) as watch:
        fp = Flagport(**of)
        exercise(fp, watch)
    assert "PermissionError: key *** was refused" in str(watch.texts)  # in stats()
    watch.assert_clean(capfd)


def test_factory_options_are_masked_in_every_dump() -> None:
    from flagport_openfeature.options import OpenFeatureOptions

    canary = "sdk-canary-dump-4Lq9"
    options = OpenFeatureOptions(of_provider="json:loads", of_provider_options={"sdk_key": canary})
    assert options.of_provider_options["sdk_key"] == canary  # the provider reads the value
    assert canary not in f"{options.model_dump()} {options.model_dump_json()} {options!r}"
