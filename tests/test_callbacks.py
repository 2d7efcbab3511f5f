"""The callback contract: order, exactly once, kwargs, isolation, delivery — sync and async alike."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import subprocess
import sys
import threading
import time
from collections import defaultdict

import pytest

import llmtap
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.testing import Fault, Reply

from .conftest import MESSAGES


class Recorder(CustomLogger):
    """Records (event, call id) for every hook, sync and async."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.kwargs: dict[str, dict] = {}
        self.responses: dict[str, object] = {}
        self.lock = threading.Lock()

    def _add(self, name: str, kwargs: dict, response_obj=None) -> None:
        with self.lock:
            self.events.append((name, kwargs["litellm_call_id"]))
            self.kwargs[name] = kwargs
            if name in ("success", "failure"):
                self.responses[kwargs["litellm_call_id"]] = response_obj

    def log_pre_api_call(self, model, messages, kwargs):
        assert model == kwargs["model"] and messages == kwargs["messages"]
        self._add("pre", kwargs)

    def log_post_api_call(self, kwargs, response_obj, start_time, end_time):
        self._add("post", kwargs)

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._add("success", kwargs, response_obj)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        assert response_obj is None
        self._add("failure", kwargs)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        await asyncio.sleep(0)
        self._add("success", kwargs, response_obj)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self._add("failure", kwargs)

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def by_call(self) -> dict[str, list[str]]:
        calls: dict[str, list[str]] = defaultdict(list)
        for name, call_id in self.events:
            calls[call_id].append(name)
        return calls


def call(mode: str, **kwargs):
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault("messages", MESSAGES)
    if mode == "sync":
        result = llmtap.completion(**kwargs)
        if kwargs.get("stream"):
            result = list(result)
        return result

    async def run():
        result = await llmtap.acompletion(**kwargs)
        if kwargs.get("stream"):
            result = [chunk async for chunk in result]
        return result

    return asyncio.run(run())


MODES = ["sync", "async"]


@pytest.fixture
def recorder() -> Recorder:
    handler = Recorder()
    llmtap.callbacks = [handler]
    return handler


@pytest.mark.parametrize("mode", MODES)
def test_order_plain_call(openai_env, recorder, mode) -> None:
    call(mode)
    assert llmtap.flush(5)
    assert recorder.names() == ["pre", "post", "success"]


@pytest.mark.parametrize("mode", MODES)
def test_stream_logs_one_success_after_last_chunk_with_whole_response(openai_env, recorder, mode) -> None:
    openai_env.push(Reply(content="a b c d e f g h", prompt_tokens=9, completion_tokens=8))
    chunks = call(mode, stream=True, stream_options={"include_usage": True})
    assert len(chunks) > 5
    assert llmtap.flush(5)
    assert recorder.names() == ["pre", "post", "success"]
    kwargs = recorder.kwargs["success"]
    whole = kwargs["complete_streaming_response"]
    assert isinstance(whole, llmtap.ModelResponse)
    assert whole.choices[0].message.content == "a b c d e f g h"
    assert whole.usage.total_tokens == 17
    assert recorder.responses[kwargs["litellm_call_id"]] is whole
    assert kwargs["response_cost"] == pytest.approx(9 * 0.15e-6 + 8 * 0.6e-6)
    if mode == "async":
        assert kwargs["async_complete_streaming_response"] is whole
    assert kwargs["stream"] is True


@pytest.mark.parametrize("mode", MODES)
def test_failure_logs_once_in_order(openai_env, recorder, mode) -> None:
    openai_env.push(Fault(401))
    with pytest.raises(llmtap.AuthenticationError):
        call(mode)
    assert llmtap.flush(5)
    # As the peer: after an HTTP error, post-call (with the error's text) before the failure,
    # except on async non-streaming chat, where the peer goes straight to the failure.
    assert recorder.names() == (["pre", "failure"] if mode == "async" else ["pre", "post", "failure"])
    kwargs = recorder.kwargs["failure"]
    assert kwargs["response_cost"] == 0
    assert "original_response" in kwargs
    assert isinstance(kwargs["exception"], llmtap.AuthenticationError)
    assert "AuthenticationError" in kwargs["traceback_exception"]
    assert kwargs["log_event_type"] == "failed_api_call"
    assert isinstance(kwargs["end_time"], datetime.datetime)


@pytest.mark.parametrize("mode", MODES)
def test_retries_show_each_attempt_and_one_outcome(openai_env, recorder, mode) -> None:
    openai_env.push(Fault(503), Fault(503))
    call(mode, num_retries=2)
    assert llmtap.flush(5)
    assert recorder.names() == ["pre", "pre", "pre", "post", "success"]
    assert recorder.kwargs["success"]["standard_logging_object"]["attempts"] == 3


