"""The other endpoints, over real sockets to the emulator, sync and async: one pipeline, so
callbacks, cost, retries, error mapping and caching see them as they see completion."""

from __future__ import annotations

import asyncio

import pytest

import llmtap
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.testing import Fault, Reply

KEY = "sk-test-key-123456"


class Events(CustomLogger):
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict, object]] = []

    def log_pre_api_call(self, model, messages, kwargs):
        self.seen.append(("pre", dict(kwargs), None))

    def log_post_api_call(self, kwargs, response_obj, start_time, end_time):
        self.seen.append(("post", dict(kwargs), response_obj))

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.seen.append(("success", dict(kwargs), response_obj))

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.seen.append(("failure", dict(kwargs), kwargs.get("exception")))

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.log_success_event(kwargs, response_obj, start_time, end_time)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.log_failure_event(kwargs, response_obj, start_time, end_time)

    @property
    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.seen]

    def last(self, kind: str) -> tuple[dict, object]:
        for k, kwargs, obj in reversed(self.seen):
            if k == kind:
                return kwargs, obj
        raise AssertionError(f"no {kind} event in {self.kinds}")


@pytest.fixture
def events():
    recorder = Events()
    llmtap.callbacks = [recorder]
    return recorder


@pytest.fixture
def env(openai_env, monkeypatch):
    monkeypatch.setenv("COHERE_API_KEY", "co-test-key-123456")
    monkeypatch.setenv("COHERE_API_BASE", openai_env.url)
    monkeypatch.setenv("JINA_AI_API_KEY", "jina-test-key-123456")
    monkeypatch.setenv("JINA_AI_API_BASE", openai_env.url)
    return openai_env


def _run(is_async: bool, name: str, **kwargs):
    if is_async:
        return asyncio.run(getattr(llmtap, "a" + name)(**kwargs))
    return getattr(llmtap, name)(**kwargs)


def _stream(is_async: bool, **kwargs) -> list:
    """A streamed responses call read to its end (an async one on one event loop)."""
    if not is_async:
        return list(llmtap.responses(stream=True, **kwargs))

    async def go():
        return [event async for event in await llmtap.aresponses(stream=True, **kwargs)]

    return asyncio.run(go())


both = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])


@both
def test_responses(env, events, is_async) -> None:
    r = _run(is_async, "responses", model="gpt-4o-mini", input="Tell me a joke", instructions="Be brief", max_output_tokens=50)
    assert isinstance(r, llmtap.ResponsesAPIResponse) and r.object == "response" and r.status == "completed"
    assert r.output_text == "Hello from the llmtap emulator. You said: Tell me a joke"
    assert r.output[0].content[0].text == r.output_text and r["output"][0]["type"] == "message"
    assert r.usage.input_tokens > 0 and r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    body = env.last_request.json
    assert env.last_request.path == "/v1/responses"
    assert body == {"model": "gpt-4o-mini", "input": "Tell me a joke", "instructions": "Be brief", "max_output_tokens": 50}
    llmtap.flush()
    assert events.kinds == ["pre", "post", "success"]
    kwargs, obj = events.last("success")
    assert obj is r and kwargs["call_type"] == ("aresponses" if is_async else "responses")
    assert kwargs["additional_args"]["complete_input_dict"] == body
    info = llmtap.get_model_info("gpt-4o-mini")
    expected = r.usage.input_tokens * info["input_cost_per_token"] + r.usage.output_tokens * info["output_cost_per_token"]
    assert kwargs["response_cost"] == pytest.approx(expected) and kwargs["response_cost"] > 0


