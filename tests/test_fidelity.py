"""Drop-in fidelity (#12) and snapshots/redaction (#13 items 2, 16), checked in-process.

The differential suite (tests/conformance) compares these against the real peer; these tests
pin the behaviours down quickly and without it.
"""

from __future__ import annotations

import datetime
import json
import time

import pytest

import llmtap
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.integrations.jsonl import JsonlLogger
from llmtap.logging.standard import REDACTED, _redact_response
from llmtap.testing import Fault

MESSAGES = [{"role": "user", "content": "Hi 👋 - i'm openai"}]


class KeywordOnly(CustomLogger):
    """A handler written the way the peer calls hooks: keywords only."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def log_pre_api_call(self, **kw):
        self.calls.append(("pre", kw))

    def log_post_api_call(self, **kw):
        self.calls.append(("post", kw))

    def log_success_event(self, **kw):
        self.calls.append(("success", kw))

    def log_failure_event(self, **kw):
        self.calls.append(("failure", kw))

    async def async_log_success_event(self, **kw):
        self.calls.append(("success", kw))

    async def async_log_failure_event(self, **kw):
        self.calls.append(("failure", kw))

    def get(self, name: str) -> dict:
        return next(kw for n, kw in self.calls if n == name)


@pytest.fixture
def handler() -> KeywordOnly:
    h = KeywordOnly()
    llmtap.callbacks = [h]
    return h


def test_hooks_are_called_with_keywords(openai_env, handler) -> None:
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert llmtap.flush(5)
    assert [n for n, _ in handler.calls] == ["pre", "post", "success"]
    assert set(handler.get("pre")) == {"model", "messages", "kwargs"}
    for name in ("post", "success"):
        assert set(handler.get(name)) == {"kwargs", "response_obj", "start_time", "end_time"}
    assert handler.get("post")["end_time"] is None  # as the peer
    success = handler.get("success")["kwargs"]
    assert isinstance(success["completion_start_time"], datetime.datetime)
    assert success["completion_start_time"] == success["end_time"]  # not a stream


async def test_async_pre_call_runs_the_sync_hook(openai_env) -> None:
    seen = []

    class Both(CustomLogger):
        def log_pre_api_call(self, model, messages, kwargs):
            seen.append("sync")

        async def async_log_pre_api_call(self, model, messages, kwargs):
            seen.append("async")

    llmtap.callbacks = [Both()]
    await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES)
    assert llmtap.flush(5)
    assert seen == ["sync"]  # the peer has no async pre-call in the SDK


def test_stream_completion_start_time_is_the_first_chunk(openai_env, handler) -> None:
    chunks = list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert chunks
    assert llmtap.flush(5)
    kwargs = handler.get("success")["kwargs"]
    assert kwargs["start_time"] <= kwargs["completion_start_time"] <= kwargs["end_time"]


def test_failure_kwargs_after_an_http_error(openai_env, handler) -> None:
    openai_env.push(Fault(400, "the provider's own words"))
    with pytest.raises(llmtap.BadRequestError):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert llmtap.flush(5)
    assert [n for n, _ in handler.calls] == ["pre", "post", "failure"]
    assert "the provider's own words" in handler.get("post")["kwargs"]["original_response"]
    failure = handler.get("failure")["kwargs"]
    assert failure["response_cost"] == 0
    assert "the provider's own words" in failure["original_response"]


def test_events_show_a_snapshot_of_what_was_sent(openai_env, handler) -> None:
    """#13 item 2: the usual chat loop appends to its list right after the call."""
    history = [{"role": "user", "content": "first"}]
    metadata = {"team": "a"}
    llmtap.completion(model="gpt-4o-mini", messages=history, metadata=metadata)
    history.append({"role": "assistant", "content": "appended later"})
    history[0]["content"] = "rewritten later"
    metadata["team"] = "changed later"
    assert llmtap.flush(5)
    for name in ("pre", "post", "success"):
        kwargs = handler.get(name)["kwargs"]
        assert kwargs["messages"] == [{"role": "user", "content": "first"}], name
        assert kwargs["input"] == [{"role": "user", "content": "first"}], name
        assert kwargs["additional_args"]["complete_input_dict"]["messages"] == [{"role": "user", "content": "first"}]
    slo = handler.get("success")["kwargs"]["standard_logging_object"]
    assert slo["messages"] == [{"role": "user", "content": "first"}]
    assert slo["metadata"] == {"team": "a"}
    assert handler.get("pre")["kwargs"]["litellm_params"]["metadata"] == {"team": "a"}


