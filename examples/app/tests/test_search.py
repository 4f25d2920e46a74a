"""Search builds its own client from settings; forced values reach it all the same."""

from __future__ import annotations

import pytest
from shop.checkout import Cart, Item, checkout_page
from shop.search import search

from flagport import User

BOB = User(user_id="7", country="US")
BETA = User(user_id="12", country="US")


@pytest.mark.flagport(gates={"search_v2": True})
def test_search_v2_ranks_whole_words_first(flagport) -> None:
    assert search(BOB, "red hat") == ["red hat", "red shoes"]
    flagport.assert_logged("search_v2_query", metadata={"results": 2}, user_id="7")


@pytest.mark.flagport(gates={"search_v2": False})
def test_old_search_keeps_catalogue_order(flagport) -> None:
    assert search(BOB, "red hat") == ["red shoes", "red hat"]
    flagport.assert_not_logged("search_v2_query")


def test_beta_testers_get_search_v2_from_the_flags_file(flagport) -> None:
    search(BETA, "shoes")
    search(BOB, "shoes")

    flagport.assert_logged("search_v2_query", user_id="12", times=1)
    flagport.assert_not_logged("search_v2_query", user_id="7")


@pytest.mark.flagport_matrix("new_checkout", "search_v2")
def test_every_combination_of_checkout_and_search_works() -> None:
    # Runs four times: new_checkout=on-search_v2=on, ... new_checkout=off-search_v2=off.
    assert search(BOB, "shoes")
    assert checkout_page(BOB, Cart(items=(Item("shoes", 10.0),)))["total"] == 10.0
