"""The local provider announces changed definitions: a watched file rewritten, a URL
serving a new version, ``reload()``; never an unchanged file, a 304 or a bad edit."""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flag_server import FlagServer  # tests/support
from url_helpers import flags, publish, url_stats  # tests/support
from url_helpers import local_provider as provider_of
from url_helpers import url_client as client

from flagport import DefinitionsChanged, Flagport, User
from flagport.providers.local import LocalProvider

USER = User(user_id="user-1")
WAIT = 10.0
Waiter = Callable[..., bool]


def text(checkout: int, *, staff: str = "1", pricing: int = 0, comment: str = "") -> str:
    return f"""\
# {comment}
segments:
  staff: ["{staff}"]
gates:
  new_checkout:
    rules: [{{id: all, pass_percentage: {checkout}}}]
  other:
    rules: [{{id: staff, when: {{user_id: {{$inGroup: staff}}}}}}]
configs:
  pricing:
    default: {{discount: {pricing}}}
"""


def replace(path: Path, body: str) -> None:
    publish(path.parent, path.name, body)


@pytest.fixture
def flags_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(text(0))
    return path


@pytest.fixture
def heard() -> queue.Queue[DefinitionsChanged]:
    return queue.Queue()


def listening(provider: LocalProvider, heard: queue.Queue[DefinitionsChanged]) -> LocalProvider:
    provider.attach_changes(heard.put)
    return provider


@pytest.fixture
def manual(flags_file: Path, heard: queue.Queue[DefinitionsChanged]) -> Iterator[LocalProvider]:
    provider = LocalProvider(LocalProvider.Options(path=str(flags_file), watch=False))
    listening(provider, heard)
    provider.start()
    provider.mark_serving()  # driven by hand: served from now on, as a client marks it
    yield provider
    provider.shutdown(timeout=2)


def test_reload_announces_the_flags_that_changed(
    flags_file: Path, manual: LocalProvider, heard: queue.Queue[DefinitionsChanged]
) -> None:
    assert heard.empty()  # the first load made it ready: not a change
    flags_file.write_text(text(100, pricing=5))
    assert manual.reload()
    assert heard.get_nowait() == DefinitionsChanged("local", frozenset({"new_checkout", "pricing"}))


def test_a_segment_edit_announces_every_flag_may_have_changed(
    flags_file: Path, manual: LocalProvider, heard: queue.Queue[DefinitionsChanged]
) -> None:
    flags_file.write_text(text(0, staff="2"))
    assert manual.reload()
    assert heard.get_nowait().flags is None


def test_a_flag_removed_or_added_is_a_change(
    flags_file: Path, manual: LocalProvider, heard: queue.Queue[DefinitionsChanged]
) -> None:
    flags_file.write_text(text(0).replace("  other:", "  added:"))
    assert manual.reload()
    assert heard.get_nowait().flags == {"other", "added"}


def test_same_definitions_in_another_text_are_no_change(
    flags_file: Path, manual: LocalProvider, heard: queue.Queue[DefinitionsChanged]
) -> None:
    assert manual.reload()  # the same file again
    flags_file.write_text(text(0, comment="a comment edited"))
    assert manual.reload()
    assert manual.reloads == 2  # reloaded, yet nothing anyone could see changed
    assert heard.empty()


def test_a_bad_edit_is_no_change(
    flags_file: Path, manual: LocalProvider, heard: queue.Queue[DefinitionsChanged]
) -> None:
    flags_file.write_text("gates: {new_checkout: {rules: [{pass_percentage: 900}]}}\n")
    assert not manual.reload()
    assert heard.empty()
    flags_file.write_text(text(100))
    assert manual.reload()
    assert heard.get_nowait().flags == {"new_checkout"}  # against the last good version


def test_the_watcher_announces_a_rewritten_file_and_not_a_bad_one(
    flags_file: Path, heard: queue.Queue[DefinitionsChanged], wait_for: Waiter
) -> None:
    provider = LocalProvider(
        LocalProvider.Options(path=str(flags_file), reload_interval=0.05, reload_settle=0)
    )
    listening(provider, heard)
    provider.start()
    provider.mark_serving()
    try:
        replace(flags_file, "gates: [not, a, mapping]\n")
        assert wait_for(lambda: provider.failed_reloads >= 1)
        replace(flags_file, text(0, comment="same definitions"))
        assert wait_for(lambda: provider.reloads >= 1)
        replace(flags_file, text(100))
        # In order: had the bad or the unchanged version been announced, it came first.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("local", frozenset({"new_checkout"}))
        assert provider.check_gate(USER, "new_checkout") is True
    finally:
        provider.shutdown(timeout=2)
    assert heard.empty()


