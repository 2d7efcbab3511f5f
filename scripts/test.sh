#!/usr/bin/env bash
# The whole test run, set-up included: redis-server (for the cache tests) if it is missing,
# a virtual environment with llmtap and its test extras, then ruff and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
        apt-get update
        apt-get install -y redis-server
    elif command -v sudo >/dev/null 2>&1; then
        sudo apt-get update
        sudo apt-get install -y redis-server
    else
        echo "redis-server is needed for the cache tests: install it (e.g. apt-get install redis-server)" >&2
        exit 1
    fi
fi
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e ".[test]"
.venv/bin/ruff check src tests bench
.venv/bin/python -m pytest -q "$@"
