"""Checkout: the page, the order and its purchase event.

Uses the process-wide client (``flagport.check_gate`` and friends), set up once at
start-up with ``flagport.setup()`` or built from settings on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

import flagport
from flagport import User


@dataclass(frozen=True)
class Item:
    sku: str
    price: float


@dataclass(frozen=True)
class Cart:
    items: tuple[Item, ...]

    @property
    def subtotal(self) -> float:
        return sum(item.price for item in self.items)


def checkout_page(user: User, cart: Cart) -> dict[str, object]:
    """What the checkout page shows this user."""
    one_page = flagport.check_gate(user, "new_checkout")
    button = flagport.get_experiment(user, "button_color", default={"color": "gray"})
    pricing = flagport.get_config(user, "pricing", default={"discount": 0.0})
    discount = pricing.get("discount", 0.0)
    return {
        "layout": "one_page" if one_page else "classic",
        "button_color": button.get("color", "gray"),
        "total": round(cart.subtotal * (1 - discount), 2),
    }


def place_order(user: User, cart: Cart) -> float:
    """Place the order; logs a ``purchase`` event with the amount charged."""
    page = checkout_page(user, cart)
    total = float(page["total"])  # type: ignore[arg-type]
    flagport.log_event(
        user,
        "purchase",
        value=total,
        metadata={"items": len(cart.items), "layout": page["layout"]},
    )
    return total
