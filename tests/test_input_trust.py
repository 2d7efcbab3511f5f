"""Issue #13 items 13, 14, 23: keys that cannot be header values, credentials inside api_base,
and bad input refused before sending — real sockets to the emulator."""

from __future__ import annotations

import asyncio
import json
import traceback

import pytest

import llmtap
from llmtap.integrations.jsonl import JsonlLogger

from .secret_outputs import Seen

MESSAGES = [{"role": "user", "content": "hi"}]
PROVIDERS = [
    "openai/gpt-4o-mini",
    "anthropic/claude-3-5-sonnet-20241022",
    "gemini/gemini-1.5-flash",
    "ollama/llama3",
    "mistral/mistral-small-latest",
    "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
]


def _texts_of(exc: BaseException, seen: Seen) -> str:
    return str(exc) + repr(exc) + "".join(traceback.format_exception(exc)) + "".join(seen.texts)


def test_key_with_whitespace_is_stripped(emulator):
    seen = Seen()
    llmtap.callbacks = [seen]
    answer = llmtap.completion(
        model="openai/gpt-4o-mini",
        messages=MESSAGES,
        api_key=" sk-padded-key-7777\n",
        api_base=emulator.openai_base,
    )
    assert answer.choices[0].message.content
    sent = emulator.requests[-1].headers
    auth = {k.lower(): v for k, v in sent.items()}["authorization"]
    assert auth == "Bearer sk-padded-key-7777"


@pytest.mark.parametrize("key", ["sk-bad\nkey-SECRET99", "sk-ключ-SECRET99", "sk-tab\tSECRET99"])
def test_key_that_cannot_be_a_header_is_refused_by_name(emulator, key):
    seen = Seen()
    llmtap.callbacks = [seen]
    with pytest.raises(llmtap.AuthenticationError) as info:
        llmtap.completion(
            model="openai/gpt-4o-mini",
            messages=MESSAGES,
            api_key=key,
            api_base=emulator.openai_base,
        )
    assert "API key" in str(info.value)
    llmtap.flush(timeout=10)
    assert "SECRET99" not in _texts_of(info.value, seen)
    assert emulator.requests == []


def test_credentials_in_api_base_are_masked_sync_and_async(emulator, tmp_path):
    base = emulator.openai_base.replace("http://", "http://alice:hunter2pass@")
    seen = Seen()
    sink = tmp_path / "events.jsonl"
    llmtap.callbacks = [seen, JsonlLogger(str(sink))]
    answer = llmtap.completion(
        model="openai/gpt-4o-mini", messages=MESSAGES, api_key="sk-x", api_base=base
    )
    answer2 = asyncio.run(
        llmtap.acompletion(
            model="openai/gpt-4o-mini", messages=MESSAGES, api_key="sk-x", api_base=base
        )
    )
    llmtap.flush(timeout=10)
    for result in (answer, answer2):
        assert "hunter2pass" not in json.dumps(result._hidden_params, default=str)
        assert result._hidden_params["api_base"].startswith("http://****:****@")
    joined = "".join(seen.texts) + sink.read_text()
    assert "hunter2pass" not in joined and "****:****@" in joined


def test_credentials_in_api_base_masked_in_errors(tmp_path):
    base = "http://alice:hunter2pass@127.0.0.1:9/v1"  # nothing listens on port 9
    seen = Seen()
    sink = tmp_path / "events.jsonl"
    llmtap.callbacks = [seen, JsonlLogger(str(sink))]
    with pytest.raises(llmtap.APIConnectionError) as info:
        llmtap.completion(
            model="openai/gpt-4o-mini", messages=MESSAGES, api_key="sk-x", api_base=base
        )
    llmtap.flush(timeout=10)
    assert "hunter2pass" not in _texts_of(info.value, seen) + sink.read_text()
    assert seen.texts, "the failure hooks saw the call"