@both
def test_responses_stream(env, events, is_async) -> None:
    got = _stream(is_async, model="gpt-4o-mini", input=[{"role": "user", "content": "stream this"}])
    types = [e.type for e in got]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    deltas = "".join(e.delta for e in got if e.type == "response.output_text.delta")
    assert deltas == "Hello from the llmtap emulator. You said: stream this"
    assert env.last_request.json["stream"] is True
    llmtap.flush()
    assert events.kinds == ["pre", "post", "success"]  # one success, with the whole response
    kwargs, whole = events.last("success")
    assert isinstance(whole, llmtap.ResponsesAPIResponse) and whole.output_text == deltas
    assert kwargs["response_cost"] > 0


@both
def test_responses_stream_cut_is_one_failure(env, events, is_async) -> None:
    env.push(Fault.cut(after=2))

    with pytest.raises(llmtap.APIConnectionError):
        _stream(is_async, model="gpt-4o-mini", input="x")
    llmtap.flush()
    assert events.kinds.count("failure") == 1 and "success" not in events.kinds


def test_responses_errors_map_and_retry(env, events) -> None:
    env.push(Fault.rate_limit(retry_after=0), Reply(content="after a retry"))
    r = llmtap.responses(model="gpt-4o-mini", input="hi", num_retries=1)
    assert r.output_text == "after a retry" and len(env.requests) == 2
    env.push(Fault(400, "Invalid 'input'.", code="invalid_value"))
    with pytest.raises(llmtap.BadRequestError, match="Invalid 'input'"):
        llmtap.responses(model="gpt-4o-mini", input="hi")
    env.push(Fault(401))
    with pytest.raises(llmtap.AuthenticationError) as caught:
        llmtap.responses(model="gpt-4o-mini", input="hi")
    assert KEY not in str(caught.value)
    llmtap.flush()
    assert events.kinds.count("failure") == 2


@both
def test_image_generation(env, events, is_async) -> None:
    r = _run(is_async, "image_generation", prompt="a red fox", model="dall-e-3", n=2, size="1024x1792", quality="hd")
    assert isinstance(r, llmtap.ImageResponse) and len(r.data) == 2 and r.data[0].url.endswith("-0.png")
    assert env.last_request.path == "/v1/images/generations"
    assert env.last_request.json == {"model": "dall-e-3", "prompt": "a red fox", "n": 2, "size": "1024x1792", "quality": "hd"}
    llmtap.flush()
    kwargs, _ = events.last("success")
    assert kwargs["response_cost"] == pytest.approx(2 * 0.12)  # two HD 1024x1792 images
    assert kwargs["messages"] == [{"role": "user", "content": "a red fox"}]


@both
def test_transcription(env, events, is_async, tmp_path) -> None:
    audio = tmp_path / "hello.wav"
    audio.write_bytes(b"RIFF" + b"\x00" * 31996)
    with open(audio, "rb") as handle:
        r = _run(is_async, "transcription", model="whisper-1", file=handle, response_format="verbose_json",
                 timestamp_granularities=["segment"], language="en")
    assert isinstance(r, llmtap.TranscriptionResponse)
    assert r.text == "Transcribed 32000 bytes of hello.wav." and r.duration == 2.0
    request = env.last_request
    assert request.path == "/v1/audio/transcriptions"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    from llmtap.testing.endpoint_routes import parse_multipart

    form = parse_multipart(request)
    assert form["model"] == "whisper-1" and form["file"] == ("hello.wav", audio.read_bytes())
    assert form["timestamp_granularities"] == ["segment"] and form["language"] == "en"
    llmtap.flush()
    kwargs, _ = events.last("success")
    assert kwargs["additional_args"]["complete_input_dict"]["file"] == "<hello.wav, 32000 bytes>"  # never the bytes
    assert kwargs["response_cost"] == pytest.approx(2.0 * 0.0001)  # whisper-1: per second
    text = llmtap.transcription(model="whisper-1", file=b"abc", response_format="text")
    assert text.text == "Transcribed 3 bytes of audio."


