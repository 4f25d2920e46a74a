"""The User model: what it takes from code, and what its mistakes show."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flagport import Flagport, User


def test_a_numeric_id_is_the_same_user_as_its_text() -> None:
    # User(user_id=42) raised ValidationError while {"user_id": 42} was user "42".
    user = User(user_id=42, custom_ids={"company_id": 7})  # type: ignore[arg-type]
    assert user == User(user_id="42", custom_ids={"company_id": "7"})
    with Flagport(provider="passall", strict=True) as fp:
        fp.override_gate("g", True, user_id="42")
        assert fp.check_gate(user, "g") is True
        assert fp.check_gate({"user_id": 42}, "g") is True


def test_a_mistake_names_the_field_but_never_echoes_a_value() -> None:
    # The message showed input_value='ada@example.com': personal data in a traceback.
    with pytest.raises(ValidationError) as info:
        User(user_id="1", emial="ada@example.com")  # type: ignore[call-arg]
    assert "emial" in str(info.value)
    assert "ada@example.com" not in str(info.value)
    with pytest.raises(ValidationError) as info:
        User(user_id="1", custom_ids={"device_id": ["ada-phone"]})  # type: ignore[dict-item]
    assert "ada-phone" not in str(info.value)
