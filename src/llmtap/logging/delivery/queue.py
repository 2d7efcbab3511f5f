"""The delivery queue: every event to every sink, in order, off the caller's path.

One worker thread takes events in the order calls emitted them and runs each sink's sync hook
inline — a no-op handler costs a function call, not a thread hand-off. Async hooks go to a lane
(lanes.py): the caller's own loop for async calls, llmtap's loop otherwise. A hook that blocks
is moved off the worker by the watchdog (watchdog.py), so it holds up nobody.

The queue is bounded: when it is full, callers wait (push back) instead of events being dropped.
``flush`` waits until everything submitted has been delivered.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, NamedTuple

from ..sinks import Sink
from .lanes import CallerLoopLanes, IsolatedLane, OwnLoopLanes, log_hook_failure

CAPACITY = 10_000
# After waking, the worker waits this long before draining, so the events of several calls are
# delivered in one go: far fewer thread switches on the caller's CPU, at a cost of ~2 ms latency.
LINGER_SECONDS = 0.002
# flush() takes the hooks of a caller's loop that has stopped running for this long (it may be
# between two run_until_complete calls) and delivers them on llmtap's own loop.
STOPPED_GRACE = 0.2


class Busy(NamedTuple):
    """The hook the worker is inside right now, and where it is in its batch."""

    sink: Sink
    since: float
    batch: list
    position: int
    index: int


class Delivery:
    def __init__(self, capacity: int = CAPACITY) -> None:
        # Producers append to _queue without a lock (deque.append is atomic) and take _cond only
        # to wake an idle worker or to wait for room, so calls rarely meet the worker on a lock.
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[tuple[Any, tuple[Sink, ...]]] = deque()
        self._capacity = capacity
        self._pending = 0  # (event, sink) jobs taken off the queue and not finished
        self.delivered = 0
        self.failed = 0
        self.shed = 0
        self._waiting = False
        self._lingering = False
        self._flushers = 0
        self._blocked = 0
        # The busy handshake: the worker records the hook it is in; the watchdog may move that
        # sink to its own lane. handoff makes "hook finished" and "hook demoted" exclusive.
        self.handoff = threading.Lock()
        self.generation = 0
        self.busy: Busy | None = None
        self._worker: threading.Thread | None = None
        self.lanes: dict[int, IsolatedLane] = {}
        self.own_loop: OwnLoopLanes | None = None
        self.stalled_loops: list[OwnLoopLanes] = []
        self.caller_loops: dict[int, CallerLoopLanes] = {}
        self._threads: set[int] = set()
        self.accepting = True
        self.on_start: Any = None  # run once, when the first event starts the worker

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
                    from .watchdog import start_watchdog

                    if self.on_start is not None:
                        self.on_start()
                    self.start_worker([])
                    start_watchdog(self)

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

    def on_delivery_thread(self) -> bool:
        return threading.get_ident() in self._threads

    def add_thread(self, thread: threading.Thread) -> None:
        self._threads.add(thread.ident)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every submitted event is delivered; False if ``timeout`` ran out first."""
        if self.on_delivery_thread():
            return not self._queue and not self._pending  # a hook cannot wait for itself
        self._reclaim_unreachable()
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
                    if self.caller_loops:
                        self._cond.release()
                        try:
                            self._reclaim_unreachable(stopped=True)
                        finally:
                            self._cond.acquire()
                return True
            finally:
                self._flushers -= 1

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "delivered": self.delivered,
                "failed": self.failed,
                "shed": self.shed,
                "pending": self._pending + sum(len(sinks) for _, sinks in list(self._queue)),
                "isolated_sinks": sorted(lane.name for lane in list(self.lanes.values())),
            }

    @property
    def pending(self) -> int:
        return self._pending + len(self._queue)

    # -- worker side -------------------------------------------------------------------------

    def start_worker(self, resume: list) -> None:
        """Start a worker; ``resume`` holds (event, sinks, first sink index) already counted."""
        generation = self.generation
        thread = threading.Thread(
            target=self._work, args=(generation, resume), name=f"llmtap-delivery-{generation}", daemon=True
        )
        self._worker = thread
        thread.start()
        self.add_thread(thread)

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
                        log_hook_failure(_NAMELESS, event.prepare)
                waiter = event.waiter
                for index in range(start, len(sinks)):
                    sink = sinks[index]
                    lane = self.lanes.get(sink.sink_id)
                    if lane is not None and lane.put(event, sink):
                        continue
                    self.busy = Busy(sink, time.monotonic(), batch, position, index)
                    ok = self.run_hook(sink, event)
                    with self.handoff:
                        self.busy = None
                        if generation != self.generation:
                            demoted_into = self.lanes[sink.sink_id]
                    if ok is True:
                        delivered += 1
                    elif ok is False:
                        failed += 1
                    if ok is not None and waiter is not None:
                        waiter.job_done()
                    if demoted_into is not None:
                        break
                if demoted_into is not None:
                    break
            self._account(delivered, failed)
            if demoted_into is not None:
                demoted_into.serve()
                return
            batch = []

    def _account(self, delivered: int, failed: int, shed: int = 0) -> None:
        if not delivered and not failed and not shed:
            return
        with self._cond:
            self._pending -= delivered + failed + shed
            self.delivered += delivered
            self.failed += failed
            self.shed += shed
            if self._flushers and not self._pending:
                self._cond.notify_all()

    def run_hook(self, sink: Sink, event: Any) -> bool | None:
        """Run one sink's hook for one event. None: handed to an event loop, finished later."""
        plan = sink.plan(event.kind, event.is_async)
        if plan is None:
            return True
        function, awaited = plan
        if awaited:
            job = (event, sink, function, sink.arguments(event), True)
            loop = event.loop
            if loop is not None and self.accepting:
                self._caller_lanes(loop).submit(job)
            else:
                self._own_loop().submit(job)
            return None
        own = self.own_loop
        if own is not None and own.busy(sink.sink_id):  # keep the sink's order behind its async hooks
            own.submit((event, sink, function, sink.arguments(event), False))
            return None
        try:
            function(*sink.arguments(event))
            return True
        except BaseException:  # SystemExit, KeyboardInterrupt, CancelledError too: isolated
            log_hook_failure(sink, function)
            return False

    def job_finished(self, event: Any, ok: bool) -> None:
        """A hook that ran outside the worker's batch (a lane, an event loop) is done."""
        self._account(1 if ok else 0, 0 if ok else 1)
        if event.waiter is not None:
            event.waiter.job_done()

    def job_shed(self, event: Any) -> None:
        self._account(0, 0, 1)
        if event.waiter is not None:
            event.waiter.job_done()

    def retire_loop(self, lanes: OwnLoopLanes) -> None:
        """A loop replaced after a stall finished its last hook: its thread ends."""
        if lanes in self.stalled_loops:
            self.stalled_loops.remove(lanes)
        self._threads.discard(threading.get_ident())

    def retire_lane(self, lane: IsolatedLane) -> None:
        """An isolated lane went idle: its thread ends and the sink is served inline again."""
        with self.handoff:
            if self.lanes.get(lane.sink_id) is lane:
                del self.lanes[lane.sink_id]
        self._threads.discard(threading.get_ident())

    # -- event loops -------------------------------------------------------------------------

    def own_loop_lanes(self) -> OwnLoopLanes:
        return self._own_loop()

    def _own_loop(self) -> OwnLoopLanes:
        if self.own_loop is None:
            with self._cond:
                if self.own_loop is None:
                    self.own_loop = OwnLoopLanes(self)
        return self.own_loop

    def _caller_lanes(self, loop: Any) -> CallerLoopLanes:
        key = id(loop)
        lanes = self.caller_loops.get(key)
        if lanes is None or lanes.loop is not loop:
            lanes = self.caller_loops[key] = CallerLoopLanes(self, loop)
        return lanes

    def reclaim(self, lanes: CallerLoopLanes) -> None:
        """A caller's loop can no longer run its hooks: llmtap's own loop runs them instead."""
        if self.caller_loops.get(id(lanes.loop)) is lanes and (lanes.loop.is_closed() or lanes.ending()):
            self.caller_loops.pop(id(lanes.loop), None)
        jobs = lanes.take_all()
        if jobs:
            own = self._own_loop()
            for job in jobs:
                own.submit(job)

    def _reclaim_unreachable(self, stopped: bool = False) -> None:
        """Closed caller loops, and a loop this very thread is blocking (a sync flush() inside
        async code), cannot deliver: hand their jobs to llmtap's own loop. With ``stopped``
        (flush() is waiting), so is a loop that has not been running for STOPPED_GRACE: a
        ``loop.run_until_complete(acompletion(...))`` whose loop is never run again."""
        if not self.caller_loops:
            return
        from asyncio import events

        current = events._get_running_loop()
        now = time.monotonic()
        for lanes in list(self.caller_loops.values()):
            if lanes.loop.is_closed() or (lanes.loop is current and lanes.pending):
                self.reclaim(lanes)
            elif not stopped or lanes.loop.is_running() or not lanes.pending:
                lanes.stopped_since = None
            elif lanes.stopped_since is None:
                lanes.stopped_since = now
            elif now - lanes.stopped_since >= STOPPED_GRACE:
                lanes.stopped_since = None
                self.reclaim(lanes)

    def reclaim_all(self) -> None:
        """At exit: no caller loop will run again."""
        self.accepting = False
        for lanes in list(self.caller_loops.values()):
            if not lanes.loop.is_running() or lanes.loop.is_closed():
                self.reclaim(lanes)


class _Nameless:
    name = "llmtap"


_NAMELESS: Any = _Nameless()
