"""Where hooks run when they cannot run inline on the delivery worker.

- ``IsolatedLane``: a sink whose hook blocked gets a thread of its own, so it holds up nobody.
  Its queue is bounded; when full it sheds its OWN oldest events (counted, warned once), and
  the thread ends when the lane has been idle for ``IDLE_SECONDS``.
- ``CallerLoopLanes``: async hooks of async calls run on the caller's event loop (the peer's
  timing), so they can use the application's loop-bound clients. Whatever that loop leaves
  undone — it closed, or cancelled our task while shutting down — is reclaimed onto
- ``OwnLoopLanes``: llmtap's own background loop, which also runs async hooks of sync calls.

Every lane keeps a sink's events in order, and reports each finished job back to the
delivery (``Delivery.job_finished``), which does the accounting and wakes failure waiters.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from .outcome import IN_HOOK

if TYPE_CHECKING:
    from ..sinks import Sink
    from .queue import Delivery

logger = logging.getLogger("llmtap")

LANE_CAPACITY = 1_000
IDLE_SECONDS = 2.0

# (event, sink, function, arguments, awaited)
Job = tuple[Any, "Sink", Any, tuple, bool]


def log_hook_failure(sink: Sink, function: Any) -> None:
    hook = getattr(function, "__name__", "hook")
    name = sink.name if hook == sink.name else f"{sink.name}.{hook}"
    logger.exception("llmtap: callback %s raised; the call and other callbacks are unaffected", name)


class IsolatedLane:
    """A sink that blocked: its own bounded queue, served by the thread that got stuck in it."""

    def __init__(self, delivery: Delivery, sink: Sink) -> None:
        self.delivery = delivery
        self.sink_id = sink.sink_id
        self.name = sink.name
        self.shed = 0
        self.closed = False
        self._items: deque[tuple[Any, Sink]] = deque()
        self._cond = threading.Condition(threading.Lock())

    def put(self, event: Any, sink: Sink) -> bool:
        """Queue an event; False if the lane has retired (the caller then runs it inline)."""
        dropped = None
        with self._cond:
            if self.closed:
                return False
            if len(self._items) >= LANE_CAPACITY:
                dropped = self._items.popleft()
                self.shed += 1
            self._items.append((event, sink))
            self._cond.notify()
        if dropped is not None:
            if self.shed == 1:
                logger.warning(
                    "llmtap: callback %s is not keeping up (its queue holds %d events); its oldest "
                    "events are being dropped — other callbacks are unaffected (see callback_stats())",
                    self.name,
                    LANE_CAPACITY,
                )
            self.delivery.job_shed(dropped[0])
        return True

    def serve(self) -> None:
        """Run the lane until it has been idle for IDLE_SECONDS, then hand the sink back."""
        while True:
            with self._cond:
                deadline = time.monotonic() + IDLE_SECONDS
                while not self._items:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self.closed = True
                        self.delivery.retire_lane(self)
                        return
                    self._cond.wait(left)
                event, sink = self._items.popleft()
            ok = self.delivery.run_hook(sink, event)
            if ok is not None:
                self.delivery.job_finished(event, ok)


class OwnLoopLanes:
    """llmtap's background event loop: one ordered lane per sink.

    ``running_since`` is when the hook step now executing on the loop began: hooks are stepped
    (``_Stepped``), so a hook that merely awaits (an HTTP post) is not running, and only one
    that blocks the loop between two awaits looks stuck to the watchdog."""

    def __init__(self, delivery: Delivery) -> None:
        import asyncio

        self._delivery = delivery
        self._loop = asyncio.new_event_loop()
        self._lanes: dict[int, deque[Job]] = {}
        self._active: set[int] = set()  # sinks with a drain task
        self._started: set[int] = set()  # sinks whose first job is under way (maybe suspended)
        self._in_flight: dict[int, int] = {}
        self._lock = threading.Lock()
        self.retired = False  # replaced after a stall: stops once its last hook is done
        self.running_since: float | None = None  # when the hook step now running started
        self.running_sink: int | None = None
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="llmtap-delivery-async", daemon=True)
        self.thread.start()
        ready.wait()
        delivery.add_thread(self.thread)

    def _run(self, ready: threading.Event) -> None:
        import asyncio

        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(ready.set)
        self._loop.run_forever()
        # Only a retired loop stops: its thread ends here instead of idling for ever.
        self._delivery.retire_loop(self)
        self._loop.close()

    def busy(self, key: int) -> bool:
        return self._in_flight.get(key, 0) > 0

    def submit(self, job: Job) -> None:
        # The job is in its lane at once (not when the loop next runs, which a blocked loop
        # never does), so the watchdog can move it to a fresh loop.
        key = job[1].sink_id
        with self._lock:
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = deque()
            lane.append(job)
            if key in self._active:
                return
            self._active.add(key)
        try:
            self._loop.call_soon_threadsafe(self._start, key, lane)
        except RuntimeError:  # a retired loop that has just closed: the current one takes it
            with self._lock:
                jobs = list(lane)
                lane.clear()
                self._active.discard(key)
                self._in_flight[key] -= len(jobs)
            for moved in jobs:
                self._delivery.own_loop_lanes().submit(moved)

    def take_stalled(self) -> tuple[int, list[Job]] | None:
        """The loop is stuck in one sink's hook: take every OTHER sink's waiting jobs away
        (they move to a fresh loop); the stuck sink keeps this loop, and so does a hook already
        under way (its futures belong to this loop: it finishes here, never twice)."""
        with self._lock:
            stuck = self.running_sink
            if stuck is None:
                return None
            self.retired = True
            moved: list[Job] = []
            for key, lane in self._lanes.items():
                if key == stuck:
                    continue
                keep = lane.popleft() if key in self._started and lane else None
                moved.extend(lane)
                self._in_flight[key] = self._in_flight.get(key, 0) - len(lane)
                lane.clear()
                if keep is not None:
                    lane.append(keep)
            return stuck, moved

    def _start(self, key: int, lane: deque[Job]) -> None:
        self._loop.create_task(self._drain(key, lane))

    async def _drain(self, key: int, lane: deque[Job]) -> None:
        IN_HOOK.set(True)  # this task's own context: the hooks it runs, and their calls
        while True:
            with self._lock:
                if not lane:
                    self._active.discard(key)
                    if self.retired and not self._active:
                        self._loop.stop()
                    return
                event, sink, function, arguments, awaited = lane[0]
                self._started.add(key)
            ok = True
            try:
                result = self._step(key, function, arguments)
                if awaited:
                    await _Stepped(result, self, key)
            except GeneratorExit:
                if self._loop.is_closed():  # this coroutine is being discarded with its loop
                    raise
                log_hook_failure(sink, function)  # the hook's own GeneratorExit
                ok = False
            except BaseException:  # CancelledError, SystemExit, ...: a hook's, isolated like any
                log_hook_failure(sink, function)
                ok = False
            with self._lock:
                self._started.discard(key)
                mine = bool(lane) and lane[0][0] is event
                if mine:
                    lane.popleft()
                    self._in_flight[key] -= 1
            if mine:
                self._delivery.job_finished(event, ok)

    def _step(self, key: int, function: Any, arguments: tuple) -> Any:
        self.running_sink = key
        self.running_since = time.monotonic()
        try:
            return function(*arguments)
        finally:
            self.running_since = None
            self.running_sink = None


class _Stepped:
    """Await a hook's coroutine one step at a time, timing each step for the watchdog."""

    __slots__ = ("_coro", "_lanes", "_key")

    def __init__(self, coro: Any, lanes: OwnLoopLanes, key: int) -> None:
        self._coro = coro
        self._lanes = lanes
        self._key = key

    def __await__(self) -> Any:
        coro = self._coro
        if not hasattr(coro, "send"):  # an awaitable that is not a coroutine
            return (yield from coro.__await__())
        lanes = self._lanes
        value: Any = None
        error: BaseException | None = None
        while True:
            lanes.running_sink = self._key
            lanes.running_since = time.monotonic()
            try:
                if error is not None:
                    yielded = coro.throw(error)
                else:
                    yielded = coro.send(value)
            except StopIteration as stop:
                return stop.value
            finally:
                lanes.running_since = None
                lanes.running_sink = None
            value, error = None, None
            try:
                value = yield yielded
            except BaseException as exc:  # CancelledError, GeneratorExit: into the hook
                error = exc


