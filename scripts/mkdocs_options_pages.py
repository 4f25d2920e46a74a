"""mkdocs hook: one reference page per provider, generated from its pydantic options model.

The pages (``options/<provider>.md``) exist only in the built site, written from the
models every time the site is built, so they cannot drift from what the providers
validate. ``mkdocs.yml`` lists them in its navigation; a test checks that every
installed provider has a page there.
"""

from __future__ import annotations

from typing import Any

from flagport.plugins import provider_registry
from flagport.providers.local.reference import fields_table

FOLDER = "options"


def _inline_enums(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace references to enumerations by the enumeration, so the table shows the values."""
    defs = schema.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            target = defs.get(str(node.get("$ref", "")).rsplit("/", 1)[-1])
            if target is not None and "enum" in target:
                return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return {key: inline(value) for key, value in schema.items() if key != "$defs"}


def options_page(name: str) -> str:
    """The Markdown reference page of provider ``name``'s options."""
    info = provider_registry()[name]
    model = info.provider_class.Options
    schema = _inline_enums(model.model_json_schema())
    env = f"FLAGPORT_{name.upper()}_<OPTION>"
    lines = [
        f"# `{name}` options",
        "",
        f"Provider `{name}`, from the distribution `{info.distribution}`.",
        "",
        f'Give each option as an argument (`Flagport(provider="{name}", option=...)`), as '
        f"`{env}` in the environment, or under `[{name}]` in `flagport.toml` "
        f"(`[tool.flagport.{name}]` in `pyproject.toml`). An unknown or ill-typed option "
        "is a `ConfigurationError` when the client is built.",
        "",
        *fields_table(schema, heading="option"),
        "",
        f"Generated from `{model.__module__}.{model.__qualname__}`.",
        "",
    ]
    return "\n".join(lines)


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages to the site's files (mkdocs ``on_files`` event)."""
    from mkdocs.structure.files import File

    for name in provider_registry():
        files.append(File.generated(config, f"{FOLDER}/{name}.md", content=options_page(name)))
    return files