@pytest.mark.parametrize("mode", MODES)
def test_stream_failing_midway_logs_one_failure_and_no_success(openai_env, recorder, mode) -> None:
    openai_env.push(Fault(cut_after=2))
    with pytest.raises(llmtap.APIConnectionError):
        call(mode, stream=True)
    assert llmtap.flush(5)
    assert recorder.names() == ["pre", "post", "failure"]


def test_abandoned_stream_logs_once_marked_abandoned(openai_env, recorder) -> None:
    stream = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    first = next(stream)
    assert first.choices
    del stream  # the consumer walks away
    assert llmtap.flush(5)
    assert recorder.names() == ["pre", "post", "success"]
    kwargs = recorder.kwargs["success"]
    assert kwargs["stream_abandoned"] is True
    assert kwargs["standard_logging_object"]["stream_abandoned"] is True


async def test_async_abandoned_stream_with_async_with(openai_env, recorder) -> None:
    async with await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, stream=True) as stream:
        async for _ in stream:
            break
    assert llmtap.flush(5)
    assert recorder.names() == ["pre", "post", "success"]


def test_stream_events_per_chunk(openai_env) -> None:
    seen: list[object] = []

    class ChunkLogger(CustomLogger):
        def log_stream_event(self, kwargs, response_obj, start_time, end_time):
            seen.append(response_obj)

    llmtap.callbacks = [ChunkLogger()]
    chunks = list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert llmtap.flush(5)
    assert seen == chunks


def test_kwargs_hold_the_documented_keys(openai_env, recorder) -> None:
    call("sync", metadata={"team": "search"}, temperature=0.5, user="u-1")
    assert llmtap.flush(5)
    pre = recorder.kwargs["pre"]
    assert pre["log_event_type"] == "pre_api_call"
    assert pre["model"] == "gpt-4o-mini"
    assert pre["messages"] == MESSAGES
    assert pre["optional_params"] == {"temperature": 0.5, "user": "u-1", "extra_body": {}}
    assert pre["litellm_params"]["metadata"] == {"team": "search"}
    assert pre["litellm_params"]["api_base"] == openai_env.openai_base
    assert isinstance(pre["start_time"], datetime.datetime)
    assert pre["stream"] is False and pre["user"] == "u-1"
    assert pre["input"] == MESSAGES
    assert pre["api_key"] == "sk-test-key-123456"
    assert pre["additional_args"]["complete_input_dict"] == openai_env.last_request.json
    assert "end_time" not in pre  # a snapshot: later keys are not in an earlier event
    post = recorder.kwargs["post"]
    assert post["log_event_type"] == "post_api_call"
    assert json.loads(post["original_response"])["object"] == "chat.completion"
    success = recorder.kwargs["success"]
    assert success["log_event_type"] == "successful_api_call"
    assert success["cache_hit"] is False
    assert isinstance(success["end_time"], datetime.datetime) and success["end_time"] >= success["start_time"]
    assert isinstance(success["response_cost"], float) and success["response_cost"] > 0
    assert "complete_streaming_response" not in success


def test_standard_logging_object_is_json_and_uses_the_peer_names(openai_env, recorder) -> None:
    call("sync", metadata={"trace_id": "t-1"})
    assert llmtap.flush(5)
    slo = recorder.kwargs["success"]["standard_logging_object"]
    for key in (
        "id", "trace_id", "call_type", "stream", "status", "custom_llm_provider", "model", "model_id",
        "api_base", "cache_hit", "cache_key", "saved_cache_cost", "response_cost", "prompt_tokens",
        "completion_tokens", "total_tokens", "startTime", "endTime", "completionStartTime",
        "response_time", "metadata", "messages", "response", "model_parameters", "error_str",
        "error_information", "hidden_params",
    ):
        assert key in slo, key
    assert slo["status"] == "success" and slo["trace_id"] == "t-1"
    assert slo["custom_llm_provider"] == "openai" and slo["call_type"] == "completion"
    assert slo["total_tokens"] == slo["prompt_tokens"] + slo["completion_tokens"] > 0
    assert slo["hidden_params"]["additional_headers"]["x-request-id"].startswith("req_")
    assert slo["response"]["choices"][0]["message"]["content"].startswith("Hello")
    json.dumps(slo)
    assert "sk-test-key" not in json.dumps(slo)


def test_failure_standard_logging_object(openai_env, recorder) -> None:
    openai_env.push(Fault(429))
    with pytest.raises(llmtap.RateLimitError):
        call("sync")
    assert llmtap.flush(5)
    slo = recorder.kwargs["failure"]["standard_logging_object"]
    assert slo["status"] == "failure"
    assert slo["error_information"]["error_class"] == "RateLimitError"
    assert slo["error_information"]["error_code"] == "429"
    json.dumps(slo)


