"""Chat completions against the emulator over real sockets: wire form, answers, routing."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

import llmtap
from llmtap.testing import Reply

from .conftest import MESSAGES


def test_sync_call_returns_openai_shaped_response(openai_env) -> None:
    r = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert isinstance(r, llmtap.ModelResponse)
    assert r.choices[0].message.content == "Hello from the llmtap emulator. You said: Hi 👋 - i'm openai"
    assert r["choices"][0]["message"]["role"] == "assistant"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0
    assert r.model == "gpt-4o-mini"
    assert json.loads(r.model_dump_json())["choices"][0]["message"]["content"].startswith("Hello")
    request = openai_env.last_request
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test-key-123456"
    assert request.json == {"model": "gpt-4o-mini", "messages": MESSAGES}


async def test_async_call(openai_env) -> None:
    r = await llmtap.acompletion(model="openai/gpt-4o", messages=MESSAGES)
    assert r.choices[0].message.content.endswith("Hi 👋 - i'm openai")
    assert openai_env.last_request.json["model"] == "gpt-4o"


ALL_PARAMS = {
    "temperature": 0.2,
    "top_p": 0.9,
    "n": 2,
    "stop": ["\n\n"],
    "max_tokens": 50,
    "max_completion_tokens": 60,
    "presence_penalty": 0.1,
    "frequency_penalty": -0.1,
    "logit_bias": {"50256": -100},
    "logprobs": True,
    "top_logprobs": 2,
    "seed": 7,
    "user": "user-42",
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "tool_choice": "auto",
    "parallel_tool_calls": False,
    "response_format": {"type": "json_object"},
}


def test_every_parameter_reaches_the_wire_under_its_name(openai_env) -> None:
    r = llmtap.completion(
        model="gpt-4o-mini",
        messages=MESSAGES,
        metadata={"never": "sent"},
        extra_headers={"X-Custom": "yes"},
        extra_body={"custom_field": 1},
        num_retries=0,
        timeout=30,
        **ALL_PARAMS,
    )
    body = openai_env.last_request.json
    for name, value in ALL_PARAMS.items():
        assert body[name] == value, name
    assert body["custom_field"] == 1
    for library_only in ("metadata", "num_retries", "timeout", "extra_headers", "extra_body", "api_key"):
        assert library_only not in body
    assert openai_env.last_request.headers["x-custom"] == "yes"
    assert len(r.choices) == 2


def test_explicit_key_and_base_win_over_environment(openai_env, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    llmtap.completion(
        model="gpt-4o-mini", messages=MESSAGES, api_key="sk-explicit", api_base=openai_env.openai_base
    )
    assert openai_env.last_request.headers["authorization"] == "Bearer sk-explicit"


def test_openai_api_base_env_and_base_url_alias(emulator, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("OPENAI_API_BASE", emulator.openai_base)
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, base_url=emulator.openai_base)
    assert len(emulator.requests) == 2


def test_openai_compatible_server_needs_no_key_and_takes_any_model_name(emulator) -> None:
    r = llmtap.completion(
        model="openai/meta-llama/Llama-3.1-8B-Instruct",
        messages=MESSAGES,
        api_base=emulator.openai_base,
        api_key="local",
    )
    assert emulator.last_request.json["model"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert r.model == "meta-llama/Llama-3.1-8B-Instruct"


def test_tool_calls_come_back_as_objects(openai_env) -> None:
    openai_env.push(Reply(tool_calls=[{"name": "get_weather", "arguments": '{"city": "Paris"}'}]))
    r = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, tools=ALL_PARAMS["tools"])
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert call.id.startswith("call_") and r.choices[0].finish_reason == "tool_calls"
    assert r.choices[0].message.content is None


def test_azure_deployment_url_version_and_key_header(azure_env) -> None:
    r = llmtap.completion(model="azure/my-deployment", messages=MESSAGES)
    request = azure_env.last_request
    assert request.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.query["api-version"] == "2024-10-21"
    assert request.headers["api-key"] == "azure-test-key-123456"
    assert "authorization" not in request.headers
    assert request.deployment == "my-deployment"
    assert r.model == "my-deployment"


def test_azure_openai_sdk_variable_names(emulator, monkeypatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k-sdk-names")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", emulator.azure_base + "/")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-06-01")
    llmtap.completion(model="azure/dep", messages=MESSAGES)
    assert emulator.last_request.query["api-version"] == "2024-06-01"
    assert emulator.last_request.headers["api-key"] == "k-sdk-names"


def test_azure_explicit_api_version(azure_env) -> None:
    llmtap.completion(model="azure/dep", messages=MESSAGES, api_version="2025-01-01-preview")
    assert azure_env.last_request.query["api-version"] == "2025-01-01-preview"


def test_text_completion(openai_env) -> None:
    r = llmtap.text_completion(model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=20)
    assert isinstance(r, llmtap.TextCompletionResponse)
    assert r.choices[0].text.endswith("Say hi")
    assert openai_env.last_request.path == "/v1/completions"
    assert openai_env.last_request.json == {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi", "max_tokens": 20}


def test_embeddings_sync_and_async(openai_env) -> None:
    r = llmtap.embedding(model="text-embedding-3-small", input=["a", "b"], dimensions=4)
    assert isinstance(r, llmtap.EmbeddingResponse)
    assert [d.index for d in r.data] == [0, 1] and len(r.data[0].embedding) == 4
    assert openai_env.last_request.json == {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 4}
    r2 = asyncio.run(llmtap.aembedding(model="text-embedding-3-small", input="a", dimensions=4))
    assert r2.data[0].embedding == r.data[0].embedding  # deterministic per input


def test_response_headers_and_cost_are_kept(openai_env) -> None:
    r = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    headers = r._hidden_params["additional_headers"]
    assert headers["x-request-id"].startswith("req_")
    assert r._hidden_params["response_cost"] == pytest.approx(llmtap.completion_cost(completion_response=r))


def test_eight_threads_of_sync_calls(openai_env) -> None:
    errors: list[BaseException] = []
    contents: list[str] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                r = llmtap.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": f"t{n}-{i}"}])
                contents.append(r.choices[0].message.content)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(contents) == sorted(
        f"Hello from the llmtap emulator. You said: t{n}-{i}" for n in range(8) for i in range(10)
    )


async def test_hundred_concurrent_async_calls(openai_env) -> None:
    results = await asyncio.gather(
        *[llmtap.acompletion(model="gpt-4o-mini", messages=[{"role": "user", "content": str(i)}]) for i in range(100)]
    )
    assert [r.choices[0].message.content.rsplit(" ", 1)[-1] for r in results] == [str(i) for i in range(100)]
    assert len(openai_env.requests) == 100


def test_calls_from_successive_event_loops(openai_env) -> None:
    from llmtap import transport

    sessions = []
    llmtap.async_transport = own = transport.AiohttpTransport()

    async def one() -> None:
        r = await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES)
        assert r.choices[0].message.content
        sessions.append(own.sessions[asyncio.get_running_loop()])

    for _ in range(3):
        asyncio.run(one())
    assert len({id(s) for s in sessions}) == 3  # one session per loop
    assert all(s.closed for s in sessions)  # each closed when its loop ended


def test_mock_response_needs_no_network_or_key(emulator) -> None:
    r = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="mocked!")
    assert r.choices[0].message.content == "mocked!"
    chunks = list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="a b c", stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "a b c"
    with pytest.raises(llmtap.RateLimitError):
        llmtap.completion(
            model="gpt-4o-mini",
            messages=MESSAGES,
            mock_response=llmtap.RateLimitError("limited", llm_provider="openai", model="gpt-4o-mini"),
        )
    assert emulator.requests == []


async def test_async_mock_stream() -> None:
    stream = await llmtap.acompletion(model="any-model-name", messages=MESSAGES, mock_response="x y", stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "x y"


def test_text_completion_on_a_chat_model_goes_through_chat(emulator, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.anthropic_base)
    from llmtap.call import prepare


    assert prepare("text_completion", "gpt-4o-mini", {}, False).text_via_chat is True
    assert prepare("text_completion", "gpt-3.5-turbo-instruct", {}, False).text_via_chat is False
    r = llmtap.text_completion(model="anthropic/claude-3-5-haiku-latest", prompt="Say hi", max_tokens=20)
    assert isinstance(r, llmtap.TextCompletionResponse)
    assert r.choices[0].text.endswith("Say hi") and r.usage.total_tokens > 0
    assert emulator.last_request.path == "/v1/messages"
    assert emulator.last_request.json["messages"] == [{"role": "user", "content": "Say hi"}]
    chunks = list(llmtap.text_completion(model="anthropic/claude-3-5-haiku-latest", prompt="Say hi", stream=True))
    assert all(isinstance(c, llmtap.TextCompletionResponse) for c in chunks)
    assert "".join(c.choices[0].text for c in chunks if c.choices).endswith("Say hi")


def test_module_level_keys_and_base(emulator) -> None:
    llmtap.openai_key = "sk-module-openai"
    llmtap.api_base = emulator.openai_base
    try:
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
        assert emulator.last_request.headers["authorization"] == "Bearer sk-module-openai"
        llmtap.openai_key = None
        llmtap.api_key = "sk-module-generic"
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
        assert emulator.last_request.headers["authorization"] == "Bearer sk-module-generic"
    finally:
        llmtap.openai_key = llmtap.api_key = llmtap.api_base = None


def test_litellm_types_utils_import_path() -> None:
    from llmtap.types.utils import ModelResponse, StandardLoggingPayload

    assert ModelResponse is llmtap.ModelResponse and "response_cost" in StandardLoggingPayload.__annotations__
