"""Response objects, the chunk builder and the token estimate: the LiteLLM surface, real values."""

from __future__ import annotations

import copy
import json
import pickle
import uuid

import pytest

from llmtap.chunk_builder import ChunkAssembler, stream_chunk_builder
from llmtap.tokens import estimate_tokens as token_counter
from llmtap.types import (
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    Choices,
    Delta,
    Embedding,
    EmbeddingResponse,
    Function,
    FunctionCall,
    ImageObject,
    ImageResponse,
    Message,
    ModelResponse,
    ModelResponseStream,
    OpenAIObject,
    StreamingChoices,
    TextChoices,
    TextCompletionResponse,
    Usage,
)

# -- real OpenAI payloads (as the API returns them) -------------------------------------------

CHAT = json.loads(
    """{
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "gpt-4o-2024-08-06",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "The image shows a wooden boardwalk path.",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 1117,
    "completion_tokens": 46,
    "total_tokens": 1163,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
      "reasoning_tokens": 0, "audio_tokens": 0,
      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0
    }
  },
  "service_tier": "default",
  "system_fingerprint": "fp_fc9f1d7035"
}"""
)

CHAT_TOOLS = json.loads(
    """{
  "id": "chatcmpl-abc123",
  "object": "chat.completion",
  "created": 1699896916,
  "model": "gpt-4o-mini",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": null,
        "tool_calls": [
          {
            "id": "call_abc123",
            "type": "function",
            "function": {"name": "get_current_weather", "arguments": "{\\n\\"location\\": \\"Boston, MA\\"\\n}"}
          }
        ]
      },
      "logprobs": null,
      "finish_reason": "tool_calls"
    }
  ],
  "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99}
}"""
)

CHUNK = json.loads(
    '{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,'
    '"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb",'
    '"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}'
)

TEXT = json.loads(
    """{
  "id": "cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7",
  "object": "text_completion",
  "created": 1589478378,
  "model": "gpt-3.5-turbo-instruct",
  "system_fingerprint": "fp_44709d6fcb",
  "choices": [{"text": "\\n\\nThis is indeed a test", "index": 0, "logprobs": null, "finish_reason": "length"}],
  "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
}"""
)

EMBEDDING = json.loads(
    """{
  "object": "list",
  "data": [{"object": "embedding", "embedding": [0.0023064255, -0.009327292, -0.0028842222], "index": 0}],
  "model": "text-embedding-ada-002",
  "usage": {"prompt_tokens": 8, "total_tokens": 8}
}"""
)

IMAGE = json.loads(
    '{"created": 1713833628, "data": [{"url": "https://example.com/a.png", "revised_prompt": "A cat"}]}'
)


def contains(big, small) -> bool:
    """``big`` has every field of ``small`` with the same value; fields only ``big`` has are None
    (dumps add the declared fields a payload left out, as pydantic does)."""
    if isinstance(small, dict):
        return (
            isinstance(big, dict)
            and all(k in big and contains(big[k], v) for k, v in small.items())
            and all(big[k] is None for k in big.keys() - small.keys())
        )
    if isinstance(small, list):
        return isinstance(big, list) and len(big) == len(small) and all(map(contains, big, small))
    return big == small


def chunk(index_deltas: list, finish: dict | None = None, **extra) -> dict:
    """An OpenAI chat chunk dict whose choices carry the given (index, delta) pairs."""
    finish = finish or {}
    return {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "created": 1718000000,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp_x",
        "choices": [
            {"index": i, "delta": d, "logprobs": None, "finish_reason": finish.get(i)} for i, d in index_deltas
        ],
        **extra,
    }


# -- access, extras, dumps --------------------------------------------------------------------


