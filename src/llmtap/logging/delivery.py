"""Deliver every event to every sink, in order, off the caller's path, with nothing lost.

One worker thread takes events in the order calls emitted them and runs each sink's sync hook
inline — a no-op handler costs a function call, not a thread hand-off. Async hooks run on one
background event loop, in a lane per sink so each sink still sees its events in order, and the
caller's own loop may end at any time without losing them.

A hook that blocks must not hold up the others. When the worker has been inside one hook for
longer than ``STALL_SECONDS``, the sink is moved to a lane of its own: the stuck thread keeps
that sink (and finishes its hook there), and a fresh worker carries on with everything else
from the very next sink. Nothing is skipped, nothing is delivered twice.

The queue is bounded: when it is full, callers wait (push back) instead of events being dropped.
``flush`` waits until everything submitted has been delivered; at exit it is called with a
bounded timeout so a hung hook cannot hang the process.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from typing import Any

from .sinks import Sink

logger = logging.getLogger("llmtap")

STALL_SECONDS = 0.2
CAPACITY = 10_000
EXIT_TIMEOUT = 5.0


class Delivery:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[tuple[Any, tuple[Sink, ...], int]] = deque()
        self._capacity = capacity
        self._pending = 0  # (event, sink) deliveries not yet finished
        self._queued_events = 0
        self.delivered = 0
        self.failed = 0
        self._generation = 0
        self._worker: threading.Thread | None = None
        self._waiting = False
        self._flushers = 0
        self._blocked = 0
        self._busy: tuple[Sink, float, Any, tuple[Sink, ...], int] | None = None
        self._lanes: dict[int, _Lane] = {}
        self._loop: _AsyncLanes | None = None
        self._threads: set[int] = set()

    # -- producer side ---------------------------------------------------------------------

    def submit(self, event: Any, sinks: tuple[Sink, ...]) -> None:
        with self._cond:
            if threading.get_ident() not in self._threads:
                while self._queued_events >= self._capacity:
                    self._check_stall()
                    self._blocked += 1
                    self._cond.wait(0.05)
                    self._blocked -= 1
            self._queue.append((event, sinks, 0))
            self._queued_events += 1
            self._pending += len(sinks)
            if self._worker is None:
                self._start_worker()
                threading.Thread(target=self._watch, name="llmtap-delivery-watchdog", daemon=True).start()
            elif self._waiting:
                self._cond.notify()
            elif self._busy is not None:
                self._check_stall()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every submitted event is delivered; False if ``timeout`` ran out first."""
        if threading.get_ident() in self._threads:
            return self._pending == 0  # a hook waiting for its own delivery would never return
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._flushers += 1
            try:
                while self._pending:
                    self._check_stall()
                    wait = 0.05
                    if deadline is not None:
                        wait = min(wait, deadline - time.monotonic())
                        if wait <= 0:
                            return False
                    self._cond.wait(wait)
                return True
            finally:
                self._flushers -= 1

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "delivered": self.delivered,
                "failed": self.failed,
                "pending": self._pending,
                "isolated_sinks": sorted(lane.name for lane in self._lanes.values()),
            }

    # -- worker side -------------------------------------------------------------------------

    def _start_worker(self, first: tuple[Any, tuple[Sink, ...], int] | None = None) -> None:
        if first is not None:
            self._queue.appendleft(first)
        generation = self._generation
        thread = threading.Thread(
            target=self._work, args=(generation,), name=f"llmtap-delivery-{generation}", daemon=True
        )
        self._worker = thread
        thread.start()
        self._threads.add(thread.ident)

    def _work(self, generation: int) -> None:
        cond = self._cond
        while True:
            with cond:
                while not self._queue:
                    self._waiting = True
                    cond.wait()
                    self._waiting = False
                event, sinks, start = self._queue.popleft()
                if start == 0:
                    self._queued_events -= 1
                    if self._blocked:
                        cond.notify_all()
            if start == 0:
                try:
                    event.prepare()
                except Exception:
                    logger.exception("llmtap: could not complete the %s event's details", event.kind)
            for index in range(start, len(sinks)):
                sink = sinks[index]
                lane = self._lanes.get(id(sink))
                if lane is not None:
                    lane.put(event, sink)
                    continue
                self._busy = (sink, time.monotonic(), event, sinks, index)
                ok = self._run(sink, event)
                with cond:
                    self._busy = None
                    demoted = generation != self._generation
                    if ok is not None:
                        self._done(ok)
                    if demoted:
                        lane = self._lanes[id(sink)]
                if demoted:
                    lane.serve()
                    return

    def _watch(self) -> None:
        """Notice a hook that blocks even when no new event or flush() comes to notice it."""
        while True:
            time.sleep(STALL_SECONDS / 2)
            if self._busy is not None:
                with self._cond:
                    self._check_stall()

    def _check_stall(self) -> None:
        """Called with the lock held: move a sink stuck in a hook to its own lane."""
        busy = self._busy
        if busy is None or time.monotonic() - busy[1] < STALL_SECONDS:
            return
        sink, _, event, sinks, index = busy
        if id(sink) in self._lanes:
            return
        logger.warning(
            "llmtap: callback %s has been running for over %.1fs; it now gets its own thread "
            "so other callbacks are not held up",
            sink.name,
            STALL_SECONDS,
        )
        self._lanes[id(sink)] = _Lane(self, sink)
        self._busy = None
        self._generation += 1
        self._start_worker(first=(event, sinks, index + 1) if index + 1 < len(sinks) else None)

    def _run(self, sink: Sink, event: Any) -> bool | None:
        """Run one sink's hook for one event. None: handed to the async loop, done later."""
        plan = sink.plan(event.kind, event.is_async)
        if plan is None:
            return True
        function, awaited = plan
        if awaited or (self._loop is not None and self._loop.busy(id(sink))):
            self._async_lanes().submit(sink, function, sink.arguments(event), awaited)
            return None
        try:
            function(*sink.arguments(event))
            return True
        except Exception:
            _log_failure(sink, function)
            return False

    def _done(self, ok: bool) -> None:
        """Called with the lock held when one (event, sink) delivery finished."""
        self._pending -= 1
        if ok:
            self.delivered += 1
        else:
            self.failed += 1
        if self._flushers and not self._pending:
            self._cond.notify_all()

    def _finish_async(self, ok: bool) -> None:
        with self._cond:
            self._done(ok)

    def _async_lanes(self) -> _AsyncLanes:
        if self._loop is None:
            with self._cond:
                if self._loop is None:
                    self._loop = _AsyncLanes(self)
        return self._loop


