"""Errors shaped like LiteLLM's, so handlers written for it keep catching them.

The tree is the peer's, which is the OpenAI SDK's tree with LiteLLM's classes hung on it: not every
class is under ``APIError`` (in LiteLLM ``except litellm.APIError`` does not catch a rate limit,
and frameworks such as OpenHands rely on that to pick what they retry)::

    OpenAIError                              (openai.OpenAIError)
    └── BaseAPIError                         (openai.APIError)
        ├── APIError                         any other status; LiteLLM's generic error
        ├── APIConnectionError               the request never got an answer
        │   └── Timeout (= APITimeoutError)  408, 504 and read/connect timeouts
        ├── APIResponseValidationError       an answer we could not read (not JSON, stream cut)
        │   └── JSONSchemaValidationError    the answer does not match the requested schema
        └── APIStatusError                   the provider answered with an error status
            ├── BadRequestError              400, 422 (as LiteLLM maps it), bad input caught early
            │   ├── ContextWindowExceededError
            │   ├── ContentPolicyViolationError
            │   ├── UnsupportedParamsError
            │   ├── ImageFetchError
            │   ├── RejectedRequestError
            │   └── LiteLLMUnknownProvider
            ├── InvalidRequestError          (deprecated LiteLLM name, a 400)
            ├── AuthenticationError          401 (and a missing key)
            ├── PermissionDeniedError        403
            ├── NotFoundError                404
            ├── ConflictError                409
            ├── UnprocessableEntityError     (422 when raised by hand; calls map 422 to BadRequest)
            ├── RateLimitError               429
            ├── InternalServerError          500 and other 5xx
            ├── BadGatewayError              502
            └── ServiceUnavailableError      503, 529
    BudgetExceededError(Exception), RouterRateLimitError(ValueError): raised by budgets and the Router

Where the ``openai`` package is in use, ``except openai.RateLimitError`` catches
``llmtap.RateLimitError`` as it catches the peer's: the first time an llmtap error is built while
``openai`` is imported, each class above gets its OpenAI counterpart appended to its bases (the
names in parentheses and the obvious pairs). ``import llmtap`` never imports openai; ``except``
matching uses real subclassing (not ``__subclasscheck__``), which is why virtual subclasses
would not do.

Each carries ``status_code``, ``llm_provider``, ``model``, ``message`` (the provider's own words),
``body`` (the decoded error body when there was one) and ``headers``. Constructors take the
peer's positional order for each class (``APIError(status_code, message, llm_provider, model)``,
``BadRequestError(message, model, llm_provider)``, ``RateLimitError(message, llm_provider, model)``...).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any


class OpenAIError(Exception):
    """Root of every error a call raises (the place of ``openai.OpenAIError``)."""

    status_code: int = 500
    _positional: tuple[str, ...] = ("llm_provider", "model")

    def __init__(
        self,
        message: Any = "",
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
        if not _grafted and "openai" in sys.modules:
            _graft_openai()
        if isinstance(message, BaseException) and not args:  # OpenAIError(original_exception)
            message = str(message)
        named = dict(zip(self._positional, args, strict=False))
        llm_provider = llm_provider or named.get("llm_provider")
        model = model or named.get("model")
        if status_code is not None:
            self.status_code = status_code
        self.message = "" if message is None else str(message)
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
        # Not super(): once grafted, the next class in the MRO is an openai class whose
        # __init__ wants an httpx request/response we do not have.
        Exception.__init__(self, self.message)

    def __str__(self) -> str:
        where = f" ({self.llm_provider}, model={self.model})" if self.llm_provider else ""
        return f"llmtap.{type(self).__name__}: {self.message}{where}"

    @property
    def code(self) -> str | None:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("code") if isinstance(error, dict) else None

    @property
    def type(self) -> str | None:  # openai.APIError.type
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("type") if isinstance(error, dict) else None

    @property
    def param(self) -> str | None:  # openai.APIError.param
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("param") if isinstance(error, dict) else None


class BaseAPIError(OpenAIError):
    """Any error about a call (the place of ``openai.APIError``, which is not LiteLLM's)."""


class APIError(BaseAPIError):
    """LiteLLM's generic error: a status no other class covers. ``APIError(status_code, message,
    llm_provider, model)`` as in the peer; ``APIError(message)`` works too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and isinstance(args[0], int) and not isinstance(args[0], bool):
            kwargs.setdefault("status_code", args[0])
            args = args[1:]
        super().__init__(*args, **kwargs)


class APIConnectionError(BaseAPIError):
    status_code = 500


class APITimeoutError(APIConnectionError):
    status_code = 408
    _positional = ("model", "llm_provider")


Timeout = APITimeoutError


class APIResponseValidationError(BaseAPIError):
    status_code = 500


class JSONSchemaValidationError(APIResponseValidationError):
    """The answer is not valid against the schema asked for (``raw_response``, ``schema``)."""

    def __init__(
        self,
        model: str | None = None,
        llm_provider: str | None = None,
        raw_response: str = "",
        schema: Any = "",
        message: str | None = None,
        **extra: Any,
    ) -> None:
        self.raw_response = raw_response
        self.schema = schema
        if message is None:
            message = (
                f"model={model} returned an invalid response={raw_response!r} for schema={schema}. "
                "The raw response is in `e.raw_response`"
            )
        super().__init__(message, llm_provider=llm_provider, model=model, **extra)


class APIStatusError(BaseAPIError):
    pass


class BadRequestError(APIStatusError):
    status_code = 400
    _positional = ("model", "llm_provider")


class ContextWindowExceededError(BadRequestError):
    pass


class ContentPolicyViolationError(BadRequestError):
    pass


class UnsupportedParamsError(BadRequestError):
    _positional = ("llm_provider", "model")


class ImageFetchError(BadRequestError):
    """An image URL in the messages could not be fetched."""


class RejectedRequestError(BadRequestError):
    pass


class LiteLLMUnknownProvider(BadRequestError):
    pass


class InvalidRequestError(APIStatusError):
    """LiteLLM's deprecated name for a 400 (``openai.BadRequestError`` underneath, not ours)."""

    status_code = 400
    _positional = ("model", "llm_provider")


class AuthenticationError(APIStatusError):
    status_code = 401


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404
    _positional = ("model", "llm_provider")


class ConflictError(APIStatusError):
    status_code = 409


class UnprocessableEntityError(APIStatusError):
    status_code = 422
    _positional = ("model", "llm_provider")


class RateLimitError(APIStatusError):
    status_code = 429


class InternalServerError(APIStatusError):
    status_code = 500


class BadGatewayError(APIStatusError):
    status_code = 502


class ServiceUnavailableError(APIStatusError):
    status_code = 503


class BudgetExceededError(Exception):
    """A budget ran out (``current_cost``, ``max_budget``); not an API error, as in the peer."""

    def __init__(self, current_cost: float, max_budget: float, message: str | None = None, **extra: Any) -> None:
        self.current_cost = current_cost
        self.max_budget = max_budget
        self.status_code = 400
        self.llm_provider = extra.pop("llm_provider", None) or ""
        self.message = message or f"Budget has been exceeded! Current cost: {current_cost}, Max budget: {max_budget}"
        for key, value in extra.items():
            setattr(self, key, value)
        super().__init__(self.message)


# Provider-named errors some frameworks import; in the peer each is that provider's base error.
class AzureOpenAIError(BaseAPIError):
    pass


class AnthropicError(BaseAPIError):
    pass


class OpenAILikeError(BaseAPIError):
    pass


# -- the openai graft ---------------------------------------------------------------------------

_OPENAI_PAIRS = (
    ("OpenAIError", "OpenAIError"),
    ("BaseAPIError", "APIError"),
    ("APIConnectionError", "APIConnectionError"),
    ("APITimeoutError", "APITimeoutError"),
    ("APIResponseValidationError", "APIResponseValidationError"),
    ("APIStatusError", "APIStatusError"),
    ("BadRequestError", "BadRequestError"),
    ("InvalidRequestError", "BadRequestError"),
    ("AuthenticationError", "AuthenticationError"),
    ("PermissionDeniedError", "PermissionDeniedError"),
    ("NotFoundError", "NotFoundError"),
    ("ConflictError", "ConflictError"),
    ("UnprocessableEntityError", "UnprocessableEntityError"),
    ("RateLimitError", "RateLimitError"),
    ("InternalServerError", "InternalServerError"),
)
_grafted = False


def _graft_openai() -> bool:
    """Make each class a real subclass of its ``openai`` counterpart (see the module docstring).

    Runs once, when an error is first built with ``openai`` imported; returns whether it did.
    """
    global _grafted
    openai = sys.modules.get("openai")
    theirs = {name: getattr(openai, name, None) for _, name in _OPENAI_PAIRS}
    if openai is None or not all(isinstance(cls, type) for cls in theirs.values()):
        return False  # not imported, or only half imported: try again next time
    _grafted = True
    here = globals()
    for ours_name, their_name in _OPENAI_PAIRS:
        ours, other = here[ours_name], theirs[their_name]
        if not issubclass(ours, other):
            try:
                ours.__bases__ = (*ours.__bases__, other)
            except TypeError:  # an openai release with an incompatible layout: catch by name only
                pass
    return True


_BY_STATUS: dict[int, type[BaseAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: APITimeoutError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitError,
    500: InternalServerError,
    502: BadGatewayError,
    503: ServiceUnavailableError,
    504: APITimeoutError,
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
) -> BaseAPIError:
    """Pick the error class for a provider's error answer; 400s are refined by their message."""
    cls: type[BaseAPIError]
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
    else:
        cls = APIError
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