def test_chat_from_openai_attribute_and_item_access() -> None:
    r = ModelResponse.from_openai(CHAT)
    assert isinstance(r, ModelResponse) and isinstance(r, OpenAIObject)
    assert r.id == r["id"] == "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"
    assert r.created == 1741570283 and r.model == "gpt-4o-2024-08-06" and r.object == "chat.completion"
    choice = r.choices[0]
    assert isinstance(choice, Choices) and isinstance(choice.message, Message)
    assert choice.message.content == r["choices"][0]["message"]["content"] == "The image shows a wooden boardwalk path."
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert choice.message.tool_calls is None and choice.message["function_call"] is None  # declared defaults
    assert choice.message.refusal is None and choice.message.annotations == []  # extras kept
    assert isinstance(r.usage, Usage) and r.usage.total_tokens == r["usage"]["total_tokens"] == 1163
    assert r.usage.prompt_tokens_details.cached_tokens == 0
    assert r.usage["completion_tokens_details"]["reasoning_tokens"] == 0
    assert r.service_tier == r["service_tier"] == "default" and r.system_fingerprint == "fp_fc9f1d7035"
    assert r.get("service_tier") == "default" and r.get("missing", 7) == 7 and r.get("missing") is None
    assert "model" in r and "service_tier" in r and "missing" not in r and "_hidden_params" not in r
    assert r._hidden_params == {} and r._response_ms is None
    with pytest.raises(AttributeError):
        _ = r.missing
    with pytest.raises(KeyError):
        _ = r["missing"]


def test_dumps_round_trip_exactly() -> None:
    r = ModelResponse.from_openai(CHAT)
    dumped = r.model_dump()
    assert contains(dumped, CHAT) and dumped["usage"] == CHAT["usage"] and dumped["model"] == CHAT["model"]
    assert dumped["choices"][0]["message"]["tool_calls"] is None  # declared fields always dumped
    assert json.loads(r.model_dump_json()) == dumped == json.loads(r.json()) == r.dict() == r.to_dict()
    assert "\n  " in r.model_dump_json(indent=2)
    assert ModelResponse.from_openai(dumped) == r  # __eq__ compares dumps
    assert r == dumped and r != {**dumped, "model": "other"}
    slim = r.model_dump(exclude_none=True)
    assert "function_call" not in slim["choices"][0]["message"] and "logprobs" not in slim["choices"][0]
    # the input dict is not mutated and is not shared with the object
    r.choices[0].message.content = "changed"
    assert CHAT["choices"][0]["message"]["content"] == "The image shows a wooden boardwalk path."


def test_mapping_protocol_and_assignment() -> None:
    u = Usage(prompt_tokens=3, completion_tokens=4)
    assert u.total_tokens == 7 and Usage(prompt_tokens=1, completion_tokens=1, total_tokens=5).total_tokens == 5
    assert dict(u) == {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
        "prompt_tokens_details": None,
        "completion_tokens_details": None,
    }
    assert list(u.keys())[:3] == ["prompt_tokens", "completion_tokens", "total_tokens"]
    assert list(u.values())[:3] == [3, 4, 7] and ("total_tokens", 7) in u.items()
    assert list(u) == list(u.items())  # iteration yields (field, value) pairs, like pydantic
    u["prompt_tokens"] = 10
    u.completion_tokens = 20
    assert u.prompt_tokens == 10 and u["completion_tokens"] == 20
    u.cost = 0.5  # a new attribute is a field too
    assert u["cost"] == 0.5 and u.model_dump()["cost"] == 0.5
    m = Message(content="hi", provider_specific_fields={"x": 1})
    assert m.provider_specific_fields == m["provider_specific_fields"] == {"x": 1}
    assert m.model_dump() == {
        "content": "hi",
        "role": "assistant",
        "tool_calls": None,
        "function_call": None,
        "provider_specific_fields": {"x": 1},
    }
    assert repr(Function(name="f", arguments="{}")) == "Function(name='f', arguments='{}')"
    assert repr(ModelResponse(id="chatcmpl-1", created=1, model="m")).startswith(
        "ModelResponse(id='chatcmpl-1', created=1, model='m', object='chat.completion'"
    )


