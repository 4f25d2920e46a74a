from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flagport import ConfigurationError, Flagport, PluginError, hookimpl, plugins
from flagport.provider import Provider
from flagport.providers.passall import PassAllProvider


@pytest.fixture(autouse=True)
def fresh_plugin_manager() -> Iterator[None]:
    plugins.reset()
    yield
    plugins.reset()


def make_distribution(root: Path, dist: str, module: str, source: str, ep_name: str) -> None:
    """Write an installed distribution (dist-info + module) that importlib.metadata finds."""
    (root / f"{module}.py").write_text(source)
    # Installers write the name with underscores: importlib.metadata reads the name up
    # to the first "-" of the folder to tell distributions apart.
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[flagport]\n{ep_name} = {module}\n")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("fp_test_")]:
        del sys.modules[name]


def test_builtin_providers_are_registered_like_plugins() -> None:
    info = plugins.provider_registry()["passall"]
    assert info.provider_class is PassAllProvider
    assert (info.distribution, info.plugin) == ("flagport", "flagport.providers.passall")


def test_unknown_provider_lists_installed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError) as info:
        Flagport(provider="optimizely")
    assert "unknown provider 'optimizely'" in str(info.value)
    assert "passall" in str(info.value)
    with pytest.raises(ConfigurationError, match="Did you mean 'passall'"):
        Flagport(provider="passal")


def test_missing_vendor_provider_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAGPORT_DISABLE_PLUGINS", "1")
    with pytest.raises(ConfigurationError, match=r"pip install 'flagport\[statsig\]'"):
        plugins.get_provider_class("statsig")


ECHO_PLUGIN = (
    "from flagport import hookimpl\n"
    "from flagport.providers.passall import PassAllProvider\n"
    "class Echo(PassAllProvider):\n    name = 'echo'\n"
    "@hookimpl\ndef flagport_register_providers(register):\n    register(Echo)\n"
)


