"""The plugin manager: built-in providers first, then the ``flagport`` entry points.

Plugins load once, lazily (never at import). ``FLAGPORT_DISABLE_PLUGINS=1`` skips
entry points entirely; ``FLAGPORT_PLUGINS=a,b`` loads only the named entry points.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections.abc import Callable

import pluggy

from flagport import hookspecs, observers
from flagport.errors import ConfigurationError, PluginError
from flagport.imports import import_object
from flagport.provider import Provider

__all__ = ["ProviderInfo", "get_plugin_manager", "get_provider_class", "provider_registry", "reset"]

ENTRY_POINT_GROUP = "flagport"
BUILTIN_PLUGINS = (
    "flagport.providers.passall",
    "flagport.local.plugin",
    "flagport.migration.plugin",
)


class ProviderInfo:
    """A registered provider and where it came from.

    A plugin may register a ``"module:Class"`` reference instead of the class, so that
    listing providers does not import every vendor SDK; the class is imported the first
    time :attr:`provider_class` is read.
    """

    __slots__ = ("_target", "distribution", "name", "plugin", "version")

    def __init__(
        self, name: str, target: type[Provider] | str, plugin: str, distribution: str, version: str
    ) -> None:
        self.name = name
        self._target = target
        self.plugin = plugin
        self.distribution = distribution
        self.version = version

    @property
    def provider_class(self) -> type[Provider]:
        """The provider class (imported now if it was registered by reference)."""
        target = self._target
        if isinstance(target, str):
            try:
                target = import_object(target)
            except Exception as exc:
                raise PluginError(
                    f"provider {self.name!r} of plugin {self.plugin!r} ({self.distribution}) "
                    f"failed to import {self._target!r}: {type(exc).__name__}: {exc}"
                ) from exc
            if not (isinstance(target, type) and issubclass(target, Provider)):
                raise PluginError(
                    f"plugin {self.plugin!r} registered {self._target!r} as provider "
                    f"{self.name!r}, which is not a flagport.Provider subclass"
                )
            if target.name != self.name:
                raise PluginError(
                    f"plugin {self.plugin!r} registered {self._target!r} as {self.name!r}, but "
                    f"its class says name = {target.name!r}"
                )
            self._target = target
        return target

    def __repr__(self) -> str:
        return f"<ProviderInfo {self.name!r} from {self.plugin!r} ({self.distribution})>"


_lock = threading.RLock()
_pm: pluggy.PluginManager | None = None
_registry: dict[str, ProviderInfo] | None = None
# plugin name -> (distribution, version), for messages and `flagport providers`
_sources: dict[str, tuple[str, str]] = {}
# plugins registered in code; they survive reset() until unregistered
_runtime: list[tuple[object, str | None]] = []


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    if os.environ.get("FLAGPORT_DISABLE_PLUGINS", "").lower() in {"1", "true", "yes"}:
        return
    only = {n.strip() for n in os.environ.get("FLAGPORT_PLUGINS", "").split(",") if n.strip()}
    failures: list[tuple[str, str, Exception]] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if only and ep.name not in only:
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        dist = ep.dist.name if ep.dist else "unknown distribution"
        try:
            plugin = ep.load()
        except Exception as exc:
            failures.append((ep.name, dist, exc))
            continue
        pm.register(plugin, name=ep.name)
        _sources[ep.name] = (dist, ep.dist.version if ep.dist else "unknown")
    if failures:
        name, dist, error = failures[0]
        others = "".join(f"; plugin {n!r} ({d}) too" for n, d, _ in failures[1:])
        raise PluginError(
            f"flagport plugin {name!r} from distribution {dist!r} failed to import: "
            f"{type(error).__name__}: {error}{others}. Installed providers that did load: "
            f"{', '.join(_offered(pm)) or 'none'}. Reinstall the distribution, or set "
            f"FLAGPORT_PLUGINS to the plugins you want loaded."
        ) from error


def _offered(pm: pluggy.PluginManager) -> list[str]:
    """The provider names the registered plugins offer (for error messages)."""
    names: set[str] = set()

    def note(provider: object, name: str | None = None) -> None:
        names.add(name or str(getattr(provider, "name", provider)))

    for impl in pm.hook.flagport_register_providers.get_hookimpls():
        try:
            impl.function(register=note)
        except Exception:
            continue
    return sorted(names)


def _registrar(
    registry: dict[str, ProviderInfo], plugin: str, clashes: list[str]
) -> Callable[..., None]:
    """The ``register`` callback handed to one plugin's ``flagport_register_providers``."""
    dist, version = _sources.get(plugin, ("(registered at run time)", ""))

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
                f"({first.distribution}) and by plugin {plugin!r} ({dist})"
            )
            return
        registry[name] = ProviderInfo(name, provider, plugin, dist, version)

    return register


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
                _sources[module_name] = ("flagport", _version("flagport"))
            _load_entry_points(pm)
            for plugin, name in _runtime:
                pm.register(plugin, name=name)
            level = observers.level_from_env(os.environ.get("FLAGPORT_LOG_EVALUATIONS", ""))
            if level is not None and pm.get_plugin("flagport.observers.logging") is None:
                pm.register(observers.LoggingObserver(level), name="flagport.observers.logging")
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
            for impl in pm.hook.flagport_register_providers.get_hookimpls():
                impl.function(register=_registrar(registry, impl.plugin_name, clashes))
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
    try:
        return registry[name].provider_class
    except KeyError:
        installed = ", ".join(registry) or "none"
        hint = ""
        if name in {"statsig", "growthbook", "featbit"}:
            hint = f" Install it with: pip install 'flagport[{name}]'."
        raise ConfigurationError(
            f"unknown provider {name!r}; installed providers: {installed}.{hint}"
        ) from None


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
