#!/usr/bin/env bash
# Install every declared lower bound of the workspace's direct dependencies (each member's
# and the dev group's: `uv sync --resolution lowest-direct`) into an environment of its own,
# then run the test suite there. A bound that is too low fails here, not on a user's machine.
#
#   scripts/check_lowest_bounds.sh [pytest arguments]   (default: -n 2 -x -q)
#
# The resolution works on a copy of the repository's files in a temporary directory, so
# the working copy's uv.lock and .venv are left alone.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
if command -v uv >/dev/null 2>&1; then uv=(uv); else uv=(python3 -m uv); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/flagport-lowest.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Tracked and new files only: no .venv, uv.lock, caches or build output.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) \
    | (cd "$repo" && xargs -0 cp --parents -t "$work" 2>/dev/null || true)
cd "$work"
rm -f uv.lock

unset VIRTUAL_ENV
"${uv[@]}" sync --quiet --resolution lowest-direct
echo "lowest declared versions installed:"
"${uv[@]}" pip list --format freeze 2>/dev/null \
    | grep -iE '^(pydantic|pluggy|pyyaml|click|rich|watchfiles|statsig-python-core|growthbook|fb-python-sdk|openfeature-sdk|opentelemetry-api|opentelemetry-sdk|opentelemetry-exporter-otlp-proto-http|opentelemetry-proto|pytest|pytest-timeout|pytest-xdist|hypothesis|websockets|scipy|google-re2|flask|django|fastapi|starlette|httpx|httpx2|gunicorn|uvicorn)==' \
    | sed 's/^/  /'
if [ "$#" -eq 0 ]; then set -- -n 2 -x -q; fi
"${uv[@]}" run --no-sync pytest "$@"
