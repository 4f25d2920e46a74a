"""Settings discovery in folders this process may not search: a service can run in one."""

from __future__ import annotations

from pathlib import Path

import pytest
from unprivileged import as_unprivileged, open_folder  # tests/support

from flagport import ConfigurationError, Flagport, User
from flagport.settings import load_settings


def test_a_current_folder_this_process_may_not_search_holds_no_settings() -> None:
    with open_folder() as parent:
        closed = parent / "closed"
        closed.mkdir()
        (closed / "pyproject.toml").write_text('[tool.flagport]\nprovider = "nosuch"\n')

        def construct() -> None:
            with Flagport(provider="passall") as fp:
                assert fp.get_gate(User(user_id="1"), "g").value is True
            assert load_settings(environ={}).provider == "local"  # the default

        as_unprivileged(construct, closed_cwd=closed)


def test_flagport_config_in_a_folder_this_process_may_not_search_is_named() -> None:
    with open_folder() as parent:
        closed = parent / "closed"
        closed.mkdir()
        (closed / "flagport.toml").write_text('provider = "passall"\n')
        config = closed / "flagport.toml"

        def construct() -> None:
            with pytest.raises(ConfigurationError) as info:
                load_settings(environ={"FLAGPORT_CONFIG": str(config)}, cwd=parent)
            assert str(info.value) == (
                f"FLAGPORT_CONFIG names {config}, in a folder this process may not search; "
                "fix the path or unset it"
            )

        closed.chmod(0o700)
        as_unprivileged(construct)


def test_flagport_config_naming_a_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"names .*, which is not a file; fix"):
        load_settings(environ={"FLAGPORT_CONFIG": str(tmp_path)}, cwd=tmp_path)