class CallerLoopLanes:
    """Async hooks of async calls, run on the loop the call was made on."""

    def __init__(self, delivery: Delivery, loop: Any) -> None:
        self.delivery = delivery
        self.loop = loop
        self._lock = threading.Lock()
        self._lanes: dict[int, deque[Job]] = {}
        self._scheduled: set[int] = set()
        self._tasks: dict[int, Any] = {}
        self.stopped_since: float | None = None  # when flush() first found the loop not running

    @property
    def pending(self) -> int:
        return sum(len(lane) for lane in self._lanes.values())

    def submit(self, job: Job) -> None:
        key = job[1].sink_id
        with self._lock:
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = deque()
            lane.append(job)
            if key in self._scheduled:
                return
            self._scheduled.add(key)
        try:
            self.loop.call_soon_threadsafe(self._start, key)
        except RuntimeError:  # the loop has closed: llmtap's own loop delivers instead
            self.delivery.reclaim(self)

    def take_all(self) -> list[Job]:
        """Everything not yet delivered, in order per sink, for llmtap's own loop."""
        with self._lock:
            jobs = [job for lane in self._lanes.values() for job in lane]
            self._lanes.clear()
            self._scheduled.clear()
            tasks, self._tasks = list(self._tasks.values()), {}
        if tasks and not self.loop.is_closed():
            # A loop that stopped (run_until_complete returned) may run again: a hook it left
            # mid-way is run again by llmtap's loop, so it must not also finish here.
            for task in tasks:
                try:
                    self.loop.call_soon_threadsafe(task.cancel)
                except RuntimeError:  # closed meanwhile
                    break
        return jobs

    def ending(self) -> bool:
        """The loop is shutting down (asyncio.run has finished its main task): a task started
        now would be destroyed pending, so what is left goes to llmtap's loop instead."""
        return getattr(self.loop, "_asyncgens_shutdown_called", False)

    def _start(self, key: int) -> None:
        if self.ending():
            self.delivery.reclaim(self)
            return
        task = self.loop.create_task(self._drain(key))
        with self._lock:
            if key in self._scheduled:
                self._tasks[key] = task

    async def _drain(self, key: int) -> None:
        import asyncio

        IN_HOOK.set(True)  # this task's own context: the hooks it runs, and their calls
        while True:
            if self.ending():
                self.delivery.reclaim(self)
                return
            with self._lock:
                lane = self._lanes.get(key)
                if not lane:
                    self._scheduled.discard(key)
                    if self._tasks.get(key) is asyncio.current_task():
                        del self._tasks[key]
                    return
                event, sink, function, arguments, awaited = lane[0]
            ok = True
            try:
                result = function(*arguments)
                if awaited:
                    await result
            except asyncio.CancelledError:
                task = asyncio.current_task()
                cancelling = getattr(task, "cancelling", None)
                if cancelling is None or cancelling():
                    # The loop is shutting down under us: leave the job where it is; it is
                    # reclaimed onto llmtap's own loop once this loop has closed.
                    raise
                log_hook_failure(sink, function)  # the hook's own CancelledError
                ok = False
            except GeneratorExit:
                if self.loop.is_closed() or self.ending():  # discarded with its loop: reclaimed
                    raise
                log_hook_failure(sink, function)
                ok = False
            except BaseException:
                log_hook_failure(sink, function)
                ok = False
            with self._lock:
                lane = self._lanes.get(key)
                if lane and lane[0][0] is event:
                    lane.popleft()
                else:  # reclaimed meanwhile: the job, and the lane, now belong to llmtap's loop
                    return
            self.delivery.job_finished(event, ok)
