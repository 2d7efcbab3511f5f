"""Which provider serves a model name, and where its key and base URL come from.

``"provider/model"`` names the provider explicitly; a bare name belongs to the provider whose
class claims it (``bare_names``, then ``bare_prefixes``: ``gpt-*`` → openai, ``claude-*`` →
anthropic, the legacy claude-2 and claude-instant-1 → anthropic_text). Keys and bases come from
the call's arguments first, then the provider's usual environment variables.
"""

from __future__ import annotations

import os

from .exceptions import AuthenticationError, BadRequestError
from .providers import get_provider, is_registered, names, provider_for_bare_name
from .providers.base import Provider
from .settings import Settings, snapshot


def resolve_provider(model: str, custom_llm_provider: str | None = None) -> tuple[Provider, str]:
    """Return (provider, the provider's own model name) or raise a clear BadRequestError."""
    if not isinstance(model, str) or not model.strip():
        raise BadRequestError("model is required: pass model='provider/model-name'", model=None)
    if custom_llm_provider:
        if not is_registered(custom_llm_provider):
            raise _unknown_provider(custom_llm_provider, model)
        prefix = custom_llm_provider + "/"
        name = model[len(prefix) :] if model.startswith(prefix) else model
        return get_provider(custom_llm_provider), name
    prefix, slash, rest = model.partition("/")
    if slash:
        if not is_registered(prefix):
            raise _unknown_provider(prefix, model)
        if not rest:
            raise BadRequestError(f"model {model!r} names a provider but no model", model=model)
        provider = get_provider(prefix)
        variant = provider.variant(rest)
        return (get_provider(variant) if variant else provider), rest
    name = provider_for_bare_name(model)
    if name is not None:
        return get_provider(name), model
    raise BadRequestError(
        f"cannot tell which provider serves model {model!r}: name it as 'provider/model', "
        f"e.g. 'openai/{model}' for an OpenAI-compatible server. Providers: {', '.join(names())}",
        model=model,
    )


def _unknown_provider(name: str, model: str) -> BadRequestError:
    return BadRequestError(
        f"unknown provider {name!r} in model {model!r}. Providers: {', '.join(names())}",
        model=model,
        llm_provider=name,
    )


def first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def resolve_key(
    provider: Provider, explicit: str | None, model: str, has_custom_base: bool, settings: Settings | None = None
) -> str | None:
    """The key from the call, else ``llmtap.<provider>_key`` / ``llmtap.api_key``, else the
    environment; a missing key fails before any request.

    An OpenAI-compatible server at a base URL the user chose may need no key at all."""
    if settings is None:
        settings = snapshot()
    key = (
        explicit
        or settings.module_key(provider.module_key)
        or (settings.api_key if provider.takes_global_key else None)
        or first_env(provider.key_env)
    )
    if key or not provider.needs_key or (has_custom_base and provider.key_optional_at_custom_base):
        return key
    names = " or ".join(provider.key_env) or "api_key="
    raise AuthenticationError(
        f"missing API key for {provider.name}: pass api_key=... or set {names}",
        llm_provider=provider.name,
        model=model,
    )


def resolve_base(provider: Provider, explicit: str | None, model: str, settings: Settings | None = None) -> str:
    if settings is None:
        settings = snapshot()
    base = explicit or settings.api_base or first_env(provider.base_env) or provider.default_base
    if not base:
        names = " or ".join(provider.base_env)
        raise BadRequestError(
            f"missing api_base for {provider.name}: pass api_base=... or set {names}",
            model=model,
            llm_provider=provider.name,
        )
    return base.rstrip("/")
