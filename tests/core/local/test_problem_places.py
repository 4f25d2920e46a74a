"""Problems point at the right line whatever a name holds, and each bad value is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_flags import alias_bomb

from flagport import ConfigurationError
from flagport.providers.local.limits import MAX_VALUE_PROBLEMS
from flagport.providers.local.loader import load_file


def problems_of(tmp_path: Path, name: str, text: str) -> list[tuple[int | None, str, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_file(path)
    return [(where.line, where.path, message) for where, message in info.value.problems]


BAD_RULE = "{x: {$bogus: 1}}"


@pytest.mark.parametrize("flag", ["a[b]", "a[0]", "a.b", "a[0].b[1]", "[0]"])
@pytest.mark.parametrize("fmt", ["yaml", "json", "toml"])
def test_a_name_with_brackets_or_dots_is_found_on_its_line(
    tmp_path: Path, flag: str, fmt: str
) -> None:
    # The path shows the name as written (gates.a[0].rules[0]...); read back as path
    # syntax, its brackets were list indexes and the problem pointed at line 2.
    if fmt == "yaml":
        text = (
            f'version: 1\ngates:\n  ok:\n    rules: []\n  "{flag}":\n'
            f"    rules:\n      - when: {BAD_RULE}\n"
        )
        line = 7
    elif fmt == "json":
        text = (
            '{"version": 1, "gates": {"ok": {"rules": []},\n'
            f'"{flag}": {{"rules": [\n{{"when": {{"x": {{"$bogus": 1}}}}}}]}}}}}}\n'
        )
        line = 3
    else:
        text = (
            f'version = 1\n[gates.ok]\nrules = []\n[gates."{flag}"]\n'
            'rules = [{when = {x = {"$bogus" = 1}}}]\n'
        )
        line = 5
    [(found, path, message)] = problems_of(tmp_path, f"flags.{fmt}", text)
    assert path == f"gates.{flag}.rules[0].when.x.$bogus"
    assert "$bogus" in message
    assert found == line


def test_an_attribute_path_with_brackets_is_found_on_its_line(tmp_path: Path) -> None:
    text = (
        "version: 1\ngates:\n  g:\n    rules:\n      - when: {plan: pro}\n"
        '      - when:\n          plan: pro\n          "tags[0]": {$bogus: 1}\n'
    )
    [(found, path, _)] = problems_of(tmp_path, "flags.yaml", text)
    assert (found, path) == (8, "gates.g.rules[1].when.tags[0].$bogus")


def test_every_non_finite_number_is_reported_with_its_place(tmp_path: Path) -> None:
    text = (
        "version: 1\nconfigs:\n  c:\n    default: {a: .inf, b: [1, .nan, -.inf]}\n"
        "    rules:\n      - when: {x: .nan, y: {$in: [.inf]}}\n        value: {z: .inf}\n"
    )
    found = problems_of(tmp_path, "flags.yaml", text)
    assert [(line, path) for line, path, _ in found] == [
        (4, "configs.c.default.a"),
        (4, "configs.c.default.b[1]"),
        (4, "configs.c.default.b[2]"),
        (6, "configs.c.rules[0].when.x"),
        (6, "configs.c.rules[0].when.y.$in[0]"),
        (7, "configs.c.rules[0].value.z"),
    ]
    assert all("not a finite number" in message for *_, message in found)


def test_a_value_with_a_non_finite_number_is_refused_at_each_alias(tmp_path: Path) -> None:
    # The audit memoises what it walked; a value holding .inf must not be memoised as
    # fine, or its second use (an alias) would be served.
    text = "version: 1\nconfigs:\n  a:\n    default: &bad {x: [.inf]}\n  b:\n    default: *bad\n"
    found = problems_of(tmp_path, "flags.yaml", text)
    assert [path for _, path, _ in found] == ["configs.a.default.x[0]", "configs.b.default.x[0]"]


def test_non_finite_numbers_behind_aliases_are_reported_a_bounded_number_of_times(
    tmp_path: Path,
) -> None:
    # Ten million copies of .inf once expanded: reported up to the limit, then once more
    # to say there are more, without walking the expansion.
    text = alias_bomb().replace("{country: US}", "{country: .inf}")
    found = problems_of(tmp_path, "flags.yaml", text)
    assert len(found) == MAX_VALUE_PROBLEMS + 1
    assert f"more than {MAX_VALUE_PROBLEMS} values" in found[-1][2]
    assert all("not a finite number" in message for *_, message in found[:-1])