def test_constructors_and_defaults() -> None:
    r = ModelResponse()
    assert r.id.startswith("chatcmpl-") and len(r.id) == len("chatcmpl-") + 32
    assert uuid.UUID(r.id.removeprefix("chatcmpl-")).version == 4
    assert ModelResponse().id != r.id and abs(r.created - __import__("time").time()) < 5
    assert r.object == "chat.completion" and r.model is None and r.system_fingerprint is None
    assert isinstance(r.choices[0], Choices) and r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content is None and r.choices[0].finish_reason is None and r.choices[0].index == 0
    assert r.usage == Usage() and r.usage.total_tokens == 0 and r.usage.prompt_tokens_details is None

    r = ModelResponse(
        model="gpt-4o",
        choices=[{"message": {"content": "hi", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{}"}}]}}],
        usage={"prompt_tokens": 1, "completion_tokens": 2},
        custom="kept",
    )
    call = r.choices[0].message.tool_calls[0]
    assert isinstance(call, ChatCompletionMessageToolCall) and isinstance(call.function, Function)
    assert (call.id, call.type, call.function.name, call.function.arguments) == ("c", "function", "f", "{}")
    assert r.usage.total_tokens == 3 and r.custom == "kept"

    # function given as an object, arguments given as a dict → JSON text
    call = ChatCompletionMessageToolCall(id="x", function=Function(name="g", arguments={"a": 1}))
    assert call.function.arguments == '{"a": 1}' and call["function"]["name"] == "g"
    assert ChatCompletionMessageToolCall(function={"name": "h", "arguments": ""}).id.startswith("call_")

    d = Delta(content="x", tool_calls=[{"index": 1, "function": {"arguments": "{"}}], function_call={"name": "f"})
    assert d.role is None and isinstance(d.tool_calls[0], ChatCompletionDeltaToolCall)
    assert (d.tool_calls[0].index, d.tool_calls[0].id, d.tool_calls[0].function.name) == (1, None, None)
    assert d.tool_calls[0].function.arguments == "{" and isinstance(d.function_call, FunctionCall)

    sc = StreamingChoices()
    assert sc.index == 0 and isinstance(sc.delta, Delta) and sc.delta.content is None and sc.finish_reason is None
    s = ModelResponseStream(id="c", created=1, model="m", choices=[{"delta": {"content": "a"}}])
    assert s.object == "chat.completion.chunk" and s.usage is None and s._hidden_params == {}
    assert isinstance(s.choices[0], StreamingChoices) and s.choices[0].delta.content == "a"

    t = TextCompletionResponse(id="cmpl-1", created=1, model="m", choices=[{"index": 0, "text": "hey", "finish_reason": "stop"}])
    assert isinstance(t.choices[0], TextChoices) and t.choices[0].text == "hey" and t.object == "text_completion"
    e = EmbeddingResponse(model="e", data=[{"embedding": [0.1], "index": 0}], usage={"prompt_tokens": 2})
    assert isinstance(e.data[0], Embedding) and e.data[0].object == "embedding" and e.object == "list"
    assert e.usage.total_tokens == 2 and e._hidden_params == {}
    i = ImageResponse(created=5, data=[{"b64_json": "aGk="}])
    assert isinstance(i.data[0], ImageObject) and i.data[0].url is None and i.data[0].b64_json == "aGk="
    assert ImageObject().model_dump() == {"url": None, "b64_json": None, "revised_prompt": None}


def test_deepcopy_and_pickle_keep_values_and_hidden_params() -> None:
    r = ModelResponse.from_openai(CHAT_TOOLS)
    r._hidden_params["response_cost"] = 0.25
    r._response_ms = 12.5
    for clone in (copy.deepcopy(r), pickle.loads(pickle.dumps(r))):
        assert clone == r and clone is not r
        assert type(clone) is ModelResponse and type(clone.choices[0].message.tool_calls[0]) is ChatCompletionMessageToolCall
        assert clone._hidden_params == {"response_cost": 0.25} and clone._response_ms == 12.5
        assert clone.choices[0].message.tool_calls[0].function.name == "get_current_weather"
    clone = copy.deepcopy(r)
    clone.choices[0].message.tool_calls[0].function.arguments = "{}"
    clone._hidden_params["x"] = 1
    assert json.loads(r.choices[0].message.tool_calls[0].function.arguments) == {"location": "Boston, MA"}
    assert "x" not in r._hidden_params
    s = ModelResponseStream.from_openai(CHUNK)
    assert pickle.loads(pickle.dumps(s)) == s == copy.deepcopy(s)


# -- from_openai for every response kind ------------------------------------------------------


def test_tool_call_response_from_openai() -> None:
    r = ModelResponse.from_openai(CHAT_TOOLS)
    message = r.choices[0].message
    call = message.tool_calls[0]
    assert message.content is None and r.choices[0].finish_reason == "tool_calls"
    assert isinstance(call, ChatCompletionMessageToolCall) and isinstance(call.function, Function)
    assert call.id == "call_abc123" and call["type"] == "function"
    assert json.loads(call.function.arguments) == {"location": "Boston, MA"}
    assert r.usage.prompt_tokens == 82 and r.usage.prompt_tokens_details is None
    assert r.model_dump()["choices"][0]["message"]["tool_calls"] == CHAT_TOOLS["choices"][0]["message"]["tool_calls"]
    assert contains(r.model_dump(), CHAT_TOOLS) and not contains(r.model_dump(), {**CHAT_TOOLS, "model": "x"})


def test_stream_chunk_from_openai() -> None:
    s = ModelResponseStream.from_openai(CHUNK)
    assert isinstance(s, ModelResponseStream) and isinstance(s.choices[0], StreamingChoices)
    delta = s.choices[0].delta
    assert isinstance(delta, Delta) and delta.role == "assistant" and delta.content == ""
    assert delta.tool_calls is None and delta["function_call"] is None
    assert s.object == "chat.completion.chunk" and s.system_fingerprint == "fp_44709d6fcb" and s.usage is None
    assert s.model_dump()["choices"][0]["logprobs"] is None and s._hidden_params == {}

    tool = ModelResponseStream.from_openai(
        chunk([(0, {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}]})])
    )
    call = tool.choices[0].delta.tool_calls[0]
    assert isinstance(call, ChatCompletionDeltaToolCall) and call.function.name == "f" and call.index == 0

    last = ModelResponseStream.from_openai(
        {**chunk([]), "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}}
    )
    assert last.choices == [] and isinstance(last.usage, Usage) and last.usage.total_tokens == 21


def test_text_embedding_image_from_openai() -> None:
    t = TextCompletionResponse.from_openai(TEXT)
    assert isinstance(t.choices[0], TextChoices) and t.choices[0].text == "\n\nThis is indeed a test"
    assert t.choices[0]["finish_reason"] == "length" and t.usage.total_tokens == 12 and t.object == "text_completion"
    assert contains(t.model_dump(), TEXT) and t.model_dump()["usage"]["prompt_tokens_details"] is None

    e = EmbeddingResponse.from_openai(EMBEDDING)
    assert isinstance(e.data[0], Embedding) and e.data[0].embedding == [0.0023064255, -0.009327292, -0.0028842222]
    assert e["data"][0]["index"] == 0 and e.model == "text-embedding-ada-002" and e.usage.prompt_tokens == 8
    assert e.usage.completion_tokens == 0 and e._hidden_params == {}
    dumped = e.model_dump()
    assert dumped["data"] == EMBEDDING["data"] and dumped["usage"]["total_tokens"] == 8
    assert contains(dumped, {**EMBEDDING, "usage": {**EMBEDDING["usage"], "completion_tokens": 0}})

    i = ImageResponse.from_openai(IMAGE)
    assert isinstance(i.data[0], ImageObject) and i.data[0].url == "https://example.com/a.png"
    assert i.data[0].b64_json is None and i.data[0].revised_prompt == "A cat" and i.created == 1713833628


# -- stream_chunk_builder / ChunkAssembler ----------------------------------------------------


def test_builder_concatenates_content_and_uses_reported_usage() -> None:
    chunks = [
        chunk([(0, {"role": "assistant", "content": ""})]),
        chunk([(0, {"content": "Hello"})]),
        chunk([(0, {"content": " world"})]),
        chunk([(0, {})], finish={0: "stop"}),
        {**chunk([]), "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}},
    ]
    whole = stream_chunk_builder(chunks)
    assert isinstance(whole, ModelResponse) and whole.object == "chat.completion"
    assert (whole.id, whole.created, whole.model, whole.system_fingerprint) == ("chatcmpl-9", 1718000000, "gpt-4o-mini", "fp_x")
    assert len(whole.choices) == 1 and whole.choices[0].message.content == "Hello world"
    assert whole.choices[0].message.role == "assistant" and whole.choices[0].finish_reason == "stop"
    assert whole.choices[0].message.tool_calls is None
    assert (whole.usage.prompt_tokens, whole.usage.completion_tokens, whole.usage.total_tokens) == (9, 2, 11)
    assert "usage_estimated" not in whole._hidden_params

    # the same chunks as ModelResponseStream objects give the same response
    objects = [ModelResponseStream.from_openai(c) for c in chunks]
    again = stream_chunk_builder(objects)
    assert again == whole and again.usage is not objects[-1].usage


def test_builder_estimates_usage_without_one() -> None:
    messages = [{"role": "user", "content": "Say hello world please"}]  # 22 chars → 6 tokens
    whole = stream_chunk_builder([chunk([(0, {"role": "assistant", "content": "Hello world!"})])], messages=messages)
    assert whole._hidden_params["usage_estimated"] is True
    assert whole.usage.prompt_tokens == 3 + 3 + 6 == token_counter(messages=messages)
    assert whole.usage.completion_tokens == 3 == token_counter(text="Hello world!")
    assert whole.usage.total_tokens == 15
    assert whole.choices[0].finish_reason is None  # no chunk said why it ended
    no_prompt = stream_chunk_builder([chunk([(0, {"content": "abcd"})])])
    assert (no_prompt.usage.prompt_tokens, no_prompt.usage.completion_tokens) == (0, 1)


def test_builder_multiple_choices() -> None:
    chunks = [
        chunk([(0, {"role": "assistant", "content": "a"}), (1, {"role": "assistant", "content": "b"})]),
        chunk([(1, {"content": "B"})], finish={1: "stop"}),
        chunk([(0, {"content": "A"})], finish={0: "length"}),
        chunk([(0, {})]),  # a later null finish_reason does not erase the earlier one
    ]
    whole = stream_chunk_builder(chunks)
    assert [(c.index, c.message.content, c.finish_reason) for c in whole.choices] == [(0, "aA", "length"), (1, "bB", "stop")]
    assert whole.usage.completion_tokens == 2 and whole._hidden_params["usage_estimated"] is True


def test_builder_merges_parallel_tool_call_deltas() -> None:
    def tool(index: int, **fields) -> dict:
        return {"tool_calls": [{"index": index, **fields}]}

    chunks = [
        chunk([(0, {"role": "assistant", "content": None})]),
        chunk([(0, tool(0, id="call_a", type="function", function={"name": "get_weather", "arguments": ""}))]),
        chunk([(0, tool(0, function={"arguments": '{"city": '}))]),
        chunk([(0, tool(1, id="call_b", type="function", function={"name": "get_time", "arguments": '{"tz"'}))]),
        chunk([(0, tool(0, function={"arguments": '"Paris"}'}))]),
        chunk([(0, tool(1, id="call_ignored", function={"name": "ignored", "arguments": ': "UTC"}'}))]),
        chunk([(0, {})], finish={0: "tool_calls"}),
    ]
    whole = stream_chunk_builder(chunks, messages=[{"role": "user", "content": "weather and time?"}])
    message = whole.choices[0].message
    assert message.content is None and message.role == "assistant" and whole.choices[0].finish_reason == "tool_calls"
    calls = message.tool_calls
    assert all(isinstance(c, ChatCompletionMessageToolCall) and isinstance(c.function, Function) for c in calls)
    assert [(c.id, c.type, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("call_a", "function", "get_weather", {"city": "Paris"}),
        ("call_b", "function", "get_time", {"tz": "UTC"}),
    ]
    # the estimate counts the tool calls' names and arguments as completion
    expected = sum(token_counter(text=t) for t in ("get_weather", '{"city": "Paris"}', "get_time", '{"tz": "UTC"}'))
    assert whole.usage.completion_tokens == expected and whole._hidden_params["usage_estimated"] is True


def test_builder_legacy_function_call_and_reasoning() -> None:
    chunks = [
        chunk([(0, {"role": "assistant", "reasoning_content": "Think", "function_call": {"name": "lookup", "arguments": ""}})]),
        chunk([(0, {"reasoning_content": "ing.", "function_call": {"arguments": '{"q": '}})]),
        chunk([(0, {"function_call": {"arguments": '"x"}'}})], finish={0: "function_call"}),
    ]
    message = stream_chunk_builder(chunks).choices[0].message
    assert isinstance(message.function_call, FunctionCall) and message.function_call.name == "lookup"
    assert json.loads(message.function_call.arguments) == {"q": "x"} and message.tool_calls is None
    assert message.reasoning_content == "Thinking." and message.content is None


def test_builder_text_completion_chunks() -> None:
    base = {"id": "cmpl-7", "object": "text_completion", "created": 1, "model": "gpt-3.5-turbo-instruct"}
    chunks = [
        {**base, "choices": [{"index": 0, "text": "Once", "logprobs": None, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "text": " upon", "logprobs": None, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "text": "", "logprobs": None, "finish_reason": "length"}]},
    ]
    whole = stream_chunk_builder(chunks)
    assert isinstance(whole, TextCompletionResponse) and whole.object == "text_completion"
    assert (whole.id, whole.model) == ("cmpl-7", "gpt-3.5-turbo-instruct")
    assert whole.choices[0].text == "Once upon" and whole.choices[0].finish_reason == "length"
    assert whole.usage.completion_tokens == 3 and whole._hidden_params["usage_estimated"] is True
    objects = stream_chunk_builder([TextCompletionResponse.from_openai(c) for c in chunks])
    assert isinstance(objects, TextCompletionResponse) and objects.choices[0].text == "Once upon"


def test_builder_empty_and_incremental() -> None:
    assert stream_chunk_builder([]) is None
    assembler = ChunkAssembler()
    assert assembler.build() is None
    assembler.add(ModelResponseStream.from_openai(chunk([(0, {"role": "assistant", "content": "Hi"})])))
    assert assembler.build().choices[0].message.content == "Hi"  # a snapshot mid-stream
    assembler.add(chunk([(0, {"content": " there"})], finish={0: "stop"}))  # dicts and objects mix
    whole = assembler.build()
    assert whole.choices[0].message.content == "Hi there" and whole.choices[0].finish_reason == "stop"
    assert not hasattr(assembler, "__dict__")  # slotted: no chunk list is kept


# -- token estimate ---------------------------------------------------------------------------


def test_token_counter_estimate() -> None:
    assert token_counter(text="") == 0 and token_counter() == 0
    assert token_counter(text="a") == 1 and token_counter(text="abcd") == 1 and token_counter(text="abcde") == 2
    assert token_counter(model="gpt-4o", text="x" * 400) == 100
    assert token_counter(messages=[]) == 3
    assert token_counter(messages=[{"role": "user", "content": "abcdefgh"}]) == 3 + 3 + 2
    parts = [{"type": "text", "text": "abcd"}, {"type": "image_url", "image_url": {"url": "data:..."}}, {"type": "text", "text": "ab"}]
    assert token_counter(messages=[{"role": "user", "content": parts}]) == 3 + 3 + 1 + 1
    with_tools = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "get", "arguments": '{"a": 1}'}}]},
        {"role": "tool", "tool_call_id": "c", "content": "12345678"},
    ]
    assert token_counter(messages=with_tools) == 3 + 3 * 3 + 1 + (1 + 2) + 2
    # response messages can be passed back as objects
    as_objects = [with_tools[0], Message(**with_tools[1]), with_tools[2]]
    assert token_counter(messages=as_objects) == token_counter(messages=with_tools)
    tools = [{"type": "function", "function": {"name": "get", "parameters": {}}}]
    assert token_counter(messages=[], tools=tools, tool_choice="auto") > 3
