"""The extension: client per application, a scope per request, template globals."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import Any

from flask import Flask, current_app, g, has_app_context

import flagport
from flagport import ConfigurationError, Flagport
from flagport.middleware import _Base as MiddlewareBase
from flagport.user import UserLike, as_user

__all__ = ["FlagportExtension", "UserFromRequest"]

UserFromRequest = Callable[[], UserLike | None]
EXTENSION = "flagport"
_STACK = "_flagport_scope"


class FlagportExtension:
    """flagport for a Flask application.

    :param app: the application, or None to call :meth:`init_app` later.
    :param user_from_request: a function of no arguments, called inside the request
        context (``flask.request``, ``flask.session``, Flask-Login's ``current_user``
        are available), returning the request's user or None for no scope.
    :param client: the client to serve; by default one built from
        ``app.config["FLAGPORT"]`` (the arguments of :class:`flagport.Flagport`).

    The client starts on the first evaluation in each worker process (a client built
    before gunicorn forks starts again in each worker); it is shut down at exit.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        user_from_request: UserFromRequest | None = None,
        client: Flagport | None = None,
    ) -> None:
        self.user_from_request = user_from_request
        self._client = client
        self._last_client: Flagport | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Build the client, register the request hooks and the template globals.

        Called again for the same application, it replaces the client and the user
        function (the hooks are registered once).

        :raises flagport.ConfigurationError: ``app.config["FLAGPORT"]`` has bad options.
        """
        client = self._client
        if client is None:
            settings: Mapping[str, Any] = app.config.get("FLAGPORT", {})
            if not isinstance(settings, Mapping):
                raise ConfigurationError(
                    f'app.config["FLAGPORT"] must be a dict of flagport.Flagport arguments, '
                    f'e.g. {{"provider": "local", "path": "flags.yaml"}}; got '
                    f"{type(settings).__name__}"
                )
            arguments = dict(settings)
            if "path" in arguments:
                arguments["path"] = str(arguments["path"])
            client = Flagport(**arguments)
        # A second init_app on one application (or a second extension) replaces its
        # state; the hooks stay registered once, or each request would open two scopes
        # and leave one open in the thread (its user seen by the next requests).
        first = EXTENSION not in app.extensions
        app.extensions[EXTENSION] = _State(client, self.user_from_request)
        self._last_client = client
        if not first:
            return
        app.before_request(_open_scope)
        app.teardown_request(_close_scope)
        app.add_template_global(flag_gate)
        app.add_template_global(experiment_value)
        app.add_template_global(config_value)

    @property
    def client(self) -> Flagport:
        """The client of the current application; outside an application context, the
        client of the application last given to :meth:`init_app`.

        :raises RuntimeError: outside an application context, before ``init_app``.
        """
        if has_app_context() and EXTENSION in current_app.extensions:
            return _state().client
        if self._last_client is None:
            raise RuntimeError("FlagportExtension.client: call init_app(app) first")
        return self._last_client


class _State(MiddlewareBase):
    """One application's client and user function, with flagport's user-error policy."""

    def __init__(self, client: Flagport, user_from_request: UserFromRequest | None) -> None:
        super().__init__(client, flush=False)
        self.client: Flagport = client
        self.user_from_request = user_from_request


def _state() -> _State:
    state: _State = current_app.extensions[EXTENSION]
    return state


def _open_scope() -> None:
    state = _state()
    user = None
    if state.user_from_request is not None:
        try:
            found = state.user_from_request()
            user = as_user(found) if found is not None else None
        except Exception as exc:
            state._failed(exc)
    stack = ExitStack()
    for manager in state._contexts(user):
        stack.enter_context(manager)
    setattr(g, _STACK, stack)


def _close_scope(exc: BaseException | None) -> None:
    stack: ExitStack | None = g.pop(_STACK, None)
    if stack is not None:
        stack.close()


def flag_gate(name: str, default: bool = False) -> bool:
    """Template global: the gate's answer for the request's user."""
    return flagport.check_gate(name, default=default)


def experiment_value(name: str, parameter: str, default: Any = None) -> Any:
    """Template global: one parameter of the request's user's group (logs an exposure)."""
    return flagport.get_experiment(name).get(parameter, default)


def config_value(name: str, key: str, default: Any = None) -> Any:
    """Template global: one value of the dynamic config for the request's user."""
    return flagport.get_config(name).get(key, default)
