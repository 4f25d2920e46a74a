"""Serve flagport's flags over the OpenFeature Remote Evaluation Protocol (OFREP).

``app = ofrep_app(fp, tokens=[...])`` is a plain ASGI application: run it with any
ASGI server or mount it in Starlette, FastAPI or Django. See ``docs/ofrep.md``.
"""

from __future__ import annotations

from flagport.ofrep.app import MIN_TOKEN_LENGTH, OfrepApp, ofrep_app

__all__ = ["MIN_TOKEN_LENGTH", "OfrepApp", "ofrep_app"]
