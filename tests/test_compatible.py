"""OpenAI-compatible presets: each its own key and base variables, the OpenAI wire format."""

from __future__ import annotations

import pytest

import llmtap
from llmtap.providers.compatible import PRESETS

from .conftest import MESSAGES


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_uses_its_own_variables(emulator, monkeypatch, name) -> None:
    preset = PRESETS[name]
    monkeypatch.setenv(preset.key_env[0], f"key-for-{name}")
    monkeypatch.setenv(preset.base_env[0], emulator.openai_base)
    r = llmtap.completion(model=f"{name}/some-org/some-model", messages=MESSAGES, temperature=0.1)
    request = emulator.last_request
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer key-for-{name}"
    assert request.json == {"model": "some-org/some-model", "messages": MESSAGES, "temperature": 0.1}
    assert r.choices[0].message.content.endswith("Hi 👋 - i'm openai")


def test_hosted_services_need_a_key_local_servers_do_not(emulator, monkeypatch) -> None:
    with pytest.raises(llmtap.AuthenticationError, match="GROQ_API_KEY"):
        llmtap.completion(model="groq/llama-3.1-8b-instant", messages=MESSAGES)
    monkeypatch.setenv("HOSTED_VLLM_API_BASE", emulator.openai_base)
    with pytest.raises(llmtap.AuthenticationError):  # no key sent: the server says 401
        llmtap.completion(model="hosted_vllm/my-model", messages=MESSAGES)
    assert len(emulator.requests) == 1
    with pytest.raises(llmtap.BadRequestError, match="missing api_base for hosted_vllm"):
        monkeypatch.delenv("HOSTED_VLLM_API_BASE")
        llmtap.completion(model="hosted_vllm/my-model", messages=MESSAGES)


def test_default_base_urls() -> None:
    assert PRESETS["groq"].default_base == "https://api.groq.com/openai/v1"
    assert PRESETS["lm_studio"].default_base == "http://localhost:1234/v1"
