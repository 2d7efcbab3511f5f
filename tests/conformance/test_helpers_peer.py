"""The peer's metadata helpers and token counts, asked of the real peer and of llmtap.

Both run in the pinned peer virtualenv (llmtap from src/), offline. Answers must agree except
where llmtap's table is deliberately different (DIFFERENT below, each with its reason).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import HERE, peer_env

pytestmark = pytest.mark.conformance

# answer path → why llmtap answers otherwise. Keep this short; docs/differences.md lists them.
_PASS_THROUGH = "llmtap passes OpenAI parameters through to OpenAI-compatible hosts; the host refuses what it lacks"
_GEMINI = "llmtap's Gemini provider does not map this parameter (yet), so it does not claim it"
_OLLAMA = "llmtap's Ollama provider sends tools natively (Ollama's /api/chat takes them) and has no reasoning_effort"
_AZURE = "an Azure deployment's name does not say which model serves it, so llmtap does not refuse reasoning_effort"
DIFFERENT: dict[str, str] = {
    "/models/azure/gpt-4o/params/reasoning_effort": _AZURE,
    "/models/gpt-3.5-turbo/helpers/supports_parallel_function_calling":
        "gpt-3.5-turbo (0125) makes parallel tool calls (OpenAI's function-calling guide); the peer's row lacks the flag",
    "/models/gpt-3.5-turbo/info/supports_parallel_function_calling": "as above",
    "/models/ollama/llama3.1/params/reasoning_effort": _OLLAMA,
    "/models/ollama/llama3.1/params/tool_choice": _OLLAMA,
    "/models/ollama/llama3.1/params/tools": _OLLAMA,
    **{f"/models/gemini/gemini-2.5-{m}/params/{p}": _GEMINI
       for m in ("pro", "flash") for p in ("logprobs", "parallel_tool_calls", "reasoning_effort")},
    **{f"/models/perplexity/sonar/params/{p}": _PASS_THROUGH
       for p in ("logprobs", "parallel_tool_calls", "reasoning_effort", "stop", "tool_choice", "tools")},
    **{f"/models/{m}/params/reasoning_effort": "the peer refuses reasoning_effort for gpt-4o but accepts it for "
       "openai/gpt-4o and fine-tuned names; llmtap answers by the model family, the same for every spelling"
       for m in ("openai/gpt-4o", "ft:gpt-4o-mini-2024-07-18")},
    "/models/together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo/params/reasoning_effort": _PASS_THROUGH,
    "/models/xai/grok-code-fast-1/params/frequency_penalty": _PASS_THROUGH,
    "/models/xai/grok-code-fast-1/params/stop": _PASS_THROUGH,
    **{f"/tokens/{m}/encode": "the peer's encode() uses cl100k_base for every OpenAI model while its token_counter uses "
       "o200k_base for GPT-4o and later; llmtap encodes with the model's own encoding in both"
       for m in ("gpt-4o", "gpt-4.1-mini", "o3-mini")},
}


def _answers(python, lib: str) -> dict:
    done = subprocess.run([str(python), str(HERE / "helpers_probe.py"), lib], env=peer_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _flatten(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{path}/{key}")
    else:
        yield path, value


def test_helpers_and_token_counts_match_the_peer(peer_python) -> None:
    peer, ours = _answers(peer_python, "litellm"), _answers(peer_python, "llmtap")
    mismatches = []
    for path, expected in _flatten(peer):
        got = dict(_flatten(ours)).get(path, "<missing>")
        if isinstance(expected, float) and isinstance(got, float) and abs(expected - got) <= 1e-12:
            continue
        if got != expected and path not in DIFFERENT:
            mismatches.append(f"{path}: peer {expected!r}, llmtap {got!r}")
    assert not mismatches, "\n".join(mismatches)
