"""URLs and views of the Django test project (its ROOT_URLCONF)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.urls import path

import flagport

PAGE = (
    "{% load flagport %}{% gate 'staff_tools' as staff %}{% gate 'beta' as beta %}"
    "staff={{ staff }} beta={{ beta }} color={% experiment 'button_color' 'color' 'gray' %} "
    "banner={% config 'banner' 'text' '' %} missing={% experiment 'nope' 'color' 'gray' %}"
)


def gates(request: HttpRequest) -> JsonResponse:
    user = flagport.current_user()
    return JsonResponse(
        {
            "user_id": user.user_id if user else None,
            "staff_tools": flagport.check_gate("staff_tools"),
            "beta": flagport.check_gate("beta"),
        }
    )


async def async_gates(request: HttpRequest) -> JsonResponse:
    return gates(request)


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(PAGE).render({}, request))


urlpatterns = [
    path("gates/", gates),
    path("async-gates/", async_gates),
    path("page/", page),
]
