"""The other endpoints through the real peer and through llmtap, against one emulator.

Each answer must carry the same values (text, URLs, flags, ranking) and at least the peer's
top-level fields, of the same class name (or one listed in SAME_TYPE).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from llmtap.testing import Emulator

from .conftest import HERE, peer_env

pytestmark = pytest.mark.conformance

KEY = "sk-conformance-123456"
SAME_TYPE = {"OpenAIModerationResponse": "ModerationResponse"}
# Where the pinned peer itself fails, llmtap must still answer (the reason is checked below).
PEER_BROKEN = {
    "responses": "No module named 'mcp'",  # the peer's responses() imports mcp, which it does not depend on
    "aresponses": "No module named 'mcp'",
    "responses_stream": "No module named 'mcp'",
}


def _answers(python, lib: str, base: str) -> dict:
    done = subprocess.run(
        [str(python), str(HERE / "endpoints_probe.py"), lib],
        env=peer_env(CONFORMANCE_BASE=base, CONFORMANCE_KEY=KEY), capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_endpoints_answer_like_the_peer(peer_python) -> None:
    with Emulator(api_key=KEY) as emulator:
        peer = _answers(peer_python, "litellm", emulator.url)
        ours = _answers(peer_python, "llmtap", emulator.url)
    problems = []
    for name, theirs in peer.items():
        mine = ours.get(name)
        if isinstance(mine, dict) and "raised" in mine:
            problems.append(f"{name}: llmtap raised {mine}")
            continue
        if isinstance(theirs, dict) and "raised" in theirs:
            reason = PEER_BROKEN.get(name)
            if reason is None or reason not in theirs.get("detail", ""):
                problems.append(f"{name}: the peer raised {theirs}, llmtap answered")
            continue
        if name == "responses_stream":
            continue
        if SAME_TYPE.get(theirs["type"], theirs["type"]) != mine["type"]:
            problems.append(f"{name}: class {mine['type']}, peer {theirs['type']}")
        if theirs["text"] != mine["text"]:
            problems.append(f"{name}: values {mine['text']!r}, peer {theirs['text']!r}")
        if isinstance(theirs["shape"], dict):
            missing = sorted(set(theirs["shape"]) - set(mine["shape"]))
            if missing:
                problems.append(f"{name}: fields missing {missing}")
    assert ours["responses_stream"][0] == "response.created" and ours["responses_stream"][-1] == "response.completed"
    assert not problems, "\n".join(problems)
