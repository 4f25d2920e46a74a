"""Settings sections registered by plugins: read like provider options, validated, unique."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from flagport import ConfigurationError, PluginError, hookimpl, plugins
from flagport.settings import Settings, load_settings


class AuditOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: str = "off"
    sample: float = 1.0


class AuditPlugin:
    def __init__(self) -> None:
        self.configured: list[Settings] = []

    @hookimpl
    def flagport_register_settings(self, register: Callable[..., None]) -> None:
        register("audit", AuditOptions, switch="level")

    @hookimpl
    def flagport_configure(self, settings: Settings) -> None:
        self.configured.append(settings)


@pytest.fixture
def audit() -> Iterator[AuditPlugin]:
    plugin = AuditPlugin()
    plugins.register_plugin(plugin, name="audit-test")
    yield plugin
    plugins.unregister_plugin(plugin)


def test_a_section_reads_file_then_environment_with_a_bare_switch(
    audit: AuditPlugin, tmp_path: Path
) -> None:
    (tmp_path / "flagport.toml").write_text('[audit]\nlevel = "info"\nsample = 0.5\n')
    settings = load_settings(cwd=tmp_path, environ={})
    assert settings.sections["audit"] == AuditOptions(level="info", sample=0.5)
    env = {"FLAGPORT_AUDIT": "debug", "FLAGPORT_AUDIT_SAMPLE": "0.25"}
    settings = load_settings(cwd=tmp_path, environ=env)
    assert settings.sections["audit"] == AuditOptions(level="debug", sample=0.25)


def test_a_bad_section_value_names_its_source(audit: AuditPlugin, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"environment FLAGPORT_AUDIT_SAMPLE"):
        load_settings(cwd=tmp_path, environ={"FLAGPORT_AUDIT_SAMPLE": "often"})


def test_configure_sees_each_client_settings(audit: AuditPlugin, tmp_path: Path) -> None:
    from flagport import Flagport

    with Flagport(provider="passall") as fp:
        assert audit.configured[-1] is fp.settings
        assert fp.settings.sections["audit"] == AuditOptions()


def test_a_section_registered_twice_names_both_plugins(audit: AuditPlugin) -> None:
    second = AuditPlugin()
    plugins.register_plugin(second, name="audit-again")
    try:
        with pytest.raises(PluginError, match=r"\[audit\].*'audit-test'.*'audit-again'"):
            load_settings(environ={})
    finally:
        plugins.unregister_plugin(second)


class LazyAuditPlugin:
    """Registers its section by reference, as the built-in and OpenTelemetry plugins do."""

    def __init__(self, reference: str) -> None:
        self.reference = reference

    @hookimpl
    def flagport_register_settings(self, register: Callable[..., None]) -> None:
        register("audit", self.reference, switch="level")


@pytest.fixture
def lazy_audit(request: pytest.FixtureRequest) -> Iterator[None]:
    reference = getattr(request, "param", f"{__name__}:AuditOptions")
    plugin = LazyAuditPlugin(reference)
    plugins.register_plugin(plugin, name="lazy-audit-test")
    yield
    plugins.unregister_plugin(plugin)


@pytest.mark.usefixtures("lazy_audit")
def test_a_section_registered_by_reference_is_read_like_one_registered_by_class(
    tmp_path: Path,
) -> None:
    (tmp_path / "flagport.toml").write_text("[audit]\nsample = 0.5\n")
    settings = load_settings(cwd=tmp_path, environ={"FLAGPORT_AUDIT": "debug"})
    assert settings.sections.given("audit")
    assert settings.sections["audit"] == AuditOptions(level="debug", sample=0.5)
    with pytest.raises(ConfigurationError, match=r"environment FLAGPORT_AUDIT_SAMPLE"):
        load_settings(cwd=tmp_path, environ={"FLAGPORT_AUDIT_SAMPLE": "often"})


@pytest.mark.usefixtures("lazy_audit")
def test_an_unconfigured_section_registered_by_reference_is_validated_when_read(
    tmp_path: Path,
) -> None:
    settings = load_settings(cwd=tmp_path, environ={})
    assert not settings.sections.given("audit")
    assert "audit" in settings.sections
    assert "audit" not in settings.sections._validated  # not built yet
    assert settings.sections["audit"] == AuditOptions()
    assert settings.sections["audit"] is settings.sections.get("audit")  # validated once
    assert dict(settings.sections)["audit"] == AuditOptions()


@pytest.mark.parametrize(
    ("lazy_audit", "problem"),
    [
        (f"{__name__}:Nowhere", r"failed to import .*Nowhere"),
        (f"{__name__}:LazyAuditPlugin", r"is not a pydantic model"),
    ],
    indirect=["lazy_audit"],
)
@pytest.mark.usefixtures("lazy_audit")
def test_a_bad_section_reference_names_the_section_and_its_plugin(
    tmp_path: Path, problem: str
) -> None:
    settings = load_settings(cwd=tmp_path, environ={})
    with pytest.raises(PluginError, match=rf"\[audit\] of plugin 'lazy-audit-test'.*{problem}"):
        settings.sections["audit"]
