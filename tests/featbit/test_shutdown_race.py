"""An evaluation that a shutdown on another thread overtakes between the flag lookup and
the SDK call is told the provider was shut down, not ``AttributeError``."""

from __future__ import annotations

from typing import Any

import pytest

from flagport import ProviderNotReadyError, User
from flagport_featbit import FeatBitProvider


def test_an_evaluation_overtaken_by_a_shutdown_says_shut_down(bootstrap: dict[str, Any]) -> None:
    provider = FeatBitProvider.from_options(offline=True, bootstrap=bootstrap)
    provider.start()
    name = next(iter(provider.names().gates))
    # The interleaving: the evaluation has found its flag, then the shutdown runs.
    flag = provider._gates[name]
    provider.shutdown(timeout=2)
    with pytest.raises(ProviderNotReadyError, match="shut down"):
        provider._evaluate("gate", flag, User(user_id="u1"), True)