def test_input_callback_sees_exact_body(openai_env) -> None:
    bodies: list[dict] = []
    llmtap.input_callback = [lambda kwargs: bodies.append(kwargs["additional_args"]["complete_input_dict"])]
    call("sync", max_tokens=5)
    assert llmtap.flush(5)
    assert bodies == [openai_env.last_request.json]


def test_function_lists_get_their_events(openai_env) -> None:
    got: list[tuple] = []
    llmtap.success_callback = [lambda k, r, s, e: got.append(("success", type(r).__name__))]
    llmtap.failure_callback = [lambda k, r, s, e: got.append(("failure", type(k["exception"]).__name__))]
    call("sync")
    openai_env.push(Fault(400))
    with pytest.raises(llmtap.BadRequestError):
        call("sync")
    assert llmtap.flush(5)
    assert got == [("success", "ModelResponse"), ("failure", "BadRequestError")]


def test_async_function_in_success_callback_is_awaited(openai_env) -> None:
    got: list[str] = []

    async def on_success(kwargs, response, start, end):
        await asyncio.sleep(0.01)
        got.append(kwargs["litellm_call_id"])

    llmtap.success_callback = [on_success]
    call("async")
    call("sync")
    assert llmtap.flush(5)
    assert len(got) == 2


def test_per_call_callbacks_only_for_that_call(openai_env, recorder) -> None:
    extra = Recorder()
    call("sync", callbacks=[extra])
    call("sync")
    assert llmtap.flush(5)
    assert extra.names() == ["pre", "post", "success"]
    assert recorder.names() == ["pre", "post", "success"] * 2


def test_same_handler_in_two_lists_is_called_once(openai_env, recorder) -> None:
    llmtap.success_callback = [recorder]
    call("sync")
    assert llmtap.flush(5)
    assert recorder.names() == ["pre", "post", "success"]


def test_unknown_callback_name_is_a_clear_error(openai_env) -> None:
    with pytest.raises(ValueError, match="unknown callback 'no-such-integration'"):
        llmtap.success_callback = ["no-such-integration"]
    llmtap.success_callback.append("no-such-integration-2")  # unseen by the assignment check
    with pytest.raises(llmtap.BadRequestError, match="unknown callback 'no-such-integration-2'"):
        call("sync")
    assert openai_env.requests == []  # raised before any request


def test_mock_response_goes_through_the_same_hooks(recorder) -> None:
    call("sync", mock_response="hi there")
    assert llmtap.flush(5)
    assert recorder.names() == ["pre", "post", "success"]
    assert recorder.kwargs["success"]["response_cost"] is not None


# -- isolation ---------------------------------------------------------------------------------


def test_raising_hook_is_logged_by_name_and_changes_nothing(openai_env, recorder, caplog) -> None:
    class Broken(CustomLogger):
        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            raise RuntimeError("boom")

    llmtap.callbacks = [Broken(), recorder]
    before = llmtap.callback_stats()["failed"]
    with caplog.at_level(logging.ERROR, logger="llmtap"):
        r = call("sync")
        assert llmtap.flush(5)
    assert r.choices[0].message.content
    assert recorder.names() == ["pre", "post", "success"]
    messages = [rec.getMessage() for rec in caplog.records if rec.name == "llmtap"]
    assert len(messages) == 1 and "Broken.log_success_event" in messages[0]
    assert llmtap.callback_stats()["failed"] == before + 1


def test_slow_hook_delays_neither_the_call_nor_other_sinks(openai_env, recorder) -> None:
    release = threading.Event()

    class Hangs(CustomLogger):
        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            release.wait(10)

    llmtap.callbacks = [Hangs(), recorder]
    try:
        started = time.monotonic()
        for _ in range(3):
            call("sync")
        assert time.monotonic() - started < 1.0
        deadline = time.monotonic() + 3
        while recorder.names().count("success") < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert recorder.names() == ["pre", "post", "success"] * 3
        assert "Hangs" in llmtap.callback_stats()["isolated_sinks"]
        assert llmtap.flush(0.2) is False  # the hung hook's events are still pending
    finally:
        release.set()
    assert llmtap.flush(5)


# -- concurrency -------------------------------------------------------------------------------


def test_eight_threads_hundred_calls_each(openai_env, recorder) -> None:
    def worker() -> None:
        for _ in range(100):
            llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert llmtap.flush(10)
    calls = recorder.by_call()
    assert len(calls) == 800
    assert all(names == ["pre", "post", "success"] for names in calls.values())


