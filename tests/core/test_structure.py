"""Measures of the code's shape that anyone can run: import cycles, module sizes, import cost.

These read the source of every distribution of the workspace (``core``, ``providers/*``,
``contrib/*``), so a new module is covered without being listed here.
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = sorted(
    [ROOT / "core" / "src", *ROOT.glob("providers/*/src"), *ROOT.glob("contrib/*/src")]
)
MAX_LINES = 500

# Modules over MAX_LINES today, each with its line count as a ceiling: they may shrink,
# never grow. Split one below MAX_LINES, then delete its line (the test says so).
# (issue 14 "Done when": no module over 500 lines.)
LARGE_MODULES = {}


def source_files() -> Iterator[tuple[str, Path]]:
    """Every module of every distribution, as (dotted name, path)."""
    for root in SOURCE_ROOTS:
        for path in sorted(root.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _all_statements(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, in functions too, except under ``if TYPE_CHECKING:``."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _all_statements(node.orelse)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                yield from _all_statements(getattr(node, field, []))


def _import_time_statements(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements run when the module is imported.

    Function bodies run later and ``if TYPE_CHECKING:`` never, so both are left out;
    class bodies, ``try`` and other ``if`` blocks run at import and are walked.
    """
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _import_time_statements(node.body)
            yield from _import_time_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _import_time_statements(block)
            for handler in node.handlers:
                yield from _import_time_statements(handler.body)
        elif isinstance(node, ast.With | ast.ClassDef):
            yield from _import_time_statements(node.body)


def import_graph(*, deferred: bool = False) -> dict[str, set[str]]:
    """Module -> the first-party modules its import-time statements import.

    With ``deferred``, imports inside functions count too.

    ``from a.b import c`` depends on ``a.b.c`` when that is a module, else on ``a.b``
    (whose ``__init__`` must define ``c``). The parent packages Python initialises on the
    way are not counted: every module would otherwise depend on its package's
    ``__init__``.
    """
    modules = dict(source_files())
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        edges: set[str] = set()
        statements = _all_statements if deferred else _import_time_statements
        for node in statements(ast.parse(path.read_text(), str(path)).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                submodules = [f"{base}.{alias.name}" for alias in node.names]
                targets = [m if m in modules else base for m in submodules]
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of ``graph`` that has one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_one_cycle(graph, set(c)) for c in components]


def _one_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module, as a path back to it."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & component):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def test_the_graph_sees_imports() -> None:
    graph = import_graph()
    assert len(graph) > 50
    assert "flagport.hookspecs" in graph["flagport.observers"]
    assert "flagport.errors" in graph["flagport.plugins"]
    # only under TYPE_CHECKING there
    assert "flagport.results" not in graph["flagport.hookspecs"]


def test_cycle_finder_reports_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]


def test_no_import_cycles() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles (module-level imports):\n" + "\n".join(
        " -> ".join(cycle) for cycle in cycles
    )


# Pairs of modules that import each other, one of them inside a function to dodge the
# cycle at import time. Each is a design knot (the two are one concern, or a third module
# is missing); untie one, then delete its line. Others must not appear.
MUTUAL_IMPORTS: set[tuple[str, str]] = set()


def test_no_two_modules_import_each_other_even_inside_functions() -> None:
    graph = import_graph(deferred=True)
    mutual = {tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph[b]}
    new = sorted(mutual - MUTUAL_IMPORTS)
    assert not new, f"modules importing each other (one inside a function): {new}"
    untied = sorted(MUTUAL_IMPORTS - mutual)
    assert not untied, f"no longer import each other, delete from MUTUAL_IMPORTS: {untied}"


def test_no_module_over_the_size_limit() -> None:
    problems, stale = [], []
    for _, path in source_files():
        relative = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text().splitlines())
        ceiling = LARGE_MODULES.get(relative)
        if ceiling is None and lines > MAX_LINES:
            problems.append(f"{relative}: {lines} lines (limit {MAX_LINES}); split it")
        elif ceiling is not None and lines > ceiling:
            problems.append(f"{relative}: {lines} lines, grown past its ceiling {ceiling}")
        elif ceiling is not None and lines <= MAX_LINES:
            stale.append(f"{relative} ({lines} lines)")
    stale += [f"{m} (gone)" for m in LARGE_MODULES if not (ROOT / m).exists()]
    problems += [f"{m}: now within the limit; delete it from LARGE_MODULES" for m in stale]
    assert not problems, "\n".join(problems)


