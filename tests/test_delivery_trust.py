"""Delivery under attack: hung, raising and blocking hooks; exit; fork; many event loops."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import llmtap
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.testing import Reply

from .conftest import MESSAGES


def test_a_hung_hook_sheds_its_own_oldest_events_and_blocks_nobody(openai_env, monkeypatch) -> None:
    from llmtap.logging.delivery import lanes

    monkeypatch.setattr(lanes, "LANE_CAPACITY", 5)
    gate = threading.Event()
    others: list[str] = []

    def hangs(kwargs, response, start, end):
        gate.wait(30)

    def healthy(kwargs, response, start, end):
        others.append(kwargs["litellm_call_id"])

    llmtap.success_callback = [hangs, healthy]
    before = llmtap.callback_stats()["shed"]
    started = time.monotonic()
    for _ in range(40):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="hi")
    assert time.monotonic() - started < 10  # no caller was held back
    deadline = time.monotonic() + 10
    while len(others) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(others) == 40  # the healthy handler got every event
    stats = llmtap.callback_stats()
    assert stats["shed"] - before >= 30  # the hung handler's own oldest, dropped and counted
    assert "test_a_hung_hook_sheds_its_own_oldest_events_and_blocks_nobody.<locals>.hangs" in stats["isolated_sinks"]
    gate.set()


@pytest.mark.parametrize("kind", [SystemExit, KeyboardInterrupt, asyncio.CancelledError, GeneratorExit])
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_hooks_raising_base_exceptions_are_isolated(openai_env, kind, mode) -> None:
    seen: list[str] = []

    class Raises(CustomLogger):
        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            raise kind()

        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            raise kind()

    def after(kwargs, response, start, end):
        seen.append("after")

    llmtap.callbacks = [Raises()]
    llmtap.success_callback = [after]
    for _ in range(3):
        if mode == "sync":
            llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="x")
        else:
            await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, mock_response="x")
    for _ in range(300):
        if len(seen) == 3:
            break
        await asyncio.sleep(0.01)
    assert llmtap.flush(5)  # never wedged
    assert seen == ["after"] * 3


def test_a_blocking_async_hook_does_not_starve_the_other_async_hooks(openai_env) -> None:
    release = threading.Event()
    delivered: list[int] = []

    async def blocks(kwargs, response, start, end):
        release.wait(20)  # a blocking call inside async def: its loop can run nothing else

    async def fine(kwargs, response, start, end):
        delivered.append(1)

    llmtap.success_callback = [blocks, fine]
    try:
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="a")
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="b")
        deadline = time.monotonic() + 15
        while len(delivered) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        # Delivered while the blocking hook still holds its loop: only a move to a fresh loop
        # could have done it (no timing bound, so a loaded machine cannot fail it).
        assert len(delivered) == 2
    finally:
        release.set()
    assert llmtap.flush(20)


def test_an_isolated_lane_ends_its_thread_when_idle(openai_env, monkeypatch) -> None:
    from llmtap.logging.delivery import lanes

    monkeypatch.setattr(lanes, "IDLE_SECONDS", 0.2)

    def slow_once(kwargs, response, start, end):
        if kwargs["litellm_params"]["metadata"] == {"slow": True}:
            time.sleep(0.6)

    llmtap.success_callback = [slow_once]
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="a", metadata={"slow": True})
    time.sleep(0.4)
    assert llmtap.callback_stats()["isolated_sinks"]  # it was moved to a lane of its own
    threads_then = threading.active_count()
    deadline = time.monotonic() + 5
    while llmtap.callback_stats()["isolated_sinks"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert llmtap.callback_stats()["isolated_sinks"] == []
    time.sleep(0.1)
    assert threading.active_count() < threads_then  # its thread ended
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="b")  # served inline again
    assert llmtap.flush(5)


def test_a_replacement_handler_that_compares_equal_takes_effect(openai_env) -> None:
    @dataclasses.dataclass
    class Handler(CustomLogger):
        name: str
        seen: list = dataclasses.field(default_factory=list, compare=False)

        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            self.seen.append(1)

        __hash__ = object.__hash__

    first, second = Handler("same"), Handler("same")
    assert first == second
    llmtap.callbacks = [first]
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="a")
    llmtap.callbacks = [second]
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="b")
    assert llmtap.flush(5)
    assert (len(first.seen), len(second.seen)) == (1, 1)


async def test_a_stream_cancelled_while_waiting_for_a_chunk_logs_one_failure(openai_env) -> None:
    outcomes: list[tuple[str, str]] = []

    class Handler(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            outcomes.append(("success", ""))

        async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
            outcomes.append(("failure", type(kwargs["exception"]).__name__))

    llmtap.callbacks = [Handler()]
    openai_env.push(Reply(content="a b c d e f", chunks=6, chunk_delay=1.0))
    stream = await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, stream=True)

    async def consume() -> None:
        async for _ in stream:
            pass

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(consume(), timeout=0.3)
    for _ in range(300):
        if outcomes:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert outcomes == [("failure", "CancelledError")]


def _run_script(script: str, emulator, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, OPENAI_API_KEY="sk-test-key-123456", OPENAI_BASE_URL=emulator.openai_base)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_exit_delivers_events_whose_hooks_need_new_threads(emulator) -> None:
    done = _run_script(
        """
        import asyncio, threading, llmtap

        def needs_a_thread(kwargs, response, start, end):
            t = threading.Thread(target=lambda: print("thread-ran", flush=True))
            t.start(); t.join()

        async def needs_to_thread(kwargs, response, start, end):
            await asyncio.to_thread(print, "to-thread-ran", flush=True)

        llmtap.success_callback = [needs_a_thread, needs_to_thread]
        llmtap.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        """,
        emulator,
    )
    assert done.returncode == 0, done.stderr
    assert "thread-ran" in done.stdout
    assert "to-thread-ran" in done.stdout


@pytest.mark.parametrize("ending", ["falls-off", "sys-exit", "unhandled"])
def test_a_stream_open_at_exit_logs_its_one_outcome(emulator, ending) -> None:
    end = {"falls-off": "pass", "sys-exit": "sys.exit(0)", "unhandled": "raise RuntimeError('boom')"}[ending]
    done = _run_script(
        f"""
        import sys, llmtap
        from llmtap.integrations.custom_logger import CustomLogger

        class H(CustomLogger):
            def log_success_event(self, kwargs, response_obj, start_time, end_time):
                print("outcome:success", kwargs.get("stream_abandoned"), flush=True)
            def log_failure_event(self, kwargs, response_obj, start_time, end_time):
                print("outcome:failure", flush=True)

        llmtap.callbacks = [H()]
        STREAM = llmtap.completion(model="gpt-4o-mini", messages=[{{"role": "user", "content": "a b c d"}}], stream=True)
        next(iter(STREAM))
        {end}
        """,
        emulator,
    )
    assert done.stdout.count("outcome:") == 1, (done.stdout, done.stderr)
    assert "outcome:success True" in done.stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_delivers_its_own_events_on_its_own_connections(emulator, tmp_path) -> None:
    out = tmp_path / "events.txt"
    done = _run_script(
        f"""
        import os, llmtap
        from llmtap import transport

        def record(kwargs, response, start, end):
            with open({str(out)!r}, "a") as f:
                f.write(f"{{os.getpid()}} {{kwargs['messages'][0]['content']}}\\n")

        llmtap.success_callback = [record]
        llmtap.completion(model="gpt-4o-mini", messages=[{{"role": "user", "content": "parent"}}])
        parent_pool = transport.default_transport()
        pid = os.fork()
        if pid == 0:
            assert transport.default_transport() is not parent_pool
            llmtap.completion(model="gpt-4o-mini", messages=[{{"role": "user", "content": "child"}}])
            ok = llmtap.flush(10)
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        print("child-status", os.waitstatus_to_exitcode(status))
        llmtap.completion(model="gpt-4o-mini", messages=[{{"role": "user", "content": "parent-again"}}])
        """,
        emulator,
    )
    assert done.returncode == 0, done.stderr
    assert "child-status 0" in done.stdout
    lines = out.read_text().split("\n")
    words = sorted(line.split()[1] for line in lines if line)
    assert words == ["child", "parent", "parent-again"]  # each exactly once


def test_fork_mode_multiprocessing_workers_deliver_their_events(emulator, tmp_path) -> None:
    out = tmp_path / "events.txt"
    done = _run_script(
        f"""
        import multiprocessing as mp, llmtap

        def record(kwargs, response, start, end):
            with open({str(out)!r}, "a") as f:
                f.write(kwargs["messages"][0]["content"] + "\\n")

        def work(i):
            llmtap.completion(model="gpt-4o-mini", messages=[{{"role": "user", "content": f"w{{i}}"}}])
            return llmtap.flush(10)

        llmtap.success_callback = [record]
        llmtap.completion(model="gpt-4o-mini", messages=[{{"role": "user", "content": "parent"}}])
        with mp.get_context("fork").Pool(2) as pool:
            print("flushed", all(pool.map(work, range(4))))
        """,
        emulator,
    )
    assert done.returncode == 0, done.stderr
    assert "flushed True" in done.stdout
    assert sorted(out.read_text().split()) == ["parent", "w0", "w1", "w2", "w3"]


def test_many_event_loops_leave_nothing_behind(openai_env) -> None:
    from llmtap.logging.delivery import delivery

    seen: list[int] = []

    class Handler(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            seen.append(1)

    llmtap.callbacks = [Handler()]

    async def one() -> None:
        await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES)

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    for _ in range(20):  # warm up: pools, the delivery threads
        asyncio.run(one())
    assert llmtap.flush(10)
    base_fds, base_threads = fds(), threading.active_count()
    for _ in range(1000):
        asyncio.run(one())
    assert llmtap.flush(20)
    time.sleep(0.3)  # the watchdog reclaims closed loops within ~0.1 s
    assert len(seen) == 1020
    assert fds() <= base_fds + 2
    assert threading.active_count() <= base_threads + 1
    assert len(delivery.caller_loops) <= 1


def test_otel_spans_are_exported_before_opentelemetry_shuts_down_at_exit(emulator) -> None:
    pytest.importorskip("opentelemetry.sdk")  # installed by the test extra: never skipped on CI
    done = _run_script(
        """
        import llmtap
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

        class Printing(SpanExporter):
            def export(self, spans):
                for span in spans:
                    print("exported", span.name, flush=True)
                return SpanExportResult.SUCCESS

        # Created after import llmtap: its atexit shutdown runs before llmtap's atexit handler.
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Printing(), schedule_delay_millis=60_000))
        from llmtap.integrations.opentelemetry import OpenTelemetryLogger

        class SlowSink(OpenTelemetryLogger):
            def log_success_event(self, kwargs, response_obj, start_time, end_time):
                import time
                time.sleep(0.3)  # still pending when the script ends
                super().log_success_event(kwargs, response_obj, start_time, end_time)

        llmtap.callbacks = [SlowSink(tracer_provider=provider)]
        llmtap.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        """,
        emulator,
    )
    assert done.returncode == 0, done.stderr
    assert "exported chat gpt-4o-mini" in done.stdout, (done.stdout, done.stderr)
