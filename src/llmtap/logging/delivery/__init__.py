"""Callback delivery: the queue and its worker (queue.py), where hooks run when not inline
(lanes.py), what notices stuck hooks (watchdog.py), and the failure wait (outcome.py).

This module owns the one ``delivery`` of the process, and what happens to it at exit and
after ``fork()``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading

from .outcome import FAILURE_WAIT, OutcomeWaiter, await_failure_hooks, wait_for_failure_hooks
from .queue import Delivery
from .watchdog import STALL_SECONDS

__all__ = [
    "FAILURE_WAIT",
    "STALL_SECONDS",
    "Delivery",
    "OutcomeWaiter",
    "arm_exit_drain",
    "await_failure_hooks",
    "delivery",
    "wait_for_failure_hooks",
]

logger = logging.getLogger("llmtap")

EXIT_TIMEOUT = 5.0

delivery = Delivery()

# Streams still open when the interpreter exits log their one outcome first (streaming.py
# registers them here), then everything pending is delivered.
exit_hooks: list = []


def _drain_at_exit() -> None:
    # threading's exit hooks run before non-daemon threads are joined: while one still runs,
    # it may be reading a stream, so open streams are closed only once no such thread is left.
    others = [t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]
    if others and any(t.is_alive() for t in others):
        delivery.flush(EXIT_TIMEOUT)
        return
    for hook in list(exit_hooks):
        try:
            hook()
        except Exception:
            logger.debug("llmtap: exit hook failed", exc_info=True)
    delivery.reclaim_all()
    if delivery.pending and not delivery.flush(EXIT_TIMEOUT):
        logger.warning(
            "llmtap: exiting with %d callback deliveries still pending after %.0fs",
            delivery.pending,
            EXIT_TIMEOUT,
        )


def _arm_exit_drain() -> None:
    """Armed when the first event is submitted. threading's own exit hooks run before the
    interpreter stops allowing new threads and before any atexit handler (OpenTelemetry's
    provider shutdown among them), so hooks that need a thread (a resolver, asyncio.to_thread,
    an exporter) still work and spans are exported in time. concurrent.futures registers its
    own exit hook (which refuses new executor work) on import; those hooks run last-registered
    first, so it is imported before ours is registered, and ours runs before it."""
    global _armed
    if _armed:
        return
    _armed = True
    try:
        import concurrent.futures.thread  # noqa: F401

        register = getattr(threading, "_register_atexit", None)
        if register is not None:
            register(_drain_at_exit)
    except RuntimeError:  # already shutting down: atexit's drain is all there is
        pass


_armed = False


def arm_exit_drain() -> None:
    """For a part that needs the exit drain before any event exists (an open stream)."""
    if not _armed:
        _arm_exit_drain()


delivery.on_start = _arm_exit_drain
atexit.register(_drain_at_exit)  # for events submitted by other exit handlers


def _after_fork_in_child() -> None:
    """The child starts with a fresh delivery: the parent's queue and threads are the parent's
    (it delivers those); the child's own events go through its own worker."""
    fresh = Delivery()
    old = delivery
    old.__dict__.clear()
    old.__dict__.update(fresh.__dict__)
    old.on_start = _arm_exit_drain  # (idempotent: the parent's registration is inherited)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
