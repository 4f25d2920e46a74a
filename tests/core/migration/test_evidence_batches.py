"""A batch of comparisons is recorded exactly as its pairs one by one (the worker records
what it compared flag by flag, a batch that agrees throughout at once)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flagport.providers.migration.evidence import FlagEvidence
from flagport.results import ConfigResult, ExperimentResult, GateResult, freeze

# Values where Python's == and the migration's same_value part ways: True and 1, None
# and {}, a scalar and a vendor's {"value": scalar}, 1 and 1.0, frozen and plain.
SCALARS = st.sampled_from([True, False, 0, 1, 1.0, "a", "b", None])
VALUES = st.one_of(
    SCALARS,
    st.builds(lambda v: {"value": v}, SCALARS),
    st.builds(lambda v: freeze({"k": v}), SCALARS),
    st.builds(lambda v: {"k": v}, SCALARS),
    st.just({}),
)
GROUPS = st.sampled_from([None, "control", "test", "Blue"])


def results(kind: str) -> st.SearchStrategy[Any]:
    if kind == "gate":
        return st.builds(lambda v: GateResult(name="f", value=v), st.booleans())
    if kind == "config":
        return st.builds(lambda v: ConfigResult(name="f", value=v), VALUES)
    return st.builds(lambda g, v: ExperimentResult(name="f", group=g, value=v), GROUPS, VALUES)


@st.composite
def batches(draw: st.DrawFn) -> tuple[str, list[Any], list[Any]]:
    kind = draw(st.sampled_from(["gate", "config", "experiment"]))
    strategy = results(kind)
    if kind == "gate" and draw(st.booleans()):  # check_gate's booleans, not results
        strategy = st.booleans()
    pairs = draw(st.lists(st.tuples(strategy, strategy), max_size=12))
    if draw(st.booleans()):  # batches that agree throughout, the common case
        pairs = [(old, old) for old, _ in pairs]
    return kind, [old for old, _ in pairs], [new for _, new in pairs]


def state(evidence: FlagEvidence) -> dict[str, Any]:
    data = evidence.to_dict(min_sample=1)
    del data["latency_us"]
    return data


@settings(max_examples=300)
@given(batches(), st.booleans())
def test_a_batch_is_recorded_as_its_pairs_one_by_one(
    batch: tuple[str, list[Any], list[Any]], details: bool
) -> None:
    kind, olds, news = batch
    group_map = {"Blue": "test"} if kind == "experiment" else None
    together, apart = FlagEvidence("f", kind, group_map), FlagEvidence("f", kind, group_map)
    found = together.compare_all(olds, news, details)
    one_by_one = [
        (i, mismatch)
        for i, (old, new) in enumerate(zip(olds, news, strict=True))
        if (mismatch := apart.compare(old, new, details=details)) is not None
    ]
    assert state(together) == state(apart)
    assert [(i, repr(m)) for i, m in found] == [(i, repr(m)) for i, m in one_by_one]


def test_an_agreeing_batch_still_tells_true_from_1() -> None:
    # [True] == [1] in Python; the two sides still disagree.
    evidence = FlagEvidence("c", "config")
    found = evidence.compare_all(
        [ConfigResult(name="c", value=True), ConfigResult(name="c", value=True)],
        [ConfigResult(name="c", value=1), ConfigResult(name="c", value=True)],
    )
    assert [(i, m.field, m.old, m.new) for i, m in found] == [(0, "value", True, 1)]
    assert state(evidence)["mismatches"] == 1
