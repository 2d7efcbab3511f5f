"""What a model is and can do: the peer's metadata helpers, answered from llmtap's model table.

``get_model_info`` returns the peer's shape (every ModelInfo field present, ``None`` when the
table says nothing) so code that indexes ``info["max_input_tokens"]`` works unchanged. The
``supports_*`` helpers answer False for a model the table does not know, as the peer's do;
``get_model_info`` and ``get_max_tokens`` raise ``ModelNotMappedError`` for it. Nothing here
touches the network, and the table loads on the first question, not at import.
"""

from __future__ import annotations

import os
from typing import Any

from . import cost

# The peer's ModelInfo fields llmtap's table can fill, in the peer's order.
MODEL_INFO_FIELDS = (
    "key", "max_tokens", "max_input_tokens", "max_output_tokens",
    "input_cost_per_token", "cache_creation_input_token_cost", "cache_read_input_token_cost",
    "input_cost_per_character", "input_cost_per_token_above_128k_tokens",
    "input_cost_per_token_above_200k_tokens", "input_cost_per_query", "input_cost_per_second",
    "input_cost_per_audio_token", "input_cost_per_image", "input_cost_per_token_batches",
    "output_cost_per_token_batches", "output_cost_per_token", "output_cost_per_audio_token",
    "output_cost_per_character", "output_cost_per_reasoning_token",
    "output_cost_per_token_above_128k_tokens", "output_cost_per_token_above_200k_tokens",
    "output_cost_per_second", "output_cost_per_image", "output_vector_size",
    "litellm_provider", "mode", "supported_endpoints", "supported_modalities",
    "supported_output_modalities", "supports_system_messages", "supports_response_schema",
    "supports_vision", "supports_function_calling", "supports_parallel_function_calling",
    "supports_tool_choice", "supports_assistant_prefill", "supports_prompt_caching",
    "supports_audio_input", "supports_audio_output", "supports_pdf_input",
    "supports_embedding_image_input", "supports_native_streaming", "supports_web_search",
    "supports_url_context", "supports_reasoning", "supports_computer_use",
    "search_context_cost_per_query", "tpm", "rpm",
)

# Table providers that are served by one of llmtap's providers under another name.
_TABLE_ALIASES = {"text-completion-openai": "openai", "azure_text": "azure", "codestral": "mistral",
                  "text-completion-codestral": "mistral", "cohere_chat": "cohere"}


class ModelNotMappedError(ValueError):
    """The model is not in llmtap's table (add it with ``llmtap.register_model``)."""


def _split(model: str, custom_llm_provider: str | None) -> tuple[str | None, str]:
    """(provider, model) without raising: the provider is None when nothing names it."""
    if custom_llm_provider:
        prefix = custom_llm_provider + "/"
        return custom_llm_provider, model[len(prefix):] if model.startswith(prefix) else model
    try:
        name, provider, _, _ = get_llm_provider(model)
    except Exception:
        prefix, slash, rest = model.partition("/")
        return (prefix, rest) if slash else (None, model)
    return provider, name


def _find(model: str, custom_llm_provider: str | None = None) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(model, str) or not model:
        return None
    provider, name = _split(model, custom_llm_provider)
    found = cost._lookup(name, provider) or (cost._lookup(model, provider) if name != model else None)
    if found is None and name.startswith("ft:"):
        # ft:<base>:<org>:<suffix>:<id> is priced as its base model's fine-tuned row
        base = name.split(":")[1] if name.count(":") >= 1 else ""
        found = cost._lookup("ft:" + base, provider) if base else None
    return found


def get_model_info(model: str, custom_llm_provider: str | None = None) -> dict[str, Any]:
    """Limits, prices and capabilities of a model, in the peer's ModelInfo shape."""
    found = _find(model, custom_llm_provider)
    if found is None:
        raise ModelNotMappedError(
            f"This model isn't mapped yet. model={model}, custom_llm_provider={custom_llm_provider}. "
            "Add it with llmtap.register_model({...})."
        )
    key, row = found
    info: dict[str, Any] = dict.fromkeys(MODEL_INFO_FIELDS)
    info.update(row)
    info["key"] = key
    for price in ("input_cost_per_token", "output_cost_per_token"):  # the peer's ModelInfo requires them
        if info[price] is None:
            info[price] = 0
    if info["max_tokens"] is None:
        info["max_tokens"] = row.get("max_output_tokens") or row.get("max_input_tokens")
    provider = custom_llm_provider or _TABLE_ALIASES.get(row.get("litellm_provider"), row.get("litellm_provider"))
    info["supported_openai_params"] = get_supported_openai_params(key, provider)
    return info


def _supports(field: str, model: str, custom_llm_provider: str | None) -> bool:
    found = _find(model, custom_llm_provider)
    return bool(found and found[1].get(field))


def supports_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_function_calling", model, custom_llm_provider)


def supports_parallel_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_parallel_function_calling", model, custom_llm_provider)


