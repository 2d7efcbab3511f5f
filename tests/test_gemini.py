"""Gemini (Google AI Studio) against the emulator: request mapping, SSE streams, tools, safety."""

from __future__ import annotations

import asyncio
import json

import pytest

import llmtap
from llmtap.testing import Fault, Reply

from .conftest import MESSAGES


@pytest.fixture
def gemini_env(emulator, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "g-key")
    monkeypatch.setenv("GEMINI_API_BASE", emulator.gemini_base)
    return emulator


def test_request_mapping_and_answer(gemini_env) -> None:
    r = llmtap.completion(
        model="gemini/gemini-2.0-flash",
        messages=[{"role": "system", "content": "Be brief."}, *MESSAGES, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Again"}],
        temperature=0.5,
        max_tokens=64,
        stop=["END"],
        response_format={"type": "json_object"},
    )
    request = gemini_env.last_request
    assert request.path == "/v1beta/models/gemini-2.0-flash:generateContent"
    assert request.headers["x-goog-api-key"] == "g-key"
    assert request.json == {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi 👋 - i'm openai"}]},
            {"role": "model", "parts": [{"text": "Hello"}]},
            {"role": "user", "parts": [{"text": "Again"}]},
        ],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"temperature": 0.5, "maxOutputTokens": 64, "stopSequences": ["END"], "responseMimeType": "application/json"},
    }
    assert r.choices[0].message.content.endswith("Again")
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_sse_stream(gemini_env, mode) -> None:
    gemini_env.push(Reply(content="alpha beta gamma", prompt_tokens=5, completion_tokens=3))

    async def collect():
        stream = await llmtap.acompletion(model="gemini/gemini-2.0-flash", messages=MESSAGES, stream=True)
        return [c async for c in stream]

    chunks = list(llmtap.completion(model="gemini/gemini-2.0-flash", messages=MESSAGES, stream=True)) if mode == "sync" else asyncio.run(collect())
    assert gemini_env.last_request.path.endswith(":streamGenerateContent") and gemini_env.last_request.query["alt"] == "sse"
    whole = llmtap.stream_chunk_builder(chunks)
    assert whole.choices[0].message.content == "alpha beta gamma"
    assert whole.usage.prompt_tokens == 5 and whole.choices[0].finish_reason == "stop"


def test_tools_round_trip(gemini_env) -> None:
    gemini_env.push(Reply(tool_calls=[{"name": "weather", "arguments": '{"city": "Rome"}'}]))
    tools = [{"type": "function", "function": {"name": "weather", "description": "w", "parameters": {"type": "object"}}}]
    r = llmtap.completion(model="gemini/gemini-2.0-flash", messages=MESSAGES, tools=tools, tool_choice="required")
    body = gemini_env.last_request.json
    assert body["tools"] == [{"functionDeclarations": [{"name": "weather", "description": "w", "parameters": {"type": "object"}}]}]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    call = r.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"city": "Rome"} and r.choices[0].finish_reason == "tool_calls"
    followup = [*MESSAGES, {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
                {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    llmtap.completion(model="gemini/gemini-2.0-flash", messages=followup)
    sent = gemini_env.last_request.json["contents"]
    assert sent[1] == {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {"city": "Rome"}}}]}
    assert sent[2] == {"role": "user", "parts": [{"functionResponse": {"name": "weather", "response": {"content": "sunny"}}}]}


def test_safety_block_is_a_content_policy_error(gemini_env) -> None:
    gemini_env.push(Fault.content_policy())
    with pytest.raises(llmtap.ContentPolicyViolationError, match="prompt blocked"):
        llmtap.completion(model="gemini/gemini-2.0-flash", messages=MESSAGES)


def test_errors_and_cut_streams(gemini_env) -> None:
    gemini_env.push(Fault(429, message="Resource has been exhausted"))
    with pytest.raises(llmtap.RateLimitError, match="exhausted"):
        llmtap.completion(model="gemini/gemini-2.0-flash", messages=MESSAGES)
    gemini_env.push(Fault(cut_after=1, cut_mode="eof"))
    with pytest.raises(llmtap.APIConnectionError, match="finishReason"):
        list(llmtap.completion(model="gemini/gemini-2.0-flash", messages=MESSAGES, stream=True))
    with pytest.raises(llmtap.UnsupportedParamsError, match="'logit_bias'"):
        llmtap.completion(model="gemini/gemini-2.0-flash", messages=MESSAGES, logit_bias={"1": 1})


def test_cost_is_priced_from_the_table(gemini_env) -> None:
    costs = []
    llmtap.success_callback = [lambda k, r, s, e: costs.append((k["response_cost"], r.usage.prompt_tokens, r.usage.completion_tokens))]
    llmtap.completion(model="gemini/gemini-2.0-flash", messages=MESSAGES)
    assert llmtap.flush(5)
    cost, prompt, completion = costs[0]
    assert cost == pytest.approx(prompt * 0.1e-6 + completion * 0.4e-6)
