"""Hostile flags files shared by the tests and ``benchmarks/bench_hostile.py``."""

from __future__ import annotations


def alias_bomb(levels: int = 7, fan_out: int = 10) -> str:
    """The issue's ~700-byte YAML file: each level an $or of ten aliases of the one below.

    Expanded, its last condition holds ``fan_out ** levels`` (ten million) conditions.
    """
    lines = ["gates:", "  bomb:", "    rules:", "      - when: &a0 {country: US}"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * fan_out)
        lines.append(f"      - when: &a{level} {{$or: [{refs}]}}")
    return "\n".join(lines) + "\n"
