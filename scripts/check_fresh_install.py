"""Install flagport the way a user does, from freshly built wheels, and use it.

1. Builds every workspace member (wheel and sdist) and checks each archive carries the
   licence.
2. Creates a virtual environment in a temporary directory outside the repository and
   pip-installs ``flagport[growthbook]`` and ``pytest-flagport`` from those wheels only
   (third-party dependencies come from the normal package index), plus mypy.
3. There, runs the README's 30-second example, ``flagport providers``, plain
   ``mypy --strict`` (no plugin) on that example and on ``examples/typed_app``, and the
   typed app's pytest suite, which uses the ``flagport`` fixture.

Run: ``python3 scripts/check_fresh_install.py`` (needs uv, or ``pip install uv``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTIONS = ["flagport", "flagport-growthbook", "pytest-flagport"]


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    command = [str(a) for a in args]
    print("$", " ".join(command), flush=True)
    result = subprocess.run(
        command, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}")
    return result.stdout


def check(condition: object, message: str) -> None:
    if not condition:
        sys.exit(message)


def uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def build(dist: Path) -> None:
    run(*uv(), "build", "--all-packages", "--out-dir", dist, cwd=ROOT)
    archives = sorted(dist.glob("*.whl")) + sorted(dist.glob("*.tar.gz"))
    check(len(archives) == 20, f"expected 10 wheels and 10 sdists, got {archives}")
    for archive in archives:
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as wheel:
                ok = any(re.search(r"\.dist-info/licenses/LICENSE$", n) for n in wheel.namelist())
        else:
            with tarfile.open(archive) as sdist:
                ok = any(re.fullmatch(r"[^/]+/LICENSE", n) for n in sdist.getnames())
        if not ok:
            sys.exit(f"{archive.name} does not contain LICENSE")
    print(f"{len(archives)} archives, each with its LICENSE")


def clean_environment() -> dict[str, str]:
    """The environment without the repository's virtual environment or flagport settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"}
        and not key.startswith("FLAGPORT_")
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## 30 seconds of code")
    match = re.search(r"```python\n(.*?)```", text[start:], re.DOTALL)
    if match is None:
        sys.exit("README.md: no Python block under '30 seconds of code'")
    return match.group(1)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="flagport-fresh-") as tmp:
        base = Path(tmp)
        if base.resolve().is_relative_to(ROOT):
            sys.exit("the temporary directory must be outside the repository")
        dist, venv, work = base / "dist", base / "venv", base / "user"
        build(dist)
        env = clean_environment()
        run(sys.executable, "-m", "venv", venv, env=env)
        python, bindir = venv / "bin" / "python", venv / "bin"
        pip = [python, "-m", "pip", "install", "--quiet"]
        # Ours from the wheels only, never from an index that might hold a namesake ...
        run(*pip, "--no-index", "--no-deps", "--find-links", dist, *DISTRIBUTIONS, env=env)
        # ... then what they need, from the index.
        run(*pip, "--find-links", dist, "flagport[growthbook]", "pytest-flagport", "mypy", env=env)
        run(python, "-m", "pip", "check", env=env)

        # The user's project: the README's example and the typed app with its tests.
        (work / "examples").mkdir(parents=True)
        shutil.copy(ROOT / "examples" / "flags.yaml", work / "examples" / "flags.yaml")
        shutil.copytree(
            ROOT / "examples" / "typed_app",
            work / "examples" / "typed_app",
            ignore=shutil.ignore_patterns("__pycache__", ".*"),
        )
        (work / "readme_example.py").write_text(readme_example())
        (work / "mypy.ini").write_text("[mypy]\nstrict = True\n")  # no plugins

        run(python, "readme_example.py", cwd=work, env=env)
        providers = run(bindir / "flagport", "providers", cwd=work, env=env)
        check("growthbook" in providers, "flagport providers does not list growthbook")
        mypy = [python, "-m", "mypy", "--config-file"]
        run(*mypy, "mypy.ini", "readme_example.py", cwd=work, env=env)
        app = work / "examples" / "typed_app"
        run(*mypy, "mypy.ini", ".", cwd=app, env=env)
        out = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=app, env=env)
        check(re.search(r"\b\d+ passed\b", out) and "failed" not in out, "the app's tests")
        print("fresh install: the README example, mypy --strict and the fixture all work")


if __name__ == "__main__":
    main()