def test_embedding_messages_are_one_user_message_per_item(openai_env, handler) -> None:
    llmtap.embedding(model="text-embedding-3-small", input=["a", "b"])
    assert llmtap.flush(5)
    kwargs = handler.get("success")["kwargs"]
    assert kwargs["messages"] == [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    assert kwargs["input"] == ["a", "b"]


def test_metadata_none_and_mock_api_base(handler) -> None:
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="hi")
    assert llmtap.flush(5)
    params = handler.get("success")["kwargs"]["litellm_params"]
    assert params["metadata"] is None
    assert params["api_base"] == ""


def test_cache_is_read_before_mock_and_mock_answers_are_stored(handler) -> None:
    llmtap.cache = llmtap.Cache()
    first = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="hi", caching=True)
    second = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="hi", caching=True)
    assert (second.id, second.created) == (first.id, first.created)
    assert llmtap.flush(5)
    successes = [kw["kwargs"] for n, kw in handler.calls if n == "success"]
    assert [s["cache_hit"] for s in successes] == [False, True]
    hit = successes[1]
    assert hit["response_cost"] == 0 and hit["saved_cache_cost"] > 0
    assert hit["additional_args"] is None and hit["api_key"] is None
    assert hit["original_response"] == str(second)
    assert hit["input"] == MESSAGES


def test_ttl_is_a_cache_setting_and_zero_expires_at_once(openai_env) -> None:
    llmtap.cache = llmtap.Cache()
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, caching=True, ttl=0)
    again = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, caching=True, ttl=60)
    assert not again._hidden_params.get("cache_hit")  # ttl=0 stored nothing
    third = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, caching=True, ttl=30)
    assert third._hidden_params.get("cache_hit")  # the ttl is not part of the key
    assert all("ttl" not in r.json for r in openai_env.requests)
    with pytest.raises(llmtap.BadRequestError, match="ttl"):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, caching=True, ttl="soon")


def test_peer_owned_parameters_never_reach_the_provider(openai_env) -> None:
    llmtap.completion(
        model="gpt-4o-mini", messages=MESSAGES, retry_strategy="exponential_backoff_retry",
        logger_fn=None, proxy_server_request={"x": 1}, no_log=None, mock_delay=None,
        preset_cache_key="k", tags=["a"], fallbacks=[], context_window_fallback_dict={},
        temperature=0.2,
    )
    body = openai_env.last_request.json
    assert body["temperature"] == 0.2
    for name in ("retry_strategy", "proxy_server_request", "preset_cache_key", "tags", "fallbacks", "context_window_fallback_dict"):
        assert name not in body


@pytest.mark.parametrize(
    "magic, error",
    [
        ("litellm.RateLimitError", llmtap.RateLimitError),
        ("litellm.ContextWindowExceededError", llmtap.ContextWindowExceededError),
        ("litellm.InternalServerError", llmtap.InternalServerError),
        ("Exception: content_filter_policy the prompt was filtered", llmtap.ContentPolicyViolationError),
    ],
)
def test_mock_magic_strings_raise(magic, error, handler) -> None:
    with pytest.raises(error):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response=magic)
    assert llmtap.flush(5)
    assert [n for n, _ in handler.calls][-1] == "failure"


def test_mock_timeout_waits_then_times_out_without_sending(openai_env) -> None:
    started = time.monotonic()
    with pytest.raises(llmtap.Timeout):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_timeout=True, timeout=0.2)
    assert time.monotonic() - started >= 0.2
    assert openai_env.requests == []


def test_mock_timeout_without_a_timeout_never_sends(openai_env) -> None:
    with pytest.raises(llmtap.Timeout):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_timeout=True)
    assert openai_env.requests == []


async def test_async_mock_timeout(openai_env) -> None:
    with pytest.raises(llmtap.Timeout):
        await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, mock_timeout=True, timeout=0.05)
    assert openai_env.requests == []


# -- redaction (#13 item 16) -----------------------------------------------------------------


