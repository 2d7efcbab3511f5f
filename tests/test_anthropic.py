"""Anthropic on the wire (Messages API and the legacy text API), against the emulator."""

from __future__ import annotations

import asyncio
import json

import pytest

import llmtap
from llmtap.testing import Fault, Reply

from .conftest import MESSAGES

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture
def anthropic_env(emulator, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.anthropic_base)
    return emulator


def test_messages_request_shape(anthropic_env) -> None:
    r = llmtap.completion(
        model="anthropic/claude-3-5-haiku-latest",
        messages=[{"role": "system", "content": "Be brief."}, *MESSAGES],
        temperature=0.3,
        stop="END",
        user="u-9",
    )
    request = anthropic_env.last_request
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.json == {
        "model": "claude-3-5-haiku-latest",
        "messages": MESSAGES,
        "system": "Be brief.",
        "max_tokens": 4096,
        "temperature": 0.3,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-9"},
    }
    assert r.choices[0].message.content == "Hello from the llmtap emulator. You said: Hi 👋 - i'm openai"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0


def test_bare_claude_name_routes_to_messages(anthropic_env) -> None:
    llmtap.completion(model="claude-3-5-haiku-latest", messages=MESSAGES, max_tokens=10)
    assert anthropic_env.last_request.json["max_tokens"] == 10


def test_tools_and_tool_results_both_ways(anthropic_env) -> None:
    anthropic_env.push(Reply(tool_calls=[{"name": "get_weather", "arguments": '{"city": "Paris"}'}]))
    r = llmtap.completion(model="claude-3-5-haiku-latest", messages=MESSAGES, tools=TOOLS, tool_choice="required")
    body = anthropic_env.last_request.json
    assert body["tools"] == [
        {"name": "get_weather", "input_schema": TOOLS[0]["function"]["parameters"], "description": "Weather for a city"}
    ]
    assert body["tool_choice"] == {"type": "any"}
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert r.choices[0].finish_reason == "tool_calls"

    followup = [
        *MESSAGES,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "18C"},
    ]
    llmtap.completion(model="claude-3-5-haiku-latest", messages=followup, tools=TOOLS)
    sent = anthropic_env.last_request.json["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": call.id, "name": "get_weather", "input": {"city": "Paris"}}],
    }
    assert sent[2] == {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C"}]}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_messages_stream_text_and_usage(anthropic_env, mode) -> None:
    anthropic_env.push(Reply(content="one two three", keepalive_comments=True, prompt_tokens=7, completion_tokens=3))

    async def run_async():
        stream = await llmtap.acompletion(model="claude-3-5-haiku-latest", messages=MESSAGES, stream=True)
        return [c async for c in stream]

    if mode == "sync":
        chunks = list(llmtap.completion(model="claude-3-5-haiku-latest", messages=MESSAGES, stream=True))
    else:
        chunks = asyncio.run(run_async())
    whole = llmtap.stream_chunk_builder(chunks)
    assert whole.choices[0].message.content == "one two three"
    assert whole.choices[0].finish_reason == "stop"
    assert whole.usage.prompt_tokens == 7 and whole.usage.completion_tokens == 3


def test_messages_stream_tool_calls(anthropic_env) -> None:
    anthropic_env.push(Reply(tool_calls=[{"name": "get_weather", "arguments": '{"city": "Oslo"}'}]))
    chunks = list(llmtap.completion(model="claude-3-5-haiku-latest", messages=MESSAGES, tools=TOOLS, stream=True))
    whole = llmtap.stream_chunk_builder(chunks)
    call = whole.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Oslo"}
    assert whole.choices[0].finish_reason == "tool_calls"


def test_error_event_mid_stream_raises(anthropic_env) -> None:
    anthropic_env.push(Fault(529, message="Overloaded", mid_stream=True))
    stream = llmtap.completion(model="claude-3-5-haiku-latest", messages=MESSAGES, stream=True)
    with pytest.raises(llmtap.ServiceUnavailableError, match="Overloaded"):
        list(stream)


def test_cut_stream_raises(anthropic_env) -> None:
    anthropic_env.push(Fault(cut_after=1, cut_mode="eof"))
    with pytest.raises(llmtap.APIConnectionError, match="message_stop"):
        list(llmtap.completion(model="claude-3-5-haiku-latest", messages=MESSAGES, stream=True))


@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        (Fault(401), llmtap.AuthenticationError),
        (Fault(429, retry_after=0), llmtap.RateLimitError),
        (Fault(529), llmtap.ServiceUnavailableError),
        (Fault.context_length(), llmtap.ContextWindowExceededError),
    ],
)
def test_error_bodies_map_to_classes(anthropic_env, fault, cls) -> None:
    anthropic_env.push(fault)
    with pytest.raises(cls) as caught:
        llmtap.completion(model="claude-3-5-haiku-latest", messages=MESSAGES)
    assert caught.value.llm_provider == "anthropic"


def test_unsupported_parameter_is_refused_unless_dropped(anthropic_env) -> None:
    with pytest.raises(llmtap.UnsupportedParamsError, match="'presence_penalty'"):
        llmtap.completion(model="claude-3-5-haiku-latest", messages=MESSAGES, presence_penalty=0.5)
    assert anthropic_env.requests == []
    llmtap.completion(model="claude-3-5-haiku-latest", messages=MESSAGES, presence_penalty=0.5, drop_params=True)
    assert "presence_penalty" not in anthropic_env.last_request.json


def test_legacy_prompt_with_system_and_history(anthropic_env) -> None:
    r = llmtap.completion(
        model="claude-2.1",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Bye"},
        ],
        max_tokens=50,
        temperature=0,
    )
    assert anthropic_env.last_request.json == {
        "model": "claude-2.1",
        "prompt": "You are terse.\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: Bye\n\nAssistant: ",
        "max_tokens_to_sample": 50,
        "temperature": 0,
    }
    assert r.choices[0].message.content.strip().endswith("Bye")
    assert r._hidden_params["usage_estimated"] is True


def test_legacy_cost_is_priced(anthropic_env) -> None:
    costs = []
    llmtap.success_callback = [lambda k, r, s, e: costs.append(k["response_cost"])]
    r = llmtap.completion(model="claude-instant-1", messages=MESSAGES)
    assert llmtap.flush(5)
    expected = r.usage.prompt_tokens * 0.8e-6 + r.usage.completion_tokens * 2.4e-6
    assert costs == [pytest.approx(expected)]


def test_images_and_cache_usage_are_mapped() -> None:
    from llmtap.providers.anthropic import convert_messages, convert_usage

    _, messages = convert_messages(
        [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        ]}]
    )
    assert messages[0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]
    usage = convert_usage({"input_tokens": 100, "output_tokens": 20, "cache_read_input_tokens": 300, "cache_creation_input_tokens": 50})
    assert usage["prompt_tokens"] == 450 and usage["prompt_tokens_details"] == {"cached_tokens": 300}
    r = llmtap.ModelResponse(model="claude-3-5-haiku-latest", usage=usage)
    info = llmtap.get_model_info("claude-3-5-haiku-latest")
    expected = (100 * info["input_cost_per_token"] + 300 * info["cache_read_input_token_cost"]
                + 50 * info["cache_creation_input_token_cost"] + 20 * info["output_cost_per_token"])
    assert llmtap.completion_cost(completion_response=r) == pytest.approx(expected)
