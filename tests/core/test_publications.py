"""``Provider.publish_definitions``: what a provider serves when its client starts answering
from it is no change, every later version is, and after a start that found none the first
definitions name every flag (``flagport._publications``, the rule's one implementation)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable

from flagless import FlaglessProvider  # tests/support

from flagport import DefinitionsChanged, FlagNames, Flagport, Provider, User
from flagport.provider import ProviderOptions
from flagport.results import GateResult

USER = User(user_id="u1")
WAIT = 10.0  # seconds: a bound on waiting for another thread, never an expectation


class Publisher(FlaglessProvider):
    """Serves a set of gate names; the test publishes new sets whenever it likes."""

    name = "publisher"

    def __init__(self, at_start: Iterable[set[str]] = ()) -> None:
        super().__init__(ProviderOptions())
        self.at_start = list(at_start)
        self.gates: frozenset[str] = frozenset()

    def start(self) -> None:
        for gates in self.at_start:
            self.publish(gates)

    def publish(self, gates: set[str], during: Callable[[], object] = lambda: None) -> None:
        def swap() -> set[str]:
            previous, self.gates = self.gates, frozenset(gates)
            during()
            return set(previous ^ self.gates)

        self.publish_definitions(swap)

    def names(self) -> FlagNames:
        return FlagNames(gates=self.gates)

    def evaluate_gate(self, user: User, name: str, *, expose: bool = True) -> GateResult:
        if name not in self.gates:
            return super().evaluate_gate(user, name, expose=expose)
        return GateResult(name=name, value=True, provider=self.name)


def heard_by(fp: Flagport) -> queue.Queue[DefinitionsChanged]:
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    fp.on_change(heard.put)
    return heard


def test_what_start_publishes_is_no_change_and_what_follows_is() -> None:
    provider = Publisher(at_start=[{"a"}, {"a", "b"}])  # a cached copy, then a newer one
    with Flagport(provider) as fp:
        heard = heard_by(fp)
        assert fp.check_gate(USER, "b") is True  # the application starts with the newer
        provider.publish({"a", "b"})  # a check that found nothing new
        provider.publish({"b", "c"})
        # In order: had the start or the unchanged check been announced, it came first.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("publisher", frozenset({"a", "c"}))
    assert heard.empty()


def test_after_a_start_that_found_none_the_first_definitions_name_every_flag() -> None:
    provider = Publisher()
    with Flagport(provider) as fp:
        heard = heard_by(fp)
        assert fp.get_gate(USER, "a").error_code == "FLAG_NOT_FOUND"  # defaults served
        provider.publish({"a", "b"})
        assert heard.get(timeout=WAIT) == DefinitionsChanged("publisher", frozenset({"a", "b"}))
        provider.publish({"a"})
        assert heard.get(timeout=WAIT) == DefinitionsChanged("publisher", frozenset({"b"}))


def test_a_swap_under_way_when_the_client_marks_the_provider_is_what_it_starts_with() -> None:
    inside, release = threading.Event(), threading.Event()

    def held() -> None:
        inside.set()
        assert release.wait(WAIT)

    class SwapAcrossStart(Publisher):
        """A vendor thread is in the middle of a swap when start() returns."""

        def start(self) -> None:
            self.publish({"a"})
            threading.Thread(target=self.publish, args=({"a", "b"}, held), daemon=True).start()
            assert inside.wait(WAIT)

    provider = SwapAcrossStart()
    with Flagport(provider) as fp:
        heard = heard_by(fp)
        starting = threading.Thread(target=lambda: fp.provider)  # starts it
        starting.start()
        assert inside.wait(WAIT)
        starting.join(0.2)
        assert starting.is_alive()  # the client's mark waits for the swap under way
        release.set()
        starting.join(WAIT)
        assert fp.check_gate(USER, "b") is True  # what the application starts with
        provider.publish({"b"})
        # In order: had the swap under way been announced, {"b"} would come first.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("publisher", frozenset({"a"}))
    assert heard.empty()


def test_a_swap_right_after_the_mark_is_announced_before_any_evaluation() -> None:
    class SwapAfterMark(Publisher):
        def mark_serving(self) -> None:
            super().mark_serving()
            self.publish({"a", "c"})  # a vendor thread, just after the client's mark

    provider = SwapAfterMark(at_start=[{"a"}])
    with Flagport(provider) as fp:
        heard = heard_by(fp)
        assert fp.check_gate(USER, "c") is True  # the first evaluation sees it already...
        # ...and it is still heard: a swap after the mark is never dropped.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("publisher", frozenset({"c"}))
    assert heard.empty()


# -- a provider started by hand, then given to a client --------------------------------------
class StartsOnce(Publisher):
    """A vendor SDK's start: a second call finds it started and loads nothing."""

    def start(self) -> None:
        if not self.gates:
            super().start()


