"""``llmtap.cache = Cache(...)``: answers kept in memory, on disk or in Redis, reused by key.

With a cache set, completion, text-completion, embedding, transcription, rerank and (unstreamed)
responses calls are cached by default
(``mode="default_off"`` makes ``caching=True`` opt-in). Per call: ``caching=False`` skips the
cache; ``cache={"no-cache": True}`` does not read it, ``{"no-store": True}`` does not write it,
``{"ttl": seconds}`` and ``{"namespace": "..."}`` set this entry's life and key prefix. The key
is documented in caching/keys.py. A cache hit logs one success event with
``kwargs["cache_hit"] is True`` and ``response_cost == 0.0``, and no pre/post events.

The cache can only ever save a call, never fail one: a backend that raises (a locked SQLite
file, a full disk, a Redis gone away) is a miss on read and a no-op on write, with one warning
until it works again; an entry of the wrong shape is a miss, overwritten by the fresh answer.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .keys import cache_key

if TYPE_CHECKING:
    from ..call import Call

logger = logging.getLogger("llmtap")

FORMAT = 1
CALL_TYPES = (
    "completion", "acompletion", "text_completion", "atext_completion", "embedding", "aembedding",
    "transcription", "atranscription", "rerank", "arerank", "responses", "aresponses",
)


@dataclass(slots=True)
class CachePlan:
    backend: Any
    key: str
    read: bool
    write: bool
    ttl: float | None

    # Every backend operation of a call goes through these four: a cache fault is never the call's.

    def get(self) -> Any:
        try:
            value = self.backend.get(self.key)
        except Exception as exc:
            return _fault(self.backend, "read", exc)
        _recovered(self.backend, "read")
        return value

    async def aget(self) -> Any:
        try:
            value = await self.backend.aget(self.key)
        except Exception as exc:
            return _fault(self.backend, "read", exc)
        _recovered(self.backend, "read")
        return value

    def set(self, value: str) -> None:
        if self.ttl is not None and self.ttl <= 0:
            return  # ttl=0: expired at once, as the peer reads it (not "never expires")
        try:
            self.backend.set(self.key, value, self.ttl)
        except Exception as exc:
            _fault(self.backend, "write", exc)
        else:
            _recovered(self.backend, "write")

    async def aset(self, value: str) -> None:
        if self.ttl is not None and self.ttl <= 0:
            return
        try:
            await self.backend.aset(self.key, value, self.ttl)
        except Exception as exc:
            _fault(self.backend, "write", exc)
        else:
            _recovered(self.backend, "write")


_failing: set[int] = set()  # id() of backends whose last operation failed (warned once)


def _fault(backend: Any, operation: str, exc: Exception) -> None:
    """One warning per backend and operation until that operation works again (a locked disk
    cache can still be read while its writes fail)."""
    if (id(backend), operation) not in _failing:
        _failing.add((id(backend), operation))
        logger.warning(
            "llmtap: cache %s failed (%s: %s); calls go on without the cache until it works again",
            operation,
            type(exc).__name__,
            exc,
        )
    return None


def _recovered(backend: Any, operation: str) -> None:
    if _failing:
        _failing.discard((id(backend), operation))


class Cache:
    def __init__(
        self,
        type: str = "local",  # noqa: A002
        host: str | None = None,
        port: int | str | None = None,
        password: str | None = None,
        *,
        url: str | None = None,
        username: str | None = None,
        db: int = 0,
        namespace: str | None = None,
        ttl: float | None = None,
        default_in_memory_ttl: float | None = None,
        disk_cache_dir: str | None = None,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        mode: str = "default_on",
        supported_call_types: list[str] | tuple[str, ...] = CALL_TYPES,
        **options: Any,
    ) -> None:
        self.type = type
        self.namespace = namespace
        self.ttl = ttl if ttl is not None else default_in_memory_ttl
        self.mode = mode
        self.supported_call_types = set(supported_call_types)
        if type == "local":
            from .local import LocalBackend

            self.backend: Any = LocalBackend(max_entries or 10_000, max_bytes or 256 * 1024 * 1024)
        elif type == "redis":
            from .redis_backend import RedisBackend

            self.backend = RedisBackend(host, port, password, url=url, username=username, db=db, **options)
        elif type == "disk":
            from .disk import DiskBackend

            self.backend = DiskBackend(disk_cache_dir, max_entries or 100_000, **options)
        else:
            raise ValueError(f"unknown cache type {type!r}: use 'local', 'redis' or 'disk'")

    def plan(self, call: Call) -> CachePlan | None:
        """What this call may do with the cache, or None when it does not use it."""
        caching = call.caching
        if caching is False or (self.mode == "default_off" and caching is not True):
            return None
        call_type = ("a" if call.is_async else "") + call.call_type
        if call_type not in self.supported_call_types and call.call_type not in self.supported_call_types:
            return None
        options = call.cache_options or {}
        key = cache_key(call, options.get("namespace") or self.namespace)
        return CachePlan(
            self.backend,
            key,
            read=not options.get("no-cache", False),
            write=not options.get("no-store", False),
            ttl=options.get("ttl", self.ttl),
        )

    def get_cache_key(self, call: Call) -> str:
        return cache_key(call, self.namespace)

    def flush(self) -> None:
        self.backend.flush()


def encode_entry(call: Call, response: Any) -> str | None:
    """The entry to store, or None when the answer cannot be stored (then it is not cached)."""
    try:
        return json.dumps(
            {"format": FORMAT, "call_type": call.call_type, "stored_at": time.time(), "response": response.model_dump()}
        )
    except (TypeError, ValueError) as exc:
        logger.warning("llmtap: answer not cached: it does not encode as JSON (%s)", exc)
        return None


def decode_entry(call: Call, raw: Any) -> dict | None:
    """The cached response as JSON, or None for a miss — a corrupt entry counts as a miss.

    Corrupt includes well-formed JSON of the wrong shape: the entry must hold a response this
    call type can be built from (the same check a provider's answer passes)."""
    if raw is None:
        return None
    from ..answers import ShapeError, check_shape

    try:
        entry = json.loads(raw)
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("call_type") != call.call_type:
            raise ValueError("not an llmtap cache entry for this call type")
        response = entry["response"]
        if not isinstance(response, dict):
            raise ValueError("entry holds no response")
        check_shape(call.call_type, response)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        reason = exc if isinstance(exc, ShapeError) else f"{type(exc).__name__}: {exc}"
        logger.warning("llmtap: ignoring a corrupt cache entry (%.200s); it will be overwritten", reason)
        return None
    max_age = (call.cache_options or {}).get("s-maxage")
    stored_at = entry.get("stored_at")
    if isinstance(max_age, (int, float)) and isinstance(stored_at, (int, float)) and time.time() - stored_at > max_age:
        return None  # older than this call accepts (s-maxage): a miss, refreshed by the answer
    return response


def replay_chunks(response: dict) -> list[bytes]:
    """A cached whole answer as the SSE stream of chunks a streaming call expects."""
    from ..mock import stream_from_response

    return stream_from_response(response)


__all__ = ["Cache", "CachePlan", "cache_key"]
