"""The retry policy is pure: what to retry, how long to wait, what Retry-After means."""

from __future__ import annotations

import email.utils
import time

import pytest

from llmtap.exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    InternalServerError,
    RateLimitError,
    ServiceUnavailableError,
    error_for_status,
    parse_retry_after,
)
from llmtap.retry import DEFAULT_RULES, RetryRules

is_retryable = DEFAULT_RULES.should_retry


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (400, "bad", BadRequestError),
        (400, "This model's maximum context length is 4097 tokens", ContextWindowExceededError),
        (400, "Your request was rejected by our content management policy", ContentPolicyViolationError),
        (401, "no", AuthenticationError),
        (429, "slow down", RateLimitError),
        (500, "oops", InternalServerError),
        (502, "bad gateway", BadGatewayError),
        (503, "down", ServiceUnavailableError),
        (529, "overloaded", ServiceUnavailableError),
    ],
)
def test_status_to_class(status: int, message: str, cls: type) -> None:
    error = error_for_status(status, message, provider="openai", model="gpt-4o")
    assert type(error) is cls
    assert error.status_code == status
    assert error.llm_provider == "openai" and error.model == "gpt-4o"
    assert error.message == message


def test_context_window_by_code() -> None:
    error = error_for_status(400, "too long", provider="openai", model="m", code="context_length_exceeded")
    assert isinstance(error, ContextWindowExceededError) and isinstance(error, BadRequestError)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (RateLimitError("x"), True),
        (InternalServerError("x"), True),
        (ServiceUnavailableError("x"), True),
        (APIConnectionError("x"), True),
        (APITimeoutError("x"), True),
        (BadRequestError("x"), False),
        (AuthenticationError("x"), False),
        (ValueError("x"), False),
    ],
)
def test_what_is_retried(error: Exception, retryable: bool) -> None:
    assert is_retryable(error) is retryable


def test_x_should_retry_header_wins() -> None:
    assert not is_retryable(RateLimitError("x", headers={"x-should-retry": "false"}))
    assert is_retryable(BadRequestError("x", headers={"x-should-retry": "true"}))


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= parse_retry_after({"retry-after": date}) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_delay_honours_retry_after_and_backs_off_with_jitter() -> None:
    policy = RetryRules(initial_backoff=0.5, max_backoff=8.0)

    def delay(attempt: int, asked: float | None) -> float:
        return policy.delay(attempt, RateLimitError("x", headers={} if asked is None else {"retry-after": str(asked)}))

    assert delay(1, 3.0) == 3.0
    assert delay(1, 3600.0) <= 0.5  # an absurd ask falls back to backoff
    first = [delay(1, None) for _ in range(50)]
    third = [delay(3, None) for _ in range(50)]
    assert all(0.375 <= d <= 0.5 for d in first) and len(set(first)) > 1
    assert all(1.5 <= d <= 2.0 for d in third)
    assert delay(20, None) <= 8.0
    assert policy.delay(1) <= 0.5  # no error at hand: plain backoff


def test_policy_is_configurable_per_status() -> None:
    strict = RetryRules(retryable_status=frozenset({503}))
    assert not strict.should_retry(RateLimitError("x"))
    assert strict.should_retry(ServiceUnavailableError("x"))
    assert strict.should_retry(APITimeoutError("x"))  # no answer at all is always worth another try


def test_decisions_are_logged_at_debug_with_their_reason(caplog) -> None:
    with caplog.at_level("DEBUG", logger="llmtap"):
        DEFAULT_RULES.should_retry(RateLimitError("x"))
        DEFAULT_RULES.should_retry(BadRequestError("x"))
    lines = [r.getMessage() for r in caplog.records]
    assert any("retrying RateLimitError" in line and "429" in line for line in lines)
    assert any("not retrying BadRequestError" in line and "400" in line for line in lines)


def test_the_request_is_rebuilt_for_every_attempt(openai_env) -> None:
    """A signed provider needs a fresh signature per attempt: build_request runs once per try."""
    import llmtap
    from llmtap.providers import get_provider
    from llmtap.testing import Fault

    provider = get_provider("openai")
    built = []
    original = type(provider).build_request

    def counting(self, call, body):
        request = original(self, call, body)
        built.append(request)
        return request

    openai_env.push(Fault(503), Fault(503))
    type(provider).build_request = counting
    try:
        llmtap.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], num_retries=3)
    finally:
        type(provider).build_request = original
    assert len(built) == 3
    assert len({id(request) for request in built}) == 3


def test_error_carries_retry_after_from_headers() -> None:
    error = error_for_status(429, "slow", provider="openai", model="m", headers={"retry-after": "1.5"})
    assert error.retry_after == 1.5
    assert "RateLimitError" in str(error) and "openai" in str(error)


def test_peer_style_construction() -> None:
    error = RateLimitError(message="limit", llm_provider="openai", model="gpt-3.5-turbo")
    assert error.status_code == 429 and error.llm_provider == "openai"
    positional = BadRequestError("bad", "gpt-4o", "openai")
    assert positional.model == "gpt-4o" and positional.llm_provider == "openai"