async def test_three_hundred_gathered_async_calls(openai_env, recorder) -> None:
    await asyncio.gather(*[llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES) for _ in range(300)])
    assert llmtap.flush(10)
    calls = recorder.by_call()
    assert len(calls) == 300
    assert all(names == ["pre", "post", "success"] for names in calls.values())


def test_changing_lists_while_calls_run(openai_env) -> None:
    handlers = [Recorder() for _ in range(4)]
    stop = threading.Event()

    def churn() -> None:
        i = 0
        while not stop.is_set():
            llmtap.callbacks = handlers[: i % 5]
            i += 1

    churner = threading.Thread(target=churn)
    churner.start()
    try:
        for _ in range(50):
            llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        stop.set()
        churner.join()
    assert llmtap.flush(5)
    for handler in handlers:
        for names in handler.by_call().values():
            assert names == ["pre", "post", "success"]


# -- delivery at exit ----------------------------------------------------------------------------

EXIT_SCRIPT = """
import asyncio, llmtap
from llmtap.integrations.custom_logger import CustomLogger

class Slow(CustomLogger):
    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        await asyncio.sleep(0.3)
        print("delivered", kwargs["model"], flush=True)

llmtap.callbacks = [Slow()]
async def main():
    await llmtap.acompletion(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], mock_response="ok")
asyncio.run(main())
print("script done", flush=True)
"""

HANG_SCRIPT = """
import threading, llmtap
from llmtap.integrations.custom_logger import CustomLogger

class Hang(CustomLogger):
    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        threading.Event().wait()

llmtap.callbacks = [Hang()]
llmtap.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], mock_response="ok")
print("script done", flush=True)
"""


def test_events_are_delivered_after_asyncio_run_and_script_end() -> None:
    done = subprocess.run([sys.executable, "-c", EXIT_SCRIPT], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["script done", "delivered gpt-4o-mini"]


def test_a_hung_hook_cannot_hang_the_process() -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", HANG_SCRIPT], capture_output=True, text=True, timeout=30)
    assert done.stdout.splitlines() == ["script done"]
    assert time.monotonic() - started < 15
    assert "still pending" in done.stderr


def test_a_full_queue_pushes_back_instead_of_dropping() -> None:
    from llmtap.logging.delivery import Delivery
    from llmtap.logging.hooks import SUCCESS
    from llmtap.logging.sinks import FunctionSink

    delivered: list[int] = []

    def slow(kwargs, response, start, end):
        # Slow, but never long enough to count as stalled (a stalled hook gets its own lane).
        time.sleep(0.05)
        delivered.append(kwargs["n"])

    class FakeEvent:
        kind = SUCCESS
        is_async = False
        response_obj = None
        start_time = end_time = None
        loop = waiter = None

        def __init__(self, n: int) -> None:
            self.kwargs = {"n": n}

        def prepare(self) -> None:
            pass

    queue = Delivery(capacity=3)
    sinks = (FunctionSink(slow, "slow", frozenset({SUCCESS})),)
    producer_done = threading.Event()

    def produce() -> None:
        for n in range(20):
            queue.submit(FakeEvent(n), sinks)
        producer_done.set()

    threading.Thread(target=produce, daemon=True).start()
    time.sleep(0.3)
    assert not producer_done.is_set()  # the producer is held back, not dropping events
    assert queue.stats()["pending"] >= 3
    assert producer_done.wait(10)
    assert queue.flush(5)
    assert delivered == list(range(20))
    assert queue.stats()["delivered"] == 20


async def test_a_cancelled_async_call_logs_one_failure(openai_env, recorder) -> None:
    openai_env.push(Reply(delay=2.0))
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES), timeout=0.2)
    assert llmtap.flush(5)
    assert recorder.names() == ["pre", "failure"]
    assert type(recorder.kwargs["failure"]["exception"]).__name__ == "CancelledError"


async def test_async_variants_of_pre_and_stream_hooks(openai_env) -> None:
    seen: list[str] = []

    class AsyncOnly(CustomLogger):
        async def async_log_pre_api_call(self, model, messages, kwargs):
            seen.append(f"pre:{model}")

        async def async_log_stream_event(self, kwargs, response_obj, start_time, end_time):
            seen.append("chunk")

        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            seen.append("success")

    llmtap.callbacks = [AsyncOnly()]
    stream = await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    chunks = [c async for c in stream]
    assert llmtap.flush(5)
    assert seen[0] == "pre:gpt-4o-mini" and seen[-1] == "success"
    assert seen.count("chunk") == len(chunks)


def test_a_handler_with_only_async_hooks_still_hears_sync_calls(openai_env) -> None:
    seen: list[str] = []

    class AsyncOnly(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            seen.append(kwargs["log_event_type"])

    llmtap.callbacks = [AsyncOnly()]
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert llmtap.flush(5)
    assert seen == ["successful_api_call"]