def test_redaction_covers_every_text_the_model_wrote() -> None:
    data = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant", "content": "secret answer", "reasoning_content": "secret thoughts",
                    "function_call": {"name": "f", "arguments": '{"q": "secret legacy"}'},
                    "tool_calls": [{"id": "1", "type": "function", "function": {"name": "g", "arguments": '{"q": "secret tool"}'}}],
                },
                "logprobs": {"content": [{"token": "secret", "logprob": -0.1, "bytes": [115], "top_logprobs": [{"token": "secret", "logprob": -0.1, "bytes": [115]}]}]},
            },
            {"index": 1, "text": "secret text", "logprobs": {"tokens": ["secret"], "token_logprobs": [-0.2], "top_logprobs": [{"secret": -0.2}], "text_offset": [0]}},
        ]
    }
    redacted = json.dumps(_redact_response(data))
    assert "secret" not in redacted
    assert '"logprob": -0.1' in redacted  # the numbers stay
    assert REDACTED == "redacted-by-litellm"


def test_redaction_covers_prediction_and_per_call_override(openai_env, tmp_path) -> None:
    target = tmp_path / "out.jsonl"
    llmtap.callbacks = [JsonlLogger(str(target))]
    llmtap.turn_off_message_logging = True
    llmtap.completion(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "secret prompt"}],
        prediction={"type": "content", "content": "secret prediction"},
    )
    llmtap.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "open prompt"}], turn_off_message_logging=False)
    assert llmtap.flush(5)
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert "secret" not in json.dumps(rows[0])
    assert rows[0]["messages_redacted"] and rows[0]["model_parameters"]["prediction"] == REDACTED
    assert not rows[1]["messages_redacted"] and "open prompt" in json.dumps(rows[1])


# -- cost ------------------------------------------------------------------------------------


def test_fine_tuned_openai_models_are_priced_as_their_base() -> None:
    base = llmtap.get_model_info("ft:gpt-3.5-turbo")
    tuned = llmtap.get_model_info("ft:gpt-3.5-turbo:my-org:custom_suffix:id")
    assert tuned["input_cost_per_token"] == base["input_cost_per_token"] > 0
    cost = llmtap.completion_cost(model="ft:gpt-3.5-turbo:my-org:custom_suffix:id", prompt="hello there", completion="hi")
    assert cost > 0


def test_custom_cost_per_token_needs_no_model_lookup() -> None:
    response = llmtap.completion(model="my-own/unknown-model", messages=MESSAGES, mock_response="hello world")
    cost = llmtap.completion_cost(
        completion_response=response,
        custom_cost_per_token={"input_cost_per_token": 1.0, "output_cost_per_token": 2.0},
    )
    usage = response.usage
    assert cost == usage.prompt_tokens * 1.0 + usage.completion_tokens * 2.0


def test_text_completion_for_an_openai_chat_model_goes_to_chat_with_a_base_url(openai_env) -> None:
    llmtap.text_completion(model="gpt-4o-mini", prompt="Say hi", api_base=openai_env.openai_base, api_key="sk-x")
    assert openai_env.last_request.path == "/v1/chat/completions"
    llmtap.text_completion(model="openai/my-local-model", prompt="Say hi", api_base=openai_env.openai_base, api_key="sk-x")
    assert openai_env.last_request.path == "/v1/completions"
    llmtap.text_completion(model="gpt-3.5-turbo-instruct", prompt="Say hi", api_base=openai_env.openai_base, api_key="sk-x")
    assert openai_env.last_request.path == "/v1/completions"


@pytest.mark.parametrize("usage", [False, True])
def test_no_empty_choices_chunk_unless_usage_was_asked_for(openai_env, usage) -> None:
    extra = {"stream_options": {"include_usage": True}} if usage else {}
    chunks = list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True, **extra))
    empty = [c for c in chunks if not c.choices]
    assert len(empty) == (1 if usage else 0)
    if usage:
        assert empty[0].usage.total_tokens > 0


def test_s_maxage_refuses_older_entries(openai_env) -> None:
    llmtap.cache = llmtap.Cache()
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, caching=True)
    time.sleep(0.05)
    fresh_enough = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, caching=True, cache={"s-maxage": 60})
    assert fresh_enough._hidden_params.get("cache_hit")
    too_old = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, caching=True, cache={"s-maxage": 0.01})
    assert not too_old._hidden_params.get("cache_hit")
    assert len(openai_env.requests) == 2


def test_a_handler_with_its_own_parameter_names_still_gets_its_events(openai_env) -> None:
    seen = []

    class OwnNames(CustomLogger):
        def log_pre_api_call(self, m, msgs, kw):
            seen.append(("pre", m))

        def log_success_event(self, kw, response, started, ended):
            seen.append(("success", type(response).__name__))

    llmtap.callbacks = [OwnNames()]
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert llmtap.flush(5)
    assert seen == [("pre", "gpt-4o-mini"), ("success", "ModelResponse")]
