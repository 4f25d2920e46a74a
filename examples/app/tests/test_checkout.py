"""The shop's checkout, tested with pytest-flagport's fixture and markers only."""

from __future__ import annotations

import pytest
from shop.checkout import Cart, Item, checkout_page, place_order

from flagport import User

ALICE = User(user_id="42", country="DE", custom={"plan": "free"})
PRO = User(user_id="43", country="DE", custom={"plan": "pro"})
CART = Cart(items=(Item("shoes", 80.0), Item("hat", 20.0)))


@pytest.mark.flagport(gates={"new_checkout": True})
def test_one_page_layout_when_the_gate_is_on() -> None:
    assert checkout_page(ALICE, CART)["layout"] == "one_page"


@pytest.mark.flagport(gates={"new_checkout": False})
def test_classic_layout_when_the_gate_is_off() -> None:
    assert checkout_page(ALICE, CART)["layout"] == "classic"


def test_blue_button_group_is_shown_and_exposed(flagport) -> None:
    flagport.force_experiment("button_color", group="blue", value={"color": "blue"})

    assert checkout_page(ALICE, CART)["button_color"] == "blue"
    flagport.assert_exposed("button_color", group="blue", user_id="42")


@pytest.mark.flagport(configs={"pricing": {"discount": 0.25}})
def test_purchase_event_carries_the_discounted_total(flagport) -> None:
    assert place_order(ALICE, CART) == 75.0

    flagport.assert_logged("purchase", value=75.0, metadata={"items": 2})


def test_unforced_flags_follow_the_flags_file(flagport) -> None:
    # The file gives pro users 10 % off; only the gate is pinned here.
    flagport.force_gate("new_checkout", False)

    assert checkout_page(PRO, CART)["total"] == 90.0
    assert checkout_page(ALICE, CART)["total"] == 100.0


def test_a_gate_can_be_forced_for_one_user(flagport) -> None:
    flagport.force_gate("new_checkout", False)
    flagport.force_gate("new_checkout", True, user_id="43")

    assert checkout_page(PRO, CART)["layout"] == "one_page"
    assert checkout_page(ALICE, CART)["layout"] == "classic"


@pytest.mark.flagport(gates={"new_checkout": True})
class TestOrders:
    def test_order_uses_the_class_wide_gate(self, flagport) -> None:
        place_order(ALICE, CART)
        flagport.assert_logged("purchase", metadata={"layout": "one_page"})

    @pytest.mark.flagport(gates={"new_checkout": False})
    def test_the_closest_marker_wins(self, flagport) -> None:
        place_order(ALICE, CART)
        flagport.assert_logged("purchase", metadata={"layout": "classic"})