@both
def test_speech(env, events, is_async, tmp_path) -> None:
    r = _run(is_async, "speech", model="tts-1", input="Hello there", voice="alloy", response_format="wav")
    assert isinstance(r, llmtap.HttpxBinaryResponseContent) and r.content.startswith(b"ID3")
    assert r.headers["content-type"] == "audio/wav"
    target = tmp_path / "out.wav"
    r.stream_to_file(target)
    assert target.read_bytes() == r.content == r.read()
    assert env.last_request.json == {"model": "tts-1", "input": "Hello there", "voice": "alloy", "response_format": "wav"}
    llmtap.flush()
    kwargs, _ = events.last("post")
    assert kwargs["original_response"] == f"<{len(r.content)} bytes of audio/wav>"
    kwargs, _ = events.last("success")
    assert kwargs["response_cost"] == pytest.approx(len("Hello there") * 1.5e-05)


@both
def test_moderation(env, events, is_async) -> None:
    r = _run(is_async, "moderation", input=["I will kill the process", "hello"])
    assert isinstance(r, llmtap.ModerationResponse) and r.model == "omni-moderation-latest"
    assert [x.flagged for x in r.results] == [True, False]
    assert r.results[0].categories.violence is True and r.results[0]["category_scores"]["violence"] > 0.5
    llmtap.flush()
    assert events.last("success")[0]["response_cost"] == 0.0


@both
def test_rerank_cohere_and_jina(env, events, is_async) -> None:
    docs = ["Paris is in France", "Cats sleep a lot", "The capital of France is Paris"]
    r = _run(is_async, "rerank", model="cohere/rerank-english-v3.0", query="capital of France", documents=docs, top_n=2)
    assert isinstance(r, llmtap.RerankResponse) and [x.index for x in r.results] == [2, 0]
    assert r.results[0].relevance_score > r.results[1].relevance_score
    assert env.last_request.path == "/v2/rerank"
    assert env.last_request.headers["authorization"] == "Bearer co-test-key-123456"
    assert env.last_request.json == {"model": "rerank-english-v3.0", "query": "capital of France", "documents": docs, "top_n": 2}
    llmtap.flush()
    assert events.last("success")[0]["response_cost"] == pytest.approx(0.002)
    j = _run(is_async, "rerank", model="jina_ai/jina-reranker-v2-base-multilingual", query="cats", documents=docs)
    assert j.results[0].index == 1 and j.results[0].document.text == "Cats sleep a lot"
    assert env.last_request.path == "/v1/rerank" and j.meta["tokens"]["input_tokens"] > 0


def test_endpoints_are_cached_like_completions(env, events) -> None:
    llmtap.cache = llmtap.Cache()
    docs = ["a b", "c d"]
    first = llmtap.rerank(model="cohere/rerank-english-v3.0", query="a", documents=docs)
    second = llmtap.rerank(model="cohere/rerank-english-v3.0", query="a", documents=docs)
    assert len(env.requests) == 1 and second.results == first.results
    assert second._hidden_params["cache_hit"] is True
    a1 = llmtap.transcription(model="whisper-1", file=("a.mp3", b"first audio"))
    a2 = llmtap.transcription(model="whisper-1", file=("a.mp3", b"other audio!"))  # same name, other bytes
    a3 = llmtap.transcription(model="whisper-1", file=("a.mp3", b"first audio"))
    assert a1.text != a2.text and a3.text == a1.text and a3._hidden_params["cache_hit"] is True
    assert len(env.requests) == 3
    llmtap.flush()
    env.clear()
    events.seen.clear()
    r1 = llmtap.responses(model="gpt-4o-mini", input="same")
    r2 = llmtap.responses(model="gpt-4o-mini", input="same")
    assert len(env.requests) == 1 and r2.output_text == r1.output_text and isinstance(r2, llmtap.ResponsesAPIResponse)
    llmtap.flush()
    assert events.kinds == ["pre", "post", "success", "success"]
    assert events.last("success")[0]["cache_hit"] is True


