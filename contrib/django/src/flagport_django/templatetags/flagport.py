"""``{% load flagport %}``: gates, experiment values and configs for the request's user.

The tags evaluate for the request's scope (opened by
:class:`~flagport_django.middleware.FlagportMiddleware`), with the bound client, and
never raise into the template: outside a scope they give the default.

.. code-block:: django

    {% load flagport %}
    {% gate "new_checkout" as new_checkout %}
    {% if new_checkout %}...{% endif %}
    <button>{% experiment "button_color" "label" "Buy" %}</button>
    {% config "banner" "text" "" %}
"""

from __future__ import annotations

from typing import Any

from django import template

import flagport

register = template.Library()


def _plain(value: Any) -> Any:
    # A template's string literal is a SafeString, whose str() is itself; typed lookups
    # take only a plain str, which str.__str__ returns for any subclass.
    return str.__str__(value) if isinstance(value, str) else value


@register.simple_tag(name="gate")
def gate(name: str, default: bool = False) -> bool:
    """The gate's answer for the request's user."""
    return flagport.check_gate(name, default=default)


@register.simple_tag(name="experiment")
def experiment(name: str, parameter: str, default: Any = None) -> Any:
    """One parameter of the experiment's group for the request's user (logs an exposure)."""
    return flagport.get_experiment(name).get(parameter, _plain(default))


@register.simple_tag(name="config")
def config(name: str, key: str, default: Any = None) -> Any:
    """One value of the dynamic config for the request's user."""
    return flagport.get_config(name).get(key, _plain(default))
