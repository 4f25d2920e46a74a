"""A Flask shop using flagport-flask.

    flask --app app run                                  # development server
    gunicorn --preload --workers 4 app:app               # production: 4 forked workers

The flags file is ``../flags.yaml`` (or ``$FLAGS_FILE``); edits are seen by every
worker without a restart. The user comes from request headers here; in your
application, from ``flask.session`` or Flask-Login's ``current_user``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, render_template_string, request

import flagport
from flagport_flask import FlagportExtension

FLAGS = os.environ.get("FLAGS_FILE", str(Path(__file__).resolve().parent.parent / "flags.yaml"))

PAGE = """\
checkout: {{ 'new' if flag_gate('new_checkout') else 'old' }}
button: {{ experiment_value('button_color', 'color', 'gray') }}
currency: {{ config_value('pricing', 'currency', 'USD') }}
"""


def user_from_request() -> dict[str, Any] | None:
    """The request's user, or None for an anonymous request (flags serve defaults)."""
    user_id = request.headers.get("X-User-Id")
    if user_id is None:
        return None
    user: dict[str, Any] = {"user_id": user_id}
    for header, field in [("X-Country", "country"), ("X-App-Version", "app_version")]:
        if header in request.headers:
            user[field] = request.headers[header]
    return user


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["FLAGPORT"] = {"provider": "local", "path": FLAGS}
    flags = FlagportExtension(app, user_from_request=user_from_request)
    # Load the flags file now, so that a bad file fails the deploy, not the first
    # request. Under gunicorn --preload this runs once, before the workers fork: each
    # worker then starts its own provider (and file watcher) on its first evaluation.
    known = flags.client.names()
    app.logger.info("flags: %d gates, %d experiments", len(known.gates), len(known.experiments))

    @app.get("/")
    def index() -> str:
        return render_template_string(PAGE)

    @app.get("/gate/<name>")
    def gate(name: str) -> dict[str, Any]:
        return {"pid": os.getpid(), "gate": name, "value": flagport.check_gate(name)}

    return app


app = create_app()