_PROBE = """
import json, sys, threading
import flagport
print(json.dumps({
    "modules": sorted(sys.modules),
    "threads": [(t.name, t.daemon) for t in threading.enumerate()],
    "active": threading.active_count(),
}))
"""

# Vendor SDKs load with their provider; click and rich with the CLI; pydantic (its models
# cost more than the rest of a cold start) with the first public name used.
FORBIDDEN_AT_IMPORT = ("statsig_python_core", "growthbook", "fbclient", "openfeature")
FORBIDDEN_AT_IMPORT += ("click", "rich", "pydantic", "pluggy", "yaml")
# The URL source's dependencies (the ``url`` extra) load when a provider reads a URL.
FORBIDDEN_AT_IMPORT += ("httpx", "filelock", "cryptography")


def _run_json(script: str) -> Any:
    """Run ``script`` in a fresh interpreter from the repository root; its JSON output."""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def after_import() -> dict[str, object]:
    """What a fresh ``python -c "import flagport"`` has loaded and started."""
    result: dict[str, object] = _run_json(_PROBE)
    return result


@pytest.mark.parametrize("package", FORBIDDEN_AT_IMPORT)
def test_import_flagport_does_not_import(after_import: dict[str, object], package: str) -> None:
    modules = after_import["modules"]
    assert isinstance(modules, list)
    loaded = [m for m in modules if m == package or m.startswith(f"{package}.")]
    assert not loaded, f"import flagport imported {loaded}"


def test_every_public_name_is_the_defining_module_s_object() -> None:
    # ``import flagport`` imports each public name on first use (``flagport.__getattr__``).
    import flagport

    lazy = flagport._LAZY
    assert set(lazy) | {"current_user", "scope"} == set(flagport.__all__)
    for name, module in lazy.items():
        assert getattr(flagport, name) is getattr(importlib.import_module(module), name), name
    assert set(flagport.__all__) <= set(dir(flagport))
    assert flagport.scope.__name__ == "scope"  # the function, not the submodule
    with pytest.raises(AttributeError, match="has no attribute 'Flagprot'"):
        flagport.Flagprot  # noqa: B018


def test_import_flagport_starts_no_thread(after_import: dict[str, object]) -> None:
    assert after_import["threads"] == [["MainThread", False]]
    assert after_import["active"] == 1


_FIRST_EVALUATION = """
import json, sys
import flagport
from flagport.plugins import provider_registry
with flagport.Flagport(provider="local", path="examples/flags.yaml", watch=False) as fp:
    fp.check_gate(flagport.User(user_id="42"), "new_checkout")
print(json.dumps({"modules": sorted(sys.modules), "providers": sorted(provider_registry())}))
"""


@functools.cache
def _first_evaluation_modules() -> frozenset[str]:
    return frozenset(_run_json(_FIRST_EVALUATION)["modules"])


def test_a_local_evaluation_imports_no_vendor_sdk() -> None:
    """Every installed provider is registered, and only the selected one is imported."""
    seen = _run_json(_FIRST_EVALUATION)
    assert {"featbit", "growthbook", "local", "openfeature", "statsig"} <= set(seen["providers"])
    vendors = ("statsig_python_core", "growthbook", "fbclient", "openfeature")
    loaded = [m for m in seen["modules"] if m.split(".")[0] in vendors]
    assert not loaded, f"a local evaluation imported {loaded[:5]}"


def test_a_sync_first_evaluation_imports_neither_asyncio_nor_the_sticky_engine() -> None:
    # asyncio (with ssl and subprocess) is for async programs and sticky stores; a
    # synchronous cold start without stickiness pays for neither.
    modules = _run_json(_FIRST_EVALUATION)["modules"]
    assert "flagport.providers.local.provider" in modules
    assert [m for m in modules if m.split(".")[0] in {"asyncio", "ssl"}] == []
    assert "flagport.sticky.engine" not in modules