def test_azure_serves_images_and_audio(azure_env, events) -> None:
    r = llmtap.image_generation(prompt="a boat", model="azure/my-dalle")
    assert r.data and azure_env.last_request.path == "/openai/deployments/my-dalle/images/generations"
    assert azure_env.last_request.headers["api-key"] == "azure-test-key-123456"
    t = llmtap.transcription(model="azure/my-whisper", file=("a.mp3", b"123"))
    assert t.text == "Transcribed 3 bytes of a.mp3."
    assert azure_env.last_request.path == "/openai/deployments/my-whisper/audio/transcriptions"
    r = llmtap.responses(model="azure/my-gpt4o", input="hi")
    assert r.output_text.endswith("hi") and azure_env.last_request.path == "/openai/v1/responses"
    assert azure_env.last_request.json["model"] == "my-gpt4o" and azure_env.last_request.query["api-version"] == "preview"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: llmtap.responses(model="gpt-4o-mini", input=None), "input is required"),
        (lambda: llmtap.responses(model="gpt-4o-mini", input=[1, 2]), "input is required"),
        (lambda: llmtap.responses(model=None, input="x"), "needs a model"),
        (lambda: llmtap.responses(model="gpt-4o-mini", input="x", max_output_tokens="10"), "max_output_tokens"),
        (lambda: llmtap.image_generation(prompt="", model="dall-e-3"), "prompt is required"),
        (lambda: llmtap.image_generation(prompt="x", model="dall-e-3", n="2"), "'n' must be"),
        (lambda: llmtap.transcription(model="whisper-1", file=None), "file is required"),
        (lambda: llmtap.transcription(model="whisper-1", file="/no/such/file.mp3"), "file is required"),
        (lambda: llmtap.transcription(model="whisper-1", file=b""), "file is required"),
        (lambda: llmtap.speech(model="tts-1", input="hi"), "voice is required"),
        (lambda: llmtap.speech(model="tts-1", input=42, voice="alloy"), "input is required"),
        (lambda: llmtap.moderation(input=None), "input is required"),
        (lambda: llmtap.rerank(model="cohere/rerank-v3.5", query="", documents=["a"]), "query is required"),
        (lambda: llmtap.rerank(model="cohere/rerank-v3.5", query="q", documents="a"), "documents is required"),
        (lambda: llmtap.rerank(model="cohere/rerank-v3.5", query="q", documents=["a"], top_n="1"), "top_n"),
        (lambda: llmtap.rerank(model="gpt-4o", query="q", documents=["a"]), "openai does not serve rerank"),
        (lambda: llmtap.completion(model="cohere/command-r", messages=[{"role": "user", "content": "x"}]),
         "cohere does not serve completion"),
        (lambda: llmtap.image_generation(prompt="x", model="anthropic/claude-3-5-haiku-latest"), "anthropic does not serve image_generation"),
        (lambda: llmtap.image_generation(prompt="x", model="dall-e-3", stream=True), "cannot stream"),
        (lambda: llmtap.moderation(input="x", mock_response="hi"), "mock_response"),
    ],
)
def test_bad_input_fails_before_any_request(env, call, match) -> None:
    with pytest.raises(llmtap.BadRequestError, match=match):
        call()
    assert env.requests == []


def test_missing_key_names_the_variable(emulator, monkeypatch) -> None:
    monkeypatch.delenv("COHERE_API_KEY", raising=False)
    monkeypatch.delenv("CO_API_KEY", raising=False)
    with pytest.raises(llmtap.AuthenticationError, match="COHERE_API_KEY"):
        llmtap.rerank(model="cohere/rerank-v3.5", query="q", documents=["a"])


