"""``flagport._model_fields``: the one walk over a model's field types, shared by secret
masking and the settings files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr

from flagport._model_fields import fields_marked, type_parts
from flagport._redact import secret_fields
from flagport.settings_files import PathOption, path_options


class _Mark:
    pass


def test_type_parts_walk_unions_generics_and_annotated_metadata() -> None:
    mark = _Mark()
    parts = list(type_parts(Annotated[str, mark] | list[int] | None))
    assert mark in parts
    assert str in parts
    assert int in parts
    assert type(None) in parts


class Options(BaseModel):
    plain: str = ""
    marked: Annotated[str, _Mark()] | None = None
    aliased: Annotated[int, _Mark()] = Field(default=0, alias="Aliased")
    token: SecretStr | None = None
    tokens: list[SecretStr] = []
    flagged: str = Field(default="", json_schema_extra={"secret": True})
    folder: Path | None = None
    bundle: Annotated[str, PathOption()] | None = None


def test_fields_marked_in_their_type_or_metadata_with_aliases() -> None:
    assert fields_marked(Options, lambda part: isinstance(part, _Mark)) == {
        "marked",
        "aliased",
        "Aliased",
    }


def test_secret_masking_and_path_options_ask_the_same_walk() -> None:
    assert secret_fields(Options) == {"token", "tokens", "flagged"}
    assert path_options(Options) == {"folder", "bundle"}
