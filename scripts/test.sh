#!/usr/bin/env bash
# Set up a virtual environment (once) and run the linter and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e ".[test]"
.venv/bin/ruff check src tests
.venv/bin/python -m pytest -q "$@"
