"""In-process cache: bounded (entries and bytes), with TTL, safe from many threads."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class LocalBackend:
    def __init__(self, max_entries: int = 10_000, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[str, float | None]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            value, expires = item
            if expires is not None and expires <= time.time():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return value

    def set(self, key: str, value: str, ttl: float | None) -> None:
        expires = time.time() + ttl if ttl else None
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (value, expires)
            self._bytes += len(value)
            while self._items and (len(self._items) > self.max_entries or self._bytes > self.max_bytes):
                self._drop(next(iter(self._items)))

    def delete(self, key: str) -> None:
        with self._lock:
            if key in self._items:
                self._drop(key)

    def _drop(self, key: str) -> None:
        value, _ = self._items.pop(key)
        self._bytes -= len(value)

    async def aget(self, key: str) -> str | None:
        return self.get(key)

    async def aset(self, key: str, value: str, ttl: float | None) -> None:
        self.set(key, value, ttl)

    def flush(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
