"""What the Router's flow yields, and the two drivers that run it.

Like the call pipeline (main.py), a routed request is one generator: it yields a state
operation, a sleep or an attempt, and is sent the result (or has the error thrown in).
``drive`` runs it for sync callers, ``adrive`` for asyncio; routing, retries, cooldowns and
fallbacks exist once.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..main import Sleep  # the pipeline's own step: the drivers run it the same way

__all__ = ["Sleep", "StateOp", "adrive", "drive"]

Flow = Generator[Any, Any, Any]


class StateOp:
    """One call on the state backend: ``state.name(*args)`` or ``await state.aname(*args)``."""

    __slots__ = ("state", "name", "args")

    def __init__(self, state: Any, name: str, *args: Any) -> None:
        self.state = state
        self.name = name
        self.args = args

    def run(self) -> Any:
        return getattr(self.state, self.name)(*self.args)

    async def arun(self) -> Any:
        return await getattr(self.state, "a" + self.name)(*self.args)


def drive(flow: Flow) -> Any:
    try:
        step = next(flow)
        while True:
            try:
                result = step.run()
            except BaseException as exc:  # noqa: BLE001 - the flow decides; it re-raises what it cannot handle
                step = flow.throw(exc)
                continue
            step = flow.send(result)
    except StopIteration as done:
        return done.value


async def adrive(flow: Flow) -> Any:
    try:
        step = next(flow)
        while True:
            try:
                result = await step.arun()
            except BaseException as exc:  # noqa: BLE001
                step = flow.throw(exc)
                continue
            step = flow.send(result)
    except StopIteration as done:
        return done.value
