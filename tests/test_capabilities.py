"""Model table and the peer's capability helpers: answered offline, lazily, in the peer's shapes."""

from __future__ import annotations

import subprocess
import sys

import pytest

import llmtap


def test_import_does_not_load_the_table() -> None:
    code = "import llmtap, llmtap.cost as c; assert c._table is None; llmtap.supports_vision('gpt-4o'); assert c._table"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_provider_llmtap_serves_has_models() -> None:
    providers = {row.get("litellm_provider") for row in llmtap.model_cost.values()}
    for name in ("openai", "text-completion-openai", "azure", "anthropic", "gemini", "ollama", "mistral", "groq",
                 "together_ai", "deepseek", "openrouter", "fireworks_ai", "perplexity", "xai"):
        assert name in providers, name
    assert len(llmtap.model_cost) > 1000
    assert llmtap.model_list == list(llmtap.model_cost)


def test_rows_are_well_formed() -> None:
    for name, row in llmtap.model_cost.items():
        assert isinstance(row.get("litellm_provider"), str), name
        for field in ("input_cost_per_token", "output_cost_per_token", "max_input_tokens", "max_output_tokens"):
            value = row.get(field)
            assert value is None or (isinstance(value, (int, float)) and value >= 0), (name, field, value)


def test_model_info_has_the_peer_fields() -> None:
    info = llmtap.get_model_info("gpt-4o-mini")
    assert info["key"] == "gpt-4o-mini"
    assert info["max_input_tokens"] == 128000 and info["max_output_tokens"] == 16384 == info["max_tokens"]
    assert info["input_cost_per_token"] == pytest.approx(1.5e-07)
    assert info["litellm_provider"] == "openai" and info["mode"] == "chat"
    assert info["supports_function_calling"] is True and info["supports_vision"] is True
    assert "supports_audio_output" in info and info["tpm"] is None
    assert "tools" in info["supported_openai_params"]


@pytest.mark.parametrize(
    ("model", "provider", "key"),
    [
        ("openai/gpt-4o", None, "gpt-4o"),
        ("gpt-4o", "azure", "azure/gpt-4o"),
        ("gemini/gemini-2.5-pro", None, "gemini/gemini-2.5-pro"),
        ("claude-3-5-haiku-20241022", None, "claude-3-5-haiku-20241022"),
        ("anthropic/claude-sonnet-4-20250514", None, "claude-sonnet-4-20250514"),
        ("groq/llama-3.3-70b-versatile", None, "groq/llama-3.3-70b-versatile"),
        ("ollama/llama3.2", None, "ollama/llama3.2"),
        ("openrouter/anthropic/claude-3.5-sonnet", None, "openrouter/anthropic/claude-3.5-sonnet"),
        ("deepseek/deepseek-chat", None, "deepseek/deepseek-chat"),
        ("ft:gpt-4o-mini-2024-07-18:my-org::abc123", None, "ft:gpt-4o-mini-2024-07-18"),
    ],
)
def test_names_resolve_to_their_rows(model: str, provider: str | None, key: str) -> None:
    assert llmtap.get_model_info(model, custom_llm_provider=provider)["key"] == key


def test_unknown_models() -> None:
    with pytest.raises(llmtap.ModelNotMappedError, match="no-such-model"):
        llmtap.get_model_info("no-such-model")
    with pytest.raises(ValueError):
        llmtap.get_max_tokens("no-such-model")
    assert llmtap.supports_function_calling("no-such-model") is False
    for bad in (None, "", 42, ["gpt-4o"]):
        assert llmtap.supports_vision(bad) is False  # type: ignore[arg-type]


def test_supports_helpers() -> None:
    assert llmtap.supports_function_calling("gpt-4o") and llmtap.supports_parallel_function_calling("gpt-4o")
    assert llmtap.supports_vision("claude-3-5-sonnet-20241022")
    assert not llmtap.supports_vision("gpt-3.5-turbo")
    assert llmtap.supports_reasoning("o3-mini") and not llmtap.supports_reasoning("gpt-4o")
    assert llmtap.supports_response_schema("gpt-4o-mini")
    assert llmtap.get_max_tokens("gpt-4o") == 16384


