"""Which failures cool a deployment down, and how many retries an error gets. Pure functions.

Cooldown (the peer's rules): a 429 cools the deployment at once, for its ``Retry-After`` when
that is longer than ``cooldown_time``; 401, 403 and 404 at once too (that deployment's key or
name is wrong: retrying it cannot succeed, but its siblings may); timeouts, connection errors
and 5xx count, and more than ``allowed_fails`` of them in a minute cool it down. Other 4xx
(bad input, context window, content policy) say nothing about the deployment and never count.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .. import exceptions as E

MAX_COOLDOWN = 3600.0

# The root of the errors a call raises: ``BaseAPIError`` in the peer's tree (where ``APIError``
# is only LiteLLM's generic leaf), ``APIError`` where it is the root.
API_ERRORS = getattr(E, "BaseAPIError", E.APIError)


@dataclass
class RetryPolicy:
    """Retries per error class (the peer's ``RetryPolicy`` fields)."""

    BadRequestErrorRetries: int | None = None
    AuthenticationErrorRetries: int | None = None
    TimeoutErrorRetries: int | None = None
    RateLimitErrorRetries: int | None = None
    ContentPolicyViolationErrorRetries: int | None = None
    InternalServerErrorRetries: int | None = None
    ServiceUnavailableErrorRetries: int | None = None
    NotFoundErrorRetries: int | None = None
    DefaultRetries: int | None = None


@dataclass
class AllowedFailsPolicy:
    """Failures allowed per minute, per error class, before a cooldown (the peer's fields)."""

    BadRequestErrorAllowedFails: int | None = None
    AuthenticationErrorAllowedFails: int | None = None
    TimeoutErrorAllowedFails: int | None = None
    RateLimitErrorAllowedFails: int | None = None
    ContentPolicyViolationErrorAllowedFails: int | None = None
    InternalServerErrorAllowedFails: int | None = None


# most specific first
_CLASSES = (
    (E.ContentPolicyViolationError, "ContentPolicyViolationError"),
    (E.NotFoundError, "NotFoundError"),
    (E.AuthenticationError, "AuthenticationError"),
    (E.RateLimitError, "RateLimitError"),
    (E.APITimeoutError, "TimeoutError"),
    (E.ServiceUnavailableError, "ServiceUnavailableError"),
    (E.InternalServerError, "InternalServerError"),
    (E.BadRequestError, "BadRequestError"),
)


def as_policy(value: Any, cls: type) -> Any:
    """Accept our dataclass, the peer's pydantic object, or a plain dict of the same fields."""
    if value is None or isinstance(value, cls):
        return value
    names = {f.name for f in fields(cls)}
    if isinstance(value, dict):
        unknown = set(value) - names
        if unknown:
            raise ValueError(f"{cls.__name__} has no field(s) {sorted(unknown)}; known: {sorted(names)}")
        return cls(**value)
    return cls(**{name: getattr(value, name, None) for name in names})


def _lookup(policy: Any, exc: BaseException, suffix: str) -> int | None:
    if policy is None:
        return None
    for klass, name in _CLASSES:
        if isinstance(exc, klass):
            value = getattr(policy, name + suffix, None)
            if value is not None:
                return int(value)
    return None


def retries_from_policy(policy: RetryPolicy | None, exc: BaseException) -> int | None:
    if policy is None:
        return None
    found = _lookup(policy, exc, "Retries")
    return found if found is not None else policy.DefaultRetries


def retryable(exc: BaseException) -> bool:
    """Could the same request succeed if sent again (here or on a sibling deployment)?"""
    if isinstance(exc, (E.ContextWindowExceededError, E.ContentPolicyViolationError, E.NotFoundError)):
        return False
    if isinstance(exc, E.APIConnectionError):
        return True
    if isinstance(exc, (E.AuthenticationError, E.PermissionDeniedError)):
        return True  # on a sibling with another key; the caller checks there is one
    if isinstance(exc, API_ERRORS):
        import llmtap

        return llmtap.retry_rules.should_retry(exc) or exc.status_code >= 500
    return False


def deployment_specific(exc: BaseException) -> bool:
    """Errors that will repeat on this deployment but not necessarily on its siblings."""
    return isinstance(exc, (E.AuthenticationError, E.PermissionDeniedError, E.NotFoundError))


@dataclass(slots=True)
class Cooldown:
    counts: bool  # says something about the deployment's health
    immediate: bool  # cool down now, whatever allowed_fails says
    seconds: float
    allowed_fails: int


def cooldown_for(exc: BaseException, cooldown_time: float, allowed_fails: int, policy: Any = None) -> Cooldown:
    allowed = _lookup(policy, exc, "AllowedFails")
    if allowed is not None:
        return Cooldown(True, False, cooldown_time, allowed)
    if isinstance(exc, E.RateLimitError):
        wait = exc.retry_after if exc.retry_after is not None else 0.0
        return Cooldown(True, True, min(max(cooldown_time, wait), MAX_COOLDOWN), allowed_fails)
    if deployment_specific(exc):
        return Cooldown(True, True, cooldown_time, allowed_fails)
    if isinstance(exc, E.APIConnectionError):
        return Cooldown(True, False, cooldown_time, allowed_fails)
    if isinstance(exc, API_ERRORS) and not isinstance(exc, E.BadRequestError):
        status = exc.status_code or 500
        counts = status >= 500 or status in (408, 402)
        return Cooldown(counts, False, cooldown_time, allowed_fails)
    return Cooldown(False, False, cooldown_time, allowed_fails)