# What a first local evaluation of a file that does not need it leaves unloaded: each is
# milliseconds of a cold start (benchmarks/bench_cold_start.py).
NOT_LOADED_BY_A_FIRST_EVALUATION = {
    "re2": "RE2 loads with a file's first regular expression",
    "flagport.providers.local.regex_cost": "the pattern cost parser, with RE2",
    "flagport.events.model": "the Event model is built with the first event object",
    "flagport.providers.passall.provider": "passall (its options model) is registered by reference",
    "flagport.sticky.settings": "the [sticky] section's model, built when sticky is configured",
    "flagport.sticky.store": "the sticky stores, imported when sticky is configured",
    "concurrent.futures": "a provider starts in the background only on an event loop's thread",
    "difflib": "'did you mean' suggestions import it with the first typo",
    "flagport_opentelemetry.options": "the [opentelemetry] model, built when it is configured",
}


@pytest.mark.parametrize("module", sorted(NOT_LOADED_BY_A_FIRST_EVALUATION))
def test_a_first_evaluation_leaves_unloaded_what_the_file_does_not_need(module: str) -> None:
    modules = _first_evaluation_modules()
    assert "flagport.providers.local.provider" in modules
    assert module not in modules, NOT_LOADED_BY_A_FIRST_EVALUATION[module]


# Models a first local evaluation defines but does not build (pydantic's defer_build):
# a base class, and settings nobody set (their defaults need no validation).
NOT_BUILT_BY_A_FIRST_EVALUATION = (
    "flagport.events.settings:EventSettings",
    "flagport.providers.local.url_options:UrlOptions",
    "flagport.providers.local.rule_models:RuleDef",
)
_BUILT = """
import json, sys, flagport
from flagport.imports import import_object
with flagport.Flagport(provider="local", path="examples/flags.yaml", watch=False) as fp:
    fp.check_gate(flagport.User(user_id="42"), "new_checkout")
    built = [import_object(m).__pydantic_complete__ for m in {models}]
    passall = "PassAllOptions" in vars(sys.modules["flagport.providers.passall"])
    defaults = fp.event_settings == import_object("flagport.events.settings:EventSettings")()
print(json.dumps([defaults, passall, *built]))
"""


def test_a_first_evaluation_builds_no_model_it_does_not_validate() -> None:
    found = _run_json(_BUILT.replace("{models}", repr(NOT_BUILT_BY_A_FIRST_EVALUATION)))
    defaults, passall, *built = found
    assert defaults is True  # the client's event settings are the validated defaults
    assert passall is False  # the passall plugin is loaded, its options model is not
    assert dict(zip(NOT_BUILT_BY_A_FIRST_EVALUATION, built, strict=True)) == dict.fromkeys(
        NOT_BUILT_BY_A_FIRST_EVALUATION, False
    )


# The modules whose pydantic models a first local evaluation builds from annotations
# Python evaluated (no ``from __future__ import annotations``): pydantic would otherwise
# compile and evaluate each annotation's text, about 1.5 ms of a cold start for these.
EVALUATED_ANNOTATIONS = ("flagport.providers.local.models", "flagport.providers.local.rule_models")


@pytest.mark.parametrize("module", EVALUATED_ANNOTATIONS)
def test_the_flags_file_models_are_built_from_evaluated_annotations(module: str) -> None:
    models = [
        value
        for value in vars(importlib.import_module(module)).values()
        if isinstance(value, type)
        and value.__module__ == module
        and "__annotations__" in vars(value)
    ]
    assert len(models) > 3
    text = {
        m.__name__: n for m in models for n, a in m.__annotations__.items() if isinstance(a, str)
    }
    assert text == {}, f"{module}: annotations left as text (from __future__ import annotations?)"


def test_a_regular_expression_still_loads_re2() -> None:
    code = (
        "import json, sys, flagport\n"
        "fp = flagport.Flagport(provider='local', watch=False, flags={'gates': {'g': "
        "{'rules': [{'when': {'email': {'$regex': '@example\\\\.com$'}}}]}}})\n"
        "print(json.dumps([fp.check_gate({'user_id': '1', 'email': 'a@example.com'}, 'g'),"
        " 're2' in sys.modules]))\n"
    )
    assert _run_json(code) == [True, True]