def test_entry_point_plugin_is_loaded_with_its_distribution(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_distribution(site, "fp-test-echo", "fp_test_echo", ECHO_PLUGIN, "echo")
    monkeypatch.setenv("FLAGPORT_PLUGINS", "echo")
    info = plugins.provider_registry()["echo"]
    assert (info.distribution, info.version, info.plugin) == ("fp-test-echo", "1.0", "echo")


def test_entry_points_are_those_importlib_metadata_lists(site: Path) -> None:
    # Read only from the distributions that mention the group, yet the same set; a
    # distribution without a flagport entry point is not parsed.
    make_distribution(site, "fp-test-echo", "fp_test_echo", ECHO_PLUGIN, "echo")
    other = site / "fp_test_other-1.0.dist-info"
    other.mkdir()
    (other / "METADATA").write_text("Metadata-Version: 2.1\nName: fp-test-other\nVersion: 1.0\n")
    (other / "entry_points.txt").write_text("[console_scripts]\nfp-other = fp_test_other:main\n")
    expected = importlib.metadata.entry_points(group="flagport")
    found = plugins._entry_points()
    assert sorted((ep.name, ep.value) for ep in found) == sorted(
        (ep.name, ep.value) for ep in expected
    )
    assert "echo" in {ep.name for ep in found}
    assert all(ep.dist is not None for ep in found)


def test_the_first_entry_point_of_a_name_on_the_path_wins(site: Path, tmp_path: Path) -> None:
    # As importlib.metadata, which reads a distribution found twice from its first place.
    make_distribution(site, "fp-test-echo", "fp_test_echo", ECHO_PLUGIN, "echo")
    later = tmp_path / "later"
    later.mkdir()
    make_distribution(later, "fp-test-echo-old", "fp_test_echo_old", ECHO_PLUGIN, "echo")
    sys.path.append(str(later))
    try:
        (echo,) = [ep for ep in plugins._entry_points() if ep.name == "echo"]
    finally:
        sys.path.remove(str(later))
    assert echo.value == "fp_test_echo"


BROKEN_PLUGIN = "import does_not_exist\n"


def test_plugin_import_failure_names_plugin_and_distribution(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_distribution(site, "fp-test-broken", "fp_test_broken", BROKEN_PLUGIN, "broken")
    monkeypatch.setenv("FLAGPORT_PLUGINS", "broken")
    with pytest.raises(PluginError) as info:
        Flagport(provider="broken")
    message = str(info.value)
    assert "provider 'broken' is unavailable" in message
    assert "'broken'" in message
    assert "'fp-test-broken' 1.0" in message
    assert "Installed providers that work:" in message
    assert "passall" in message
    assert "does_not_exist" in message
    assert isinstance(info.value.__cause__, ImportError)


def test_a_broken_plugin_leaves_every_other_provider_working(
    site: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A real installed distribution whose entry point fails to import, next to a
    # working one: only the broken plugin's providers are lost.
    make_distribution(site, "fp-test-broken", "fp_test_broken", BROKEN_PLUGIN, "broken")
    make_distribution(site, "fp-test-echo", "fp_test_echo", ECHO_PLUGIN, "echo")
    monkeypatch.setenv("FLAGPORT_PLUGINS", "broken,echo")
    with caplog.at_level("WARNING", logger="flagport.plugins"):
        with Flagport(provider="passall") as fp:
            assert fp.check_gate({"user_id": "1"}, "anything") is True
        with Flagport(provider="echo") as fp:
            assert fp.check_gate({"user_id": "1"}, "anything") is True
    warnings = [r.getMessage() for r in caplog.records if r.name == "flagport.plugins"]
    assert len(warnings) == 1
    assert "flagport plugin 'broken' from distribution 'fp-test-broken' 1.0" in warnings[0]
    assert "ModuleNotFoundError" in warnings[0]
    assert "every other provider works" in warnings[0]
    assert [b.plugin for b in plugins.broken_plugins()] == ["broken"]
    # A provider name no plugin offers mentions the broken plugin that may have.
    with pytest.raises(ConfigurationError, match=r"unknown provider 'nope'.*fp-test-broken"):
        Flagport(provider="nope")


@pytest.mark.parametrize("statement", ["raise SystemExit(3)", "import sys; sys.exit('no licence')"])
def test_a_plugin_that_exits_at_import_is_a_broken_plugin(
    statement: str, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_distribution(site, "fp-test-exits", "fp_test_exits", f"{statement}\n", "exits")
    monkeypatch.setenv("FLAGPORT_PLUGINS", "exits")
    with Flagport(provider="passall") as fp:
        assert fp.check_gate({"user_id": "1"}, "anything") is True
    [broken] = plugins.broken_plugins()
    assert broken.plugin == "exits"
    assert isinstance(broken.error, SystemExit)


class ExitingRegistration:
    @hookimpl
    def flagport_register_providers(self, register: Callable[..., None]) -> None:
        register("fp_test_exits_later:Provider", name="exits-later")
        raise SystemExit(1)


def test_a_plugin_that_exits_while_registering_or_importing_is_a_broken_plugin(
    site: Path,
) -> None:
    (site / "fp_test_exits_ref.py").write_text("raise SystemExit(2)\n")
    plugin, by_ref = ExitingRegistration(), ExitingByReference()
    plugins.register_plugin(plugin, name="exits-registering")
    plugins.register_plugin(by_ref, name="exits-by-ref")
    try:
        registry = plugins.provider_registry()
        assert "exits-later" not in registry
        assert [b.plugin for b in plugins.broken_plugins()] == ["exits-registering"]
        with pytest.raises(PluginError, match="failed to import 'fp_test_exits_ref:Provider'"):
            plugins.get_provider_class("exits-ref")
    finally:
        plugins.unregister_plugin(plugin)
        plugins.unregister_plugin(by_ref)


class ExitingByReference:
    @hookimpl
    def flagport_register_providers(self, register: Callable[..., None]) -> None:
        register("fp_test_exits_ref:Provider", name="exits-ref")


class FailingRegistration:
    @hookimpl
    def flagport_register_providers(self, register: Callable[..., None]) -> None:
        register("flagport.providers.passall:PassAllProvider", name="half")
        raise RuntimeError("cannot reach the licence server")


def test_a_plugin_whose_registration_raises_offers_nothing() -> None:
    plugin = FailingRegistration()
    plugins.register_plugin(plugin, name="failing-registration")
    try:
        registry = plugins.provider_registry()
        assert "passall" in registry
        assert "half" not in registry
        [broken] = plugins.broken_plugins()
        assert broken.plugin == "failing-registration"
        assert isinstance(broken.error, RuntimeError)
    finally:
        plugins.unregister_plugin(plugin)
    assert plugins.broken_plugins() == []


def test_disabling_entry_points_skips_broken_plugins(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_distribution(site, "fp-test-broken2", "fp_test_broken2", "raise RuntimeError\n", "broken2")
    monkeypatch.setenv("FLAGPORT_DISABLE_PLUGINS", "1")
    assert "passall" in plugins.provider_registry()


class Duplicate:
    class Other(PassAllProvider):
        name = "passall"

    @hookimpl
    def flagport_register_providers(self, register: Callable[[type[Provider]], None]) -> None:
        register(self.Other)


def test_duplicate_provider_name_names_both_plugins() -> None:
    duplicate = Duplicate()
    plugins.register_plugin(duplicate, name="dup-plugin")
    try:
        with pytest.raises(PluginError) as info:
            plugins.provider_registry()
    finally:
        plugins.unregister_plugin(duplicate)
    assert "'passall' is registered twice" in str(info.value)
    assert "flagport.providers.passall" in str(info.value)
    assert "dup-plugin" in str(info.value)
    assert "Installed providers: " in str(info.value)


def test_every_hookspec_is_documented() -> None:
    from flagport import hookspecs

    names = [n for n in dir(hookspecs) if n.startswith("flagport_")]
    assert names
    for name in names:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert ":param" in doc, f"{name} lacks :param: documentation"


class ByReference:
    @hookimpl
    def flagport_register_providers(self, register: Callable[..., None]) -> None:
        register("flagport.providers.passall:PassAllProvider", name="lazy-passall")
        register("fp_test_nowhere:Provider", name="broken-ref")


def test_providers_registered_by_reference_import_on_first_use() -> None:
    plugin = ByReference()
    plugins.register_plugin(plugin, name="by-ref")
    try:
        registry = plugins.provider_registry()
        assert "lazy-passall" in registry
        assert "broken-ref" in registry
        with pytest.raises(
            PluginError, match=r"registered .* as 'lazy-passall', but its class says"
        ):
            plugins.get_provider_class("lazy-passall")
        with pytest.raises(PluginError, match="failed to import 'fp_test_nowhere:Provider'"):
            plugins.get_provider_class("broken-ref")
    finally:
        plugins.unregister_plugin(plugin)


def test_vendor_providers_are_listed_without_importing_their_sdks() -> None:
    import subprocess

    code = (
        "import sys; from flagport import plugins; r = plugins.provider_registry(); "
        "print(sorted(r)); "
        "print([m for m in ('statsig_python_core', 'growthbook', 'fbclient') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    names, imported = out.stdout.splitlines()[-2:]
    assert "statsig" in names
    assert "growthbook" in names
    assert "featbit" in names
    assert imported == "[]"
