"""Errors: each status to its class, retries counted at the emulator, timeouts, bad input."""

from __future__ import annotations

import asyncio
import time

import pytest

import llmtap
from llmtap.testing import Fault, Reply

from .conftest import MESSAGES


@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        (Fault(400), llmtap.BadRequestError),
        (Fault(401), llmtap.AuthenticationError),
        (Fault(403), llmtap.PermissionDeniedError),
        (Fault(404), llmtap.NotFoundError),
        (Fault(409), llmtap.ConflictError),
        (Fault(422), llmtap.BadRequestError),  # as the peer maps a provider's 422
        (Fault(502), llmtap.BadGatewayError),
        (Fault(429), llmtap.RateLimitError),
        (Fault(500), llmtap.InternalServerError),
        (Fault(503), llmtap.ServiceUnavailableError),
        (Fault.context_length(), llmtap.ContextWindowExceededError),
        (Fault.content_policy(), llmtap.ContentPolicyViolationError),
    ],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_status_maps_to_error_class(openai_env, fault, cls, mode) -> None:
    openai_env.push(fault)
    with pytest.raises(cls) as caught:
        if mode == "sync":
            llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
        else:
            asyncio.run(llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES))
    error = caught.value
    assert error.status_code == fault.status
    assert error.llm_provider == "openai" and error.model == "gpt-4o-mini"
    assert error.message  # the provider's own words
    assert isinstance(error, llmtap.OpenAIError)
    # The peer's tree: its generic APIError is a sibling, not the base, of the status classes.
    assert not isinstance(error, llmtap.APIError)


def test_provider_message_is_kept(openai_env) -> None:
    openai_env.push(Fault(400, message="Invalid value for 'temperature'"))
    with pytest.raises(llmtap.BadRequestError, match="Invalid value for 'temperature'"):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_retries_retryable_errors_until_success(openai_env, mode) -> None:
    openai_env.push(Fault(503), Fault(500), Fault(429))
    if mode == "sync":
        r = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, num_retries=3)
    else:
        r = asyncio.run(llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, num_retries=3))
    assert r.choices[0].message.content
    assert len(openai_env.requests) == 4


def test_gives_up_after_num_retries(openai_env) -> None:
    openai_env.push(*[Fault(503)] * 5)
    with pytest.raises(llmtap.ServiceUnavailableError) as caught:
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, num_retries=2)
    assert len(openai_env.requests) == 3
    assert caught.value.num_retries == 2


def test_module_level_num_retries(openai_env) -> None:
    llmtap.num_retries = 1
    openai_env.push(Fault(500))
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert len(openai_env.requests) == 2


@pytest.mark.parametrize("fault", [Fault(400), Fault(401), Fault(404), Fault.context_length()])
def test_does_not_retry_what_cannot_succeed(openai_env, fault) -> None:
    openai_env.push(fault)
    with pytest.raises(llmtap.APIStatusError):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, num_retries=3)
    assert len(openai_env.requests) == 1


def test_honours_retry_after(openai_env) -> None:
    openai_env.push(Fault.rate_limit(retry_after=0.4))
    started = time.monotonic()
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, num_retries=1)
    assert time.monotonic() - started >= 0.4
    assert len(openai_env.requests) == 2


def test_timeout_raises_timeout_error(openai_env) -> None:
    openai_env.push(Reply(delay=2.0))
    started = time.monotonic()
    with pytest.raises(llmtap.Timeout) as caught:
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert isinstance(caught.value, llmtap.APIConnectionError)


async def test_async_timeout(openai_env) -> None:
    openai_env.push(Reply(delay=2.0))
    with pytest.raises(llmtap.APITimeoutError):
        await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, timeout=0.3)


def test_timeout_is_retried(openai_env) -> None:
    openai_env.push(Reply(delay=1.0))
    r = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, timeout=0.3, num_retries=1)
    assert r.choices[0].message.content


