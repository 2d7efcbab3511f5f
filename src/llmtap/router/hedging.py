"""Hedged requests (opt-in, async): cut tail latency without doubling load.

When the chosen deployment has not answered by its recent latency's p95 (``quantile``), the
same request goes to a second deployment of the group; the first success wins and the other is
cancelled. Only the slowest few percent of requests are hedged, so the extra load is about
``1 - quantile``. With fewer than ``min_samples`` latencies for the deployment there is no p95
to trust and the request is not hedged.

Callbacks see both attempts: each has ``kwargs["router"]["hedge"]`` ("primary" or "hedge") and
``won``; only the winner's event is ``final``. A loser that answered too logs its own success
(with its cost); one cancelled mid-flight logs a failure with ``router["estimated_cost"]``, the
price of the prompt it had already sent, so cost totals count both.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

DEFAULTS = {"quantile": 0.95, "min_samples": 5, "min_delay": 0.0, "max_delay": 60.0}


def hedge_delay(latencies: tuple[float, ...], args: dict[str, Any]) -> float | None:
    """Seconds to wait before hedging, or None (not enough history)."""
    settings = {**DEFAULTS, **args}
    if len(latencies) < int(settings["min_samples"]):
        return None
    ordered = sorted(latencies)
    rank = min(len(ordered) - 1, max(0, math.ceil(float(settings["quantile"]) * len(ordered)) - 1))
    return min(max(ordered[rank], float(settings["min_delay"])), float(settings["max_delay"]))


class Hedge:
    """A step of the router's flow: the primary attempt, plus a hedge if it is slow."""

    def __init__(self, router: Any, req: Any, primary: Any, group: str, delay: float) -> None:
        self.router = router
        self.req = req
        self.primary = primary
        self.group = group
        self.delay = delay
        self.result_attempt = primary  # the attempt whose outcome the flow accounts for

    def run(self) -> Any:  # sync callers are never hedged
        return self.primary.run()

    async def arun(self) -> Any:
        primary = self.primary
        first = asyncio.ensure_future(primary.arun())
        try:
            done, _ = await asyncio.wait({first}, timeout=self.delay)
            if done:
                return first.result()
            second = await self._start_hedge()
        except BaseException:  # the caller gave up: the primary must not run on, orphaned
            first.cancel()
            raise
        if second is None:
            return await first
        primary.role = "primary"
        primary.partner, second[1].partner = second[1], primary
        tasks = {first: primary, second[0]: second[1]}
        failures: list[tuple[Any, BaseException]] = []
        try:
            while tasks:
                done, _ = await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    attempt = tasks.pop(task)
                    if task.cancelled():
                        continue
                    exc = task.exception()
                    if exc is None:
                        self.result_attempt = attempt
                        await self._cancel_losers(tasks)
                        for other, error in failures:
                            await self._account_failure(other, error)
                        return task.result()
                    failures.append((attempt, exc))
        except BaseException:
            await self._cancel_losers(tasks)
            raise
        # both failed: the flow handles the last failure; the earlier one is accounted here
        for other, error in failures[:-1]:
            await self._account_failure(other, error)
        self.result_attempt, error = failures[-1]
        raise error

    async def _start_hedge(self) -> tuple[asyncio.Future, Any] | None:
        from .errors import RouterRateLimitError
        from .router import _Attempt
        from .steps import adrive

        req = self.req
        try:
            dep = await adrive(self.router._pick(req, self.group, exclude={self.primary.dep.id}))
        except (RouterRateLimitError, Exception):
            return None  # no second deployment can take it: just wait for the first
        try:
            attempt = _Attempt(self.router, req, dep, self.group, role="hedge")
        except Exception:
            await self.router._state.areleased(dep.id)
            return None
        return asyncio.ensure_future(attempt.arun()), attempt

    async def _cancel_losers(self, tasks: dict) -> None:
        state = self.router._state
        for task, attempt in tasks.items():
            task.cancel()
            try:
                await task
            except BaseException as exc:  # noqa: BLE001 - the loser's end is accounted, not raised
                if isinstance(exc, Exception):
                    await self._account_failure(attempt, exc)
                else:
                    await state.areleased(attempt.dep.id)
            else:  # it answered before the cancel landed: its success counts like any other
                await state.asucceeded(attempt.dep.id, 0, None)
        tasks.clear()

    async def _account_failure(self, attempt: Any, exc: BaseException) -> None:
        router = self.router
        cooldown = router._cooldown(attempt.dep, exc)
        counts = cooldown.counts and not router.disable_cooldowns and len(router._deployments_for(attempt.dep.group)) > 1
        await router._state.afailed(attempt.dep.id, counts, cooldown.immediate, cooldown.allowed_fails, cooldown.seconds)
        self.req.history.append({"model_group": attempt.group, "model_id": attempt.dep.id, "error": type(exc).__name__})


def prompt_cost(attempt: Any) -> float | None:
    """What the prompt a cancelled attempt already sent costs (its answer is unknown)."""
    try:
        from ..cost import cost_per_token

        prompt, _ = cost_per_token(attempt.dep.model, prompt_tokens=attempt.req.prompt_tokens(), completion_tokens=0)
        return prompt
    except Exception:
        return None
