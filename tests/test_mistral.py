"""Mistral's native chat API: its own file, one registry line, emulator routes — and these tests.

The emulator's Mistral routes are as strict as Mistral (unknown fields are a 422), so a request
that passes here has Mistral's field names."""

from __future__ import annotations

import asyncio

import pytest

import llmtap
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.providers import get_provider
from llmtap.testing import Fault, Reply
from llmtap.testing.mistral_routes import BASE_PATH
from llmtap.wire import HttpResponse

from .conftest import MESSAGES

TOOLS = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}}}]


@pytest.fixture
def mistral_env(emulator, monkeypatch):
    monkeypatch.setenv("MISTRAL_API_KEY", "mistral-test-key-123456")
    monkeypatch.setenv("MISTRAL_API_BASE", emulator.url + BASE_PATH)
    return emulator


def test_openai_names_become_mistral_names(mistral_env) -> None:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Hi", "name": "ann"},
                {"role": "assistant", "content": ""}, {"role": "user", "content": "again"}]
    r = llmtap.completion(
        model="mistral/mistral-small-latest", messages=messages, seed=7, max_completion_tokens=20, max_tokens=99,
        tools=TOOLS, tool_choice="required", safe_prompt=True, temperature=0.1,
    )
    request = mistral_env.last_request
    assert request.path == "/mistral/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer mistral-test-key-123456"
    assert request.json == {
        "model": "mistral-small-latest",
        # no name on a user turn, and the empty assistant turn Mistral would refuse is left out
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Hi"},
                     {"role": "user", "content": "again"}],
        "random_seed": 7, "max_tokens": 20, "tools": TOOLS, "tool_choice": "any", "safe_prompt": True,
        "temperature": 0.1,
    }
    assert r.choices[0].message.content.endswith("again")
    assert r._hidden_params["custom_llm_provider"] == "mistral"
    assert r.usage.total_tokens > 0


def test_a_tool_call_answer(mistral_env) -> None:
    mistral_env.push(Reply(tool_calls=[{"name": "weather", "arguments": '{"city": "Paris"}'}]))
    r = llmtap.completion(model="mistral/mistral-large-latest", messages=MESSAGES, tools=TOOLS, tool_choice="auto")
    message = r.choices[0].message
    assert message.content is None  # Mistral's "" is no content
    assert message.tool_calls[0].function.name == "weather"
    assert message.tool_calls[0].function.arguments == '{"city": "Paris"}'
    assert r.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_stream_with_usage_on_the_last_chunk(mistral_env, mode) -> None:
    done = []

    class Keep(CustomLogger):
        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            done.append(kwargs["complete_streaming_response"])

        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            done.append(kwargs["complete_streaming_response"])

    llmtap.callbacks = [Keep()]
    mistral_env.push(Reply(content="one two three", prompt_tokens=5, completion_tokens=3))

    async def run_async() -> list:
        stream = await llmtap.acompletion(model="mistral/mistral-small-latest", messages=MESSAGES, stream=True)
        return [chunk async for chunk in stream]

    if mode == "sync":
        chunks = list(llmtap.completion(model="mistral/mistral-small-latest", messages=MESSAGES, stream=True))
    else:
        chunks = asyncio.run(run_async())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"
    assert llmtap.flush(5)
    assert done[0].choices[0].message.content == "one two three"
    assert (done[0].usage.prompt_tokens, done[0].usage.completion_tokens) == (5, 3)


def test_parameters_mistral_does_not_take_are_refused_before_sending(mistral_env) -> None:
    with pytest.raises(llmtap.UnsupportedParamsError, match="frequency_penalty"):
        llmtap.completion(model="mistral/mistral-small-latest", messages=MESSAGES, frequency_penalty=0.5)
    assert mistral_env.requests == []
    llmtap.completion(model="mistral/mistral-small-latest", messages=MESSAGES, frequency_penalty=0.5, drop_params=True)
    assert "frequency_penalty" not in mistral_env.last_request.json


def test_mistral_error_bodies_become_clear_errors(mistral_env) -> None:
    with pytest.raises(llmtap.BadRequestError) as caught:
        llmtap.completion(model="mistral/mistral-small-latest", messages=MESSAGES, extra_body={"bogus": 1})
    assert "body.bogus: Extra inputs are not permitted" in caught.value.message
    assert caught.value.llm_provider == "mistral"
    mistral_env.push(Fault(429, message="Requests rate limit exceeded", retry_after=0))
    with pytest.raises(llmtap.RateLimitError, match="Requests rate limit exceeded"):
        llmtap.completion(model="mistral/mistral-small-latest", messages=MESSAGES)
    mistral_env.push(Fault(503), Fault(500))
    r = llmtap.completion(model="mistral/mistral-small-latest", messages=MESSAGES, num_retries=2)
    assert r.choices[0].message.content
    mistral_env.push(Fault(401, message="Unauthorized"))
    with pytest.raises(llmtap.AuthenticationError, match="Unauthorized"):
        llmtap.completion(model="mistral/mistral-small-latest", messages=MESSAGES)


def test_a_missing_key_fails_before_sending(mistral_env, monkeypatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY")
    with pytest.raises(llmtap.AuthenticationError, match="MISTRAL_API_KEY"):
        llmtap.completion(model="mistral/mistral-small-latest", messages=MESSAGES)
    assert mistral_env.requests == []


def test_text_completion_goes_through_chat(mistral_env) -> None:
    r = llmtap.text_completion(model="mistral/mistral-small-latest", prompt="Say hi", max_tokens=10)
    assert mistral_env.last_request.path == "/mistral/v1/chat/completions"
    assert mistral_env.last_request.json["messages"] == [{"role": "user", "content": "Say hi"}]
    assert r.choices[0].text.endswith("Say hi")


def test_embeddings(mistral_env) -> None:
    r = llmtap.embedding(model="mistral/mistral-embed", input=["a", "b"], dimensions=4)
    assert mistral_env.last_request.path == "/mistral/v1/embeddings"
    assert mistral_env.last_request.json == {"model": "mistral-embed", "input": ["a", "b"], "output_dimension": 4}
    assert [len(item.embedding) for item in r.data] == [4, 4]


def test_thinking_blocks_become_reasoning_content() -> None:
    """Magistral answers with content blocks; pure transform on recorded bytes, no I/O."""
    from llmtap.call import prepare

    call = prepare("completion", "mistral/magistral-medium-latest", {"api_key": "k"}, False)
    body = (
        b'{"id":"x","object":"chat.completion","created":1,"model":"magistral-medium-latest",'
        b'"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":['
        b'{"type":"thinking","thinking":[{"type":"text","text":"Let me think."}]},{"type":"text","text":"42"}]}}],'
        b'"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}'
    )
    provider = get_provider("mistral")
    r = provider.parse_response(call, HttpResponse(200, {}, body))
    assert r.choices[0].message.content == "42"
    assert r.choices[0].message.reasoning_content == "Let me think."
    parser = provider.stream_parser(call)
    chunks = parser.feed(
        b'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'
        b'"delta":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"hmm"}]}]},"finish_reason":null}]}\n\n'
        b'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'
        b'"delta":{"content":[{"type":"text","text":"ok"}]},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    ) + parser.close()
    assert chunks[0].choices[0].delta.reasoning_content == "hmm"
    assert chunks[1].choices[0].delta.content == "ok"
