"""The README's examples run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "providers" / "growthbook" / "README.md"


@pytest.mark.timeout(30)
def test_loopback_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(b for b in blocks if "GrowthBookLoopback(" in b)
    namespace: dict[str, object] = {}
    exec(compile(example, str(README), "exec"), namespace)
    assert namespace["changed"]


def test_options_table_lists_every_option() -> None:
    from flagport_growthbook import GrowthBookOptions

    documented = set(re.findall(r"^\| `(\w+)` \|", README.read_text(), flags=re.M))
    options = set(GrowthBookOptions.model_fields)
    assert options <= documented, options - documented
