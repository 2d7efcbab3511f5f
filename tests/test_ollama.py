"""Ollama's native API against the emulator: options, NDJSON streams, tools, embeddings."""

from __future__ import annotations

import asyncio
import json

import pytest

import llmtap
from llmtap.testing import Fault, Reply

from .conftest import MESSAGES


@pytest.fixture
def ollama_env(emulator, monkeypatch):
    monkeypatch.setenv("OLLAMA_API_BASE", emulator.ollama_base)
    return emulator


def test_chat_request_and_answer(ollama_env) -> None:
    r = llmtap.completion(model="ollama/llama3.2", messages=MESSAGES, temperature=0.2, max_tokens=50, stop="END", seed=1)
    request = ollama_env.last_request
    assert request.path == "/api/chat"
    assert request.json == {
        "model": "llama3.2",
        "messages": MESSAGES,
        "stream": False,
        "options": {"temperature": 0.2, "num_predict": 50, "stop": ["END"], "seed": 1},
    }
    assert "authorization" not in request.headers  # no key needed
    assert r.choices[0].message.content.endswith("Hi 👋 - i'm openai")
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_ndjson_stream(ollama_env, mode) -> None:
    ollama_env.push(Reply(content="one two three", prompt_tokens=4, completion_tokens=3))

    async def collect():
        stream = await llmtap.acompletion(model="ollama/llama3.2", messages=MESSAGES, stream=True)
        return [c async for c in stream]

    chunks = list(llmtap.completion(model="ollama/llama3.2", messages=MESSAGES, stream=True)) if mode == "sync" else asyncio.run(collect())
    whole = llmtap.stream_chunk_builder(chunks)
    assert whole.choices[0].message.content == "one two three"
    assert whole.usage.prompt_tokens == 4 and whole.usage.completion_tokens == 3
    assert len({c.id for c in chunks}) == 1


def test_tool_calls_and_json_format(ollama_env) -> None:
    ollama_env.push(Reply(tool_calls=[{"name": "lookup", "arguments": '{"q": "x"}'}]))
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    r = llmtap.completion(model="ollama/llama3.2", messages=MESSAGES, tools=tools, response_format={"type": "json_object"})
    assert ollama_env.last_request.json["tools"] == tools and ollama_env.last_request.json["format"] == "json"
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "lookup" and json.loads(call.function.arguments) == {"q": "x"}
    assert r.choices[0].finish_reason == "tool_calls"


def test_generate_and_embed(ollama_env) -> None:
    t = llmtap.text_completion(model="ollama/llama3.2", prompt="Say hi")
    assert ollama_env.last_request.path == "/api/generate" and t.choices[0].text.endswith("Say hi")
    e = llmtap.embedding(model="ollama/nomic-embed-text", input=["a", "b"])
    assert ollama_env.last_request.json == {"model": "nomic-embed-text", "input": ["a", "b"]}
    assert len(e.data) == 2 and len(e.data[0].embedding) == 8


def test_errors_cut_streams_and_unsupported_params(ollama_env) -> None:
    ollama_env.push(Fault(404, message="model 'nope' not found"))
    with pytest.raises(llmtap.NotFoundError, match="model 'nope' not found"):
        llmtap.completion(model="ollama/nope", messages=MESSAGES)
    ollama_env.push(Fault(cut_after=1, cut_mode="eof"))
    with pytest.raises(llmtap.APIConnectionError, match="done: true"):
        list(llmtap.completion(model="ollama/llama3.2", messages=MESSAGES, stream=True))
    with pytest.raises(llmtap.UnsupportedParamsError, match="'logit_bias'"):
        llmtap.completion(model="ollama/llama3.2", messages=MESSAGES, logit_bias={"1": 1})


def test_default_base_is_localhost(monkeypatch) -> None:
    from llmtap.call import prepare

    call = prepare("completion", "ollama/llama3.2", {}, False)
    assert call.api_base == "http://localhost:11434" and call.api_key is None
