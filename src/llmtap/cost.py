"""What a call cost, from the model table shipped in data/models/ (see its README).

The table is read on first use, once. ``register_model`` adds or overrides prices for custom
or private models. In the call path an unknown model gives ``None`` and one warning; the
public functions raise, because a caller asking for a price wants to know there is none.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

logger = logging.getLogger("llmtap")

_lock = threading.Lock()
_table: dict[str, dict[str, Any]] | None = None
_warned: set[str] = set()
_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4}|\d{8})$")


def model_cost() -> dict[str, dict[str, Any]]:
    global _table
    if _table is None:
        with _lock:
            if _table is None:
                from .model_table import load

                _table = load()
    return _table


def register_model(model_cost_map: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Add or update models: ``{"my-model": {"input_cost_per_token": ..., ...}}``."""
    table = model_cost()
    with _lock:
        for name, info in model_cost_map.items():
            table[name] = {**table.get(name, {}), **info}
            _warned.discard(name)
        _found.clear()
    return table


_ENDPOINT_TYPES = frozenset({"image_generation", "transcription", "speech", "moderation", "rerank"})
_found: dict[tuple[str, str | None], tuple[str, dict[str, Any]] | None] = {}


def _lookup(model: str | None, provider: str | None = None) -> tuple[str, dict[str, Any]] | None:
    """The table entry for a model name, trying provider-prefixed and undated forms; memoised."""
    if not model:
        return None
    key = (model, provider)
    try:
        return _found[key]
    except KeyError:
        if len(_found) >= 4096:  # names come from callers (fine-tune ids, deployments): stay bounded
            _found.clear()
        found = _found[key] = _search(model, provider)
        return found


def _search(model: str, provider: str | None) -> tuple[str, dict[str, Any]] | None:
    table = model_cost()
    candidates = [model]
    if provider:
        candidates.insert(0, f"{provider}/{model}")
    prefix, slash, rest = model.partition("/")
    if slash:
        candidates.append(rest)
    for name in list(candidates):
        # A fine-tuned OpenAI model, ft:<base>:<org>:<suffix>:<id>, is priced as ft:<base>.
        if name.startswith("ft:") and name.count(":") > 1:
            candidates.append("ft:" + name[3:].split(":", 1)[0])
    for name in list(candidates):
        stripped = _DATE_SUFFIX.sub("", name)
        if stripped != name:
            candidates.append(stripped)
    for name in candidates:
        info = table.get(name)
        if info is not None:
            return name, info
    return None


def get_model_info(model: str, custom_llm_provider: str | None = None) -> dict[str, Any]:
    found = _lookup(model, custom_llm_provider)
    if found is None:
        raise ValueError(
            f"model {model!r} is not in llmtap's price table; add it with llmtap.register_model()"
        )
    name, info = found
    return {"key": name, **info}


def cost_per_token(
    model: str = "",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    custom_llm_provider: str | None = None,
    cache_read_input_tokens: int = 0,
    cache_creation_input_tokens: int = 0,
) -> tuple[float, float]:
    """(prompt cost, completion cost) in USD; cached prompt tokens at their own rate."""
    info = get_model_info(model, custom_llm_provider)
    return _price(info, prompt_tokens, completion_tokens, cache_read_input_tokens, cache_creation_input_tokens)


def _price(info: dict, prompt: int, completion: int, cached: int, created: int) -> tuple[float, float]:
    input_rate = info.get("input_cost_per_token") or 0.0
    cached_rate = info.get("cache_read_input_token_cost", input_rate)
    creation_rate = info.get("cache_creation_input_token_cost", input_rate)
    uncached = max(0, prompt - cached - created)
    prompt_cost = uncached * input_rate + cached * cached_rate + created * creation_rate
    return prompt_cost, completion * (info.get("output_cost_per_token") or 0.0)


def completion_cost(
    completion_response: Any = None,
    model: str | None = None,
    prompt: str = "",
    messages: list | None = None,
    completion: str = "",
    custom_llm_provider: str | None = None,
    call_type: str = "completion",
    custom_cost_per_token: dict | None = None,
) -> float:
    """The USD cost of a response, or of a prompt and completion text (tokens estimated).

    ``custom_cost_per_token={"input_cost_per_token": ..., "output_cost_per_token": ...}``
    prices with those rates and no model lookup (a model the table does not know)."""
    if completion_response is not None:
        usage = getattr(completion_response, "usage", None)
        name = model or getattr(completion_response, "model", None)
        hidden = getattr(completion_response, "_hidden_params", None) or {}
        provider = custom_llm_provider or hidden.get("custom_llm_provider")
        prompt_tokens, completion_tokens, cached, created = _usage_numbers(usage)
    else:
        from .tokens import token_counter

        name, provider = model, custom_llm_provider
        prompt_tokens = token_counter(model=model, messages=messages) if messages else token_counter(
            model=model, text=prompt or ""
        )
        completion_tokens = token_counter(model=model, text=completion) if completion else 0
        cached = created = 0
    if custom_cost_per_token is not None:
        info = {
            "input_cost_per_token": float(custom_cost_per_token.get("input_cost_per_token") or 0.0),
            "output_cost_per_token": float(custom_cost_per_token.get("output_cost_per_token") or 0.0),
        }
        prompt_cost, completion_cost_ = _price(info, prompt_tokens, completion_tokens, cached, created)
        return prompt_cost + completion_cost_
    if not name:
        raise ValueError("completion_cost needs a model or a response that names one")
    info = get_model_info(name, provider)
    prompt_cost, completion_cost_ = _price(info, prompt_tokens, completion_tokens, cached, created)
    return prompt_cost + completion_cost_


def _usage_numbers(usage: Any) -> tuple[int, int, int, int]:
    if usage is None:
        return 0, 0, 0, 0
    prompt = getattr(usage, "prompt_tokens", 0) or 0
    completion = getattr(usage, "completion_tokens", 0) or 0
    details = getattr(usage, "prompt_tokens_details", None)
    cached = (details.get("cached_tokens") if isinstance(details, dict) else getattr(details, "cached_tokens", 0)) or 0
    cached = cached or getattr(usage, "cache_read_input_tokens", 0) or 0
    created = getattr(usage, "cache_creation_input_tokens", 0) or 0
    return int(prompt), int(completion), int(cached), int(created)


def response_cost(response: Any, call: Any) -> float | None:
    """The call path's cost: never raises; an unknown model warns once and gives None."""
    if call.call_type in _ENDPOINT_TYPES:  # priced per image, second, character or query
        from .endpoint_costs import endpoint_cost

        return endpoint_cost(response, call)
    if call.input_cost_per_token is not None:
        prompt, completion, _, _ = _usage_numbers(getattr(response, "usage", None))
        return prompt * call.input_cost_per_token + completion * (call.output_cost_per_token or 0.0)
    found = _lookup(call.provider_model, call.provider_name) or _lookup(
        getattr(response, "model", None), call.provider_name
    )
    if found is None:
        name = call.model
        if name not in _warned:
            _warned.add(name)
            logger.warning(
                "llmtap: no price for model %r; response_cost is None (add it with llmtap.register_model)",
                name,
            )
        return None
    try:
        prompt, completion, cached, created = _usage_numbers(getattr(response, "usage", None))
        prompt_cost, completion_cost_ = _price(found[1], prompt, completion, cached, created)
        return prompt_cost + completion_cost_
    except Exception:  # a malformed usage must not break logging
        logger.debug("llmtap: could not price %r", call.model, exc_info=True)
        return None
