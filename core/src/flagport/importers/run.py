"""One entry point over the three translations: read a vendor payload, translate, write.

:func:`import_payload` checks that the payload is the vendor's format (naming what was
expected and where it failed), runs the vendor's translation, says in each flag's
``description`` where it came from and, for a flag with parts left out, what was left
out. :func:`dump` writes the flags mapping as YAML, JSON or TOML with a stable layout:
the same payload gives byte-identical text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from flagport._documents_yaml import SafeDumper
from flagport.importers import Imported

__all__ = ["VENDORS", "PayloadError", "dump", "import_payload", "parse_payload"]

#: Vendor name -> what its payload is, for messages.
VENDORS: dict[str, str] = {
    "statsig": "Statsig's config-specs download (feature_gates, dynamic_configs)",
    "growthbook": "GrowthBook's SDK features payload (features or encryptedFeatures)",
    "featbit": "FeatBit's data-sync message (data.featureFlags)",
}
_ORIGIN = {
    ("statsig", "gates"): "Statsig feature gate",
    ("statsig", "configs"): "Statsig dynamic config",
    ("statsig", "experiments"): "Statsig experiment",
    ("growthbook", "gates"): "GrowthBook feature",
    ("growthbook", "experiments"): "GrowthBook feature",
    ("growthbook", "configs"): "GrowthBook feature",
    ("featbit", "experiments"): "FeatBit flag",
}
_SECTIONS = ("gates", "experiments", "configs")


class PayloadError(ValueError):
    """The payload is not the vendor's format; the message says where and what was expected."""


