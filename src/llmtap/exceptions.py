"""Errors shaped like the OpenAI SDK's, so handlers written for LiteLLM keep catching them.

Every error a call can raise is one of these, whatever the provider said on the wire::

    APIError
    ├── APIConnectionError               the request never got an answer
    │   └── APITimeoutError (= Timeout)
    ├── APIResponseValidationError       an answer we could not read (not JSON, stream cut)
    └── APIStatusError                   the provider answered with an error status
        ├── BadRequestError              400 (and bad input caught before sending)
        │   ├── ContextWindowExceededError
        │   ├── ContentPolicyViolationError
        │   └── UnsupportedParamsError
        ├── AuthenticationError          401 (and a missing key)
        ├── PermissionDeniedError        403
        ├── NotFoundError                404
        ├── ConflictError                409
        ├── UnprocessableEntityError     422
        ├── RateLimitError               429
        ├── InternalServerError          500 and other 5xx
        └── ServiceUnavailableError      503, 529
    RouterRateLimitError(ValueError)     the Router: no deployment can take the call now

Each carries ``status_code``, ``llm_provider``, ``model``, ``message`` (the provider's own words),
``body`` (the decoded error body when there was one) and ``headers``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any


class APIError(Exception):
    status_code: int = 500
    _positional = ("llm_provider", "model")

    def __init__(
        self,
        message: str = "",
        *args: Any,
        llm_provider: str | None = None,
        model: str | None = None,
        status_code: int | None = None,
        response: Any = None,
        body: Any = None,
        headers: dict | None = None,
        request: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        **extra: Any,
    ) -> None:
        named = dict(zip(self._positional, args, strict=False))
        llm_provider = llm_provider or named.get("llm_provider")
        model = model or named.get("model")
        if status_code is not None:
            self.status_code = status_code
        self.message = str(message)
        self.llm_provider = llm_provider
        self.model = model
        self.response = response
        self.request = request
        self.body = body
        self.headers = dict(headers or {})
        self.litellm_debug_info = litellm_debug_info
        self.max_retries = max_retries
        self.num_retries = num_retries
        self.retry_after: float | None = parse_retry_after(self.headers)
        for key, value in extra.items():
            setattr(self, key, value)
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f" ({self.llm_provider}, model={self.model})" if self.llm_provider else ""
        return f"llmtap.{type(self).__name__}: {self.message}{where}"

    @property
    def code(self) -> str | None:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("code") if isinstance(error, dict) else None


class APIConnectionError(APIError):
    status_code = 500


class APITimeoutError(APIConnectionError):
    status_code = 408


Timeout = APITimeoutError


class APIResponseValidationError(APIError):
    status_code = 500


class APIStatusError(APIError):
    pass


class BadRequestError(APIStatusError):
    status_code = 400
    _positional = ("model", "llm_provider")


class ContextWindowExceededError(BadRequestError):
    pass


class ContentPolicyViolationError(BadRequestError):
    pass


class UnsupportedParamsError(BadRequestError):
    pass


class AuthenticationError(APIStatusError):
    status_code = 401


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class ConflictError(APIStatusError):
    status_code = 409


class UnprocessableEntityError(APIStatusError):
    status_code = 422


class RateLimitError(APIStatusError):
    status_code = 429


class InternalServerError(APIStatusError):
    status_code = 500


class ServiceUnavailableError(APIStatusError):
    status_code = 503


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
    529: ServiceUnavailableError,
}

_CONTEXT_WINDOW_HINTS = (
    "context_length_exceeded",
    "maximum context length",
    "context window",
    "prompt is too long",
    "too many tokens",
)
_CONTENT_POLICY_HINTS = ("content_policy_violation", "content management policy", "content_filter")


def error_for_status(
    status: int,
    message: str,
    *,
    provider: str | None,
    model: str | None,
    body: Any = None,
    headers: dict | None = None,
    code: str | None = None,
) -> APIError:
    """Pick the error class for a provider's error answer; 400s are refined by their message."""
    cls: type[APIError]
    if status == 400 or (status == 413 and "token" in message.lower()):
        text = f"{code or ''} {message}".lower()
        if any(hint in text for hint in _CONTEXT_WINDOW_HINTS):
            cls = ContextWindowExceededError
        elif any(hint in text for hint in _CONTENT_POLICY_HINTS):
            cls = ContentPolicyViolationError
        else:
            cls = BadRequestError
    elif status in _BY_STATUS:
        cls = _BY_STATUS[status]
    elif status >= 500:
        cls = InternalServerError
    elif status == 408:
        cls = APITimeoutError
    else:
        cls = APIStatusError
    return cls(
        message,
        llm_provider=provider,
        model=model,
        status_code=status,
        body=body,
        headers=headers,
    )


def decode_error_body(raw: bytes) -> tuple[Any, str]:
    """Return (decoded body or None, the most useful message text) for an error answer."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text) if text else None
    except ValueError:
        return None, text[:1000] or "(empty body)"
    message = _find_message(body)
    return body, message or text[:1000]


def _find_message(body: Any) -> str | None:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            for key in ("message", "msg", "detail", "error"):
                value = error.get(key)
                if isinstance(value, str):
                    return value
        if isinstance(error, str):
            return error
        for key in ("message", "detail"):
            if isinstance(body.get(key), str):
                return body[key]
    if isinstance(body, list) and body:
        return _find_message(body[0])
    return None


# -- what the server asked for; the retry policy itself is in retry.py ---------------------


def parse_retry_after(headers: dict | None) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, retry-after seconds or HTTP date."""
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        import email.utils

        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())


class RouterRateLimitError(ValueError):
    """No deployment of the group can take the request now: all cooling down or at their limits.

    A ValueError, as the peer's is, so ``except ValueError`` written for LiteLLM keeps working.
    """

    def __init__(
        self,
        model: str,
        cooldown_time: float,
        enable_pre_call_checks: bool = False,
        cooldown_list: Sequence[str] = (),
        model_ids: Sequence[str] = (),
        reason: str | None = None,
    ) -> None:
        self.model = model
        self.cooldown_time = cooldown_time
        self.enable_pre_call_checks = enable_pre_call_checks
        self.cooldown_list = list(cooldown_list)
        self.all_deployments_in_cooldown = bool(model_ids) and set(model_ids) <= set(cooldown_list)
        self.type = "all_deployments_in_cooldown" if self.all_deployments_in_cooldown else "rate_limit_error"
        self.status_code = 429
        self.llm_provider = None
        why = " All deployments for selected model are in cooldown." if self.all_deployments_in_cooldown else ""
        if reason:
            why += f" {reason}"
        self.message = (
            f"No deployments available for selected model, Try again in {cooldown_time:g} seconds.{why} "
            f"Passed model={model}. pre-call-checks={enable_pre_call_checks}, cooldown_list={self.cooldown_list}"
        )
        super().__init__(self.message)
