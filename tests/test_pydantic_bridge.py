"""llmtap's response types where pydantic is expected (#14 item 4), without pydantic at import."""

from __future__ import annotations

import subprocess
import sys

import pydantic
import pytest

import llmtap


def _response() -> llmtap.ModelResponse:
    return llmtap.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], mock_response="hi")


class Holder(pydantic.BaseModel):
    response: llmtap.ModelResponse
    usage: llmtap.Usage | None = None
    message: llmtap.Message | None = None
    call: llmtap.ChatCompletionMessageToolCall | None = None
    chunk: llmtap.ModelResponseStream | None = None


def test_types_are_pydantic_field_types_and_round_trip() -> None:
    response = _response()
    held = Holder(response=response)
    assert held.response is response
    dumped = held.model_dump()
    assert dumped["response"]["choices"][0]["message"]["content"] == "hi"
    again = Holder.model_validate_json(held.model_dump_json())
    assert isinstance(again.response, llmtap.ModelResponse)
    assert again.response.choices[0].message.content == "hi"
    assert again.response.usage.total_tokens == response.usage.total_tokens


def test_dicts_validate_into_the_classes() -> None:
    held = Holder.model_validate({
        "response": {"id": "r1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "a"}}]},
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 2}},
        "message": {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        "call": {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}},
        "chunk": {"id": "s", "choices": [{"index": 0, "delta": {"content": "x"}}]},
    })
    assert held.response.choices[0].message.content == "a"
    assert held.usage.total_tokens == 4
    assert isinstance(held.usage.prompt_tokens_details, llmtap.PromptTokensDetails)
    assert held.usage.prompt_tokens_details.cached_tokens == 2
    assert held.message.tool_calls[0].function.name == "f"
    assert held.call.function.name == "g"
    assert held.chunk.choices[0].delta.content == "x"


@pytest.mark.parametrize("bad", [3, "text", None, [1]])
def test_wrong_values_are_pydantic_validation_errors(bad: object) -> None:
    with pytest.raises(pydantic.ValidationError, match="ModelResponse"):
        Holder(response=bad)


def test_class_api_of_pydantic_models() -> None:
    response = llmtap.ModelResponse.model_validate({"id": "x", "choices": [], "provider_thing": 1})
    assert response.id == "x" and response.model_extra["provider_thing"] == 1
    assert "id" not in response.model_extra and "choices" not in response.model_extra
    assert {"id", "choices", "model"} <= set(llmtap.ModelResponse.model_fields)
    assert llmtap.ModelResponse.model_validate(response) is response
    assert llmtap.Usage.model_validate_json('{"prompt_tokens": 2}').total_tokens == 2
    copy = response.model_copy(update={"id": "y"})
    assert copy.id == "y" and response.id == "x"
    schema = Holder.model_json_schema()
    assert schema["properties"]["response"]["type"] == "object"
    assert isinstance(_response(), llmtap.ModelResponseBase)
    assert issubclass(llmtap.ModelResponseStream, llmtap.ModelResponseBase)


def test_peer_names_present() -> None:
    from llmtap.types.utils import CostPerToken, ModelInfo, PromptTokensDetails

    assert llmtap.ModelInfo is ModelInfo and llmtap.CostPerToken is CostPerToken
    assert llmtap.PromptTokensDetails is PromptTokensDetails
    tool: llmtap.ChatCompletionToolParam = {"type": "function", "function": {"name": "f"}}
    assert tool["type"] == "function"


def test_import_llmtap_does_not_import_pydantic() -> None:
    script = "import sys, llmtap\nllmtap.ModelResponse.model_fields\nprint('pydantic' in sys.modules, 'pydantic_core' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "False False", done.stderr
