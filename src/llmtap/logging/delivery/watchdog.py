"""Notice what is stuck, even when no new event or flush() comes along to notice it.

- The worker inside one sync hook for longer than ``STALL_SECONDS``: that sink moves to an
  isolated lane (the stuck thread keeps it and finishes its hook there) and a fresh worker
  carries on with everything else from the very next sink. Nothing skipped, nothing twice.
- llmtap's own event loop inside one async hook that blocks (``time.sleep`` in ``async def``):
  the other sinks' waiting jobs move to a fresh loop; the stuck sink keeps the old one.
- A caller's event loop that closed with hooks still waiting: they move to llmtap's own loop.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from .lanes import IsolatedLane, OwnLoopLanes

if TYPE_CHECKING:
    from .queue import Delivery

logger = logging.getLogger("llmtap")

STALL_SECONDS = 0.2


def start_watchdog(delivery: Delivery) -> None:
    thread = threading.Thread(target=_watch, args=(delivery,), name="llmtap-delivery-watchdog", daemon=True)
    thread.start()


def _watch(delivery: Delivery) -> None:
    while True:
        time.sleep(STALL_SECONDS / 2)
        try:
            if delivery.busy is not None:
                check_worker(delivery)
            if delivery.own_loop is not None and delivery.own_loop.running_since is not None:
                check_own_loop(delivery)
            if delivery.caller_loops:
                for lanes in list(delivery.caller_loops.values()):
                    if lanes.loop.is_closed():
                        delivery.reclaim(lanes)
        except Exception:  # the watchdog must outlive any surprise
            logger.debug("llmtap: delivery watchdog check failed", exc_info=True)


def check_worker(delivery: Delivery) -> None:
    """Move a sink stuck in a sync hook to its own lane; a fresh worker takes over the rest."""
    with delivery.handoff:
        busy = delivery.busy
        if busy is None or time.monotonic() - busy.since < STALL_SECONDS:
            return
        sink = busy.sink
        if sink.sink_id in delivery.lanes:
            return
        logger.warning(
            "llmtap: callback %s has been running for over %.1fs; it now gets its own thread "
            "so other callbacks are not held up",
            sink.name,
            STALL_SECONDS,
        )
        delivery.lanes[sink.sink_id] = IsolatedLane(delivery, sink)
        delivery.busy = None
        delivery.generation += 1
        event, sinks, _ = busy.batch[busy.position]
        resume = [(event, sinks, busy.index + 1)] if busy.index + 1 < len(sinks) else []
        resume += busy.batch[busy.position + 1 :]
        delivery.start_worker(resume)


def check_own_loop(delivery: Delivery) -> None:
    """An async hook that blocks its loop: everyone else moves to a fresh loop."""
    stuck_loop = delivery.own_loop
    since = stuck_loop.running_since
    if since is None or time.monotonic() - since < STALL_SECONDS:
        return
    taken = stuck_loop.take_stalled()
    if taken is None:
        return
    _, moved = taken
    logger.warning(
        "llmtap: an async callback has blocked its event loop for over %.1fs (a blocking call "
        "inside async def?); other async callbacks move to a fresh loop",
        STALL_SECONDS,
    )
    fresh = OwnLoopLanes(delivery)
    delivery.stalled_loops.append(stuck_loop)
    delivery.own_loop = fresh
    for job in moved:
        fresh.submit(job)
