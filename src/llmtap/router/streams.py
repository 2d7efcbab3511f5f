"""Routed streams. An attempt reads its stream up to the first chunk that carries output, so a
deployment that fails before that (an error status, a cut or empty stream) is retried or
fallen back from like any failed call, and the caller never sees the false start. Once output
has reached the caller, a later failure is the caller's to see: text already shown cannot be
taken back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any


def has_output(chunk: Any) -> bool:
    choices = getattr(chunk, "choices", None) or ()
    for choice in choices:
        if getattr(choice, "finish_reason", None):
            return True
        if getattr(choice, "text", None):
            return True
        delta = getattr(choice, "delta", None)
        if delta is not None and (
            getattr(delta, "content", None) or getattr(delta, "tool_calls", None) or getattr(delta, "function_call", None)
        ):
            return True
    return False


def peek(stream: Any) -> deque:
    """Read chunks until one carries output (or the stream ends); errors propagate."""
    buffered: deque = deque()
    for chunk in stream:
        buffered.append(chunk)
        if has_output(chunk):
            break
    return buffered


async def apeek(stream: Any) -> deque:
    buffered: deque = deque()
    async for chunk in stream:
        buffered.append(chunk)
        if has_output(chunk):
            break
    return buffered


class RouterStream:
    """The attempt's stream, with its already-read first chunks put back in front.

    ``on_end(tokens)`` (sync) or ``aon_end(tokens)`` (async) report the stream's token count to
    the router's usage counters once, when the stream ends."""

    def __init__(self, inner: Any, buffered: deque, prompt_tokens: int, on_end: Callable, aon_end: Callable) -> None:
        self._inner = inner
        self._buffered = buffered
        self._prompt_tokens = prompt_tokens
        self._chars = 0
        self._usage: int | None = None
        self._on_end = on_end
        self._aon_end = aon_end
        self._ended = False
        for chunk in buffered:
            self._count(chunk)

    def _count(self, chunk: Any) -> None:
        usage = getattr(chunk, "usage", None)
        total = getattr(usage, "total_tokens", None) if usage is not None else None
        if total:
            self._usage = int(total)
        for choice in getattr(chunk, "choices", None) or ():
            delta = getattr(choice, "delta", None)
            text = getattr(delta, "content", None) if delta is not None else getattr(choice, "text", None)
            if isinstance(text, str):
                self._chars += len(text)

    def _tokens(self) -> int:
        if self._usage is not None:
            return self._usage
        return self._prompt_tokens + (self._chars + 3) // 4

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __iter__(self) -> RouterStream:
        return self

    def __next__(self) -> Any:
        if self._buffered:
            return self._buffered.popleft()
        try:
            chunk = next(self._inner)
        except StopIteration:
            if not self._ended:
                self._ended = True
                self._on_end(self._tokens())
            raise
        self._count(chunk)
        return chunk

    def __aiter__(self) -> RouterStream:
        return self

    async def __anext__(self) -> Any:
        if self._buffered:
            return self._buffered.popleft()
        try:
            chunk = await self._inner.__anext__()
        except StopAsyncIteration:
            if not self._ended:
                self._ended = True
                await self._aon_end(self._tokens())
            raise
        self._count(chunk)
        return chunk

    def __enter__(self) -> RouterStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    async def __aenter__(self) -> RouterStream:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()

    async def aclose(self) -> None:
        self.close()
