"""Parsing flags files: libyaml's node tree to values, like ``yaml.safe_load``."""

from __future__ import annotations

import math

import pytest
import yaml

from flagport import ConfigurationError
from flagport.providers.local.parsing import parse_text


def test_yaml_merge_keys_may_override() -> None:
    text = "base: &b {weight: 50, name: a}\ngroup: {<<: *b, name: b}\n"
    data, repeated = parse_text(text, "yaml", "x")
    assert data["group"] == {"weight": 50, "name": "b"}
    assert repeated is False


TRICKY_YAML = """\
strings: [plain, "quoted", 'single', "007", "yes", ~text, "", 'it''s']
ints: [0, 7, 10, -3, +4, 1_000, 0x1F, 0o17, 017, 1:30]
floats: [1.5, -0.25, 1e3, .inf, -.Inf, .nan, 1_0.5]
bools: [yes, No, TRUE, false, on, OFF, y, n]
nulls: [~, null, Null, ]
empty_map: {}
nested: {a: {b: [1, {c: d}]}, "e f": 2}
anchors: &shared {x: 1, y: [2, 3]}
alias: *shared
merged: {<<: *shared, y: 4}
stamp: 2024-01-02
block: |
  two
  lines
folded: >
  one
  line
3: numeric key
"""


def test_fast_yaml_builder_matches_safe_load() -> None:
    ours, repeated = parse_text(TRICKY_YAML, "yaml", "tricky.yaml")
    theirs = yaml.safe_load(TRICKY_YAML)
    assert repeated is False
    nan_ours, nan_theirs = ours["floats"].pop(5), theirs["floats"].pop(5)
    assert math.isnan(nan_ours)
    assert math.isnan(nan_theirs)
    assert ours == theirs
    assert [type(v) for v in ours["ints"]] == [type(v) for v in theirs["ints"]]


def test_unhashable_yaml_key_is_a_syntax_problem() -> None:
    with pytest.raises(ConfigurationError, match="unhashable key"):
        parse_text("? [a, b]\n: 1\n", "yaml", "bad.yaml")
