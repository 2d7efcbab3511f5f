"""Redis: one cache shared by every process and machine that points at it.

Sync calls use redis-py's client, async calls its asyncio client (one per event loop). Both
have short timeouts: a Redis that is down, slow or answering garbage costs a call at most
``socket_timeout`` once, after which Redis is skipped for ``cooldown`` seconds — the call
always goes on to the provider. redis-py is imported only when a Redis cache is created.
"""

from __future__ import annotations

import logging
import time
import weakref
from typing import Any

logger = logging.getLogger("llmtap")


class RedisUnavailable(Exception):
    pass


class RedisBackend:
    def __init__(
        self,
        host: str | None = None,
        port: int | str | None = None,
        password: str | None = None,
        url: str | None = None,
        username: str | None = None,
        db: int = 0,
        socket_timeout: float = 0.5,
        cooldown: float = 5.0,
        **options: Any,
    ) -> None:
        try:
            import redis  # noqa: F401
        except ImportError as exc:
            raise ImportError("a Redis cache needs redis-py: pip install 'llmtap[redis]'") from exc
        self._settings: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_timeout,
            **options,
        }
        if url:
            self._url: str | None = url
        else:
            self._url = None
            self._settings.update(
                host=host or "localhost", port=int(port or 6379), password=password, username=username, db=db
            )
        self.cooldown = cooldown
        self._down_until = 0.0
        self._sync: Any = None
        self._async: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    # -- clients ------------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._sync is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            settings = {"retry": Retry(NoBackoff(), 0), **self._settings}  # we fall back; no retry loops
            self._sync = redis.Redis.from_url(self._url, **settings) if self._url else redis.Redis(**settings)
        return self._sync

    def _aclient(self) -> Any:
        import asyncio

        import redis.asyncio

        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            cls = redis.asyncio.Redis
            settings = {"retry": Retry(NoBackoff(), 0), **self._settings}
            client = cls.from_url(self._url, **settings) if self._url else cls(**settings)
            self._async[loop] = client
        return client

    # -- fault handling -------------------------------------------------------------------------

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        if self._available():
            logger.warning(
                "llmtap: Redis cache unavailable (%s: %s); calls go to the provider, Redis is retried in %.0fs",
                type(exc).__name__,
                exc,
                self.cooldown,
            )
        self._down_until = time.monotonic() + self.cooldown

    # -- operations -----------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        if not self._available():
            return None
        try:
            value = self._client().get(key)
        except Exception as exc:
            self._failed(exc)
            return None
        return _text(value)

    def set(self, key: str, value: str, ttl: float | None) -> None:
        if not self._available():
            return
        try:
            self._client().set(key, value, px=int(ttl * 1000) if ttl else None)
        except Exception as exc:
            self._failed(exc)

    def delete(self, key: str) -> None:
        try:
            self._client().delete(key)
        except Exception as exc:
            self._failed(exc)

    async def aget(self, key: str) -> str | None:
        if not self._available():
            return None
        try:
            value = await self._aclient().get(key)
        except Exception as exc:
            self._failed(exc)
            return None
        return _text(value)

    async def aset(self, key: str, value: str, ttl: float | None) -> None:
        if not self._available():
            return
        try:
            await self._aclient().set(key, value, px=int(ttl * 1000) if ttl else None)
        except Exception as exc:
            self._failed(exc)

    def flush(self) -> None:
        self._client().flushdb()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return ""  # garbage: treated as a corrupt entry by the caller
    return str(value)
