"""Each distribution carries what a package index shows: licence, description, metadata."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from flagport import ConfigurationError, Flagport

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = sorted(p.parent for p in ROOT.glob("*/**/pyproject.toml") if ".venv" not in p.parts)
PROJECT = "https://github.com/flagport/flagport"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def project(member: Path) -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((member / "pyproject.toml").read_text())["project"]
    return data


def test_every_member_is_found() -> None:
    assert {project(m)["name"] for m in MEMBERS} == {
        "flagport",
        "flagport-statsig",
        "flagport-growthbook",
        "flagport-featbit",
        "pytest-flagport",
        "flagport-openfeature",
        "flagport-opentelemetry",
        "flagport-django",
        "flagport-flask",
        "flagport-fastapi",
    }


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_the_licence_is_shipped_and_declared(member: Path) -> None:
    # hatchling puts license-files in the sdist and in the wheel's .dist-info/licenses/;
    # scripts/check_fresh_install.py lists the built archives.
    assert (member / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    meta = project(member)
    assert meta["license"] == "MIT"
    assert meta["license-files"] == ["LICENSE"]


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_the_metadata_a_package_index_shows(member: Path) -> None:
    meta = project(member)
    assert meta["requires-python"] == ">=3.11"
    assert meta["authors"] == [{"name": "flagport contributors"}]
    classifiers = meta["classifiers"]
    assert isinstance(classifiers, list)
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    urls = meta["urls"]
    assert isinstance(urls, dict)
    assert urls["Repository"] == PROJECT
    assert all(url.startswith(PROJECT) for url in urls.values())


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_the_long_description_has_links_that_work_on_a_package_index(member: Path) -> None:
    assert project(member)["readme"] == "README.md"
    text = (member / "README.md").read_text()
    assert len(text.splitlines()) > 20, "the README is the package's page: say what it is"
    for target in LINK.findall(text):
        assert target.startswith(("https://", "#")), f"{member.name}/README.md: {target}"
        if target.startswith((f"{PROJECT}/blob/main/", f"{PROJECT}/tree/main/")):
            path = target.split("/main/", 1)[1].split("#")[0]
            assert (ROOT / path).exists(), f"{member.name}/README.md links to missing {path}"


def test_the_extras_require_a_version_of_the_provider() -> None:
    core = project(ROOT / "core")
    extras = core["optional-dependencies"]
    assert isinstance(extras, dict)
    # The URL source's extra names third-party libraries, not a distribution of ours.
    assert extras.pop("url") == [
        "httpx>=0.28",
        "httpcore>=1.0",
        "filelock>=3.16",
        "cryptography>=44",
    ]
    versions = {project(m)["name"]: project(m)["version"] for m in MEMBERS}
    assert set(extras) == {"statsig", "growthbook", "featbit", "opentelemetry", "redis"}
    assert extras.pop("redis") == ["redis>=5.0.8"]  # the sticky store's client
    for extra, requirements in extras.items():
        assert requirements == [f"flagport-{extra}>={versions[f'flagport-{extra}']}"]


def test_an_empty_flags_file_points_at_what_is_installed(tmp_path: Path) -> None:
    (tmp_path / "flags.yaml").write_text("\n")
    with pytest.raises(ConfigurationError) as error:
        Flagport(provider="local", path=str(tmp_path / "flags.yaml"), watch=False).provider.start()
    assert "examples/" not in str(error.value)  # not shipped in any distribution
    assert "flagport schema" in str(error.value)


def test_ci_installs_from_the_wheels_and_tries_the_lowest_versions() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 scripts/check_fresh_install.py" in ci
    assert "scripts/check_lowest_bounds.sh" in ci
    assert os.access(ROOT / "scripts" / "check_lowest_bounds.sh", os.X_OK)


def test_shipped_code_points_at_no_file_of_the_repository_only() -> None:
    # Messages and --help texts reach users of the wheels, who have no examples/ folder.
    sources = [ROOT / "core" / "src", *ROOT.glob("providers/*/src"), *ROOT.glob("contrib/*/src")]
    mentions = [
        f"{path.relative_to(ROOT)}:{number}"
        for source in sources
        for path in source.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "examples/" in line
    ]
    assert mentions == []
