"""The stream a streaming call returns: chunks as they arrive, then one success event.

One object serves ``for`` and ``async for``: both feed bytes through the same provider parser
and the same assembler; they differ only in how the next bytes are fetched. When the last chunk
has been handed out, the whole response is assembled and logged once. A stream cut short raises
(and logs one failure); it is never passed off as a short answer.

A stream the consumer abandons — ``close()``, leaving a ``with`` block, or dropping the last
reference before the end — logs exactly one success event with what arrived so far, marked
``kwargs["stream_abandoned"] = True``.
"""

from __future__ import annotations

import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

from .chunk_builder import ChunkAssembler
from .exceptions import APIConnectionError, APIError, APITimeoutError
from .logging.delivery import (
    arm_exit_drain,
    await_failure_hooks,
    exit_hooks,
    wait_for_failure_hooks,
)
from .wire import TransportError

if TYPE_CHECKING:
    from .call import Call
    from .providers.base import StreamParser
    from .wire import HttpResponse


class CustomStreamWrapper:
    def __init__(self, call: Call, response: HttpResponse, parser: StreamParser, cache_hit: bool = False) -> None:
        self.model = call.model
        self.custom_llm_provider = call.provider_name
        self.logging_obj = call.record
        self.response_headers = response.headers
        self._call = call
        self._response = response
        self._source: Any = response.chunks
        self._parser = parser
        self._ready: deque = deque()
        self._assembler = getattr(parser, "make_assembler", ChunkAssembler)()  # Responses streams bring their own
        self._state = "open"  # open → draining (body ended) → done | failed | closed
        self._cache_hit = cache_hit
        # The idle bound between chunks: a stream kept open by keep-alive comments alone ends
        idle = call.stream_timeout if call.stream_timeout is not None else call.timeout
        self._idle = idle if idle and idle > 0 else None
        self._last = time.monotonic()
        if call.record is not None:
            if not _open_streams:
                arm_exit_drain()
            _open_streams.add(self)

    # -- the shared core ---------------------------------------------------------------------

    def _take(self, data: bytes | None) -> None:
        """Bytes (or None at the end of the body) in; chunks ready to hand out."""
        try:
            chunks = self._parser.feed(data) if data is not None else self._parser.close()
        except Exception as exc:
            self._fail(exc)
        if self._idle is not None:
            now = time.monotonic()  # checked as bytes arrive: keep-alive comments do not count
            if now - self._last > self._idle:
                self._fail(TransportError("timeout", f"stream idle: no chunk for {self._idle:g}s"))
            if chunks:
                self._last = now
        record = self._call.record
        add = self._assembler.add
        try:
            for chunk in chunks:
                add(chunk)
                if record is not None:
                    record.stream_chunk(chunk)
        except Exception as exc:
            self._fail(exc)
        if data is None:
            self._state = "draining"
            n = self._call.params.get("n")
            unfinished = getattr(self._assembler, "unfinished", None)
            if type(n) is int and n > 1 and unfinished is not None and (left := unfinished(n)):
                # n answers were asked for: the body ending before each said it finished is a cut
                self._fail(TransportError("read", f"stream cut short: {left} of {n} choices never finished"))
        self._ready.extend(chunks)

    def _complete(self) -> Any:
        """The last chunk is out: log the whole response; return what to cache, if anything."""
        self._state = "done"
        self._response.close()
        try:
            whole = self._whole()
        except Exception as exc:  # the stream's one outcome is this failure, never none
            self._fail(exc)
        if self._call.record is not None:
            self._call.record.success(whole, cache_hit=self._cache_hit)
        plan = self._call.cache_plan
        if plan is None or not plan.write or self._cache_hit or whole is None:
            return None
        from .caching import encode_entry

        return encode_entry(self._call, whole)

    def _whole(self) -> Any:
        whole = self._assembler.build(messages=self._call.messages)
        if whole is not None:
            hidden = whole._hidden_params
            if self._cache_hit:
                hidden["cache_hit"] = True
            hidden["custom_llm_provider"] = self._call.provider_name
            hidden["api_base"] = self._call.api_base
            hidden["additional_headers"] = self._response.headers
            if not self._cache_hit:
                from .cost import response_cost

                hidden["response_cost"] = response_cost(whole, self._call)
        return whole

    def _fail(self, exc: BaseException) -> None:
        error = transport_error(exc, self._call) if isinstance(exc, TransportError) else exc
        self._state = "failed"
        self._response.close()
        if self._call.record is not None:
            self._call.record.failure(error)
        if error is exc:
            raise error
        raise error from exc

    # -- sync ----------------------------------------------------------------------------------

    def __iter__(self) -> CustomStreamWrapper:
        return self

    def __next__(self) -> Any:
        ready = self._ready
        while not ready:
            if self._state != "open":
                if self._state == "draining" and (entry := self._complete()) is not None:
                    plan = self._call.cache_plan
                    plan.set(entry)
                raise StopIteration
            try:
                try:
                    data = next(self._source, None)
                except BaseException as exc:  # Ctrl-C while waiting for a chunk is its failure too
                    self._fail(exc)
                self._take(data)
            except Exception as exc:
                wait_for_failure_hooks(exc)  # the peer's timing: failure hooks have run
                raise
        return ready.popleft()

    def __enter__(self) -> CustomStreamWrapper:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- async ---------------------------------------------------------------------------------

    def __aiter__(self) -> CustomStreamWrapper:
        return self

    async def __anext__(self) -> Any:
        ready = self._ready
        while not ready:
            if self._state != "open":
                if self._state == "draining" and (entry := self._complete()) is not None:
                    plan = self._call.cache_plan
                    await plan.aset(entry)
                raise StopAsyncIteration
            try:
                try:
                    data = await anext(self._source, None)
                except BaseException as exc:  # cancelled while waiting for a chunk: its failure
                    self._fail(exc)
                self._take(data)
            except Exception as exc:
                await await_failure_hooks(exc)
                raise
        return ready.popleft()

    async def __aenter__(self) -> CustomStreamWrapper:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()

    # -- abandonment ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop reading. If the answer had not ended, log what arrived, marked abandoned."""
        if self._state in ("open", "draining"):
            finished = self._state == "draining" and not self._ready
            self._state = "closed"
            try:
                self._response.close()
            except Exception:  # at exit, the connection's loop may be gone: log the outcome anyway
                pass
            record = self._call.record
            if record is not None:
                try:
                    whole = self._whole()
                except Exception as exc:  # the stream's one outcome is this failure, never none
                    record.failure(exc)
                    return
                record.success(whole, stream_abandoned=not finished)

    async def aclose(self) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


# Streams that may still be open when the interpreter exits (a module-level variable, sys.exit()
# mid-stream, an unhandled exception): each logs its one outcome before delivery drains.
_open_streams: weakref.WeakSet[CustomStreamWrapper] = weakref.WeakSet()


def _close_open_streams() -> None:
    for stream in list(_open_streams):
        try:
            stream.close()
        except Exception:
            pass


exit_hooks.append(_close_open_streams)


def transport_error(exc: TransportError, call: Call) -> APIError:
    """A transport failure as the error users catch, naming the provider and model."""
    cls = APITimeoutError if exc.kind == "timeout" else APIConnectionError
    return cls(str(exc), llm_provider=call.provider_name, model=call.model)
