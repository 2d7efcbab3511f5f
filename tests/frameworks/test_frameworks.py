"""The real frameworks, driven through ``llmtap.install_as_litellm()`` and through the real
peer they depend on, against the emulator; the two runs must agree.

The frameworks live in their own virtualenv (``.venvs/frameworks`` in the clone, pinned in
requirements.txt, built once): they are test tools, never llmtap dependencies.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.frameworks

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
VENV = ROOT / ".venvs" / "frameworks"
REQUIREMENTS = HERE / "requirements.txt"
FRAMEWORKS = ["instructor", "dspy", "smolagents"]

# Frameworks llmtap cannot run yet, and why; the peer must still pass every scenario, and
# the llmtap run is a strict xfail so the day it passes, the test says so.
KNOWN_GAPS = {
    "langchain_litellm": (
        "langchain-litellm 0.11.2 reaches into the peer's internals at import and per call: "
        "OPENAI_CHAT_COMPLETION_PARAMS, get_optional_params, get_secret_bool, "
        "utils.ProviderConfigManager, main.responses_api_bridge_check, "
        "utils.validate_and_fix_thinking_param, utils.load_credentials_from_list, types.utils.Delta"
    ),
}

# Differences that are ours on purpose (none today); (framework, scenario, fact) → reason.
DELIBERATE: dict[tuple[str, str, str], str] = {}


@pytest.fixture(scope="session")
def framework_python() -> Path:
    python = VENV / "bin" / "python"
    stamp = VENV / "requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
        subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
        stamp.write_text(wanted)
    return python


def _run(python: Path, framework: str, mode: str) -> dict:
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run(
        [str(python), str(HERE / "runner.py"), framework, mode],
        capture_output=True, text=True, timeout=600, env=env, cwd=str(HERE),
    )
    marker = "@@RESULTS@@"
    assert marker in done.stdout, f"{framework} under {mode} did not report:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.split(marker, 1)[1])


@pytest.mark.parametrize("framework", sorted(KNOWN_GAPS))
def test_known_gap_scenarios_pass_on_the_peer(framework_python, framework) -> None:
    peer = _run(framework_python, framework, "peer")
    broken = {name: result["error"] for name, result in peer.items() if not result["ok"]}
    assert peer and not broken, broken


@pytest.mark.parametrize("framework", [
    *FRAMEWORKS,
    *(pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=why)) for name, why in KNOWN_GAPS.items()),
])
def test_framework_runs_on_llmtap_as_on_the_peer(framework_python, framework) -> None:
    ours = _run(framework_python, framework, "llmtap")
    peer = _run(framework_python, framework, "peer")
    assert ours.keys() == peer.keys()
    problems = []
    for scenario, result in ours.items():
        theirs = peer[scenario]
        if not result["ok"]:
            problems.append(f"{scenario}: fails on llmtap: {result['error']}\n{result.get('traceback', '')}")
            continue
        if not theirs["ok"]:
            problems.append(f"{scenario}: the peer itself fails ({theirs['error']}): the scenario is broken")
            continue
        if result["requests"] != theirs["requests"]:
            problems.append(f"{scenario}: {result['requests']} requests reached the provider, the peer sent {theirs['requests']}")
        for fact, value in result["facts"].items():
            if (framework, scenario, fact) in DELIBERATE:
                continue
            if theirs["facts"].get(fact) != value:
                problems.append(f"{scenario}.{fact}: llmtap {value!r} != peer {theirs['facts'].get(fact)!r}")
    assert not problems, "\n".join(problems)
