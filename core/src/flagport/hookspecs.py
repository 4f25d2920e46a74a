"""Every hook flagport calls. Plugins implement them with :data:`hookimpl`.

Providers are contributed through a ``register`` callback so that flagport stays in
charge of names and collisions. Observer hooks are called only when some plugin
implements them; the client resolves that once, so an unused hook costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from flagport.events.model import Event
    from flagport.events.settings import EventSettings
    from flagport.events.sinks import Sink
    from flagport.provider import Provider
    from flagport.results import Result
    from flagport.settings import Settings
    from flagport.user import User

__all__ = ["hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("flagport")
hookimpl = pluggy.HookimplMarker("flagport")


@hookspec
def flagport_register_providers(register: Callable[..., None]) -> None:
    """Register provider classes.

    Call ``register(ProviderClass)`` once per provider; the class's ``name`` is the
    name users select it by. A provider whose module imports a heavy vendor SDK can be
    registered by reference instead, ``register("package.module:Class", name="vendor")``,
    and is imported only when a client selects it. A name registered by two plugins is
    an error naming both.

    :param register: the callback that records a provider.
    """


@hookspec
def flagport_register_sinks(
    register: Callable[[str, Callable[[EventSettings], Sink]], None],
    provider: Callable[[], Provider],
) -> None:
    """Register event sinks that settings can name in ``[events] sinks``.

    Call ``register(name, factory)``; ``factory(settings)`` builds the sink when a
    client's settings list ``name``. Called once per client, when it is built. The
    built-in ``provider``, ``jsonl`` and ``logging`` sinks come through this hook too
    (:mod:`flagport.events.sinks`); a name registered by two plugins is an error naming
    both.

    :param register: the callback that records a sink factory.
    :param provider: returns the client's active provider (for a sink that hands events
        to it, as the built-in ``provider`` sink does).
    """


@hookspec
def flagport_register_observers(register: Callable[..., None]) -> None:
    """Register plugin objects that observe evaluations, events and provider errors.

    For an observer that a setting turns on: call ``register(observer, name=...)`` with
    an object implementing observer hooks (``flagport_after_evaluation``…) when it is
    wanted, and nothing otherwise, so that clients pay nothing for it. Called once, when
    the plugin manager is built; a name already registered (e.g. by
    :func:`flagport.plugins.register_plugin`) is kept and the new object is not
    registered. The built-in logging observer (``FLAGPORT_LOG_EVALUATIONS``) comes
    through this hook (:mod:`flagport.observers`).

    :param register: the callback that registers an observer with the plugin manager.
    """


@hookspec
def flagport_register_settings(register: Callable[..., None]) -> None:
    """Register a settings section that a plugin reads.

    Call ``register(name, model, switch=None)``. The table ``[name]`` in
    ``flagport.toml`` (or ``[tool.flagport.name]``), the environment variables
    ``FLAGPORT_<NAME>_<OPTION>`` and ``override_settings({name: {...}})`` then fill the
    pydantic ``model``, with the precedence provider options have; a bare
    ``FLAGPORT_<NAME>=value`` sets the option named ``switch``. Every client's
    ``settings.sections[name]`` holds the validated model. ``model`` may be a
    ``"module:Model"`` reference: the model is then imported only when a source sets
    one of its options or the section is read, and ``settings.sections.given(name)``
    tells without reading it. A name registered twice is an error naming both plugins.

    :param register: the callback that records a section.
    """


@hookspec
def flagport_configure(settings: Settings) -> None:
    """Called when a client has been built with ``settings``, before it resolves its observers.

    A plugin whose settings section turns something on registers its observers here.

    :param settings: the client's resolved settings (``settings.sections`` holds each
        registered section).
    """


@hookspec
def flagport_after_evaluation(user: User, result: Result, kind: str) -> None:
    """Observe a finished evaluation (after overrides and defaults were applied).

    :param user: the user the flag was evaluated for.
    :param result: the result returned to the caller.
    :param kind: ``"gate"``, ``"experiment"`` or ``"config"``.
    """


@hookspec
def flagport_on_event(event: Event) -> None:
    """Observe an event (custom or exposure) as it enters the event pipeline.

    :param event: the event, with the user's private attributes excluded from its
        serialised form.
    """


@hookspec
def flagport_on_provider_error(provider: str, flag: str | None, error: BaseException) -> None:
    """Observe a provider failure that was turned into a default result.

    :param provider: the provider's name.
    :param flag: the flag being evaluated, or ``None`` outside an evaluation.
    :param error: the exception raised by the provider.
    """


@hookspec
def flagport_on_mismatch(flag: str, kind: str, user_key: str, served: Any, other: Any) -> None:
    """Observe a disagreement between the two providers of a migration.

    :param flag: the flag name.
    :param kind: ``"gate"``, ``"experiment"`` or ``"config"``.
    :param user_key: a hash of the unit id (never the id itself).
    :param served: the served provider's value (group name for experiments).
    :param other: the other provider's value.
    """


@hookspec
def flagport_register_sticky_stores(register: Callable[..., None]) -> None:
    """Register sticky-assignment stores.

    Call ``register(name, factory)`` once per store; ``factory(settings)`` gets the
    :class:`~flagport.sticky.settings.StickySettings` and returns a
    :class:`~flagport.sticky.StickyStore`. Users select it with ``sticky={"store": name}``.
    A name registered twice is an error.

    :param register: the callback that records a store factory.
    """