def test_a_url_poll_announces_a_new_version_only(server: FlagServer, wait_for: Waiter) -> None:
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with client(server.url()) as fp:
        fp.on_change(heard.put)
        assert fp.get_config(USER, "release").value["version"] == 1
        assert wait_for(lambda: url_stats(fp)["responses"]["304"] >= 2)
        server.put("/flags.yaml", "configs: {release: {defualt: {version: 9}}}\n")  # refused
        assert wait_for(lambda: url_stats(fp)["responses"]["errors"] >= 1)
        server.put("/flags.yaml", flags(2))
        assert heard.get(timeout=WAIT) == DefinitionsChanged("local", frozenset({"release"}))
        assert provider_of(fp).reloads == 2
        assert wait_for(lambda: url_stats(fp)["responses"]["304"] >= 4)
    assert heard.empty()


# -- what a start loads is not a change; what arrives after a failed start is ----------------
ALL_FLAGS = frozenset({"new_checkout", "other", "pricing"})


def discount(fp: Flagport) -> object:
    return fp.get_config(USER, "pricing").value.get("discount")


def test_the_url_version_replacing_the_cached_copy_at_start_is_no_change(
    server: FlagServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache" / "flags.yaml"
    server.put("/flags.yaml", text(0))
    with client(server.url(), cache_path=str(cache)) as fp:
        assert discount(fp) == 0
    server.put("/flags.yaml", text(0, pricing=5))
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with client(server.url(), cache_path=str(cache)) as fp:
        fp.on_change(heard.put)
        # start() served the cached copy, then the URL's newer version, then returned:
        # the application starts with the newer one and never saw the cached one.
        assert discount(fp) == 5
        assert url_stats(fp)["served_from"] == "url"
        server.put("/flags.yaml", text(100, pricing=5))
        # Had the start announced its pricing, it would come first (or merged with this).
        assert heard.get(timeout=WAIT) == DefinitionsChanged("local", frozenset({"new_checkout"}))


def test_a_start_from_the_cache_hears_of_the_url_version_fetched_later(
    server: FlagServer, tmp_path: Path
) -> None:
    cache = tmp_path / "flags.yaml"
    server.put("/flags.yaml", text(0))
    with client(server.url(), cache_path=str(cache)) as fp:
        assert discount(fp) == 0
    server.mode = "fail"
    server.put("/flags.yaml", text(0, pricing=5))
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with client(server.url(), cache_path=str(cache)) as fp:
        fp.on_change(heard.put)
        assert discount(fp) == 0  # the cached copy, served STALE: what the application saw
        server.mode = "ok"
        assert heard.get(timeout=WAIT) == DefinitionsChanged("local", frozenset({"pricing"}))
        assert discount(fp) == 5


def test_the_first_definitions_after_a_failed_url_start_are_a_change(server: FlagServer) -> None:
    server.mode = "fail"
    server.put("/flags.yaml", text(0, pricing=5))
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    with client(server.url()) as fp:
        fp.on_change(heard.put)
        result = fp.get_config(USER, "pricing")
        assert (result.value, result.error_code) == ({}, "PROVIDER_NOT_READY")
        server.mode = "ok"
        # The application was served defaults: every flag defined now answers otherwise.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("local", ALL_FLAGS)
        assert discount(fp) == 5


def test_the_first_definitions_after_a_failed_file_start_are_a_change(
    flags_file: Path, heard: queue.Queue[DefinitionsChanged]
) -> None:
    replace(flags_file, "gates: [not, a, mapping]\n")
    with Flagport(
        provider="local", path=str(flags_file), reload_interval=0.05, reload_settle=0
    ) as fp:
        fp.on_change(heard.put)
        assert fp.get_config(USER, "pricing").error_code == "PROVIDER_NOT_READY"
        replace(flags_file, text(0, pricing=5))
        assert heard.get(timeout=WAIT) == DefinitionsChanged("local", ALL_FLAGS)
        assert discount(fp) == 5