def parse_payload(vendor: str, text: str | bytes, source: str = "<payload>") -> dict[str, Any]:
    """Parse payload text as JSON, with the place of a syntax error (e.g. a truncated file)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"{source}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg}; a truncated download?); "
            f"expected {VENDORS[vendor]}"
        ) from None
    except UnicodeDecodeError as exc:
        raise PayloadError(f"{source}: not UTF-8 text ({exc.reason})") from None
    except RecursionError:  # a hostile payload: no vendor nests its payload this deep
        raise PayloadError(
            f"{source}: JSON nested too deeply to be a payload; expected {VENDORS[vendor]}"
        ) from None
    if not isinstance(data, dict):
        raise PayloadError(
            f"{source}: holds a JSON {type(data).__name__}, not an object; "
            f"expected {VENDORS[vendor]}"
        )
    return data


def import_payload(
    vendor: str,
    payload: Mapping[str, Any] | str | bytes,
    *,
    decryption_key: str | None = None,
    source: str = "<payload>",
) -> Imported:
    """Translate a vendor payload into a flags file mapping and the report of what was left out.

    :param vendor: ``statsig``, ``growthbook`` or ``featbit``.
    :param payload: the payload as parsed JSON or its text.
    :param decryption_key: GrowthBook's SDK connection key for ``encryptedFeatures``.
    :param source: where the payload came from, for messages.
    :raises PayloadError: the payload is not the vendor's format (the message says where).
    """
    if vendor not in VENDORS:
        raise PayloadError(f"unknown vendor {vendor!r}; expected one of {', '.join(VENDORS)}")
    data = (
        parse_payload(vendor, payload, source)
        if isinstance(payload, str | bytes)
        else dict(payload)
    )
    if vendor == "statsig":
        imported = _statsig(data, source)
    elif vendor == "growthbook":
        imported = _growthbook(data, source, decryption_key)
    else:
        imported = _featbit(data, source)
    _leave_out_what_does_not_load(imported)
    _describe(vendor, imported)
    return imported


def _leave_out_what_does_not_load(imported: Imported) -> None:
    """Leave out, with why, each flag the local provider would refuse to load.

    A vendor accepts what the flags file refuses (GrowthBook's ``$in`` with a number
    never matches; an empty feature key): written as translated, the whole file would
    fail to load and serve only defaults. Leaving a flag out can break one that refers
    to it, so the check runs again until the rest loads.

    :raises PayloadError: a problem belongs to no flag (the file as a whole).
    """
    from flagport.errors import ConfigurationError
    from flagport.providers.local.loader import load_mapping

    while True:
        try:
            load_mapping(imported.flags, source="the translated file")
            return
        except ConfigurationError as exc:
            problems = [(location.path, message) for location, message in exc.problems]
        for path, message in problems:
            section, name = _owner(imported.flags, path)
            if section is None:
                raise PayloadError(f"the translated file does not load: {path}: {message}")
            if imported.flags[section].pop(name, None) is not None:
                imported.leave_out(
                    name,
                    "",
                    f"not written: the flags file refuses what it translates to ({path}: "
                    f"{message})",
                )


def _owner(flags: Mapping[str, Any], path: str) -> tuple[str | None, str]:
    """The section and name of the flag a problem's path (``gates.a.b.rules[0]``) is in:
    the longest name that ends at a ``.`` or ``[`` of the path (names may hold dots)."""
    section, _, rest = path.partition(".")
    names = flags.get(section) if section in _SECTIONS else None
    if not isinstance(names, Mapping):
        return None, ""
    ends = [i for i, char in enumerate(rest) if char in ".["]
    for end in [len(rest), *reversed(ends)]:
        if rest[:end] in names:
            return section, rest[:end]
    return None, ""


def _expect(found: Any, kind: type, where: str, vendor: str) -> None:
    if not isinstance(found, kind):
        raise PayloadError(
            f"{where}: expected a JSON {'object' if kind is dict else 'array'}, found "
            f"{type(found).__name__}; expected {VENDORS[vendor]}"
        )


def _statsig(data: dict[str, Any], source: str) -> Imported:
    from flagport.importers.statsig import import_statsig

    if not any(k in data for k in ("feature_gates", "dynamic_configs")):
        raise PayloadError(
            f"{source}: no 'feature_gates' or 'dynamic_configs' at the top level; "
            f"expected {VENDORS['statsig']}"
        )
    version = data.get("response_format")
    if version is not None and version != "dcs-v2":
        raise PayloadError(
            f"{source}: response_format is {version!r}; expected 'dcs-v2' (the config specs "
            "the server SDK downloads)"
        )
    for key in ("feature_gates", "dynamic_configs", "layer_configs", "condition_map"):
        if isinstance(data.get(key), list):
            raise PayloadError(
                f"{source}: {key} is a list, which is the older config-specs schema; "
                "expected the dcs-v2 download where it maps each name to its spec"
            )
        if key in data:
            _expect(data[key], dict, f"{source}: {key}", "statsig")
    id_lists = data.get("id_lists")
    lists = (
        {k: v for k, v in id_lists.items() if isinstance(v, list)}
        if isinstance(id_lists, dict)
        else None
    )
    return import_statsig(data, lists or None)


def _growthbook(data: dict[str, Any], source: str, key: str | None) -> Imported:
    from flagport.importers.growthbook import import_features

    if "encryptedFeatures" in data:
        if not key:
            raise PayloadError(
                f"{source}: encryptedFeatures: the payload is encrypted; give the SDK "
                "connection's decryption key (--decryption-key)"
            )
        from growthbook import FeatureRepository

        decrypted = FeatureRepository().decrypt_response(dict(data), key)
        if not decrypted or not isinstance(decrypted.get("features"), dict):
            raise PayloadError(
                f"{source}: encryptedFeatures: cannot be decrypted with the key given; "
                "check --decryption-key"
            )
        data = decrypted
    if "features" not in data:
        raise PayloadError(
            f"{source}: no 'features' at the top level; expected {VENDORS['growthbook']}"
        )
    _expect(data["features"], dict, f"{source}: features", "growthbook")
    groups = data.get("savedGroups")
    if groups is not None:
        _expect(groups, dict, f"{source}: savedGroups", "growthbook")
    return import_features(data["features"], groups or None)


def _featbit(data: dict[str, Any], source: str) -> Imported:
    from flagport.importers.featbit import import_payload as featbit_import

    body = data.get("data", data)
    where = f"{source}: data" if "data" in data else source
    _expect(body, dict, where, "featbit")
    if "messageType" in data and data["messageType"] != "data-sync":
        raise PayloadError(
            f"{source}: messageType is {data['messageType']!r}; expected 'data-sync'"
        )
    if "featureFlags" not in body:
        raise PayloadError(f"{where}: no 'featureFlags'; expected {VENDORS['featbit']}")
    _expect(body["featureFlags"], list, f"{where}.featureFlags", "featbit")
    if body.get("eventType") not in (None, "full"):
        raise PayloadError(
            f"{where}.eventType is {body['eventType']!r}: a patch holds only the changed "
            "flags; export a full data-sync message (eventType 'full')"
        )
    return featbit_import(data)


def _describe(vendor: str, imported: Imported) -> None:
    """Say in each flag where it came from and what of it was left out."""
    left: dict[str, list[str]] = {}
    for item in imported.left_out:
        left.setdefault(item.flag, []).append(
            f"{item.where}: {item.reason}" if item.where else item.reason
        )
    for section in _SECTIONS:
        for name, flag in (imported.flags.get(section) or {}).items():
            if not isinstance(flag, dict):
                continue
            origin = imported.origins.get(name) or _ORIGIN.get((vendor, section), vendor)
            text = f"Imported from {origin} {name!r}."
            if flag.get("description"):
                text += f" {flag['description']}"
            if name in left:
                text += " LEFT OUT (not imported): " + "; ".join(left[name])
            flag["description"] = text


class _PlainDumper(SafeDumper):  # type: ignore[misc]
    """Writes a value met twice (a shared "never" condition) out again, not as ``&id001``."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(flags: Mapping[str, Any], path: str | Path, *, header: str = "") -> str:
    """The flags mapping as the text of ``path``'s format (by suffix: yaml/yml, json, toml).

    :param header: comment lines put first (YAML and TOML; JSON has no comments).
    :raises PayloadError: an unknown suffix, or a value TOML cannot hold (null).
    """
    suffix = Path(path).suffix.lower()
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    if suffix in (".yaml", ".yml"):
        # libyaml's dumper writes the same text about four times faster (5,000 flags: 16 s
        # -> 3.5 s); where libyaml cannot serve, PyYAML's own (see _documents_yaml).
        body = yaml.dump(
            dict(flags),
            Dumper=_PlainDumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
        return comment + body
    if suffix == ".json":
        return json.dumps(flags, indent=2, ensure_ascii=False) + "\n"
    if suffix == ".toml":
        import tomli_w

        try:
            return comment + tomli_w.dumps(dict(flags))
        except TypeError as exc:
            raise PayloadError(
                f"{path}: TOML cannot hold this file ({exc}; TOML has no null); "
                "write .yaml or .json instead"
            ) from None
    raise PayloadError(f"{path}: unknown suffix {suffix!r}; use .yaml, .yml, .json or .toml")