def test_connection_refused(monkeypatch) -> None:
    with pytest.raises(llmtap.APIConnectionError, match="cannot connect"):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, api_base="http://127.0.0.1:9", api_key="k")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_body_that_is_not_json_is_a_clear_error(openai_env, mode) -> None:
    openai_env.push(Fault.not_json())
    with pytest.raises(llmtap.APIResponseValidationError, match=r"openai answered with status 200.*not JSON"):
        if mode == "sync":
            llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
        else:
            asyncio.run(llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES))


def test_html_error_page_keeps_its_text(openai_env) -> None:
    openai_env.push(Fault(502, body=b"<html>Bad Gateway</html>", content_type="text/html"))
    with pytest.raises(llmtap.BadGatewayError, match="Bad Gateway"):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)


BAD_INPUTS = [
    ({"model": "gpt-4o-mini", "messages": []}, llmtap.BadRequestError, "messages is required"),
    ({"model": "gpt-4o-mini"}, llmtap.BadRequestError, "messages is required"),
    ({"model": "gpt-4o-mini", "messages": "hi"}, llmtap.BadRequestError, "must be a list"),
    ({"model": "gpt-4o-mini", "messages": ["hi"]}, llmtap.BadRequestError, r"messages\[0\] must be a dict"),
    ({"model": "gpt-4o-mini", "messages": [{"content": "x"}]}, llmtap.BadRequestError, "has no 'role'"),
    ({"model": "gpt-4o-mini", "messages": [{"role": "robot", "content": "x"}]}, llmtap.BadRequestError, "unknown role"),
    ({"model": "gpt-4o-mini", "messages": [{"role": "user"}]}, llmtap.BadRequestError, "has no 'content'"),
    ({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": 5}]}, llmtap.BadRequestError, "content must be"),
    ({"model": "", "messages": MESSAGES}, llmtap.BadRequestError, "model is required"),
    ({"model": "nosuch/model", "messages": MESSAGES}, llmtap.BadRequestError, "unknown provider 'nosuch'"),
    ({"model": "mystery-model", "messages": MESSAGES}, llmtap.BadRequestError, "cannot tell which provider"),
    ({"model": "gpt-4o-mini", "messages": MESSAGES, "temperature": "hot"}, llmtap.BadRequestError, "'temperature' must be"),
    ({"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": True}, llmtap.BadRequestError, "'max_tokens' must be"),
    ({"model": "gpt-4o-mini", "messages": MESSAGES, "tools": {"x": 1}}, llmtap.BadRequestError, "'tools' must be"),
    ({"model": "gpt-4o-mini", "messages": MESSAGES, "timeout": -1}, llmtap.BadRequestError, "timeout must be positive"),
]


@pytest.mark.parametrize(("kwargs", "cls", "match"), BAD_INPUTS)
def test_bad_input_fails_before_any_request(openai_env, kwargs, cls, match) -> None:
    with pytest.raises(cls, match=match):
        llmtap.completion(**kwargs)
    assert openai_env.requests == []


def test_missing_key_names_the_variable(emulator) -> None:
    with pytest.raises(llmtap.AuthenticationError, match="OPENAI_API_KEY"):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    with pytest.raises(llmtap.AuthenticationError, match="AZURE_API_KEY"):
        llmtap.completion(model="azure/dep", messages=MESSAGES, api_base=emulator.azure_base)
    with pytest.raises(llmtap.BadRequestError, match="missing api_base for azure"):
        llmtap.completion(model="azure/dep", messages=MESSAGES, api_key="k")
    assert emulator.requests == []


def test_bad_embedding_and_prompt_input(openai_env) -> None:
    with pytest.raises(llmtap.BadRequestError, match="input is required"):
        llmtap.embedding(model="text-embedding-3-small", input=[])
    with pytest.raises(llmtap.BadRequestError, match="prompt is required"):
        llmtap.text_completion(model="gpt-3.5-turbo-instruct", prompt="")
    assert openai_env.requests == []
