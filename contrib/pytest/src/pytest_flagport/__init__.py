"""pytest-flagport: force gates, experiment groups and configs in tests, for any provider.

The plugin itself (fixtures, markers, options) is :mod:`pytest_flagport.plugin`, loaded
by pytest through the ``pytest11`` entry point; this package exports the type of the
``flagport`` fixture, for annotations::

    from pytest_flagport import FlagportFixture

    def test_checkout(flagport: FlagportFixture) -> None: ...
"""

from __future__ import annotations

from pytest_flagport.client import FlagportFixture

__all__ = ["FlagportFixture"]