_WATCHED_EVALUATION = """
import json, sys, threading
import flagport
fp = flagport.Flagport(provider="local", path="examples/flags.yaml", reload_interval=60)
fp.check_gate(flagport.User(user_id="42"), "new_checkout")
threads = [t.name for t in threading.enumerate()]
print(json.dumps({"modules": sorted(sys.modules), "threads": threads}))
fp.shutdown()
"""


def test_a_first_evaluation_does_not_wait_for_the_file_watcher() -> None:
    # The watcher thread polls its first interval before importing watchfiles, so a
    # short-lived process's first answer does not share the CPU with that import.
    seen = _run_json(_WATCHED_EVALUATION)
    assert any(name.startswith("flagport-local-watch") for name in seen["threads"])
    assert [m for m in seen["modules"] if m.split(".")[0] == "watchfiles"] == []


_OTHER_PROVIDER = """
import json, sys
import flagport
with flagport.Flagport(provider="passall") as fp:
    fp.check_gate(flagport.User(user_id="42"), "new_checkout")
print(json.dumps(sorted(sys.modules)))
"""


def test_a_client_of_another_provider_does_not_import_the_built_in_providers() -> None:
    # The local and migration providers are registered by reference (``"module:Class"``),
    # like a vendor's: a passall client loads neither, nor YAML.
    modules = _run_json(_OTHER_PROVIDER)
    built_in = [
        m
        for m in modules
        if m.startswith(("flagport.providers.local.", "flagport.providers.migration."))
        and not m.endswith(".plugin")
    ]
    assert built_in == []
    assert "yaml" not in modules


_JSON_EVALUATION = """
import json, sys, tempfile
from pathlib import Path
import flagport
folder = Path(tempfile.mkdtemp())
(folder / "flagport.toml").write_text('provider = "local"\\n[local]\\npath = "flags.json"\\n')
(folder / "flags.json").write_text('{"gates": {"g": {"rules": [{"id": "all"}]}}}')
settings = flagport.settings.load_settings(cwd=folder, environ={})
with flagport.Flagport(settings.provider, watch=False, **settings.options) as fp:
    assert fp.check_gate(flagport.User(user_id="42"), "g") is True
print(json.dumps(sorted(sys.modules)))
"""


def test_reading_toml_settings_and_a_json_flags_file_imports_no_yaml() -> None:
    # YAML is imported by the document reader only for a YAML document.
    modules = _run_json(_JSON_EVALUATION)
    assert "flagport.providers.local.provider" in modules
    assert [m for m in modules if m.split(".")[0] == "yaml"] == []


# The flagport modules that compile a regular expression during a first evaluation of
# examples/flags.yaml from this repository, and why: each is a cold start's time. One
# that stops may be deleted here; a new one must compile on first use instead.
PATTERNS_OF_A_FIRST_EVALUATION = {
    "flagport._documents_yaml": "the file holds a float",
    "flagport._redact": "secret-named keys, compiled at import (masking)",
    "flagport.providers.local.conditions.statsig": "numbers as Statsig reads them, at import",
    "flagport.providers.local.conditions.timing": "timestamps, at import",
    "flagport.providers.local.versions": "version strings, at import ($vgte in the file)",
    "flagport.settings_files": "whether this repository's pyproject.toml defines [tool.flagport]",
}
_RECORD_PATTERNS = """
import json, os, re._compiler, sys
compiled = set()
_compile = re._compiler.compile

def recording(pattern, flags=0):
    frame = sys._getframe(1)
    while frame is not None and os.sep + "re" + os.sep in frame.f_code.co_filename:
        frame = frame.f_back
    if frame is not None and frame.f_globals.get("__name__", "").startswith("flagport"):
        compiled.add(frame.f_globals["__name__"])
    return _compile(pattern, flags)

re._compiler.compile = recording
import flagport
with flagport.Flagport(provider="local", path="examples/flags.yaml", watch=False) as fp:
    fp.check_gate(flagport.User(user_id="42"), "new_checkout")
print(json.dumps(sorted(compiled)))
"""