def test_a_provider_started_by_hand_keeps_its_start_when_a_client_takes_it() -> None:
    provider = StartsOnce(at_start=[{"a", "b"}])
    provider.start()  # by hand: checked before the application serves from it
    with Flagport(provider) as fp:
        heard = heard_by(fp)
        assert fp.check_gate(USER, "b") is True
        provider.publish({"a", "c"})
        # What it started with is the base: not every flag, as after a start that found none.
        assert heard.get(timeout=WAIT) == DefinitionsChanged("publisher", frozenset({"b", "c"}))
    assert heard.empty()


def test_a_provider_a_client_let_go_starts_afresh_with_the_next_one() -> None:
    provider = Publisher(at_start=[{"a"}])
    with Flagport(provider) as fp:
        assert fp.check_gate(USER, "a") is True
    provider.at_start = [{"a", "b"}]
    with Flagport(provider) as fp:
        heard = heard_by(fp)
        assert fp.check_gate(USER, "b") is True  # its start: no change
        provider.publish({"b"})
        assert heard.get(timeout=WAIT) == DefinitionsChanged("publisher", frozenset({"a"}))
    assert heard.empty()


# -- a provider no client owns: whoever drives it marks it ------------------------------------
def listened(provider: Provider) -> queue.Queue[DefinitionsChanged]:
    heard: queue.Queue[DefinitionsChanged] = queue.Queue()
    provider.attach_changes(heard.put)
    return heard


def test_driven_by_hand_the_provider_is_served_from_the_drivers_mark() -> None:
    provider = Publisher(at_start=[{"a"}, {"a", "b"}])
    heard = listened(provider)
    provider.start()
    provider.publish({"a", "b", "c"})  # not served yet: what the driver starts with
    assert heard.empty()
    provider.mark_serving()
    provider.publish({"b"})
    assert heard.get_nowait() == DefinitionsChanged("publisher", frozenset({"a", "c"}))
    provider.shutdown()
    provider.detach()  # let go, as a client does: a later start is a first start again
    heard = listened(provider)
    provider.start()
    provider.mark_serving()
    assert heard.empty()
    provider.publish({"a"})
    assert heard.get_nowait() == DefinitionsChanged("publisher", frozenset({"b"}))


def test_an_override_calling_super_start_needs_nothing_to_be_marked_after_it() -> None:
    class Later(Publisher):
        def start(self) -> None:
            super().start()
            self.publish({"a", "b"})  # still within start(): what it starts with

    provider = Later(at_start=[{"a"}])
    with Flagport(provider) as fp:
        heard = heard_by(fp)
        assert fp.check_gate(USER, "b") is True
        provider.publish({"b"})
        assert heard.get(timeout=WAIT) == DefinitionsChanged("publisher", frozenset({"a"}))
    assert heard.empty()


def test_driven_by_hand_a_start_that_found_none_hears_every_flag_first() -> None:
    provider = Publisher()
    heard = listened(provider)
    provider.start()
    provider.mark_serving()
    provider.publish({"a", "b"})
    assert heard.get_nowait() == DefinitionsChanged("publisher", frozenset({"a", "b"}))
