"""The shared provider conformance suite, run against the local provider."""

from __future__ import annotations

from pathlib import Path

from flagport.providers.local import LocalProvider
from flagport.testing.conformance import ProviderConformance

EXAMPLE = Path(__file__).parents[3] / "examples" / "flags.yaml"

FLAGS = {
    "gates": {
        "new_checkout": {
            "rules": [
                {"id": "us", "when": {"country": "US"}},
                {"id": "rollout", "pass_percentage": 50},
            ]
        }
    },
    "experiments": {
        "button_color": {
            "groups": [
                {"name": "control", "weight": 34, "value": {"color": "gray"}},
                {"name": "blue", "weight": 33, "value": {"color": "blue"}},
                {"name": "green", "weight": 33, "value": {"color": "green"}},
            ]
        }
    },
    "configs": {"pricing": {"default": {"discount": 0}, "rules": []}},
}


class TestLocalInlineConformance(ProviderConformance):
    def make_provider(self) -> LocalProvider:
        return LocalProvider(LocalProvider.Options(flags=FLAGS, watch=False))


class TestLocalFileConformance(ProviderConformance):
    """The same suite against the example file, watched (a thread per provider)."""

    def make_provider(self) -> LocalProvider:
        return LocalProvider(LocalProvider.Options(path=str(EXAMPLE), watch=True))
