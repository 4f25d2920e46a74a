from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ofrep_http import FLAGS_YAML, OTHER_TOKEN, TOKEN

from flagport import Flagport
from flagport.ofrep import OfrepApp, ofrep_app


@pytest.fixture
def flags_path(tmp_path: Path) -> Path:
    path = tmp_path / "flags.yaml"
    path.write_text(FLAGS_YAML)
    return path


@pytest.fixture
def fp(flags_path: Path) -> Iterator[Flagport]:
    with Flagport(provider="local", path=str(flags_path), strict=False) as client:
        yield client


@pytest.fixture
def app(fp: Flagport) -> OfrepApp:
    return ofrep_app(fp, tokens=[TOKEN, OTHER_TOKEN])
