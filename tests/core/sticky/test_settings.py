from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from flagport import Flagport, plugins
from flagport.errors import ConfigurationError
from flagport.hookspecs import hookimpl
from flagport.sticky import MemoryStore
from flagport.sticky.redis_store import RedisStore
from flagport.sticky.settings import StickySettings
from flagport.sticky.sqlite import SQLiteStore

from .conftest import write_flags


def test_sticky_is_off_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Flagport("passall")._sticky is None


def test_the_sticky_table_of_flagport_toml_selects_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "flagport.toml").write_text('[sticky]\nstore = "sqlite"\npath = "a.db"\n')
    monkeypatch.chdir(tmp_path)
    fp = Flagport("passall")
    assert fp._sticky is not None
    assert isinstance(fp._sticky.store, SQLiteStore)
    assert Path(fp._sticky.store.path).name == "a.db"
    # Code wins over the file.
    fp = Flagport("passall", sticky={"store": "memory"})
    assert fp._sticky is not None
    assert isinstance(fp._sticky.store, MemoryStore)


def test_the_environment_selects_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLAGPORT_STICKY", "memory")
    monkeypatch.setenv("FLAGPORT_STICKY_MAX_UNITS", "7")
    fp = Flagport("passall")
    assert fp._sticky is not None
    assert isinstance(fp._sticky.store, MemoryStore)
    assert fp._sticky.store.max_units == 7


def test_a_bad_option_is_named_with_its_source() -> None:
    with pytest.raises(ConfigurationError) as info:
        Flagport("passall", sticky={"store": "memory", "max_unit": 3})
    assert "max_unit" in str(info.value)
    assert "max_units" in str(info.value)  # did you mean


def test_redis_without_a_url_says_how_to_fix_it() -> None:
    with pytest.raises(ConfigurationError, match="needs a url"):
        Flagport("passall", sticky={"store": "redis"})


def test_a_redis_url_password_is_masked_in_the_store(tmp_path: Path) -> None:
    fp = Flagport(
        "passall", sticky={"store": "redis", "url": "redis://:hunter2-secret@127.0.0.1:1/0"}
    )
    assert fp._sticky is not None
    assert isinstance(fp._sticky.store, RedisStore)
    assert "hunter2" not in repr(fp._sticky.store)
    assert "hunter2" not in repr(fp.stats())


def test_a_plugin_adds_a_store_through_the_hook(tmp_path: Path) -> None:
    made: list[StickySettings] = []

    class Plugin:
        @hookimpl
        def flagport_register_sticky_stores(self, register: Callable[..., None]) -> None:
            def factory(settings: StickySettings) -> MemoryStore:
                made.append(settings)
                return MemoryStore(3)

            register("mine", factory)

    plugin = Plugin()
    plugins.register_plugin(plugin, name="sticky-store-test")
    try:
        fp = Flagport(
            "local", path=write_flags(tmp_path / "f.yaml", 50, 50), sticky={"store": "mine"}
        )
        fp.get_experiment({"user_id": "u1"}, "button_color")
        assert fp.flush()
        assert fp._sticky is not None
        assert "button_color" in fp._sticky.store.load("u1")
        assert made[0].store == "mine"
    finally:
        plugins.unregister_plugin(plugin)


def test_a_sqlite_file_in_a_missing_folder_says_which_folder(tmp_path: Path) -> None:
    # It was sqlite3.OperationalError "unable to open database file", naming nothing.
    path = tmp_path / "missing" / "assignments.db"
    with pytest.raises(ConfigurationError) as info:
        Flagport("passall", sticky={"store": "sqlite", "path": str(path)})
    assert str(info.value) == (
        f"[sticky] path: cannot open the SQLite store {path} (unable to open database "
        f"file); the folder {path.parent} does not exist; create it first"
    )


def test_a_sqlite_path_that_is_a_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"cannot open the SQLite store .*; check that"):
        Flagport("passall", sticky={"store": "sqlite", "path": str(tmp_path)})


def test_a_misspelt_store_suggests_the_close_one() -> None:
    with pytest.raises(ConfigurationError) as info:
        Flagport("passall", sticky={"store": "sqllite"})
    assert str(info.value) == (
        "[sticky] store: unknown store 'sqllite'; did you mean 'sqlite'? "
        "(stores: memory, redis, sqlite)"
    )
