"""A small storefront written against flagport's documented API, fully typed.

``mypy --strict`` with no plugin (``mypy.ini`` next to this file) must accept every
call here: it is what a user's type checker sees, whether or not they use pydantic's
mypy plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import flagport
from flagport import (
    ConfigResult,
    Evaluations,
    ExperimentResult,
    Flagport,
    FlagportError,
    GateResult,
    Reason,
    User,
)
from flagport.results import thaw

FLAGS = Path(__file__).resolve().parent.parent / "flags.yaml"


@dataclass(frozen=True)
class Page:
    layout: str
    button_color: str
    discount: float
    max_mb: float


def make_client(path: Path = FLAGS) -> Flagport:
    """The shop's client: the local provider over the example flags file."""
    return Flagport(provider="local", path=str(path), watch=False)


def visitor(user_id: str, *, country: str | None = None, plan: str = "free") -> User:
    """A user with every kind of attribute the documentation shows."""
    return User(
        user_id=user_id,
        email=f"{user_id}@example.com",
        ip="203.0.113.7",
        user_agent="typed-app/1.0",
        country=country,
        locale="en-US",
        app_version="2.3.1",
        custom={"plan": plan},
        private={"email_verified": True},
        custom_ids={"company_id": "7"},
    )


def checkout_page(fp: Flagport, user: User) -> Page:
    """What the checkout page shows ``user``."""
    one_page: bool = fp.check_gate(user, "new_checkout")
    gate: GateResult = fp.get_gate(user, "new_checkout")
    button: ExperimentResult = fp.get_experiment(user, "button_color", default={"color": "gray"})
    pricing: ConfigResult = fp.get_config(user, "pricing", default={"discount": 0.0})
    limits = fp.get_config(user, "upload_limits")
    assert gate.value is one_page
    color: str = button.get("color", "gray")
    discount: float = pricing.get("discount", 0.0)
    max_mb: float = limits.get("max_mb", 25)  # a stored 25.5 stays 25.5
    return Page("one_page" if one_page else "classic", color, discount, max_mb)


def place_order(fp: Flagport, user: User, amount: float) -> float:
    """Charge ``amount`` less the user's discount; logs a ``purchase`` event."""
    total = round(amount * (1 - checkout_page(fp, user).discount), 2)
    fp.log_event(user, "purchase", value=total, metadata={"currency": "USD"})
    return total


def explain(fp: Flagport, user: User, name: str) -> str:
    """One line on why ``user`` got what they got for gate ``name``."""
    result = fp.get_gate(user, name)
    if result.error_code is not None:
        return f"{name}: default ({result.error_code.value}: {result.error_message})"
    return f"{name}: {result.value} ({result.reason.value}, rule {result.rule_id})"


def everything(fp: Flagport, user: User) -> dict[str, object]:
    """Every flag's answer for ``user``, the way an admin page lists them."""
    all_: Evaluations = fp.evaluate_all(user)
    answers: dict[str, object] = {name: r.value for name, r in all_.gates.items()}
    answers.update({name: r.group for name, r in all_.experiments.items()})
    # A config's value is any JSON value (a mapping, a list, a scalar): thaw copies it.
    answers.update({name: thaw(r.value) for name, r in all_.configs.items()})
    return answers


def with_overrides(fp: Flagport, user: User) -> Page:
    """The page with every kind of override applied, then removed again."""
    fp.override_gate("new_checkout", True, user_id=user.user_id)
    fp.override_experiment("button_color", group="blue", value={"color": "blue"})
    fp.override_config("pricing", {"discount": 0.2})
    try:
        return checkout_page(fp, user)
    finally:
        fp.clear_overrides()


def process_wide(user: User) -> bool:
    """The module-level shortcuts, inside a request scope that carries the user."""
    flagport.setup(provider="local", path=str(FLAGS), watch=False)
    with flagport.scope(user):
        on = flagport.check_gate("new_checkout")
        flagport.log_event("page_view", metadata={"page": "checkout"})
    group = flagport.get_experiment(user, "button_color").group
    flagport.flush()
    return on and (group is None or isinstance(group, str))


def strict_lookup(user: User) -> str | None:
    """A misspelt flag in strict mode raises; the error says what is known."""
    with Flagport(provider="local", path=str(FLAGS), watch=False, strict=True) as fp:
        try:
            fp.check_gate(user, "new_chekout")
        except FlagportError as error:
            return str(error)
    return None


def main() -> None:
    fp = make_client()
    try:
        us, de = visitor("42", country="US", plan="pro"), visitor("43", country="DE")
        print(checkout_page(fp, us))
        print(place_order(fp, de, 100.0))
        print(explain(fp, us, "new_checkout"), explain(fp, us, "no_such_gate"))
        print(with_overrides(fp, de), fp.get_gate(de, "new_checkout").reason is Reason.DEFAULT)
        print(sorted(everything(fp, us)))
        print(process_wide(us), strict_lookup(us))
    finally:
        fp.shutdown()
        flagport.shutdown()


if __name__ == "__main__":
    main()
