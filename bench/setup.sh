#!/usr/bin/env bash
# Create bench/.peers: one virtual environment with llmtap and the peers it is measured against
# (LiteLLM, the openai SDK, httpx2, and the raw clients), kept out of the project's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x bench/.peers/bin/python ]; then
    python3 -m venv bench/.peers
fi
bench/.peers/bin/pip install -q --disable-pip-version-check -e . "litellm==1.110.2" openai httpx2 urllib3 aiohttp
