"""YAML for :mod:`flagport._documents`: values from libyaml's events, positions (and the
values of the rare documents the events path leaves to it) from libyaml's node tree.

Imported only when a YAML document is read, or when the line of a problem in a JSON
document is looked for (JSON is YAML, and libyaml's node tree keeps every node's
position): reading TOML or JSON imports no YAML.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

import yaml

from flagport._document_lines import INDEX, SyntaxProblem, key_ends, longest_first

__all__ = ["MERGE", "NodeIndex", "SafeDumper", "SafeLoader", "compose", "load"]

# libyaml's loader and dumper, unless PyYAML was imported again in this process
# (pytester's in-process runs, importlib.reload): the C extension is not re-initialised
# and keeps the first import's node and event classes, so every document then fails to
# load ("could not determine a constructor") or to dump ("expected SCALAR, ...").
_LIBYAML = getattr(getattr(yaml, "_yaml", None), "ScalarNode", None) is yaml.ScalarNode
SafeLoader: Any = yaml.CSafeLoader if _LIBYAML else yaml.SafeLoader
SafeDumper: Any = yaml.CSafeDumper if _LIBYAML else yaml.SafeDumper
MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_FLOAT = "tag:yaml.org,2002:float"
#: A float written as digits, a point and digits: Python reads it as PyYAML does.
#: (Compiled on first use, as ``re`` caches it: most flags files hold no float.)
_DECIMAL = r"[0-9]+\.[0-9]+"
_CONSTRUCT: Any = object()  # a scalar for PyYAML's constructor to build


class _ScalarError(ValueError):
    """A YAML scalar Python cannot build, with the line it is on."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _Builder:
    """Python values from a composed YAML node tree, like ``yaml.safe_load``, faster.

    PyYAML's constructor spends most of a large file's load time in generic
    machinery; plain strings, decimal integers, booleans, nulls, mappings and lists
    (all a flags file holds) are built directly here, and anything else (floats,
    octal or sexagesimal integers, timestamps, merge keys) is handed to PyYAML's own
    constructor. It also notes whether any mapping repeats a key: YAML silently keeps
    the last of two equal keys, so a gate defined twice would lose its first
    definition without a word; or has a key YAML reads as true, false or null (``on:``,
    ``no:``), served as "True", "False" or "None" where the text was meant.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.repeated = False
        self.built: dict[int, Any] = {}  # aliases share a node: build it once

    def value(self, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.scalar(node)
            except ValueError as exc:  # too many digits, a 13th month, ...
                raise _ScalarError(node.start_mark.line + 1, str(exc)) from None
        found = self.built.get(id(node))
        if found is not None:
            return found
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            items: list[Any] = []
            self.built[id(node)] = items
            items.extend(self.value(child) for child in node.value)
            return items
        if isinstance(node, yaml.MappingNode):
            # A tagged mapping (!!set) is PyYAML's to build, so the audit sees a set and
            # refuses it, instead of a mapping of nulls served as if it were written so.
            if node.tag != _MAP or any(key.tag == MERGE for key, _ in node.value):
                return self.loader.construct_object(node, deep=True)
            mapping: dict[Any, Any] = {}
            self.built[id(node)] = mapping
            for key_node, value_node in node.value:
                key = self.value(key_node)
                try:
                    hash(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        "while building a mapping",
                        node.start_mark,
                        "found an unhashable key",
                        key_node.start_mark,
                    ) from None
                if key in mapping or key is None or key.__class__ is bool:
                    self.repeated = True  # repeated_keys() says which
                mapping[key] = self.value(value_node)
            return mapping
        return self.loader.construct_object(node, deep=True)

    def scalar(self, node: Any) -> Any:
        value = self.plain(node.tag, node.value)
        if value is _CONSTRUCT:
            return self.loader.construct_object(node, deep=True)
        return value

    def plain(self, tag: str, text: str) -> Any:
        """The value of the scalar ``text`` of ``tag`` when it is one of the kinds built
        here, else :data:`_CONSTRUCT` (PyYAML's constructor builds it)."""
        if tag == _STR:
            return text
        if tag == _INT and text.isdigit() and (text[0] != "0" or text == "0"):
            return int(text)
        if tag == _FLOAT and re.fullmatch(_DECIMAL, text):
            return float(text)  # as PyYAML reads it: no sign, underscore, exponent or inf
        if tag == _BOOL:
            return self.loader.bool_values[text.lower()]
        if tag == _NULL:
            return None
        return _CONSTRUCT


def load(text: str) -> tuple[Any, bool]:
    """The values of a YAML text, and whether some mapping repeated a key.

    Read from libyaml's events (:class:`_EventBuilder`); a document that holds anything
    that path does not build is read again from the node tree, the reading that decides
    every value and every error.

    :raises SyntaxProblem: not valid YAML, with the line and column.
    :raises ValueError: a scalar Python cannot build (its ``line`` attribute says where).
    """
    loader = SafeLoader(text)
    try:
        return _EventBuilder(loader).document()
    except (_Unusual, yaml.YAMLError, ValueError):
        pass  # the node tree decides, and reports any error with its line
    finally:
        loader.dispose()
    return _load_nodes(text)


#: Deepest nesting composed into a node tree: libyaml 0.2.5 and later refuse deeper
#: documents themselves, older ones (PyYAML 6.0's wheels) compose them recursively in C
#: until the process crashes.
MAX_NESTING = 1000


def _check_nesting(text: str) -> None:
    """Refuse a document nested deeper than :data:`MAX_NESTING`, from its events (which
    libyaml produces without recursion), before anything composes it.

    :raises SyntaxProblem: too deep, with the line and column.
    """
    depth = 0
    loader = SafeLoader(text)
    try:
        while (event := loader.get_event()) is not None:
            kind = type(event)
            if kind is _MAPPING_START or kind is _SEQUENCE_START:
                depth += 1
                if depth > MAX_NESTING:
                    mark = event.start_mark
                    raise SyntaxProblem(
                        mark.line + 1,
                        f"nested deeper than {MAX_NESTING} levels (column {mark.column + 1})",
                    )
            elif kind is _MAPPING_END or kind is _SEQUENCE_END:
                depth -= 1
    except yaml.YAMLError:
        return  # composing reports it, with its line
    finally:
        loader.dispose()


def _load_nodes(text: str) -> tuple[Any, bool]:
    _check_nesting(text)
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, False
        builder = _Builder(loader)
        return builder.value(node), builder.repeated
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        detail = ", ".join(p for p in parts if p) or " ".join(str(exc).split())
        if mark is not None:
            detail += f" (column {mark.column + 1})"
        raise SyntaxProblem(mark.line + 1 if mark is not None else None, detail) from None
    finally:
        loader.dispose()


class _Unusual(Exception):
    """Something the event path leaves to the node tree: an explicit tag, a merge key,
    a collection as a key, an alias it cannot resolve, a second document, deep nesting."""


#: Deeper than this, the node tree decides (and reports nesting too deep to read).
_EVENT_DEPTH = 100
_FAST_TAGS = frozenset([None, "!"])


class _EventBuilder:
    """Python values straight from libyaml's events, for the documents flags files are.

    Composing the node tree costs a Python object (and two position marks) per node
    and a resolver call per scalar; the events are built anyway, so the values are
    taken from them. A plain scalar's value is worked out once per distinct text (the
    same text always resolves to the same immutable value), a quoted one is its text,
    and any other scalar goes through :class:`_Builder` (the same conversion, the same
    errors with their line). Anything else raises :class:`_Unusual`, so the node tree
    reads those documents as before.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.builder = _Builder(loader)
        self.plain: dict[str, Any] = {}  # plain scalar text -> its value

    def scalar(self, event: Any) -> Any:
        """The value of a scalar event that is not a plain one already seen."""
        if event.tag not in _FAST_TAGS:
            raise _Unusual
        text = event.value
        if not event.implicit[0]:
            return text  # quoted, or with the non-specific tag "!": a string
        tag = self.loader.resolve(yaml.ScalarNode, text, (True, False))
        value = self.builder.plain(tag, text)
        if value is not _CONSTRUCT:
            self.plain[text] = value
            return value
        if tag == MERGE:
            raise _Unusual
        # Timestamps, octal and sexagesimal numbers...: PyYAML's constructor, each time
        # (a timestamp's value is not worth remembering).
        node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
        return self.builder.value(node)

    def document(self) -> tuple[Any, bool]:
        """The single document's value and whether a mapping repeated a key."""
        get = self.loader.get_event
        get()  # the stream's start
        if isinstance(get(), yaml.StreamEndEvent):
            return None, False
        plain = self.plain
        anchors: dict[str, Any] = {}
        # The container being filled (None at the top), whether it is a mapping, the
        # key waiting for its value (or _KEY), and the same for those around it.
        into: Any = None
        is_mapping = False
        key: Any = _KEY
        around: list[tuple[Any, bool, Any]] = []
        repeated = False
        root: Any = None
        while True:
            event = get()
            kind = type(event)
            if kind is _SCALAR:
                if event.tag is None and event.implicit[0] and event.anchor is None:
                    value = plain.get(event.value, _CONSTRUCT)
                    if value is _CONSTRUCT:
                        value = self.scalar(event)
                else:
                    value = self.scalar(event)
                    if event.anchor is not None:
                        if event.anchor in anchors:
                            raise _Unusual  # a duplicate anchor: the node tree reports it
                        anchors[event.anchor] = value
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                if event.tag not in _FAST_TAGS or len(around) >= _EVENT_DEPTH:
                    raise _Unusual
                around.append((into, is_mapping, key))
                is_mapping = kind is _MAPPING_START
                into = {} if is_mapping else []
                key = _KEY
                if event.anchor is not None:
                    if event.anchor in anchors:
                        raise _Unusual
                    anchors[event.anchor] = into
                continue
            elif kind is _MAPPING_END or kind is _SEQUENCE_END:
                value = into
                into, is_mapping, key = around.pop()
            elif kind is yaml.AliasEvent:
                if event.anchor not in anchors:
                    raise _Unusual
                value = anchors[event.anchor]
            else:  # the document's end
                break
            if is_mapping:
                if key is _KEY:
                    if isinstance(value, list | dict):
                        raise _Unusual  # an unhashable key: the node tree reports it
                    key = value
                    continue
                if key in into or key is None or key.__class__ is bool:
                    repeated = True  # repeated_keys() says which
                into[key] = value
                key = _KEY
            elif into is not None:
                into.append(value)
            else:
                root = value
        if not isinstance(get(), yaml.StreamEndEvent):
            raise _Unusual  # a second document: the node tree reports it
        return root, repeated


_SCALAR = yaml.ScalarEvent
_MAPPING_START, _MAPPING_END = yaml.MappingStartEvent, yaml.MappingEndEvent
_SEQUENCE_START, _SEQUENCE_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_KEY: Any = object()  # a mapping's next scalar is a key


def compose(text: str) -> Any:
    """libyaml's node tree of a YAML or JSON text, or None when it cannot be composed."""
    try:
        _check_nesting(text)
        return yaml.compose(text, Loader=SafeLoader)
    except (yaml.YAMLError, RecursionError, SyntaxProblem):
        return None


_Keys = tuple[dict[str, tuple[Any, Any]], tuple[int, ...]]


class NodeIndex:
    """Lines of paths in a composed node tree, and the keys that repeat in it.

    :param root: the tree (:func:`compose`); None finds no line.
    """

    def __init__(self, root: Any) -> None:
        self.root = root
        self._keys: dict[int, _Keys] = {}

    def _mapping(self, node: Any) -> _Keys:
        # A mapping's keys by name (first occurrence) and their lengths, built once per
        # mapping: looking a path up is then a few dict lookups per step, even in a
        # mapping of 10,000 flags.
        found = self._keys.get(id(node))
        if found is None:
            names: dict[str, tuple[Any, Any]] = {}
            for key_node, value_node in node.value:
                names.setdefault(str(key_node.value), (key_node, value_node))
            found = self._keys[id(node)] = (names, longest_first(names))
        return found

    def line(self, path: str) -> int | None:
        """The line of the deepest part of ``path`` found in the tree."""
        node = self.root
        if node is None:
            return None
        line: int = node.start_mark.line + 1
        rest = path
        while rest:
            if isinstance(node, yaml.SequenceNode):
                index = re.match(INDEX, rest)
                if index is None or int(index.group(1)) >= len(node.value):
                    break
                node = node.value[int(index.group(1))]
                line = node.start_mark.line + 1
                rest = rest[index.end() :]
            elif isinstance(node, yaml.MappingNode):
                # Matched against the keys as written, the longest key that fits: the
                # path is the keys joined, so cutting it at brackets first would misread
                # a key with brackets as list indexes.
                keys, lengths = self._mapping(node)
                for end in key_ends(rest, lengths):
                    pair = keys.get(rest[:end])
                    if pair is not None:
                        line = pair[0].start_mark.line + 1
                        node = pair[1]
                        rest = rest[end:]
                        break
                else:
                    break
            else:
                break
            rest = rest.removeprefix(".")
        return line

    def repeated_keys(self) -> list[tuple[str, str]]:
        """Every key that repeats within one mapping, and every key YAML reads as true,
        false or null, with its path.

        Walks the whole tree, each node once: a node shared through aliases is reported
        at its first path.
        """
        if self.root is None:
            return [("", "a key appears twice in one mapping; only the last would be used")]
        problems: list[tuple[str, str]] = []
        # Breadth first, so a shared node is reported at its shortest path.
        pending: deque[tuple[Any, str]] = deque([(self.root, "")])
        # An alias shares its anchor's node: look at each node once, or a file of aliases
        # of aliases (or an alias inside its own anchor) would be walked without end.
        seen: set[int] = set()
        while pending:
            node, path = pending.popleft()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.SequenceNode):
                pending.extend((child, f"{path}[{i}]") for i, child in enumerate(node.value))
            elif isinstance(node, yaml.MappingNode):
                first: dict[Any, tuple[int, str]] = {}
                for key_node, value_node in node.value:
                    key = str(key_node.value)
                    here = f"{path}.{key}" if path else key
                    line = key_node.start_mark.line + 1
                    same = _key_identity(key_node)
                    if same[0] in (_BOOL, _NULL) and same not in first:
                        problems.append(
                            (
                                here,
                                f"the key {key!r} is read by YAML as {same[1]}, not as the text "
                                f"{key!r}: quote it to mean the text",
                            )
                        )
                    if same in first and key_node.tag != MERGE:
                        before, text = first[same]
                        lines = f"(lines {before} and {line}); only the last would be used"
                        problems.append(
                            (
                                here,
                                f"{key!r} appears twice here {lines}: remove or rename one"
                                if text == key
                                else f"{text!r} and {key!r} are one key to YAML, both read as "
                                f"{same[1]} {lines}: quote them to keep both as text, or "
                                "remove one",
                            )
                        )
                    else:
                        first[same] = (line, key)
                    pending.append((value_node, here))
        if not problems:  # keys YAML reads as one value from spellings not compared here
            problems.append(("", "a key appears twice in one mapping; only the last would be used"))
        return problems


def _key_identity(node: Any) -> tuple[str, str]:
    """What a key is to YAML, so ``on`` and ``yes`` (both true) or ``~`` and ``null``
    are one key, as they are in the mapping built; other kinds by their text."""
    text = str(node.value)
    if node.tag == _BOOL and text.lower() in yaml.SafeLoader.bool_values:
        return node.tag, str(yaml.SafeLoader.bool_values[text.lower()]).lower()
    if node.tag == _NULL:
        return node.tag, "null"
    return node.tag, text