def supports_response_schema(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_response_schema", model, custom_llm_provider)


def supports_vision(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_vision", model, custom_llm_provider)


def supports_reasoning(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_reasoning", model, custom_llm_provider)


def supports_tool_choice(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_tool_choice", model, custom_llm_provider)


def supports_system_messages(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_system_messages", model, custom_llm_provider)


def supports_prompt_caching(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_prompt_caching", model, custom_llm_provider)


def supports_audio_input(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_audio_input", model, custom_llm_provider)


def supports_audio_output(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_audio_output", model, custom_llm_provider)


def supports_pdf_input(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_pdf_input", model, custom_llm_provider)


def supports_web_search(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_web_search", model, custom_llm_provider)


def get_max_tokens(model: str) -> int | None:
    """The most tokens the model writes in one answer (the table's legacy ``max_tokens``)."""
    info = get_model_info(model)
    return info["max_tokens"]


_NO_DEFAULT_BASE = frozenset({"openai", "text-completion-openai", "anthropic", "anthropic_text", "gemini"})


def get_llm_provider(
    model: str,
    custom_llm_provider: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    litellm_params: Any = None,
) -> tuple[str, str, str | None, str | None]:
    """(model, provider, dynamic api key, api base), as the peer returns them.

    Bare names llmtap's routing does not know are looked up in the model table, so
    ``deepseek-chat`` or ``mistral-large-latest`` resolve like in the peer."""
    from .exceptions import BadRequestError
    from .providers import get_provider, is_registered
    from .routing import first_env, resolve_provider

    try:
        provider, name = resolve_provider(model, custom_llm_provider)
    except BadRequestError:
        found = cost._lookup(model) if isinstance(model, str) and "/" not in model else None
        table_provider = found[1].get("litellm_provider") if found else None
        table_provider = _TABLE_ALIASES.get(table_provider, table_provider)
        if not table_provider or not is_registered(table_provider):
            raise
        provider, name = get_provider(table_provider), model
    provider_name = provider.name
    if provider_name == "openai" and (custom_llm_provider == "text-completion-openai" or model.startswith("text-completion-openai/")
                                      or "instruct" in name or name.startswith(("davinci", "babbage"))):
        provider_name = "text-completion-openai"
    base = api_base
    if base is None and provider_name not in _NO_DEFAULT_BASE:
        base = first_env(provider.base_env) or provider.default_base
    key = api_key
    if key is None and provider_name not in _NO_DEFAULT_BASE and provider_name != "azure":
        key = first_env(provider.key_env)
    return name, provider_name, key, base


def get_supported_openai_params(
    model: str,
    custom_llm_provider: str | None = None,
    request_type: str = "chat_completion",
) -> list[str] | None:
    """The OpenAI parameters llmtap passes on (or maps) for this model; None if the provider is
    unknown. ``drop_params`` drops exactly the ones missing from this list."""
    from .params import LIBRARY_PARAMS, WIRE_PARAMS

    try:
        name, provider_name, _, _ = get_llm_provider(model, custom_llm_provider)
    except Exception:
        return None
    from .providers import get_provider, is_registered

    if not is_registered(provider_name):
        return None
    call_type = {"chat_completion": "completion", "embeddings": "embedding", "embedding": "embedding",
                 "text_completion": "text_completion"}.get(request_type, "completion")
    provider = get_provider("openai" if provider_name == "text-completion-openai" else provider_name)
    table = WIRE_PARAMS[call_type]
    allowed = provider.params_for(name, call_type)
    names = [p for p in table if allowed is None or p in allowed]
    if call_type != "embedding":
        names.insert(0, "stream")
    names += [p for p in ("max_retries", "extra_headers") if p in LIBRARY_PARAMS]
    return names


def validate_environment(
    model: str | None = None, api_key: str | None = None, api_base: str | None = None
) -> dict[str, Any]:
    """Which environment variables a call to ``model`` still needs: ``{"keys_in_environment",
    "missing_keys"}``, the peer's shape. Names only, never values."""
    if not model:
        return {"keys_in_environment": False, "missing_keys": []}
    from .providers import get_provider
    from .routing import resolve_provider

    try:
        provider = resolve_provider(model)[0]
    except Exception:
        try:
            provider = get_provider(get_llm_provider(model)[1].replace("text-completion-openai", "openai"))
        except Exception:
            return {"keys_in_environment": False, "missing_keys": []}
    missing: list[str] = []
    if provider.base_env and not provider.default_base and not api_base and not _any_env(provider.base_env):
        missing.append(provider.base_env[0])
    if provider.version_env and provider.default_version is None and not _any_env(provider.version_env):
        missing.append(provider.version_env[0])
    if provider.needs_key and provider.key_env and not api_key and not _any_env(provider.key_env):
        missing.append(provider.key_env[0])
    return {"keys_in_environment": not missing, "missing_keys": missing}


def _any_env(names: tuple[str, ...]) -> bool:
    return any(os.environ.get(name) for name in names)


def model_list() -> list[str]:
    """Every model name in the table (the peer's ``litellm.model_list``)."""
    return list(cost.model_cost())


def get_valid_models(
    check_provider_endpoint: bool = False,
    custom_llm_provider: str | None = None,
    litellm_params: Any = None,
) -> list[str]:
    """The table's models for every provider whose key is set (or only ``custom_llm_provider``'s).

    Answered from the table alone: ``check_provider_endpoint`` is accepted for compatibility and
    does not call the provider's /models endpoint (listed in docs/differences.md)."""
    from .providers import get_provider, names

    if custom_llm_provider:
        wanted = {custom_llm_provider}
    else:
        wanted = set()
        for name in names():
            provider = get_provider(name)
            if provider.key_env and _any_env(provider.key_env):
                wanted.add(name)
        if "openai" in wanted:
            wanted.add("text-completion-openai")
    return [
        model for model, row in cost.model_cost().items()
        if row.get("litellm_provider") in wanted or _TABLE_ALIASES.get(row.get("litellm_provider")) in wanted
    ]
