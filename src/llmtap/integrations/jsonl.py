"""``"jsonl"``: each call's standard_logging_object as one JSON line in a file you choose.

Lines are written with a single ``write`` on a file opened for appending, so lines from several
threads or processes never interleave; the file is rotated by size (``path.1``, ``path.2`` ...)
under an advisory lock, so two processes never rotate at once. Runs on the delivery worker,
never on the caller's path.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from .custom_logger import CustomLogger

DEFAULT_PATH_ENV = "LLMTAP_JSONL_PATH"


class JsonlLogger(CustomLogger):
    def __init__(self, path: str | None = None, max_bytes: int = 100 * 1024 * 1024, backups: int = 5) -> None:
        self.path = path or os.environ.get(DEFAULT_PATH_ENV) or "llmtap_calls.jsonl"
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()

    def log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._write(kwargs["standard_logging_object"])

    log_failure_event = log_success_event

    def _write(self, payload: dict) -> None:
        line = (json.dumps(payload, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        with self._lock:
            self._rotate_if_needed(len(line))
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def _rotate_if_needed(self, incoming: int) -> None:
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return
        if size + incoming <= self.max_bytes:
            return
        import fcntl

        with open(self.path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:  # another process may have rotated while we waited for the lock
                if os.path.getsize(self.path) + incoming <= self.max_bytes:
                    return
            except OSError:
                return
            for index in range(self.backups - 1, 0, -1):
                older = f"{self.path}.{index}"
                if os.path.exists(older):
                    os.replace(older, f"{self.path}.{index + 1}")
            os.replace(self.path, self.path + ".1")
