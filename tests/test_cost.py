"""Cost arithmetic against the shipped price table, custom prices, and the call path."""

from __future__ import annotations

import pytest

import llmtap

from .conftest import MESSAGES


def test_cost_per_token_from_table() -> None:
    prompt, completion = llmtap.cost_per_token("gpt-4o-mini", prompt_tokens=1000, completion_tokens=500)
    info = llmtap.get_model_info("gpt-4o-mini")
    assert prompt == pytest.approx(1000 * info["input_cost_per_token"])
    assert completion == pytest.approx(500 * info["output_cost_per_token"])
    assert info["max_input_tokens"] == 128000


def test_cached_prompt_tokens_use_their_rate() -> None:
    r = llmtap.ModelResponse(model="gpt-4o", usage={"prompt_tokens": 1000, "completion_tokens": 0, "prompt_tokens_details": {"cached_tokens": 400}})
    info = llmtap.get_model_info("gpt-4o")
    assert llmtap.completion_cost(completion_response=r) == pytest.approx(
        600 * info["input_cost_per_token"] + 400 * info["cache_read_input_token_cost"]
    )


def test_dated_and_prefixed_names_resolve() -> None:
    assert llmtap.get_model_info("gpt-4o-mini-2024-07-18")["key"] == "gpt-4o-mini-2024-07-18"
    assert llmtap.get_model_info("gpt-4o-mini-2099-01-01")["key"] == "gpt-4o-mini"  # undated fallback
    assert llmtap.get_model_info("openai/gpt-4o")["key"] == "gpt-4o"


def test_completion_cost_from_text() -> None:
    cost = llmtap.completion_cost(model="gpt-3.5-turbo", prompt="hello world", completion="hi")
    assert cost > 0


def test_unknown_model_raises_in_the_api_but_not_in_the_call(openai_env, caplog) -> None:
    with pytest.raises(ValueError, match="not in llmtap's price table"):
        llmtap.cost_per_token("no-such-model", 1, 1)
    costs = []
    llmtap.success_callback = [lambda k, r, s, e: costs.append(k["response_cost"])]
    for _ in range(2):
        llmtap.completion(model="openai/private-model", messages=MESSAGES)
    assert llmtap.flush(5)
    assert costs == [None, None]
    assert sum("no price for model" in rec.getMessage() for rec in caplog.records) == 1


def test_register_model_prices_a_private_model(openai_env) -> None:
    llmtap.register_model({"house-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "litellm_provider": "openai", "mode": "chat"}})
    costs = []
    llmtap.success_callback = [lambda k, r, s, e: costs.append((k["response_cost"], r.usage.prompt_tokens, r.usage.completion_tokens))]
    llmtap.completion(model="openai/house-model", messages=MESSAGES)
    assert llmtap.flush(5)
    cost, prompt, completion = costs[0]
    assert cost == pytest.approx(prompt * 1e-6 + completion * 2e-6)
    assert "house-model" in llmtap.model_cost
