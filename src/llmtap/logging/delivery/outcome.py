"""Let a caller wait until its failure event's hooks have run — the peer's timing.

Code right after ``except`` (the peer's Router, users' own retry loops) expects the failure
hooks to have run already. The wait is bounded by ``FAILURE_WAIT`` so a hung hook delays the
raise by at most that long, never forever. Only failure events carry a waiter: the success path
pays nothing.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import Any

FAILURE_WAIT = 2.0
_ATTRIBUTE = "_llmtap_failure_hooks"

# Set inside the task that runs async hooks (on the caller's loop or llmtap's own): a hook's own
# failing call must not wait for failure hooks queued behind the very hook that is waiting.
IN_HOOK: ContextVar[bool] = ContextVar("llmtap_in_hook", default=False)


class OutcomeWaiter:
    __slots__ = ("_remaining", "_lock", "_done", "_futures")

    def __init__(self, jobs: int) -> None:
        self._remaining = jobs
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._futures: list[tuple[Any, Any]] = []
        if jobs <= 0:
            self._done.set()

    def job_done(self) -> None:
        with self._lock:
            self._remaining -= 1
            if self._remaining > 0:
                return
            futures, self._futures = self._futures, []
        self._done.set()
        for loop, future in futures:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # that loop has closed: nobody is waiting there any more
                pass

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)

    async def await_done(self, timeout: float) -> bool:
        import asyncio

        loop = asyncio.get_running_loop()
        with self._lock:
            if self._done.is_set():
                return True
            future = loop.create_future()
            self._futures.append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except asyncio.TimeoutError:
            return False


def _resolve(future: Any) -> None:
    if not future.done():
        future.set_result(None)


def attach(exc: BaseException, waiter: OutcomeWaiter) -> None:
    try:
        setattr(exc, _ATTRIBUTE, waiter)
    except (AttributeError, TypeError):  # an exception type without a __dict__: no wait
        pass


def _take(exc: BaseException) -> OutcomeWaiter | None:
    if not isinstance(exc, Exception):  # cancellation, Ctrl-C, exit: raise at once
        return None
    try:
        return exc.__dict__.pop(_ATTRIBUTE, None)
    except AttributeError:
        return None


def wait_for_failure_hooks(exc: BaseException) -> None:
    """Before ``exc`` reaches the caller: its failure hooks have run (or FAILURE_WAIT passed)."""
    waiter = _take(exc)
    if waiter is not None:
        from . import delivery

        # A hook's own failing call cannot wait for itself.
        if not delivery.on_delivery_thread() and not IN_HOOK.get():
            waiter.wait(FAILURE_WAIT)


async def await_failure_hooks(exc: BaseException) -> None:
    """The async twin: the wait yields to the caller's loop, where async failure hooks run."""
    waiter = _take(exc)
    if waiter is not None and not IN_HOOK.get():
        await waiter.await_done(FAILURE_WAIT)
