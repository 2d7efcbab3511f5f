"""Drop-in details frameworks rely on: install_as_litellm, the peer's default retries,
``response_format=<pydantic class>``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import llmtap
from llmtap.providers.openai import OpenAI
from llmtap.testing import Fault

from .conftest import MESSAGES, PEER_DEFAULT_RETRIES


@pytest.fixture
def peer_default_retries(monkeypatch):
    assert PEER_DEFAULT_RETRIES == 2
    monkeypatch.setattr(OpenAI, "default_retries", PEER_DEFAULT_RETRIES)


def test_install_as_litellm_makes_import_litellm_give_llmtap(emulator) -> None:
    script = textwrap.dedent(
        """
        import llmtap
        llmtap.install_as_litellm()
        import litellm
        from litellm import completion
        from litellm.integrations.custom_logger import CustomLogger
        from litellm.exceptions import RateLimitError, BadGatewayError
        import litellm.utils, litellm.types.utils

        seen = []
        class H(CustomLogger):
            def log_success_event(self, kwargs, response_obj, start_time, end_time):
                seen.append(kwargs["model"])

        litellm.callbacks = [H()]  # the very same module: llmtap.callbacks
        r = completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        llmtap.flush(5)
        print(litellm is llmtap, llmtap.callbacks is litellm.callbacks, seen, r.choices[0].message.role)
        try:
            import litellm.no_such_module
        except ModuleNotFoundError as exc:
            print("missing:", exc.name)
        """
    )
    env = dict(os.environ, OPENAI_API_KEY="sk-test-key-123456", OPENAI_BASE_URL=emulator.openai_base)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "True True ['gpt-4o-mini'] assistant" in done.stdout
    assert "missing: litellm.no_such_module" in done.stdout


def test_openai_calls_retry_twice_by_default_like_the_peer(openai_env, peer_default_retries) -> None:
    for _ in range(2):
        openai_env.push(Fault(status=500))
    r = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert r.choices[0].message.content
    assert len(openai_env.requests) == 3


def test_an_explicit_num_retries_wins_over_the_default(openai_env, peer_default_retries) -> None:
    openai_env.push(Fault(status=500))
    with pytest.raises(llmtap.InternalServerError):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, num_retries=0)
    assert len(openai_env.requests) == 1


def test_anthropic_has_no_default_retries(emulator, monkeypatch, peer_default_retries) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-123456")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.anthropic_base)
    emulator.push(Fault(status=500))
    with pytest.raises(llmtap.InternalServerError):
        llmtap.completion(model="anthropic/claude-3-5-haiku-latest", messages=MESSAGES)
    assert len(emulator.requests) == 1


def test_response_format_as_a_pydantic_class_is_sent_as_a_strict_json_schema(openai_env) -> None:
    pydantic = pytest.importorskip("pydantic")  # in the test extra: never skipped on CI

    class Address(pydantic.BaseModel):
        city: str
        zip: str | None = None

    class Person(pydantic.BaseModel):
        name: str
        age: int = 0
        address: Address

    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, response_format=Person)
    sent = json.loads(openai_env.requests[-1].body)["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "Person" and sent["json_schema"]["strict"] is True
    schema = sent["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert sorted(schema["required"]) == ["address", "age", "name"]
    address = schema["$defs"]["Address"]
    assert address["additionalProperties"] is False and sorted(address["required"]) == ["city", "zip"]
    assert "default" not in json.dumps(schema)


def test_response_format_as_some_other_class_is_refused_before_sending(openai_env) -> None:
    class NotAModel:
        pass

    with pytest.raises(llmtap.BadRequestError, match="pydantic model class"):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, response_format=NotAModel)
    assert openai_env.requests == []
