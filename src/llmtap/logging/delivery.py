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
# After waking, the worker waits this long before draining, so the events of several calls are
# delivered in one go: far fewer thread switches on the caller's CPU, at a cost of ~2 ms latency.
LINGER_SECONDS = 0.002


class Delivery:
    def __init__(self, capacity: int = CAPACITY) -> None:
        # Producers append to _queue without a lock (deque.append is atomic) and take _cond only
        # to wake an idle worker or to wait for room, so calls rarely meet the worker on a lock.
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[tuple[Any, tuple[Sink, ...]]] = deque()
        self._capacity = capacity
        self._pending = 0  # (event, sink) deliveries taken off the queue and not finished
        self.delivered = 0
        self.failed = 0
        self._waiting = False
        self._lingering = False
        self._flushers = 0
        self._blocked = 0
        # The busy handshake: the worker records the hook it is in; the watchdog may move that
        # sink to its own lane. _handoff makes "hook finished" and "hook demoted" exclusive.
        self._handoff = threading.Lock()
        self._generation = 0
        self._busy: tuple | None = None
        self._worker: threading.Thread | None = None
        self._lanes: dict[int, _Lane] = {}
        self._loop: _AsyncLanes | None = None
        self._threads: set[int] = set()

    # -- producer side ---------------------------------------------------------------------

    def submit(self, event: Any, sinks: tuple[Sink, ...]) -> None:
        if len(self._queue) >= self._capacity and threading.get_ident() not in self._threads:
            self._wait_for_room()
        self._queue.append((event, sinks))
        if self._waiting:
            with self._cond:
                if self._waiting:
                    self._waiting = False
                    self._cond.notify()
        elif self._worker is None:
            with self._cond:
                if self._worker is None:
                    self._start_worker([])
                    threading.Thread(target=self._watch, name="llmtap-delivery-watchdog", daemon=True).start()

    def _wait_for_room(self) -> None:
        with self._cond:
            self._blocked += 1
            self._cond.notify_all()  # a lingering worker drains now
            try:
                while len(self._queue) >= self._capacity:
                    self._cond.notify()
                    self._cond.wait(0.05)
            finally:
                self._blocked -= 1

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every submitted event is delivered; False if ``timeout`` ran out first."""
        if threading.get_ident() in self._threads:
            return not self._queue and not self._pending  # a hook cannot wait for itself
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._flushers += 1
            try:
                while self._queue or self._pending:
                    if (self._waiting and self._queue) or self._lingering:
                        self._waiting = False
                        self._cond.notify_all()
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
                "pending": self._pending + sum(len(sinks) for _, sinks in list(self._queue)),
                "isolated_sinks": sorted(lane.name for lane in self._lanes.values()),
            }

    @property
    def pending(self) -> int:
        return self._pending + len(self._queue)

    # -- worker side -------------------------------------------------------------------------

    def _start_worker(self, resume: list) -> None:
        """Start a worker; ``resume`` holds (event, sinks, first sink index) already counted."""
        generation = self._generation
        thread = threading.Thread(
            target=self._work, args=(generation, resume), name=f"llmtap-delivery-{generation}", daemon=True
        )
        self._worker = thread
        thread.start()
        self._threads.add(thread.ident)

    def _take_batch(self) -> list:
        """Wait for events (lingering briefly so several calls' events go together), take all.

        The linger is a wait on the condition, so flush() (and a producer held back by a full
        queue) cut it short: delivery is batched, never delayed for someone waiting on it."""
        cond = self._cond
        queue = self._queue
        with cond:
            if not queue:
                while not queue:
                    self._waiting = True  # again after every wake-up, or a producer may skip us
                    cond.wait()
                self._waiting = False
                if not self._flushers and not self._blocked:
                    self._lingering = True
                    cond.wait(LINGER_SECONDS)
                    self._lingering = False
            batch = []
            jobs = 0
            while queue:
                event, sinks = queue.popleft()
                batch.append((event, sinks, 0))
                jobs += len(sinks)
            self._pending += jobs
            if self._blocked:
                cond.notify_all()
        return batch

    def _work(self, generation: int, resume: list) -> None:
        batch = resume
        while True:
            if not batch:
                batch = self._take_batch()
            delivered = failed = 0
            demoted_into = None
            for position, (event, sinks, start) in enumerate(batch):
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
                    self._busy = (sink, time.monotonic(), batch, position, index)
                    ok = self._run(sink, event)
                    with self._handoff:
                        self._busy = None
                        if generation != self._generation:
                            demoted_into = self._lanes[id(sink)]
                    if ok is True:
                        delivered += 1
                    elif ok is False:
                        failed += 1
                    if demoted_into is not None:
                        break
                if demoted_into is not None:
                    break
            self._account(delivered, failed)
            if demoted_into is not None:
                demoted_into.serve()
                return
            batch = []

    def _account(self, delivered: int, failed: int) -> None:
        if not delivered and not failed:
            return
        with self._cond:
            self._pending -= delivered + failed
            self.delivered += delivered
            self.failed += failed
            if self._flushers and not self._pending:
                self._cond.notify_all()

    def _watch(self) -> None:
        """Notice a hook that blocks even when no new event or flush() comes to notice it."""
        while True:
            time.sleep(STALL_SECONDS / 2)
            if self._busy is not None:
                self._check_stall()

    def _check_stall(self) -> None:
        """Move a sink stuck in a hook to its own lane; a fresh worker takes over the rest."""
        with self._handoff:
            busy = self._busy
            if busy is None or time.monotonic() - busy[1] < STALL_SECONDS:
                return
            sink, _, batch, position, index = busy
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
            event, sinks, _ = batch[position]
            resume = [(event, sinks, index + 1)] if index + 1 < len(sinks) else []
            resume += batch[position + 1 :]
            self._start_worker(resume)

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

    def _finish_async(self, ok: bool) -> None:
        self._account(1 if ok else 0, 0 if ok else 1)

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
        """Queue an event for this sink; when the lane is full, wait (push back, never drop)."""
        with self._cond:
            while len(self._items) >= self.delivery._capacity:
                self._cond.wait(0.05)
            self._items.append((event, sink))
            self._cond.notify_all()

    def serve(self) -> None:
        while True:
            with self._cond:
                while not self._items:
                    self._cond.wait()
                event, sink = self._items.popleft()
                self._cond.notify_all()
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
    if delivery.pending and not delivery.flush(EXIT_TIMEOUT):
        logger.warning(
            "llmtap: exiting with %d callback deliveries still pending after %.0fs",
            delivery.pending,
            EXIT_TIMEOUT,
        )
