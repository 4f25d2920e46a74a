from __future__ import annotations

from django.urls import path

from shop_site import views

urlpatterns = [path("", views.index), path("gate/<str:name>", views.gate)]
