"""The peer's type names and pydantic-style methods, and its exception tree (fast checks; the
real frameworks run in tests/frameworks/)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import llmtap
from llmtap.testing import Reply

from .conftest import MESSAGES


def test_type_names_frameworks_import_resolve_through_the_alias() -> None:
    code = textwrap.dedent(
        """
        import sys, llmtap
        llmtap.install_as_litellm()
        from litellm import ModelInfo
        from litellm.types.utils import CostPerToken, ModelResponse, Usage, ModelResponseBase
        from litellm.types.utils import PromptTokensDetails, CompletionTokensDetails, LlmProviders
        assert issubclass(ModelResponse, ModelResponseBase)
        assert LlmProviders.OPENAI.value == "openai"
        assert "pydantic" not in sys.modules
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("cls", "args"),
    [
        (llmtap.APIError, (500, "boom", "openai", "gpt")),
        (llmtap.BadRequestError, ("bad", "gpt", "openai")),
        (llmtap.RateLimitError, ("slow", "openai", "gpt")),
        (llmtap.NotFoundError, ("gone", "gpt", "openai")),
        (llmtap.BadGatewayError, ("gw", "openai", "gpt")),
    ],
)
def test_errors_take_the_peers_positional_order(cls, args) -> None:
    error = cls(*args)
    assert (error.model, error.llm_provider) == ("gpt", "openai")
    assert isinstance(error, llmtap.OpenAIError)


def test_exception_tree_is_the_peers() -> None:
    assert not issubclass(llmtap.RateLimitError, llmtap.APIError)
    assert issubclass(llmtap.ContextWindowExceededError, llmtap.BadRequestError)
    assert issubclass(llmtap.JSONSchemaValidationError, llmtap.APIResponseValidationError)
    assert not issubclass(llmtap.BudgetExceededError, llmtap.OpenAIError)
    assert llmtap.APIError(503, "x").status_code == 503
    e = llmtap.JSONSchemaValidationError("gpt", "openai", "{bad", "{}")
    assert e.raw_response == "{bad" and "invalid response" in e.message


def test_types_answer_pydantic_style_calls(openai_env) -> None:
    openai_env.push(Reply(content="hi", prompt_tokens=3, completion_tokens=1))
    r = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    again = llmtap.ModelResponse.model_validate(r.model_dump())
    assert again.choices[0].message.content == "hi" and again.usage.total_tokens == 4
    assert llmtap.ModelResponse.model_validate(r) is r
    assert "usage" in r.model_extra and "choices" not in r.model_extra  # as the peer's
    assert r.choices[0].message.provider_specific_fields is None
    copy = r.model_copy(update={"model": "other"})
    assert copy.model == "other" and r.model != "other"
    with pytest.raises(ValueError, match="expects a dict"):
        llmtap.Usage.model_validate(42)


def test_usage_details_read_none_when_absent_and_round_trip() -> None:
    u = llmtap.Usage.model_validate({"prompt_tokens": 2, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 1}})
    assert u.prompt_tokens_details.cached_tokens == 1 and u.prompt_tokens_details.audio_tokens is None
    assert u.model_dump()["prompt_tokens_details"] == {"cached_tokens": 1}
