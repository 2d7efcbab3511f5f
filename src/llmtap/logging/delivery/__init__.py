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


# threading's own exit hooks run before the interpreter stops allowing new threads and before
# any atexit handler (OpenTelemetry's provider shutdown among them): hooks that need a thread
# (a resolver, asyncio.to_thread, an exporter) still work, and spans are exported in time.
_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_drain_at_exit)
atexit.register(_drain_at_exit)  # for events submitted by other exit handlers


def _after_fork_in_child() -> None:
    """The child starts with a fresh delivery: the parent's queue and threads are the parent's
    (it delivers those); the child's own events go through its own worker."""
    fresh = Delivery()
    old = delivery
    old.__dict__.clear()
    old.__dict__.update(fresh.__dict__)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