class _Lane:
    """A sink that blocked: its own queue, served by the thread that got stuck in it."""

    def __init__(self, delivery: Delivery, sink: Sink) -> None:
        self.delivery = delivery
        self.name = sink.name
        self._items: deque[tuple[Any, Sink]] = deque()
        self._cond = threading.Condition(threading.Lock())

    def put(self, event: Any, sink: Sink) -> None:
        with self._cond:
            self._items.append((event, sink))
            self._cond.notify()

    def serve(self) -> None:
        while True:
            with self._cond:
                while not self._items:
                    self._cond.wait()
                event, sink = self._items.popleft()
            ok = self.delivery._run(sink, event)
            if ok is not None:
                self.delivery._finish_async(ok)


class _AsyncLanes:
    """A background event loop that awaits async hooks, one ordered lane per sink."""

    def __init__(self, delivery: Delivery) -> None:
        import asyncio

        self._delivery = delivery
        self._loop = asyncio.new_event_loop()
        self._lanes: dict[int, deque] = {}
        self._in_flight: dict[int, int] = {}
        self._lock = threading.Lock()
        ready = threading.Event()
        thread = threading.Thread(
            target=self._run, args=(ready,), name="llmtap-delivery-async", daemon=True
        )
        thread.start()
        ready.wait()
        delivery._threads.add(thread.ident)

    def _run(self, ready: threading.Event) -> None:
        import asyncio

        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(ready.set)
        self._loop.run_forever()

    def busy(self, key: int) -> bool:
        return self._in_flight.get(key, 0) > 0

    def submit(self, sink: Sink, function: Any, arguments: tuple, awaited: bool) -> None:
        key = id(sink)
        with self._lock:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
        self._loop.call_soon_threadsafe(self._enqueue, key, sink, function, arguments, awaited)

    def _enqueue(self, key: int, sink: Sink, function: Any, arguments: tuple, awaited: bool) -> None:
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = deque()
        lane.append((sink, function, arguments, awaited))
        if len(lane) == 1:
            self._loop.create_task(self._drain(key, lane))

    async def _drain(self, key: int, lane: deque) -> None:
        while lane:
            sink, function, arguments, awaited = lane[0]
            ok = True
            try:
                result = function(*arguments)
                if awaited:
                    await result
            except Exception:
                _log_failure(sink, function)
                ok = False
            lane.popleft()
            with self._lock:
                self._in_flight[key] -= 1
            self._delivery._finish_async(ok)


def _log_failure(sink: Sink, function: Any) -> None:
    hook = getattr(function, "__name__", "hook")
    name = sink.name if hook == sink.name else f"{sink.name}.{hook}"
    logger.exception("llmtap: callback %s raised; the call and other callbacks are unaffected", name)


delivery = Delivery()


@atexit.register
def _drain_at_exit() -> None:
    if delivery._pending and not delivery.flush(EXIT_TIMEOUT):
        logger.warning(
            "llmtap: exiting with %d callback deliveries still pending after %.0fs",
            delivery._pending,
            EXIT_TIMEOUT,
        )
