"""Bearer tokens for cloud providers (Azure Entra ID, Google): fetched, cached, refreshed.

Token endpoints are asked through the call's own pipeline (a generator yielding ``HttpRequest``s),
so sync and async calls share this code and nothing blocks an event loop. A token is cached per
source and renewed ``REFRESH_MARGIN`` seconds before it expires; the value never appears in an
error message.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ..exceptions import AuthenticationError
from ..wire import HttpRequest, HttpResponse, TransportError

REFRESH_MARGIN = 300.0
DEFAULT_LIFETIME = 3600.0

Flow = Generator[HttpRequest, HttpResponse, Any]


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expiry: float | None  # time.time() seconds; None: unknown (treated as never, for given tokens)

    def fresh(self) -> bool:
        return self.expiry is None or self.expiry - REFRESH_MARGIN > time.time()

    def __repr__(self) -> str:
        return f"Token(expiry={self.expiry!r})"


_cache: dict[Any, Token] = {}
_lock = threading.Lock()


def cached(key: Any) -> Token | None:
    token = _cache.get(key)
    return token if token is not None and token.fresh() else None


def store(key: Any, token: Token) -> Token:
    with _lock:
        _cache[key] = token
    return token


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def expiry_from(data: dict) -> float:
    """``expires_in`` (seconds from now) or ``expires_on`` (epoch seconds), else an hour."""
    for name, relative in (("expires_in", True), ("expires_on", False)):
        value = data.get(name)
        try:
            number = float(value) if value is not None else None
        except (TypeError, ValueError):
            number = None
        if number is not None:
            return time.time() + number if relative else number
    return time.time() + DEFAULT_LIFETIME


def fetch(request: HttpRequest, provider: str, what: str) -> Flow:
    """Send a token request; the ``access_token`` of its JSON answer as a Token."""
    try:
        response = yield request
    except TransportError as exc:
        raise AuthenticationError(f"{what}: the token endpoint did not answer ({exc.kind})", llm_provider=provider) from None
    try:
        data = json.loads(response.body)
    except ValueError:
        data = None
    if response.status != 200 or not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        detail = ""
        if isinstance(data, dict):
            detail = str(data.get("error_description") or data.get("error") or "")[:300]
        raise AuthenticationError(f"{what}: the token endpoint answered {response.status} {detail}".rstrip(), llm_provider=provider)
    return Token(data["access_token"], expiry_from(data))


def form_request(url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> HttpRequest:
    return HttpRequest("POST", url, {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json", **(headers or {})},
                       urlencode(form).encode(), 30.0, False)
