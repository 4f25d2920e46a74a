from __future__ import annotations

import pytest

from flagport._wording import with_article


@pytest.mark.parametrize(
    ("noun", "expected"),
    [
        ("gate", "a gate"),
        ("experiment", "an experiment"),
        ("config", "a config"),
        ("event", "an event"),
        ("int", "an int"),
        ("Override", "an Override"),
    ],
)
def test_with_article(noun: str, expected: str) -> None:
    assert with_article(noun) == expected
