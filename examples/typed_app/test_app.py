"""The storefront's tests: pytest-flagport's fixture and markers, fully typed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from app import checkout_page, make_client, place_order, strict_lookup, visitor, with_overrides

from flagport import Event, Flagport, Reason, User
from pytest_flagport import FlagportFixture


@pytest.fixture
def fp() -> Iterator[Flagport]:
    client = make_client()
    yield client
    client.shutdown()


@pytest.mark.flagport(gates={"new_checkout": False})
def test_a_marker_pins_the_gate(fp: Flagport) -> None:
    assert checkout_page(fp, visitor("42", country="US")).layout == "classic"


def test_the_fixture_forces_every_kind_of_flag(fp: Flagport, flagport: FlagportFixture) -> None:
    flagport.force_gate("new_checkout", True, user_id="43")
    flagport.force_experiment("button_color", group="green", value={"color": "green"})
    flagport.force_config("pricing", {"discount": 0.5})

    page = checkout_page(fp, visitor("43", country="DE"))

    assert (page.layout, page.button_color, page.discount) == ("one_page", "green", 0.5)
    assert fp.get_gate(User(user_id="43"), "new_checkout").reason is Reason.OVERRIDE


def test_a_purchase_is_logged(fp: Flagport, flagport: FlagportFixture) -> None:
    flagport.force_config("pricing", {"discount": 0.25})

    assert place_order(fp, visitor("42"), 100.0) == 75.0

    event: Event | None = flagport.assert_logged("purchase", value=75.0, user_id="42")
    assert event is not None
    assert event.metadata == {"currency": "USD"}
    flagport.assert_not_logged("refund")


def test_unforced_flags_follow_the_file(fp: Flagport) -> None:
    assert checkout_page(fp, visitor("42", country="US", plan="pro")).discount == 0.1
    assert with_overrides(fp, User(user_id="43", country="DE")).discount == 0.2


def test_a_misspelt_flag_fails_under_strict_mode() -> None:
    message = strict_lookup(visitor("42"))
    assert message is not None
    assert "new_chekout" in message


@pytest.mark.flagport_matrix("new_checkout")
def test_both_layouts_render(fp: Flagport, flagport: FlagportFixture) -> None:
    assert checkout_page(fp, visitor("42")).layout in {"one_page", "classic"}
