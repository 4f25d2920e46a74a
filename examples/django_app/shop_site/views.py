"""Views of the example shop; the middleware already opened the request's scope."""

from __future__ import annotations

import os
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

import flagport


def user_from_request(request: HttpRequest) -> dict[str, Any] | None:
    """The request's user from headers (in your application: ``request.user``)."""
    user_id = request.headers.get("X-User-Id")
    if user_id is None:
        return None
    user: dict[str, Any] = {"user_id": user_id}
    for header, field in [("X-Country", "country"), ("X-App-Version", "app_version")]:
        if header in request.headers:
            user[field] = request.headers[header]
    return user


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "index.txt", content_type="text/plain")


def gate(request: HttpRequest, name: str) -> JsonResponse:
    return JsonResponse({"pid": os.getpid(), "gate": name, "value": flagport.check_gate(name)})