def test_rerank_errors_and_malformed_answers(env) -> None:
    env.push(Fault(429, "slow down"))
    with pytest.raises(llmtap.RateLimitError):
        llmtap.rerank(model="cohere/rerank-v3.5", query="q", documents=["a"])
    env.push(Fault(200, body=b'{"results": [{"index": "zero"}]}', content_type="application/json"))
    with pytest.raises(llmtap.APIResponseValidationError, match="relevance_score"):
        llmtap.rerank(model="cohere/rerank-v3.5", query="q", documents=["a"])
    env.push(Fault(401, "bad key"))
    with pytest.raises(llmtap.AuthenticationError):
        llmtap.rerank(model="jina_ai/jina-reranker-v2-base-multilingual", query="q", documents=["a"])


def test_batch_completion_keeps_failures_in_place(env, events) -> None:
    env.push(Reply(content="one"))
    batches = [[{"role": "user", "content": "first"}], [{"role": "user", "content": "second"}], [{"role": "bad"}]]
    results = llmtap.batch_completion(model="gpt-4o-mini", messages=batches, max_tokens=20)
    assert len(results) == 3
    assert "one" in {r.choices[0].message.content for r in results[:2]}  # whichever arrived first
    assert all(isinstance(r, llmtap.ModelResponse) for r in results[:2])
    assert isinstance(results[2], llmtap.BadRequestError)  # refused before sending, returned in its place
    assert len(env.requests) == 2 and all(r.json["max_tokens"] == 20 for r in env.requests)
    assert llmtap.batch_completion(model="gpt-4o-mini", messages=[]) == []
    with pytest.raises(llmtap.BadRequestError, match="list of message lists"):
        llmtap.batch_completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])


def test_batch_completion_models(env, events) -> None:
    messages = [{"role": "user", "content": "race"}]
    first = llmtap.batch_completion_models(models=["gpt-4o-mini", "openai/gpt-4o"], messages=messages)
    assert isinstance(first, llmtap.ModelResponse) and first.choices[0].message.content.endswith("race")
    env.wait_for_requests(2)
    everyone = llmtap.batch_completion_models_all_responses(
        models=["gpt-4o-mini", "openai/gpt-4o", "no-such-provider/x"], messages=messages
    )
    assert sorted(r.model for r in everyone) == ["gpt-4o", "gpt-4o-mini"]  # the failure is dropped
    env.push(Fault(500), Fault(500))
    assert llmtap.batch_completion_models(models=["gpt-4o-mini"], messages=messages, num_retries=0) is None
    with pytest.raises(llmtap.BadRequestError, match="models="):
        llmtap.batch_completion_models(messages=messages)


@both
def test_completion_with_retries_is_one_call(env, events, is_async) -> None:
    env.push(Fault(503), Fault(503), Reply(content="third time"))
    kwargs = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "num_retries": 3}
    r = _run(is_async, "completion_with_retries", **kwargs)
    assert r.choices[0].message.content == "third time" and len(env.requests) == 3
    llmtap.flush()
    assert events.kinds.count("success") == 1 and "failure" not in events.kinds
    env.push(Fault(503), Fault(503))
    with pytest.raises(llmtap.ServiceUnavailableError):
        _run(is_async, "completion_with_retries", **{**kwargs, "num_retries": 2})
    with pytest.raises(llmtap.BadRequestError, match="num_retries"):
        _run(is_async, "completion_with_retries", **{**kwargs, "num_retries": 0})


@both
def test_responses_stream_error_event_and_garbage(env, events, is_async) -> None:
    env.push(Fault(200, "model overloaded", mid_stream=True))
    with pytest.raises(llmtap.InternalServerError, match="model overloaded"):
        _stream(is_async, model="gpt-4o-mini", input="x")
    env.push(Fault(200, malformed=True))
    with pytest.raises(llmtap.APIResponseValidationError, match="not JSON"):
        _stream(is_async, model="gpt-4o-mini", input="x")
    env.push(Fault.not_json())
    with pytest.raises(llmtap.APIResponseValidationError, match="not JSON"):
        _run(is_async, "responses", model="gpt-4o-mini", input="x")
    llmtap.flush()
    assert events.kinds.count("failure") == 3 and "success" not in events.kinds


