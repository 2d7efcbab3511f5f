"""Response objects: attribute and item access, dumps, extras, copies — the LiteLLM surface."""

from __future__ import annotations

import copy
import json
import pickle

import llmtap

CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            "finish_reason": "tool_calls",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "prompt_tokens_details": {"cached_tokens": 1}},
    "service_tier": "default",
}


def contains(big, small) -> bool:
    """Every field of ``small`` is in ``big`` with the same value (dumps add declared defaults)."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and contains(big[k], v) for k, v in small.items())
    if isinstance(small, list):
        return isinstance(big, list) and len(big) == len(small) and all(map(contains, big, small))
    return big == small


def test_from_openai_round_trip_and_access() -> None:
    r = llmtap.ModelResponse.from_openai(CHAT)
    assert contains(r.model_dump(), CHAT)
    assert json.loads(r.model_dump_json()) == r.model_dump()
    assert r.model_dump()["choices"][0]["message"]["function_call"] is None  # declared defaults appear
    assert r.choices[0].message.tool_calls[0].function.name == "f"
    assert r["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == "{}"
    assert r.usage.prompt_tokens_details.cached_tokens == 1
    assert r.service_tier == "default" and r["service_tier"] == "default"  # extras kept
    assert isinstance(r.choices[0], llmtap.Choices) and isinstance(r.choices[0].message, llmtap.Message)
    assert isinstance(r.usage, llmtap.Usage)
    assert dict(r.usage) == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "prompt_tokens_details": r.usage.prompt_tokens_details}
    assert r.get("missing", 7) == 7 and "model" in r and "_hidden_params" not in r


def test_defaults_read_when_absent() -> None:
    chunk = llmtap.ModelResponseStream.from_openai({"id": "c", "choices": [{"index": 0, "delta": {"content": "x"}}]})
    delta = chunk.choices[0].delta
    assert isinstance(delta, llmtap.Delta) and isinstance(chunk.choices[0], llmtap.StreamingChoices)
    assert delta.role is None and delta.tool_calls is None and delta["role"] is None
    assert chunk.usage is None and chunk.object == "chat.completion.chunk"


def test_constructors_build_nested_objects() -> None:
    r = llmtap.ModelResponse(model="m", choices=[{"message": {"content": "hi"}, "finish_reason": "stop"}], usage={"prompt_tokens": 1, "completion_tokens": 2})
    assert r.choices[0].message.content == "hi" and r.usage.total_tokens == 3
    assert r.id.startswith("chatcmpl-") and r.created > 0
    assert llmtap.ModelResponse().choices[0].message.role == "assistant"
    e = llmtap.EmbeddingResponse(model="e", data=[{"embedding": [0.1], "index": 0}])
    assert isinstance(e.data[0], llmtap.Embedding) and e.data[0].object == "embedding"


def test_copies_and_equality() -> None:
    r = llmtap.ModelResponse.from_openai(CHAT)
    r._hidden_params["x"] = 1
    assert pickle.loads(pickle.dumps(r)) == r
    clone = copy.deepcopy(r)
    assert clone == r and clone is not r and clone._hidden_params == {"x": 1}
    assert r == r.model_dump() and r != {"id": "other"}
    r["model"] = "other"
    assert r.model == "other"
    assert "ModelResponse(" in repr(r)


def test_stream_chunk_builder_from_dicts_with_parallel_tools() -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}]},
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}]}}]},
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": '{"y"'}}]}}]},
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"x": 1}'}}]}}]},
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": ": 2}"}}]}}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]
    whole = llmtap.stream_chunk_builder(chunks, messages=[{"role": "user", "content": "hello there"}])
    calls = whole.choices[0].message.tool_calls
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [("a", "f", {"x": 1}), ("b", "g", {"y": 2})]
    assert whole.choices[0].message.content is None
    assert whole._hidden_params["usage_estimated"] is True and whole.usage.prompt_tokens > 0
    assert llmtap.stream_chunk_builder([]) is None


def test_stream_chunk_builder_multiple_choices_and_text() -> None:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"content": "a"}}, {"index": 1, "delta": {"content": "b"}}]},
        {**base, "choices": [{"index": 1, "delta": {"content": "B"}, "finish_reason": "stop"}]},
        {**base, "choices": [{"index": 0, "delta": {"content": "A"}, "finish_reason": "length"}]},
        {**base, "choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8}},
    ]
    whole = llmtap.stream_chunk_builder(chunks)
    assert [(c.message.content, c.finish_reason) for c in whole.choices] == [("aA", "length"), ("bB", "stop")]
    assert whole.usage.total_tokens == 8 and "usage_estimated" not in whole._hidden_params
    text = llmtap.stream_chunk_builder(
        [{"id": "t", "object": "text_completion", "created": 1, "model": "m", "choices": [{"index": 0, "text": piece, "finish_reason": None}]} for piece in ("he", "llo")]
    )
    assert isinstance(text, llmtap.TextCompletionResponse) and text.choices[0].text == "hello"
