"""A cache on disk that survives restarts and is shared safely by several processes.

SQLite (standard library) in WAL mode: readers never block the writer, each process opens its
own connection, and a busy timeout serialises writers. Entries carry an expiry; the file is
kept under ``max_entries`` by evicting the least recently written rows.

Cached answers are the users' conversations: the directory is created ``0700`` and the database
``0600`` before SQLite opens it (SQLite gives its ``-wal`` and ``-shm`` files the database's
mode), so other users of the machine cannot read them.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time


def _retry_locked(operation, attempts: int = 100) -> None:
    for attempt in range(attempts):
        try:
            operation()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02)


def _owner_only(path: str) -> None:
    try:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass  # absent, or not ours to change


class DiskBackend:
    def __init__(self, directory: str | None = None, max_entries: int = 100_000, timeout: float = 5.0) -> None:
        directory = directory or os.path.join(os.path.expanduser("~"), ".cache", "llmtap")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.path = os.path.join(directory, "cache.sqlite3")
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))  # exists, owner-only, before SQLite
        for path in (self.path, self.path + "-wal", self.path + "-shm"):
            _owner_only(path)  # a file an older version left readable by others
        self.max_entries = max_entries
        self.timeout = timeout
        self._local = threading.local()
        self._writes = 0
        db = self._db()
        _retry_locked(
            lambda: db.execute(
                "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
                "expires REAL, written REAL NOT NULL)"
            )
        )
        _retry_locked(lambda: db.execute("CREATE INDEX IF NOT EXISTS entries_written ON entries (written)"))

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            # Switching to WAL needs a moment alone with the file: another process opening the
            # same new cache at the same time makes it report "locked" without waiting.
            _retry_locked(lambda: db.execute("PRAGMA journal_mode=WAL"))
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def get(self, key: str) -> str | None:
        row = self._db().execute("SELECT value, expires FROM entries WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        value, expires = row
        if expires is not None and expires <= time.time():
            self.delete(key)
            return None
        return value

    def set(self, key: str, value: str, ttl: float | None) -> None:
        now = time.time()
        db = self._db()
        db.execute(
            "INSERT OR REPLACE INTO entries (key, value, expires, written) VALUES (?, ?, ?, ?)",
            (key, value, now + ttl if ttl else None, now),
        )
        self._writes += 1
        if self._writes % 100 == 0:
            self._evict(db)

    def _evict(self, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM entries WHERE expires IS NOT NULL AND expires <= ?", (time.time(),))
        (count,) = db.execute("SELECT COUNT(*) FROM entries").fetchone()
        if count > self.max_entries:
            db.execute(
                "DELETE FROM entries WHERE key IN (SELECT key FROM entries ORDER BY written LIMIT ?)",
                (count - self.max_entries,),
            )

    def delete(self, key: str) -> None:
        self._db().execute("DELETE FROM entries WHERE key = ?", (key,))

    async def aget(self, key: str) -> str | None:
        return self.get(key)

    async def aset(self, key: str, value: str, ttl: float | None) -> None:
        self.set(key, value, ttl)

    def flush(self) -> None:
        self._db().execute("DELETE FROM entries")
