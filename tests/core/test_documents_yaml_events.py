"""YAML read from libyaml's events gives what the node tree gives: the same values of the
same types, the same repeated-key flag, and, for anything the event path leaves to the
node tree, the node tree's own value or error."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flagport import ConfigurationError
from flagport._documents import parse_text
from flagport._documents_yaml import SafeLoader, _EventBuilder, _load_nodes, _Unusual, load

# Texts YAML 1.1 reads as something other than a plain string, or nearly so.
TRICKY_TEXTS = [
    *("yes", "No", "on", "OFF", "y", "~", "null", "", "007", "0", "1_000", "0x1F", "0o17"),
    *("1:30", "1.5", "-0.25", "+4", "1e3", "1.0e+3", ".inf", "-.Inf", ".nan", "2024-01-02"),
    *("2024-01-02 10:00:00", "<<", "=", "a: b", "- x", "#", "'q'", '"d"', "é", "\t", "a\nb"),
]
scalars = st.one_of(
    st.sampled_from(TRICKY_TEXTS),
    st.text(max_size=8),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)
keys = st.one_of(st.sampled_from(TRICKY_TEXTS), st.text(max_size=6), st.integers(), st.booleans())
data = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=30,
)


def events(text: str) -> tuple[Any, bool]:
    loader = SafeLoader(text)
    try:
        return _EventBuilder(loader).document()
    finally:
        loader.dispose()


def same(first: tuple[Any, bool], second: tuple[Any, bool]) -> bool:
    # repr tells 1 from 1.0 from True, and a NaN from anything but a NaN.
    return repr(first) == repr(second)


@settings(max_examples=300, deadline=None)
@given(value=data, flow=st.sampled_from([False, True, None]), share=st.booleans())
def test_events_build_what_the_node_tree_builds(value: Any, flow: bool | None, share: bool) -> None:
    # A value written twice is dumped once with an anchor, then as an alias.
    document = {"first": value, "second": value} if share else value
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    assert same(events(text), _load_nodes(text))


#: Scalars written plain (unquoted), as people write them: YAML 1.1 resolves each.
PLAIN = [
    *("yes", "No", "on", "OFF", "y", "n", "~", "null", "Null", "007", "0", "1_000", "0x1F"),
    *("0o17", "017", "1:30", "1.5", "-0.25", "+4", "1e3", "1.0e+3", ".inf", "-.Inf", ".nan"),
    *("2024-01-02", "true", "FALSE", "10", "3.", "0.0", "12.50", "text", "x_1", "é"),
]
plain = st.sampled_from(PLAIN)


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(st.tuples(plain, plain | st.lists(plain, max_size=3)), min_size=1, max_size=8)
)
def test_plain_scalars_resolve_as_in_the_node_tree(pairs: list[tuple[str, Any]]) -> None:
    lines = [
        f"{key}: [{', '.join(value)}]" if isinstance(value, list) else f"{key}: {value}"
        for key, value in pairs
    ]
    text = "\n".join(lines) + "\n"
    assert same(events(text), _load_nodes(text))


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: 2\na: 3\n",  # a repeated key: the last value wins, at the first's place
        "gates:\n  g: {rules: []}\n  g: {rules: [{id: r}]}\n",
        "x: &a {k: v}\ny: *a\nz: &s text\nw: *s\n",
        "rec: &r [1, *r]\n",  # an alias inside its own anchor
        "",
        "# only a comment\n",
        "--- 1\n",
        "[1, 2.50, -0.5, 10.0, 3.]\n",
        "? a\n: 1\n",
    ],
)
def test_events_build_common_documents_without_the_node_tree(text: str) -> None:
    built = events(text)
    assert same(built, _load_nodes(text))
    if text.startswith("a:"):
        assert built == ({"a": 3, "b": 2}, True)
        assert list(built[0]) == ["a", "b"]


@pytest.mark.parametrize(
    "text",
    [
        "a: !!str 1\n",  # an explicit tag
        "s: !!set {a, b}\n",
        "base: &b {x: 1}\nm: {<<: *b, y: 2}\n",  # a merge key
        "? [a, b]\n: 1\n",  # an unhashable key
        "a: *nowhere\n",  # an undefined alias
        "a: &x 1\nb: &x 2\n",  # a duplicate anchor
        "--- 1\n--- 2\n",  # two documents
        "n: " + "9" * 5000 + "\n",  # an integer Python refuses to read
        "a: [\n",  # a syntax error
        "[" * 150 + "]" * 150 + "\n",  # nesting the node tree decides about
        "when: 2024-13-01\n",  # a date with a 13th month
    ],
)
def test_anything_unusual_is_left_to_the_node_tree(text: str) -> None:
    with pytest.raises((_Unusual, yaml.YAMLError, ValueError)):
        events(text)

    def outcome(read: Any) -> tuple[str, Any]:
        try:
            return "value", repr(read(text))
        except Exception as exc:  # the node tree's error is the one reported
            return type(exc).__name__, (str(exc), getattr(exc, "line", None))

    assert outcome(load) == outcome(_load_nodes)


def test_problems_found_through_the_node_tree_keep_their_line() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_text("a: 1\nn: " + "9" * 5000 + "\n", "yaml", "big.yaml")
    ((location, message),) = info.value.problems
    assert location.line == 2
    assert "digits" in message
