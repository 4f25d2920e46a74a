"""The plugin manager: built-in plugins first, then the ``flagport`` entry points.

The built-in providers, event sinks and logging observer are plugin modules
(:data:`BUILTIN_PLUGINS`) that contribute through the same hooks as third-party ones.

Plugins load once, lazily (never at import). ``FLAGPORT_DISABLE_PLUGINS=1`` skips
entry points entirely; ``FLAGPORT_PLUGINS=a,b`` loads only the named entry points.

A plugin that fails to load (its import raises, or its ``flagport_register_providers``
does) makes only its own providers unavailable: it is logged as a warning, and
choosing a provider it may have offered raises an error naming the plugin, its
distribution and the original error. Every other provider keeps working.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pluggy

from flagport import hookspecs
from flagport.errors import ConfigurationError, PluginError
from flagport.imports import import_class
from flagport.provider import Provider
from flagport.suggest import did_you_mean

if TYPE_CHECKING:
    from flagport.events.settings import EventSettings
    from flagport.events.sinks import Sink
    from flagport.observers import LoggingObserver

__all__ = [
    "BrokenPlugin",
    "ProviderInfo",
    "broken_plugins",
    "enable_logging",
    "get_plugin_manager",
    "get_provider_class",
    "provider_registry",
    "reset",
    "sink_factories",
]

logger = logging.getLogger("flagport.plugins")

ENTRY_POINT_GROUP = "flagport"
BUILTIN_PLUGINS = (
    "flagport.providers.passall",
    "flagport.providers.local.plugin",
    "flagport.providers.migration.plugin",
    "flagport.events.sinks",
    "flagport.observers",
    "flagport.sticky.plugin",
)


class ProviderInfo:
    """A registered provider and where it came from.

    A plugin may register a ``"module:Class"`` reference instead of the class, so that
    listing providers does not import every vendor SDK; the class is imported the first
    time :attr:`provider_class` is read.
    """

    __slots__ = ("_source", "_target", "name", "plugin")

    def __init__(
        self, name: str, target: type[Provider] | str, plugin: str, source: _Source
    ) -> None:
        self.name = name
        self._target = target
        self.plugin = plugin
        self._source = source

    @property
    def distribution(self) -> str:
        """The distribution that installed the plugin."""
        return self._source()[0]

    @property
    def version(self) -> str:
        """That distribution's version."""
        return self._source()[1]

    @property
    def provider_class(self) -> type[Provider]:
        """The provider class (imported now if it was registered by reference)."""
        target = self._target
        if isinstance(target, str):
            try:
                target = import_class(target, Provider, "a flagport.Provider subclass")
            except (ImportError, TypeError) as exc:
                raise PluginError(
                    f"provider {self.name!r} of plugin {self.plugin!r} ({self.distribution}): {exc}"
                ) from exc
            if target.name != self.name:
                raise PluginError(
                    f"plugin {self.plugin!r} registered {self._target!r} as {self.name!r}, but "
                    f"its class says name = {target.name!r}"
                )
            self._target = target
        return target

    def __repr__(self) -> str:
        return f"<ProviderInfo {self.name!r} from {self.plugin!r} ({self.distribution})>"


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that failed to load; its providers are unavailable.

    :ivar plugin: the entry-point (or run-time registration) name.
    :ivar distribution: the distribution that installed it.
    :ivar error: what its import or its provider registration raised.
    """

    plugin: str
    distribution: str
    version: str
    error: BaseException

    def describe(self) -> str:
        """One sentence: which plugin, from where, failed how."""
        version = f" {self.version}" if self.version else ""
        return (
            f"flagport plugin {self.plugin!r} from distribution {self.distribution!r}{version} "
            f"failed to load ({type(self.error).__name__}: {self.error})"
        )


#: A plugin's distribution and version, read when first shown: reading them parses the
#: distribution's metadata file, milliseconds a first evaluation does not need.
_Source = Callable[[], tuple[str, str]]


def _distribution_source(dist: importlib.metadata.Distribution | None) -> _Source:
    @functools.cache
    def source() -> tuple[str, str]:
        if dist is None:
            return ("unknown distribution", "unknown")
        return (dist.name, dist.version)

    return source


@functools.cache
def _builtin_source() -> tuple[str, str]:
    return ("flagport", _version("flagport"))


def _run_time_source() -> tuple[str, str]:
    return ("(registered at run time)", "")


_lock = threading.RLock()
_pm: pluggy.PluginManager | None = None
_registry: dict[str, ProviderInfo] | None = None
# plugin name -> its (distribution, version), for messages and `flagport providers`
_sources: dict[str, _Source] = {}
# plugins registered in code; they survive reset() until unregistered
_runtime: list[tuple[object, str | None]] = []
# plugins that failed to load, by plugin name: at import (since the manager was
# built) and in flagport_register_providers (since the registry was built)
_failed_imports: dict[str, BrokenPlugin] = {}
_failed_registrations: dict[str, BrokenPlugin] = {}


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _mark_broken(into: dict[str, BrokenPlugin], plugin: str, error: BaseException) -> None:
    dist, version = _sources.get(plugin, _run_time_source)()
    broken = BrokenPlugin(plugin, dist, version, error)
    into[plugin] = broken
    logger.warning(
        "%s; its providers are unavailable, every other provider works. Reinstall or "
        "upgrade %s, or leave the plugin out with FLAGPORT_PLUGINS (a comma-separated "
        "list of the plugins to load).",
        broken.describe(),
        dist,
    )


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    """The ``flagport`` entry points, the first of each name along ``sys.path``.

    What ``importlib.metadata.entry_points(group="flagport")`` returns, in half the time
    of a cold start's: that parses the ``entry_points.txt`` of every installed
    distribution (about 4 ms more for a hundred); this parses only those that mention
    the group.
    """
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for dist in importlib.metadata.distributions():
        text = dist.read_text("entry_points.txt")
        if not text or ENTRY_POINT_GROUP not in text:
            continue
        for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP):
            found.setdefault(ep.name, ep)
    return list(found.values())


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    if os.environ.get("FLAGPORT_DISABLE_PLUGINS", "").lower() in {"1", "true", "yes"}:
        return
    only = {n.strip() for n in os.environ.get("FLAGPORT_PLUGINS", "").split(",") if n.strip()}
    for ep in _entry_points():
        if only and ep.name not in only:
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        _sources[ep.name] = _distribution_source(ep.dist)
        try:
            plugin = ep.load()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            # Only this plugin's providers are lost; raising here (or exiting, for a
            # module that calls sys.exit) would take the built-in ones and every other
            # vendor's down with it.
            _mark_broken(_failed_imports, ep.name, exc)
            continue
        pm.register(plugin, name=ep.name)


def _registrar(
    registry: dict[str, ProviderInfo], plugin: str, clashes: list[str]
) -> Callable[..., None]:
    """The ``register`` callback handed to one plugin's ``flagport_register_providers``."""
    source = _sources.get(plugin, _run_time_source)

    def register(provider: type[Provider] | str, name: str | None = None) -> None:
        if isinstance(provider, str):
            if not name or ":" not in provider:
                raise PluginError(
                    f"plugin {plugin!r} registered {provider!r}: a reference needs the form "
                    f"'module:Class' and a name, e.g. register('pkg.mod:MyProvider', name='my')"
                )
        else:
            name = getattr(provider, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(
                f"plugin {plugin!r} registered {provider!r}, which has no 'name' class attribute"
            )
        if name in registry:
            first = registry[name]
            clashes.append(
                f"provider name {name!r} is registered twice: by plugin {first.plugin!r} "
                f"({first.distribution}) and by plugin {plugin!r} ({source()[0]})"
            )
            return
        registry[name] = ProviderInfo(name, provider, plugin, source)

    return register


def _add_observer(pm: pluggy.PluginManager, observer: object, name: str | None = None) -> None:
    """The ``register`` callback of ``flagport_register_observers``."""
    if name is not None and pm.get_plugin(name) is not None:
        return  # registered in code (register_plugin) already: that one stays
    pm.register(observer, name=name)


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built on first call."""
    global _pm
    if _pm is not None:
        return _pm
    with _lock:
        if _pm is None:
            pm = pluggy.PluginManager("flagport")
            pm.add_hookspecs(hookspecs)
            for module_name in BUILTIN_PLUGINS:
                module = importlib.import_module(module_name)
                pm.register(module, name=module_name)
                _sources[module_name] = _builtin_source
            _failed_imports.clear()
            _load_entry_points(pm)
            for plugin, name in _runtime:
                pm.register(plugin, name=name)
            pm.hook.flagport_register_observers(register=functools.partial(_add_observer, pm))
            pm.check_pending()
            _pm = pm
    return _pm


def provider_registry() -> dict[str, ProviderInfo]:
    """Every installed provider by name, collected through ``flagport_register_providers``."""
    global _registry
    if _registry is not None:
        return _registry
    with _lock:
        if _registry is None:
            pm = get_plugin_manager()
            registry: dict[str, ProviderInfo] = {}
            clashes: list[str] = []
            _failed_registrations.clear()
            for impl in pm.hook.flagport_register_providers.get_hookimpls():
                before = set(registry)
                try:
                    impl.function(register=_registrar(registry, impl.plugin_name, clashes))
                except KeyboardInterrupt:
                    raise
                except BaseException as exc:  # SystemExit too: a broken plugin, not an exit
                    # Drop what it registered before failing: half a plugin is not offered.
                    for name in set(registry) - before:
                        del registry[name]
                    _mark_broken(_failed_registrations, impl.plugin_name, exc)
            if clashes:
                raise PluginError(
                    f"{'; '.join(clashes)}. Installed providers: {', '.join(sorted(registry))}. "
                    f"Uninstall one of the two, or limit loading with FLAGPORT_PLUGINS."
                )
            _registry = dict(sorted(registry.items()))
    return _registry


def get_provider_class(name: str) -> type[Provider]:
    """The provider class registered as ``name``.

    :raises ConfigurationError: no installed plugin provides it; the message lists
        the installed providers.
    """
    registry = provider_registry()
    if name in registry:
        return registry[name].provider_class
    installed = ", ".join(registry) or "none"
    failed = {**_failed_imports, **_failed_registrations}
    broken = failed.get(name)
    if broken is not None:
        # By convention a plugin's entry point is named after its provider.
        raise PluginError(
            f"provider {name!r} is unavailable: {broken.describe()}. Installed providers "
            f"that work: {installed}. Reinstall or upgrade {broken.distribution} "
            f"(and its dependencies)."
        ) from broken.error
    close = did_you_mean(name, registry)
    hint = f" {close[0].upper()}{close[1:]}" if close else ""  # a sentence of its own
    if name in {"statsig", "growthbook", "featbit"}:
        hint = f" Install it with: pip install 'flagport[{name}]'."
    if failed:
        hint += (
            " It may come from a plugin that failed to load: "
            + "; ".join(b.describe() for b in failed.values())
            + "."
        )
    raise ConfigurationError(f"unknown provider {name!r}; installed providers: {installed}.{hint}")


def broken_plugins() -> list[BrokenPlugin]:
    """The plugins that failed to load (their providers are unavailable)."""
    provider_registry()
    return list({**_failed_imports, **_failed_registrations}.values())


def _sink_registrar(
    factories: dict[str, Callable[[EventSettings], Sink]], owners: dict[str, str], plugin: str
) -> Callable[[str, Callable[[EventSettings], Sink]], None]:
    """The ``register`` callback handed to one plugin's ``flagport_register_sinks``."""

    def register(name: str, factory: Callable[[EventSettings], Sink]) -> None:
        if name in owners:
            raise PluginError(
                f"event sink {name!r} is registered twice: by plugin {owners[name]!r} and by "
                f"plugin {plugin!r}. Uninstall one of the two, or limit loading with "
                f"FLAGPORT_PLUGINS."
            )
        owners[name], factories[name] = plugin, factory

    return register


def sink_factories(
    provider: Callable[[], Provider],
) -> dict[str, Callable[[EventSettings], Sink]]:
    """Every event sink factory by name, collected through ``flagport_register_sinks``.

    :param provider: returns the client's active provider (the ``provider`` sink's).
    :raises PluginError: two plugins registered one name, or a plugin's hook raised.
    """
    factories: dict[str, Callable[[EventSettings], Sink]] = {}
    owners: dict[str, str] = {}
    for impl in get_plugin_manager().hook.flagport_register_sinks.get_hookimpls():
        register = _sink_registrar(factories, owners, impl.plugin_name)
        wanted = {"provider": provider} if "provider" in impl.argnames else {}
        try:
            impl.function(register=register, **wanted)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {impl.plugin_name!r} failed to register its event sinks: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    return factories


def register_plugin(plugin: object, name: str | None = None) -> None:
    """Register a plugin object at run time (tests, applications with in-code plugins).

    Clients resolve observers when they start, so register before first use.
    """
    global _registry
    pm = get_plugin_manager()
    with _lock:
        pm.register(plugin, name=name)
        _runtime.append((plugin, name))
        _registry = None


def enable_logging(level: int = logging.DEBUG) -> LoggingObserver:
    """Register a :class:`~flagport.observers.LoggingObserver`; clients started afterwards use it.

    In code what ``FLAGPORT_LOG_EVALUATIONS`` does from the environment, records shown
    on stderr too while the application configured no logging
    (:func:`~flagport.observers.show_on_stderr`).

    :param level: level of the evaluation and event records.
    :returns: the registered observer (:func:`unregister_plugin` removes it).
    """
    from flagport.observers import PLUGIN_NAME, LoggingObserver, show_on_stderr

    # It replaces the one FLAGPORT_LOG_EVALUATIONS (or an earlier call) registered.
    current = get_plugin_manager().get_plugin(PLUGIN_NAME)
    if current is not None:
        unregister_plugin(current)
    observer = LoggingObserver(level)
    show_on_stderr(observer.logger, level)
    register_plugin(observer, name=PLUGIN_NAME)
    return observer


def unregister_plugin(plugin: object) -> None:
    """Undo :func:`register_plugin` (a no-op for a plugin that is not registered)."""
    global _registry
    pm = get_plugin_manager()
    with _lock:
        _runtime[:] = [(p, n) for p, n in _runtime if p is not plugin]
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        _registry = None


def reset() -> None:
    """Rebuild the plugin manager on next use, reloading entry points (for tests).

    Plugins registered with :func:`register_plugin` are registered again.
    """
    global _pm, _registry
    with _lock:
        _pm = None
        _registry = None
