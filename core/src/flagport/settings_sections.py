"""Settings sections that plugins register (``[opentelemetry]``, ``FLAGPORT_OPENTELEMETRY``).

A plugin declares a section with ``flagport_register_settings``: a name and a pydantic
model. The section is read from the same places as a provider's options, with the same
precedence (files, then the environment, then :func:`~flagport.settings.override_settings`
layers, then code): the table ``[name]``, the variables ``FLAGPORT_<NAME>_<OPTION>``, and
a bare ``FLAGPORT_<NAME>=value`` for the option the plugin names as its switch.

A plugin may register its model by reference (``"package.module:Model"``): a section
that no source gives a value is then imported and validated (to its defaults) only
when first read, so an installed plugin that is not configured costs a cold start
nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import BaseModel

from flagport.errors import PluginError
from flagport.imports import import_class

__all__ = ["Section", "SectionValues", "Sections", "registered_sections"]


@dataclass(frozen=True)
class Section:
    """A settings section a plugin reads.

    :ivar name: the table name (``opentelemetry``).
    :ivar model: the pydantic model its options fill, or a ``"module:Model"`` reference
        to it (see :attr:`model_class`).
    :ivar switch: the option a bare ``FLAGPORT_<NAME>=value`` sets, if any.
    :ivar plugin: the plugin that registered it, for messages.
    """

    name: str
    model: type[BaseModel] | str
    switch: str | None
    plugin: str

    @property
    def model_class(self) -> type[BaseModel]:
        """The model, imported now if it was registered by reference.

        :raises PluginError: the reference does not name a pydantic model.
        """
        if not isinstance(self.model, str):
            return self.model
        try:
            return import_class(self.model, BaseModel, "a pydantic model")
        except (ImportError, TypeError) as exc:
            raise PluginError(
                f"settings section [{self.name}] of plugin {self.plugin!r}: {exc}"
            ) from exc


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
            model: type[BaseModel] | str,
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

    def add_environment(
        self, env: Mapping[str, str], parse: Callable[[str, str], tuple[Any, str]]
    ) -> None:
        """Take ``FLAGPORT_<NAME>`` and ``FLAGPORT_<NAME>_<OPTION>`` variables.

        :param parse: a variable's value and name to its value and source.
        """
        for name, section in self.sections.items():
            bare = f"FLAGPORT_{name.upper()}"
            if section.switch and env.get(bare, "").strip():
                self._set(name, section.switch, *parse(env[bare], bare))
            prefix = bare + "_"
            for var, raw in env.items():
                if var.startswith(prefix):
                    key = var[len(prefix) :].lower()
                    self._set(name, key, *parse(raw, var))

    def _set(self, name: str, key: str, value: Any, source: str) -> None:
        self.values[name][key] = value
        self.sources[name][key] = source

    def validate(self, validate_options: Callable[..., BaseModel]) -> Sections:
        """Each section's model, validated from the merged values.

        A section registered by reference and given no value is validated when first
        read; every other one now.

        :param validate_options: :func:`flagport.settings.validate_options` (passed in:
            the settings module imports this one).
        :raises ConfigurationError: a value is invalid or unknown, with its source.
        """
        given = frozenset(name for name, values in self.values.items() if values)
        validated: dict[str, BaseModel] = {}
        deferred: dict[str, Callable[[], BaseModel]] = {}
        for name, section in self.sections.items():
            check = partial(
                _validate_section, validate_options, section, self.values[name], self.sources[name]
            )
            if name in given or not isinstance(section.model, str):
                validated[name] = check()
            else:
                deferred[name] = check
        return Sections(validated, deferred, given)


def _validate_section(
    validate_options: Callable[..., BaseModel],
    section: Section,
    values: dict[str, Any],
    sources: dict[str, str],
) -> BaseModel:
    return validate_options(section.model_class, values, sources, f"settings [{section.name}]")


class Sections(Mapping[str, Any]):
    """Each registered settings section's validated model, by name.

    A read-only mapping; a section registered by reference that no source gave a value
    is validated (to its defaults) on first read.
    """

    def __init__(
        self,
        validated: Mapping[str, BaseModel] | None = None,
        deferred: Mapping[str, Callable[[], BaseModel]] | None = None,
        given: frozenset[str] = frozenset(),
    ) -> None:
        self._validated = dict(validated or {})
        self._deferred = dict(deferred or {})
        self._names = (*self._validated, *self._deferred)
        self._given = given
        self._lock = threading.Lock()

    def given(self, name: str) -> bool:
        """Whether any source (a file, the environment, an override) set an option of
        section ``name``; a plugin that only acts on a configured section asks this
        first, and leaves an unconfigured section unread."""
        return name in self._given

    def __getitem__(self, name: str) -> Any:
        model = self._validated.get(name)
        if model is not None:
            return model
        check = self._deferred[name]  # KeyError: no such section
        with self._lock:
            if name not in self._validated:
                self._validated[name] = check()
        return self._validated[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names  # without validating it (Mapping's would)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return repr(dict(self))
