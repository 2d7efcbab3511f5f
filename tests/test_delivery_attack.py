"""Delivery attacked from the caller's side: loops that stop without closing, hooks that call."""

from __future__ import annotations

import asyncio
import threading
import time

import llmtap
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.testing import Fault

from .conftest import MESSAGES


def test_flush_delivers_the_hooks_of_a_loop_that_stopped_and_never_runs_again(openai_env) -> None:
    seen: list[str] = []

    async def hook(kwargs, response, start, end):
        seen.append(kwargs["litellm_call_id"])

    llmtap.success_callback = [hook]
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES))
        # The loop is left stopped (not closed), as run_until_complete leaves it: flush() must
        # not wait for it forever, and the hook runs on llmtap's own loop.
        assert llmtap.flush(timeout=10)
        assert len(seen) == 1
        loop.run_until_complete(asyncio.sleep(0.05))  # the loop runs again: nothing twice
        assert llmtap.flush(timeout=10)
        assert len(seen) == 1
    finally:
        loop.close()


def test_a_failing_call_inside_an_async_failure_hook_does_not_wait_for_itself(openai_env, monkeypatch) -> None:
    from llmtap.logging.delivery import outcome

    monkeypatch.setattr(outcome, "FAILURE_WAIT", 20.0)
    runs: list[str] = []
    inner_took: list[float] = []

    class Alerts(CustomLogger):
        async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
            runs.append(kwargs["messages"][0]["content"])
            if kwargs["messages"][0]["content"] != "outer":
                return
            openai_env.push(Fault(status=500))
            started = time.monotonic()
            try:
                await llmtap.acompletion(model="gpt-4o-mini", messages=[{"role": "user", "content": "inner"}])
            except llmtap.InternalServerError:
                inner_took.append(time.monotonic() - started)

    llmtap.callbacks = [Alerts()]

    async def main() -> float:
        openai_env.push(Fault(status=500))
        started = time.monotonic()
        try:
            await llmtap.acompletion(model="gpt-4o-mini", messages=[{"role": "user", "content": "outer"}])
        except llmtap.InternalServerError:
            pass
        return time.monotonic() - started

    outer_took = asyncio.run(main())
    assert llmtap.flush(timeout=20)
    # The inner call's failure hook is queued behind the hook that made it: waiting for it would
    # hold both raises for the whole FAILURE_WAIT (and the outer hook, interrupted, runs twice).
    assert inner_took and inner_took[0] < 10
    assert outer_took < 10
    assert sorted(runs) == ["inner", "outer"]
    assert len(openai_env.requests) == 2


def _async_loop_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == "llmtap-delivery-async")


def test_jobs_submitted_while_the_own_loop_is_blocked_move_to_a_fresh_loop(openai_env) -> None:
    delivered: list[float] = []
    running = threading.Event()

    async def blocks(kwargs, response, start, end):
        running.set()
        time.sleep(3.0)  # a blocking call inside async def

    async def fine(kwargs, response, start, end):
        delivered.append(time.monotonic())

    llmtap.success_callback = [blocks]
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="a")
    assert running.wait(10)  # llmtap's loop is now blocked
    llmtap.success_callback = [blocks, fine]
    started = time.monotonic()
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="b")
    deadline = time.monotonic() + 10
    while not delivered and time.monotonic() < deadline:
        time.sleep(0.01)
    # Submitted to a loop that was already blocked: it must still reach a fresh loop, not wait
    # in the blocked loop's own queue until the blocking hook lets go.
    assert delivered and delivered[0] - started < 2.5
    assert llmtap.flush(20)


def test_an_async_hook_that_awaits_is_not_taken_for_a_blocked_loop(openai_env, caplog) -> None:
    from llmtap.logging.delivery import delivery

    done: list[str] = []

    async def posts(kwargs, response, start, end):
        await asyncio.sleep(0.8)  # awaiting an HTTP post, say: the loop is free meanwhile
        done.append(kwargs["litellm_call_id"])

    llmtap.success_callback = [posts]
    threads = threading.active_count()
    with caplog.at_level("WARNING", logger="llmtap"):
        for _ in range(3):
            llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="a")
        assert llmtap.flush(20)
    assert len(done) == 3
    assert "blocked its event loop" not in caplog.text
    assert not delivery.stalled_loops
    assert threading.active_count() <= threads + 1  # (the loop itself, on a first use)


def test_a_loop_left_behind_by_a_blocking_hook_ends_its_thread(openai_env) -> None:
    async def blocks(kwargs, response, start, end):
        time.sleep(0.6)

    async def fine(kwargs, response, start, end):
        pass

    llmtap.success_callback = [blocks, fine]
    for _ in range(3):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="a")
        assert llmtap.flush(20)
    deadline = time.monotonic() + 10
    while _async_loop_threads() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _async_loop_threads() == 1
