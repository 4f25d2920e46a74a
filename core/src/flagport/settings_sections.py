"""Settings sections that plugins register (``[opentelemetry]``, ``FLAGPORT_OPENTELEMETRY``).

A plugin declares a section with ``flagport_register_settings``: a name and a pydantic
model. The section is read from the same places as a provider's options, with the same
precedence (files, then the environment, then :func:`~flagport.settings.override_settings`
layers, then code): the table ``[name]``, the variables ``FLAGPORT_<NAME>_<OPTION>``, and
a bare ``FLAGPORT_<NAME>=value`` for the option the plugin names as its switch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from flagport.errors import PluginError

__all__ = ["Section", "SectionValues", "registered_sections"]


@dataclass(frozen=True)
class Section:
    """A settings section a plugin reads.

    :ivar name: the table name (``opentelemetry``).
    :ivar model: the pydantic model its options fill.
    :ivar switch: the option a bare ``FLAGPORT_<NAME>=value`` sets, if any.
    :ivar plugin: the plugin that registered it, for messages.
    """

    name: str
    model: type[BaseModel]
    switch: str | None
    plugin: str


def registered_sections() -> dict[str, Section]:
    """Every section the loaded plugins register, by name.

    :raises PluginError: two plugins register the same name.
    """
    # Imported here: the plugin manager imports the settings module's neighbours.
    from flagport.plugins import get_plugin_manager

    sections: dict[str, Section] = {}
    hook = get_plugin_manager().hook.flagport_register_settings
    for impl in hook.get_hookimpls():

        def register(
            name: str,
            model: type[BaseModel],
            switch: str | None = None,
            *,
            _plugin: str = impl.plugin_name,
        ) -> None:
            if name in sections:
                raise PluginError(
                    f"settings section [{name}] is registered twice: by plugin "
                    f"{sections[name].plugin!r} and by plugin {_plugin!r}"
                )
            sections[name] = Section(name, model, switch, _plugin)

        impl.function(register=register)
    return sections


class SectionValues:
    """The raw values of each registered section, merged by precedence, with sources."""

    def __init__(self, sections: Mapping[str, Section]) -> None:
        self.sections = sections
        self.values: dict[str, dict[str, Any]] = {name: {} for name in sections}
        self.sources: dict[str, dict[str, str]] = {name: {} for name in sections}

    def add_table(self, data: Mapping[str, Any], source: str) -> None:
        """Take the sections' tables from one settings layer (a file, an override)."""
        for name in self.sections:
            table = data.get(name)
            if isinstance(table, Mapping):
                for key, value in table.items():
                    self._set(name, str(key), value, f"{source} [{name}] {key}")

    def add_environment(self, env: Mapping[str, str], parse: Any) -> None:
        """Take ``FLAGPORT_<NAME>`` and ``FLAGPORT_<NAME>_<OPTION>`` variables."""
        for name, section in self.sections.items():
            bare = f"FLAGPORT_{name.upper()}"
            if section.switch and env.get(bare, "").strip():
                self._set(name, section.switch, parse(env[bare]), f"environment {bare}")
            prefix = bare + "_"
            for var, raw in env.items():
                if var.startswith(prefix):
                    key = var[len(prefix) :].lower()
                    self._set(name, key, parse(raw), f"environment {var}")

    def _set(self, name: str, key: str, value: Any, source: str) -> None:
        self.values[name][key] = value
        self.sources[name][key] = source

    def validate(self, validate_options: Callable[..., BaseModel]) -> dict[str, BaseModel]:
        """Each section's model, validated from the merged values.

        :param validate_options: :func:`flagport.settings.validate_options` (passed in:
            the settings module imports this one).
        :raises ConfigurationError: a value is invalid or unknown, with its source.
        """
        return {
            name: validate_options(
                section.model, self.values[name], self.sources[name], f"settings [{name}]"
            )
            for name, section in self.sections.items()
        }
