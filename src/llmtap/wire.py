"""The values that cross the transport seam: a request out, a response (or a ``TransportError``) back.

They live apart from ``transport.py`` (as httpx keeps its models apart from its transports) so a
provider can build and read them without importing the module that owns sockets, pools and an
atexit hook. This module imports only the standard library.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None
    timeout: float | None = None
    stream: bool = False


@dataclass(slots=True)
class HttpResponse:
    """A status and headers, then either ``body`` or ``chunks`` (streams with a 2xx status)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    chunks: Iterator[bytes] | AsyncIterator[bytes] | None = None
    _close: Any = field(default=None, repr=False)

    def close(self) -> None:
        if self._close is not None:
            closer, self._close = self._close, None
            closer()


class TransportError(Exception):
    """The request got no usable answer. ``kind`` is "connect", "timeout" or "read". The
    message never holds URL credentials, whatever the HTTP client put in its own."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(without_credentials(message))
        self.kind = kind


def origin(url: str) -> str:
    """``scheme://netloc`` of a URL, a prefix of it (so ``url[len(origin):]`` is the path):
    the key for connection pools and proxy settings. It may hold credentials; show
    ``safe_origin`` instead."""
    start = url.find("//")
    start = 0 if start < 0 else start + 2
    end = len(url)
    for char in "/?#":
        at = url.find(char, start, end)
        if at >= 0:
            end = at
    return url[:end]


def safe_origin(url: str) -> str:
    """``origin`` without any ``user:password@``, fit for error messages and logs."""
    prefix = origin(url)
    at = prefix.rfind("@")
    if at < 0:
        return prefix
    start = prefix.find("//")
    return prefix[: start + 2] + prefix[at + 1 :] if start >= 0 else prefix[at + 1 :]


_CREDENTIALS = re.compile(r"//[^/@\s]*@")


def without_credentials(text: str) -> str:
    """``text`` with any ``user:password@`` of the URLs in it replaced by ``***@``."""
    return _CREDENTIALS.sub("//***@", text) if "@" in text else text
