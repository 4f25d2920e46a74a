from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openfeature import api

FLAGS_YAML = """
gates:
  new_checkout:
    rules:
      - {id: us, when: {country: US}}
      - {id: rollout, pass_percentage: 50}
  staff:
    rules:
      - {id: staff, when: {email: {$regex: "@example[.]com$"}}}
  beta:
    rules:
      - {id: beta, when: {beta_tester: true}}
experiments:
  button_color:
    groups:
      - {name: control, weight: 34, value: {color: gray}}
      - {name: blue, weight: 33, value: {color: blue}}
      - {name: green, weight: 33, value: {color: green}}
  seat_pricing:
    unit: company_id
    groups:
      - {name: control, weight: 50, value: {per_seat: 12}}
      - {name: discount, weight: 50, value: {per_seat: 10}}
configs:
  pricing:
    default: {discount: 0, currency: USD, tiers: {gold: 3}}
    rules:
      - id: pro
        when: {plan: pro}
        value: {discount: 0.1, currency: USD, seats: 5, tiers: {gold: 5}}
  checkout.v2:
    default: {title: New checkout}
"""


@pytest.fixture(autouse=True)
def _fresh_openfeature_api() -> Iterator[None]:
    """Every test starts and ends with OpenFeature's global API empty."""
    api.shutdown()
    yield
    api.shutdown()


@pytest.fixture
def flags_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS_YAML)
    return path