def test_a_first_evaluation_compiles_only_the_patterns_it_uses() -> None:
    # The document reader's patterns serve only a problem's line (and TOML's, with
    # tomllib, only a TOML document): a first evaluation of a good file compiles none.
    compiled = set(_run_json(_RECORD_PATTERNS))
    assert "flagport.providers.local.versions" in compiled  # the probe sees compiles
    new = sorted(compiled - set(PATTERNS_OF_A_FIRST_EVALUATION))
    assert not new, f"compile these patterns on first use (re caches them): {new}"


_DEPENDENCY_ONLY_PROJECT = """
import json, os, sys, tempfile
from pathlib import Path
flags = str(Path("examples/flags.yaml").resolve())
os.chdir(tempfile.mkdtemp())
Path("pyproject.toml").write_text(
    '[project]\\nname = "app"\\ndependencies = ["flagport>=1.0"]\\n'
    '[tool.ruff]\\nline-length = 100\\n'
)
import flagport
with flagport.Flagport(path=flags, watch=False) as fp:
    assert fp.check_gate(flagport.User(user_id="42", country="US"), "new_checkout") is True
    print(json.dumps([fp.provider_name, sorted(sys.modules)]))
"""


def test_a_project_naming_flagport_only_as_a_dependency_parses_no_toml() -> None:
    # Its pyproject.toml cannot hold [tool.flagport]: no TOML parser is imported for it.
    provider, modules = _run_json(_DEPENDENCY_ONLY_PROJECT)
    assert provider == "local"
    assert "flagport.providers.local.provider" in modules
    assert [m for m in modules if m.split(".")[0] == "tomllib"] == []


def test_a_first_evaluation_reads_no_plugin_metadata() -> None:
    # A plugin's distribution and version are read (parsing its metadata file with the
    # email parser) only when shown: in an error or by `flagport providers`.
    seen = _run_json(_FIRST_EVALUATION)
    assert "statsig" in seen["providers"]
    assert "email.parser" not in seen["modules"]


@pytest.mark.parametrize(
    ("old_module", "name"),
    [
        ("flagport.local", "LocalProvider"),
        ("flagport.local", "LocalOptions"),
        ("flagport.migration", "MigrationProvider"),
        ("flagport.migration", "MigrationOptions"),
        ("flagport.migration", "Stage"),
    ],
)
def test_built_in_providers_moved_under_flagport_providers_and_old_paths_warn(
    old_module: str, name: str
) -> None:
    new_module = old_module.replace("flagport.", "flagport.providers.")
    old = importlib.import_module(old_module)
    with pytest.warns(DeprecationWarning, match=rf"{old_module}\.{name} is deprecated"):
        moved = getattr(old, name)
    assert moved is getattr(importlib.import_module(new_module), name)


def test_a_submodule_resolves_as_an_attribute_of_the_lazy_package() -> None:
    # Before the package became lazy, `import flagport` imported flagport.settings with
    # the client; code reaching it as an attribute keeps working.
    code = "import flagport; print(flagport.settings.load_settings.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "load_settings"


_BUILTIN_DEFAULT_FACTORIES = """
import inspect, json, sys
import flagport
from pydantic import BaseModel
with flagport.Flagport(provider="local", path="examples/flags.yaml", watch=False) as fp:
    fp.check_gate(flagport.User(user_id="42"), "new_checkout")

def models(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from models(sub)

found = sorted(
    f"{model.__module__}.{model.__qualname__}.{name}"
    for model in set(models(BaseModel))
    if model.__module__.startswith("flagport")
    for name, info in model.model_fields.items()
    if isinstance(info.default_factory, type) or inspect.isbuiltin(info.default_factory)
)
print(json.dumps(found))
"""


def test_the_first_evaluation_s_models_have_no_builtin_default_factory() -> None:
    # pydantic reads a default factory's signature; a builtin's is parsed with tokenize,
    # whose first use costs a cold start ~4 ms (flagport._field_defaults).
    assert _run_json(_BUILTIN_DEFAULT_FACTORIES) == []