def test_get_llm_provider() -> None:
    assert llmtap.get_llm_provider("gpt-4o") == ("gpt-4o", "openai", None, None)
    assert llmtap.get_llm_provider("gpt-3.5-turbo-instruct")[1] == "text-completion-openai"
    assert llmtap.get_llm_provider("groq/llama3-8b-8192") == ("llama3-8b-8192", "groq", None, "https://api.groq.com/openai/v1")
    assert llmtap.get_llm_provider("deepseek-chat")[:2] == ("deepseek-chat", "deepseek")  # known from the table
    assert llmtap.get_llm_provider("x", custom_llm_provider="together_ai")[:2] == ("x", "together_ai")
    assert llmtap.get_llm_provider("gpt-4o", api_base="http://h/v1")[3] == "http://h/v1"
    with pytest.raises(llmtap.BadRequestError, match="cannot tell which provider"):
        llmtap.get_llm_provider("no-such-model")


def test_supported_params_are_per_model() -> None:
    plain = llmtap.get_supported_openai_params("gpt-4o")
    assert {"temperature", "top_p", "logprobs", "tools", "stream"} <= set(plain)
    o_series = llmtap.get_supported_openai_params("o3-mini")
    assert "reasoning_effort" in o_series and "top_p" not in o_series and "logprobs" not in o_series
    gpt5 = llmtap.get_supported_openai_params("gpt-5")
    assert "stop" not in gpt5 and "parallel_tool_calls" in gpt5
    assert "logprobs" not in llmtap.get_supported_openai_params("claude-3-5-haiku-20241022")
    assert llmtap.get_supported_openai_params("x", custom_llm_provider="no-such-provider") is None
    assert set(llmtap.get_supported_openai_params("text-embedding-3-small", request_type="embeddings")) >= {"dimensions"}


def test_validate_environment_names_variables_never_values(monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert llmtap.validate_environment("gpt-4o") == {"keys_in_environment": False, "missing_keys": ["OPENAI_API_KEY"]}
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-value")
    result = llmtap.validate_environment("claude-3-5-haiku-20241022")
    assert result == {"keys_in_environment": True, "missing_keys": []}
    assert "sk-ant-secret-value" not in repr(result)
    assert llmtap.validate_environment("ollama/llama3")["keys_in_environment"] is True
    assert "AZURE_API_BASE" in llmtap.validate_environment("azure/my-deployment")["missing_keys"]
    assert llmtap.validate_environment(None) == {"keys_in_environment": False, "missing_keys": []}


def test_get_valid_models_follows_the_keys_set(monkeypatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY", "MISTRAL_API_KEY", "XAI_API_KEY",
                 "DEEPSEEK_API_KEY", "TOGETHERAI_API_KEY", "TOGETHER_API_KEY", "OPENROUTER_API_KEY",
                 "FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY", "PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    models = llmtap.get_valid_models()
    assert "claude-3-5-haiku-20241022" in models and "gpt-4o" not in models
    assert "gpt-4o" in llmtap.get_valid_models(custom_llm_provider="openai")


def test_register_model_is_seen_by_the_helpers() -> None:
    llmtap.register_model({"my-private-model": {"litellm_provider": "openai", "mode": "chat",
                                                "max_input_tokens": 1000, "supports_vision": True}})
    assert llmtap.supports_vision("my-private-model")
    assert llmtap.get_model_info("my-private-model")["max_input_tokens"] == 1000


def test_drop_params_is_checked_per_model(openai_env) -> None:
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(llmtap.UnsupportedParamsError, match="top_p"):
        llmtap.completion(model="o3-mini", messages=messages, top_p=0.5)
    with pytest.raises(llmtap.UnsupportedParamsError, match="temperature"):
        llmtap.completion(model="o3-mini", messages=messages, temperature=0.2)
    assert openai_env.requests == []  # refused before any request
    llmtap.completion(model="o3-mini", messages=messages, temperature=0.2, top_p=0.5, max_tokens=50,
                      reasoning_effort="low", drop_params=True)
    body = openai_env.last_request.json
    assert "temperature" not in body and "top_p" not in body and "max_tokens" not in body
    assert body["max_completion_tokens"] == 50 and body["reasoning_effort"] == "low"
    llmtap.completion(model="o3-mini", messages=messages, temperature=1)  # the default is accepted
    llmtap.completion(model="gpt-4o-mini", messages=messages, temperature=0.2, top_p=0.5)
    assert openai_env.last_request.json["top_p"] == 0.5


def test_lookups_of_many_distinct_names_stay_bounded() -> None:
    from llmtap import cost

    for i in range(5000):
        llmtap.supports_vision(f"ft:gpt-4o-mini-2024-07-18:org::{i}")
    assert len(cost._found) <= 4096
    assert llmtap.supports_function_calling("ft:gpt-4o-mini-2024-07-18:org::last")
