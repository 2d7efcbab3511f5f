"""Streams under attack (issue #13 items 9, 10, 12), over real sockets to the emulator."""

from __future__ import annotations

import json
import time

import pytest

import llmtap
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.testing import Fault, Reply

from .conftest import MESSAGES


class Outcomes(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.success: list = []
        self.failure: list = []

    def log_success_event(self, kwargs, response_obj, start_time, end_time) -> None:
        self.success.append(response_obj)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time) -> None:
        self.failure.append(kwargs.get("exception"))


@pytest.fixture
def outcomes():
    handler = Outcomes()
    llmtap.callbacks = [handler]
    yield handler
    llmtap.callbacks = []


def sse(*events: dict, done: bool = True) -> Fault:
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    if done:
        body += b"data: [DONE]\n\n"
    return Fault(status=200, body=body, content_type="text/event-stream")


def chunk(choices: list, **extra) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini", "choices": choices, **extra}


def test_stream_whose_final_assembly_fails_logs_one_failure(openai_env, outcomes) -> None:
    # usage of the wrong shape only breaks assembling the whole response, after the last chunk
    openai_env.push(sse(chunk([{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}], usage=[1, 2])))
    with pytest.raises(Exception) as caught:
        list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert llmtap.flush(5)
    assert outcomes.success == []
    assert len(outcomes.failure) == 1 and outcomes.failure[0] is caught.value


def test_stream_parts_and_object_arguments_are_assembled(openai_env, outcomes) -> None:
    openai_env.push(
        sse(
            chunk([{"index": 0, "delta": {"role": "assistant", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]}}]),
            chunk([{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "t1", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]}, "finish_reason": "tool_calls"}]),
        )
    )
    list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert llmtap.flush(5)
    assert outcomes.failure == [] and len(outcomes.success) == 1
    message = outcomes.success[0].choices[0].message
    assert message.content == "Hello"
    assert json.loads(message.tool_calls[0].function.arguments) == {"a": 1}


def n2_cut() -> Fault:
    # choice 0 finished, choice 1 never did: the body ends without [DONE]
    return sse(
        chunk([{"index": 0, "delta": {"content": "a"}}, {"index": 1, "delta": {"content": "b"}}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        done=False,
    )


def test_n2_stream_cut_before_every_choice_finished_raises(openai_env, outcomes) -> None:
    openai_env.push(n2_cut())
    with pytest.raises(llmtap.APIConnectionError):
        list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True, n=2))
    assert llmtap.flush(5)
    assert outcomes.success == [] and len(outcomes.failure) == 1


async def test_n2_async_stream_cut_raises(openai_env, outcomes) -> None:
    openai_env.push(n2_cut())
    stream = await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, stream=True, n=2)
    with pytest.raises(llmtap.APIConnectionError):
        async for _ in stream:
            pass
    assert llmtap.flush(5)
    assert outcomes.success == [] and len(outcomes.failure) == 1


def test_n2_truncated_stream_is_never_cached(openai_env, outcomes, tmp_path) -> None:
    from llmtap.caching import Cache

    llmtap.cache = Cache(type="disk", disk_cache_dir=str(tmp_path))
    try:
        openai_env.push(n2_cut())
        with pytest.raises(llmtap.APIConnectionError):
            list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True, n=2, caching=True))
        openai_env.push(Reply(content="fresh"))
        # not served from the cache: the next call reaches the emulator and gets its answer
        whole = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, n=2, caching=True)
        assert whole.choices[0].message.content == "fresh"
    finally:
        llmtap.cache = None


def test_keepalive_only_stream_ends_with_an_idle_timeout(openai_env, outcomes) -> None:
    # keep-alive comments every 0.5s never stall a read, but a chunk only comes every ~1s
    openai_env.push(Reply(content=" ".join(["w"] * 100), chunks=100, chunk_delay=0.5, keepalive_comments=True))
    stream = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_timeout=0.8)
    started = time.monotonic()
    with pytest.raises(llmtap.Timeout, match="idle"):
        for _ in stream:
            pass
    assert time.monotonic() - started < 20  # the whole stream would take ~100s
    assert llmtap.flush(5)
    assert outcomes.success == [] and len(outcomes.failure) == 1


async def test_async_keepalive_only_stream_ends_with_an_idle_timeout(openai_env, outcomes) -> None:
    openai_env.push(Reply(content=" ".join(["w"] * 100), chunks=100, chunk_delay=0.5, keepalive_comments=True))
    stream = await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, stream=True, timeout=0.8)
    started = time.monotonic()
    with pytest.raises(llmtap.Timeout, match="idle"):
        async for _ in stream:
            pass
    assert time.monotonic() - started < 20
    assert llmtap.flush(5)
    assert outcomes.success == [] and len(outcomes.failure) == 1
