"""The peer's virtualenv (.venvs/peer, pinned, built once per run) and how to run code in it.

The peer venv holds LiteLLM and the current official openai/anthropic SDKs, exactly as pinned
in peer-requirements.txt. llmtap runs in the same interpreter from this clone's src/ (on
PYTHONPATH), so one scenario script can run under either library.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "peer-requirements.txt"
VENV = ROOT / ".venvs" / "peer"


def _build_peer_venv() -> Path:
    python = VENV / "bin" / "python"
    stamp = VENV / ".requirements-sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if VENV.exists():
        shutil.rmtree(VENV)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-cache-dir", "--disable-pip-version-check",
         "-r", str(REQUIREMENTS)],
        check=True,
    )
    # llmtap itself, editable and without dependencies (the pins above hold urllib3 and
    # aiohttp): its entry points are registered and edits in src/ are seen at once.
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-cache-dir", "--disable-pip-version-check",
         "--no-deps", "-e", str(ROOT)],
        check=True,
    )
    stamp.write_text(wanted)
    return python


@pytest.fixture(scope="session")
def peer_python() -> Path:
    return _build_peer_venv()


def peer_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "LITELLM_", "AZURE_"))}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        PYTHONDONTWRITEBYTECODE="1",
        NO_PROXY="*",
    )
    env.update(extra)
    return env
