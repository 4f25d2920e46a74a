"""The bridge's modules are named for the direction values flow; old paths still import."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import flagport_openfeature
from flagport_openfeature.from_openfeature import OpenFeatureProvider
from flagport_openfeature.to_openfeature import FlagportProvider


def test_each_direction_lives_in_its_module() -> None:
    from openfeature.provider import AbstractProvider

    from flagport.provider import Provider

    # to_openfeature: an OpenFeature provider; from_openfeature: a flagport provider.
    assert issubclass(FlagportProvider, AbstractProvider)
    assert issubclass(OpenFeatureProvider, Provider)
    assert flagport_openfeature.FlagportProvider is FlagportProvider
    assert flagport_openfeature.OpenFeatureProvider is OpenFeatureProvider


@pytest.mark.parametrize(
    ("old_module", "name", "new"),
    [
        ("flagport_openfeature.openfeature_provider", "FlagportProvider", FlagportProvider),
        ("flagport_openfeature.provider", "OpenFeatureProvider", OpenFeatureProvider),
    ],
)
def test_old_module_paths_still_import_with_a_warning(
    old_module: str, name: str, new: type
) -> None:
    module = importlib.import_module(old_module)
    with pytest.warns(DeprecationWarning, match=rf"{old_module}\.{name} is deprecated"):
        assert getattr(module, name) is new
    with pytest.raises(AttributeError):
        module._EVENT_STATUS  # noqa: B018


def test_the_warning_points_at_the_line_that_imports_the_old_path() -> None:
    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from flagport_openfeature.provider import OpenFeatureProvider\n"
        "[warning] = caught\n"
        "print(warning.filename, warning.lineno, warning.message)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("<string> 4 flagport_openfeature.provider.OpenFeatureProvider is ")
    assert "import OpenFeatureProvider from flagport_openfeature.from_openfeature" in out
