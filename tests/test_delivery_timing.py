"""When hooks run, as the caller sees it (the peer's timing; docs/callbacks.md has the table)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import llmtap
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.testing import Fault

from .conftest import MESSAGES


class FailureSeen(CustomLogger):
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.loops: list[object] = []

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        time.sleep(0.05)  # slower than the raise would be
        self.failures.append(type(kwargs["exception"]).__name__)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        await asyncio.sleep(0.05)
        self.loops.append(asyncio.get_running_loop())
        self.failures.append(type(kwargs["exception"]).__name__)


def test_sync_failure_hooks_have_run_before_the_raise(openai_env) -> None:
    handler = FailureSeen()
    llmtap.callbacks = [handler]
    openai_env.push(Fault(status=400))
    with pytest.raises(llmtap.BadRequestError):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert handler.failures == ["BadRequestError"]  # no flush(): it ran before the raise


def test_sync_function_failure_callback_has_run_before_the_raise(openai_env) -> None:
    seen: list[str] = []

    def on_failure(kwargs, response, start, end):
        time.sleep(0.05)
        seen.append("failure")

    llmtap.failure_callback = [on_failure]
    openai_env.push(Fault(status=500))
    with pytest.raises(llmtap.InternalServerError):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert seen == ["failure"]


async def test_async_failure_hooks_run_on_the_callers_loop_before_the_raise(openai_env) -> None:
    handler = FailureSeen()
    llmtap.callbacks = [handler]
    openai_env.push(Fault(status=401))
    with pytest.raises(llmtap.AuthenticationError):
        await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES)
    assert handler.failures == ["AuthenticationError"]
    assert handler.loops == [asyncio.get_running_loop()]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_cut_stream_raises_after_its_failure_hooks_ran(openai_env, mode) -> None:
    handler = FailureSeen()
    llmtap.callbacks = [handler]
    openai_env.push(Fault(status=200, cut_after=2))
    with pytest.raises(llmtap.APIConnectionError):
        if mode == "sync":
            for _ in llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True):
                pass
        else:
            async for _ in await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, stream=True):
                pass
    assert handler.failures == ["APIConnectionError"]


def test_a_hung_failure_hook_delays_the_raise_by_a_bounded_time(openai_env, monkeypatch) -> None:
    from llmtap.logging.delivery import outcome

    monkeypatch.setattr(outcome, "FAILURE_WAIT", 0.3)
    gate = threading.Event()

    def hangs(kwargs, response, start, end):
        gate.wait(10)

    llmtap.failure_callback = [hangs]
    openai_env.push(Fault(status=400))
    started = time.monotonic()
    with pytest.raises(llmtap.BadRequestError):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert time.monotonic() - started < 5
    gate.set()


async def test_async_success_hooks_run_on_the_callers_loop_and_can_use_its_objects(openai_env) -> None:
    queue: asyncio.Queue = asyncio.Queue()  # bound to this loop: unusable from another one

    class UsesAppQueue(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            await queue.put((asyncio.get_running_loop(), kwargs["model"]))

    llmtap.callbacks = [UsesAppQueue()]
    await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES)
    loop, model = await asyncio.wait_for(queue.get(), 5)
    assert loop is asyncio.get_running_loop()
    assert model == "gpt-4o-mini"


async def test_async_stream_success_is_scheduled_on_the_callers_loop(openai_env) -> None:
    seen: list = []

    class Handler(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            seen.append(asyncio.get_running_loop())

    llmtap.callbacks = [Handler()]
    async for _ in await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, stream=True):
        pass
    for _ in range(200):
        if seen:
            break
        await asyncio.sleep(0.01)
    assert seen == [asyncio.get_running_loop()]


def test_hooks_pending_when_the_callers_loop_ends_are_delivered_anyway(openai_env) -> None:
    done: list[str] = []

    class Slow(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            await asyncio.sleep(0.2)
            done.append(kwargs["litellm_call_id"])

    llmtap.callbacks = [Slow()]

    async def main() -> None:
        await asyncio.gather(*(llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES) for _ in range(5)))

    for _ in range(3):
        asyncio.run(main())  # returns at once: the hooks are still sleeping on that loop
    assert llmtap.flush(10)
    assert len(done) == 15
    assert len(set(done)) == 15  # each delivered once
