from __future__ import annotations

import json

import pytest

from flagport.imports import import_object


def test_imports_the_named_attribute() -> None:
    assert import_object("json:dumps") is json.dumps


@pytest.mark.parametrize("reference", ["json", "json:", ":dumps", "no_such_module_x:f"])
def test_malformed_or_missing_module_is_an_import_error(reference: str) -> None:
    with pytest.raises(ImportError):
        import_object(reference)


def test_missing_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        import_object("json:no_such_function")