def test_hostile_upload_names_stay_inside_their_part(env) -> None:
    name = 'evil"; name="model"\r\nContent-Type: text/plain\r\n\r\nwhisper-2.mp3'
    r = llmtap.transcription(model="whisper-1", file=(name, b"abc"))
    from llmtap.testing.endpoint_routes import parse_multipart

    form = parse_multipart(env.last_request)
    assert form["model"] == "whisper-1" and form["file"][1] == b"abc"
    assert "\r" not in form["file"][0] and r.text.startswith("Transcribed 3 bytes")


def test_no_secret_in_endpoint_errors_or_callbacks(env, events) -> None:
    secret = "co-SECRET-key-0123456789"
    env.push(Fault(401, "invalid api token"))
    with pytest.raises(llmtap.AuthenticationError) as caught:
        llmtap.rerank(model="cohere/rerank-v3.5", query="q", documents=["a"], api_key=secret)
    llmtap.rerank(model="cohere/rerank-v3.5", query="q", documents=["a"], api_key=secret)
    llmtap.flush()
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    for _, kwargs, _ in events.seen:  # kwargs["api_key"] is the peer's contract; headers are masked
        assert secret not in repr({k: v for k, v in kwargs.items() if k != "api_key"})


@both
def test_responses_for_chat_only_providers_go_through_chat(emulator, monkeypatch, events, is_async) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-123456")
    monkeypatch.setenv("ANTHROPIC_API_BASE", emulator.anthropic_base)
    tools = [{"type": "function", "name": "get_weather", "description": "Weather",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    r = _run(is_async, "responses", model="anthropic/claude-3-5-haiku-latest", input="Hi there",
             instructions="Be brief", max_output_tokens=64, tools=tools)
    assert isinstance(r, llmtap.ResponsesAPIResponse) and r.status == "completed"
    assert r.output_text.endswith("Hi there") and r.usage.input_tokens > 0
    sent = emulator.last_request
    assert sent.path == "/v1/messages" and sent.json["system"] in ("Be brief", [{"type": "text", "text": "Be brief"}])
    assert sent.json["max_tokens"] == 64 and sent.json["tools"][0]["name"] == "get_weather"
    llmtap.flush()
    kwargs, _ = events.last("success")
    assert kwargs["response_cost"] > 0 and r._hidden_params["custom_llm_provider"] == "anthropic"
    events.seen.clear()
    got = _stream(is_async, model="anthropic/claude-3-5-haiku-latest", input=[{"role": "user", "content": "stream it"}])
    assert got[0].type == "response.created" and got[-1].type == "response.completed"
    assert "".join(e.delta for e in got if e.type == "response.output_text.delta") == got[-1].response.output_text
    llmtap.flush()
    assert events.kinds.count("success") == 1
    with pytest.raises(llmtap.BadRequestError, match="previous_response_id"):
        llmtap.responses(model="anthropic/claude-3-5-haiku-latest", input="x", previous_response_id="resp_1")


def test_hostile_cache_entries_do_not_break_endpoint_answers(env) -> None:
    import json as _json

    llmtap.cache = llmtap.Cache()
    first = llmtap.responses(model="gpt-4o-mini", input="poison me")
    key = next(iter(llmtap.cache.backend._items))  # the one entry written
    entry = {"format": 1, "call_type": "responses", "response": {"output": "not a list", "usage": "x"}}
    llmtap.cache.backend.set(key, _json.dumps(entry), None)
    again = llmtap.responses(model="gpt-4o-mini", input="poison me")
    assert again.output_text == "" and again.usage is None  # odd but harmless, and never a crash
    llmtap.cache.backend.set(key, "{not json", None)
    fresh = llmtap.responses(model="gpt-4o-mini", input="poison me")  # a corrupt entry is a miss
    assert fresh.output_text == first.output_text