@pytest.mark.parametrize(
    "name,value",
    [("temperature", float("nan")), ("top_p", float("inf")), ("temperature", -float("inf"))],
)
def test_non_finite_numbers_refused(emulator, name, value):
    with pytest.raises(llmtap.BadRequestError, match=f"{name}.*finite"):
        llmtap.completion(
            model="openai/gpt-4o-mini",
            messages=MESSAGES,
            api_key="sk-x",
            api_base=emulator.openai_base,
            **{name: value},
        )
    assert emulator.requests == []


@pytest.mark.parametrize("base", ["not a url", "ftp://x", "localhost:8000"])
def test_non_url_api_base_refused(base):
    with pytest.raises(llmtap.BadRequestError, match="api_base must be an http"):
        llmtap.completion(
            model="openai/gpt-4o-mini", messages=MESSAGES, api_key="sk-x", api_base=base
        )


def _deep(levels):
    value = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


BAD_MESSAGES = {
    "no type": ([{"role": "user", "content": [{"text": "x"}]}], "no 'type'"),
    "image without url": (
        [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
        "without a url",
    ),
    "text not str": ([{"role": "user", "content": [{"type": "text", "text": 5}]}], "not a string"),
    "part not dict": ([{"role": "user", "content": [5]}], "must be a dict"),
    "deep tool args": (
        [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {"name": "f", "arguments": _deep(150)},
                    }
                ],
            },
        ],
        "nested more than",
    ),
}


@pytest.mark.parametrize("model", PROVIDERS)
@pytest.mark.parametrize("case", sorted(BAD_MESSAGES))
def test_malformed_messages_refused_for_every_provider(emulator, model, case):
    messages, words = BAD_MESSAGES[case]
    with pytest.raises(llmtap.BadRequestError, match=words):
        llmtap.completion(
            model=model,
            messages=messages,
            api_key="sk-x",
            api_base=emulator.openai_base,
            aws_access_key_id="AKIAEXAMPLE",
            aws_secret_access_key="secret",
            aws_region_name="us-east-1",
        )
    assert emulator.requests == []


def test_reasonable_nesting_and_parts_still_pass(emulator):
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "hi", "meta": _deep(50)}, "bare"]}
    ]
    answer = llmtap.completion(
        model="openai/gpt-4o-mini", messages=messages, api_key="sk-x", api_base=emulator.openai_base
    )
    assert answer.choices[0].message.content


@pytest.mark.parametrize(
    "kwargs",
    [
        {"temperature": float("nan")},
        {"api_base": "ftp://x"},
        {"api_key": "sk-a\nb"},
        {"messages": [{"role": "user", "content": [{"text": "x"}]}]},
    ],
)
def test_input_errors_fire_no_hook_as_documented(emulator, kwargs):
    """docs/callbacks.md "Limits": input errors are raised before a call record exists."""
    seen = Seen()
    llmtap.callbacks = [seen]
    call = {"messages": MESSAGES, "api_key": "sk-x", "api_base": emulator.openai_base, **kwargs}
    with pytest.raises((llmtap.BadRequestError, llmtap.AuthenticationError)):
        llmtap.completion(model="openai/gpt-4o-mini", **call)
    with pytest.raises((llmtap.BadRequestError, llmtap.AuthenticationError)):
        asyncio.run(llmtap.acompletion(model="openai/gpt-4o-mini", **call))
    llmtap.flush(timeout=10)
    assert seen.texts == []
    assert emulator.requests == []


@pytest.mark.parametrize("value", ["SECRET77\nx", "SECRET77ключ", "SECRET77\x00"])
def test_unsendable_header_value_is_an_llmtap_error_without_the_value(emulator, value):
    seen = Seen()
    llmtap.callbacks = [seen]
    call = {
        "messages": MESSAGES,
        "api_key": "sk-x",
        "api_base": emulator.openai_base,
        "extra_headers": {"X-Api-Key": value},
    }
    for run in (
        lambda: llmtap.completion(model="openai/gpt-4o-mini", **call),
        lambda: asyncio.run(llmtap.acompletion(model="openai/gpt-4o-mini", **call)),
    ):
        with pytest.raises(llmtap.BadRequestError, match="X-Api-Key") as info:
            run()
        llmtap.flush(timeout=10)
        assert "SECRET77" not in _texts_of(info.value, seen)
    assert emulator.requests == []
