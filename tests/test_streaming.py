"""Streams over real sockets: normal, keep-alive comments, split lines, cut, malformed."""

from __future__ import annotations

import asyncio
import json

import pytest

import llmtap
from llmtap.testing import Fault, Reply

from .conftest import MESSAGES

CONTENT = "one two three four five six"


def collect(stream) -> str:
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


async def acollect(stream) -> str:
    return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])


@pytest.mark.parametrize(
    "reply",
    [
        Reply(content=CONTENT),
        Reply(content=CONTENT, keepalive_comments=True),
        Reply(content=CONTENT, split_writes=True),
        Reply(content=CONTENT, chunks=3),
    ],
    ids=["plain", "keepalive", "split", "three-chunks"],
)
def test_stream_delivers_exact_content(openai_env, reply) -> None:
    openai_env.push(reply)
    stream = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert isinstance(stream, llmtap.CustomStreamWrapper)
    chunks = list(stream)
    assert all(isinstance(c, llmtap.ModelResponseStream) for c in chunks)
    assert collect(chunks) == CONTENT
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert openai_env.last_request.json["stream"] is True


async def test_async_stream(openai_env) -> None:
    openai_env.push(Reply(content=CONTENT, split_writes=True))
    stream = await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert await acollect(stream) == CONTENT


def test_include_usage_chunk(openai_env) -> None:
    openai_env.push(Reply(content=CONTENT, prompt_tokens=11, completion_tokens=6))
    chunks = list(
        llmtap.completion(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].usage.prompt_tokens == 11 and chunks[-1].usage.completion_tokens == 6
    whole = llmtap.stream_chunk_builder(chunks, messages=MESSAGES)
    assert whole.choices[0].message.content == CONTENT
    assert whole.usage.total_tokens == 17


def test_stream_chunk_builder_rebuilds_tool_calls(openai_env) -> None:
    openai_env.push(
        Reply(
            tool_calls=[
                {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "c"}'},
                {"name": "get_time", "arguments": '{"tz": "Europe/Paris"}'},
            ]
        )
    )
    chunks = list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True, tools=[]))
    whole = llmtap.stream_chunk_builder(chunks)
    calls = whole.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0].function.arguments) == {"city": "Paris", "unit": "c"}
    assert json.loads(calls[1].function.arguments) == {"tz": "Europe/Paris"}
    assert whole.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("mode", ["abort", "eof"])
def test_cut_stream_raises_and_is_never_a_short_answer(openai_env, mode) -> None:
    openai_env.push(Fault(cut_after=2, cut_mode=mode))
    stream = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(llmtap.APIConnectionError):
        for chunk in stream:
            received.append(chunk)
    assert 1 <= len(received) <= 3


@pytest.mark.parametrize("mode", ["abort", "eof"])
async def test_async_cut_stream_raises(openai_env, mode) -> None:
    openai_env.push(Fault(cut_after=2, cut_mode=mode))
    stream = await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    with pytest.raises(llmtap.APIConnectionError):
        await acollect(stream)


def test_malformed_event_raises_clear_error(openai_env) -> None:
    openai_env.push(Fault(malformed=True))
    with pytest.raises(llmtap.APIResponseValidationError, match="not JSON"):
        list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True))


def test_stream_error_status_raises_before_iteration(openai_env) -> None:
    openai_env.push(Fault(429))
    with pytest.raises(llmtap.RateLimitError):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True)


def test_connection_is_reused_after_an_abandoned_stream(openai_env) -> None:
    stream = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    next(iter(stream))
    stream.close()
    r = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert r.choices[0].message.content.startswith("Hello")


def test_text_completion_stream(openai_env) -> None:
    chunks = list(llmtap.text_completion(model="gpt-3.5-turbo-instruct", prompt="abc", stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices).endswith("abc")


def test_many_chunks_stream_in_threads_and_tasks(openai_env) -> None:
    async def one(i: int) -> str:
        stream = await llmtap.acompletion(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"n{i}"}], stream=True
        )
        return await acollect(stream)

    async def many() -> list[str]:
        return await asyncio.gather(*[one(i) for i in range(30)])

    texts = asyncio.run(many())
    assert texts == [f"Hello from the llmtap emulator. You said: n{i}" for i in range(30)]
