"""Which provider serves a model name, and where its key and base URL come from.

``"provider/model"`` names the provider explicitly; bare names are recognised by their family
(``gpt-*``, ``o1*``/``o3*``/``o4*``, ``text-embedding-*`` → openai; ``claude-*`` →
anthropic, the legacy claude-2 and claude-instant-1 → anthropic_text). Keys and bases come from
the call's arguments first, then the provider's usual environment variables.
"""

from __future__ import annotations

import os

from .exceptions import AuthenticationError, BadRequestError
from .providers import REGISTRY, get_provider
from .providers.base import Provider

_OPENAI_PREFIXES = (
    "gpt-",
    "o1",
    "o3",
    "o4",
    "chatgpt-",
    "text-embedding-",
    "davinci",
    "babbage",
    "omni-moderation",
    "dall-e",
    "gpt-image",
    "whisper",
    "tts-",
    "codex-",
    "computer-use-",
)


def resolve_provider(model: str, custom_llm_provider: str | None = None) -> tuple[Provider, str]:
    """Return (provider, the provider's own model name) or raise a clear BadRequestError."""
    if not isinstance(model, str) or not model.strip():
        raise BadRequestError("model is required: pass model='provider/model-name'", model=None)
    if custom_llm_provider:
        if custom_llm_provider not in REGISTRY:
            raise _unknown_provider(custom_llm_provider, model)
        prefix = custom_llm_provider + "/"
        name = model[len(prefix) :] if model.startswith(prefix) else model
        return get_provider(custom_llm_provider), name
    prefix, slash, rest = model.partition("/")
    if slash:
        if prefix == "anthropic" and rest.startswith(("claude-2", "claude-instant-1")):
            prefix = "anthropic_text"
        if prefix not in REGISTRY:
            raise _unknown_provider(prefix, model)
        if not rest:
            raise BadRequestError(f"model {model!r} names a provider but no model", model=model)
        return get_provider(prefix), rest
    if model.startswith(_OPENAI_PREFIXES):
        return get_provider("openai"), model
    if model.startswith("claude"):
        from .providers.anthropic_text import LEGACY_MODELS

        return get_provider("anthropic_text" if model in LEGACY_MODELS else "anthropic"), model
    raise BadRequestError(
        f"cannot tell which provider serves model {model!r}: name it as 'provider/model', "
        f"e.g. 'openai/{model}' for an OpenAI-compatible server. Providers: {', '.join(sorted(REGISTRY))}",
        model=model,
    )


def _unknown_provider(name: str, model: str) -> BadRequestError:
    return BadRequestError(
        f"unknown provider {name!r} in model {model!r}. Providers: {', '.join(sorted(REGISTRY))}",
        model=model,
        llm_provider=name,
    )


def first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


_MODULE_KEYS = {"openai": "openai_key", "azure": "azure_key", "anthropic": "anthropic_key",
                "anthropic_text": "anthropic_key", "gemini": "gemini_key"}


def resolve_key(provider: Provider, explicit: str | None, model: str, has_custom_base: bool) -> str | None:
    """The key from the call, else ``llmtap.<provider>_key`` / ``llmtap.api_key``, else the
    environment; a missing key fails before any request.

    An OpenAI-compatible server at a base URL the user chose may need no key at all."""
    import llmtap

    key = (
        explicit
        or getattr(llmtap, _MODULE_KEYS.get(provider.name, ""), None)
        or llmtap.api_key
        or first_env(provider.key_env)
    )
    if key or not provider.needs_key or (has_custom_base and provider.name == "openai"):
        return key
    names = " or ".join(provider.key_env) or "api_key="
    raise AuthenticationError(
        f"missing API key for {provider.name}: pass api_key=... or set {names}",
        llm_provider=provider.name,
        model=model,
    )


def resolve_base(provider: Provider, explicit: str | None, model: str) -> str:
    import llmtap

    base = explicit or llmtap.api_base or first_env(provider.base_env) or provider.default_base
    if not base:
        names = " or ".join(provider.base_env)
        raise BadRequestError(
            f"missing api_base for {provider.name}: pass api_base=... or set {names}",
            model=model,
            llm_provider=provider.name,
        )
    return base.rstrip("/")
