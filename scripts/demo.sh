#!/usr/bin/env bash
# Set up a virtual environment (once) and run the offline demo against the built-in emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e .
.venv/bin/llmtap demo
