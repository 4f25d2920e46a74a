"""Experiments and configs whose OpenFeature variants are scalars (strings, numbers,
booleans) resolve through ``provider="openfeature"`` instead of answering TYPE_MISMATCH.

OpenFeature's client checks the type of an object resolution, and so do providers
such as flagd's in-process resolver: a string flag asked for an object is a type
mismatch. flagport asks for an object first, then for each scalar type.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from openfeature.exception import TypeMismatchError as OFTypeMismatch
from openfeature.flag_evaluation import FlagResolutionDetails
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

from flagport import Flagport, User
from flagport_openfeature import OpenFeatureProvider

FLAGS: dict[str, InMemoryFlag[Any]] = {
    "color": InMemoryFlag("blue", {"blue": "#00f", "red": "#f00"}),
    "limit": InMemoryFlag("high", {"high": 100, "low": 10}),
    "ratio": InMemoryFlag("half", {"half": 0.5}),
    "beta": InMemoryFlag("on", {"on": True, "off": False}),
    "layout": InMemoryFlag("grid", {"grid": {"columns": 3}}),
}
_domains = itertools.count()


class TypeCheckingProvider(InMemoryProvider):
    """An in-memory provider that refuses an object resolution of a scalar flag, as
    flagd's resolver does."""

    def resolve_object_details(
        self, flag_key: str, default_value: Any, evaluation_context: Any = None
    ) -> FlagResolutionDetails[Any]:
        details = super().resolve_object_details(flag_key, default_value, evaluation_context)
        if not isinstance(details.value, dict | list):
            raise OFTypeMismatch(f"{flag_key} is not an object flag")
        return details


def _client(mode: str) -> Flagport:
    names = list(FLAGS)
    if mode == "domain":
        options: dict[str, Any] = {"domain": f"scalars-{next(_domains)}"}
        of = InMemoryProvider(FLAGS)
    else:
        options = {}
        of = TypeCheckingProvider(FLAGS)
    provider = OpenFeatureProvider.from_options(
        of_provider=of, experiments=names, configs=names, **options
    )
    return Flagport(provider=provider)


@pytest.mark.parametrize("mode", ["domain", "type-checking provider"])
@pytest.mark.parametrize(
    ("flag", "variant", "value"),
    [
        ("color", "blue", "#00f"),
        ("limit", "high", 100),
        ("ratio", "half", 0.5),
        ("beta", "on", True),
        ("layout", "grid", {"columns": 3}),
    ],
)
def test_scalar_variants_serve_their_value(mode: str, flag: str, variant: str, value: Any) -> None:
    user = User(user_id="u1")
    with _client(mode) as client:
        for _ in range(2):  # the second time through the remembered resolver
            experiment = client.get_experiment(user, flag)
            config = client.get_config(user, flag)
            assert experiment.error_code is None, experiment.error_message
            assert config.error_code is None, config.error_message
            assert experiment.group == variant
            expected = value if isinstance(value, dict) else {"value": value}
            assert experiment.value == expected
            assert config.value == expected
            assert type(config.get("value")) is type(expected.get("value"))
