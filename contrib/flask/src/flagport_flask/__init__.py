"""Flask extension for flagport.

``FlagportExtension(app)`` (or ``ext.init_app(app)`` in an application factory) builds
the client from ``app.config["FLAGPORT"]``, runs each request in
``flagport.scope(user)`` for the user a configurable function finds in the request,
and gives templates ``flag_gate``, ``experiment_value`` and ``config_value``.
"""

from __future__ import annotations

from flagport_flask.extension import FlagportExtension, UserFromRequest

__all__ = ["FlagportExtension", "UserFromRequest"]
