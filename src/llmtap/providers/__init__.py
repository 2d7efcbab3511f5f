"""The provider registry: a name, and where its module lives. Adding a provider is one line here.

Provider modules are imported on first use, so a call to one provider never pays for the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Provider

REGISTRY: dict[str, str] = {
    "openai": "llmtap.providers.openai:OpenAI",
    "text-completion-openai": "llmtap.providers.openai:OpenAI",
    "azure": "llmtap.providers.azure:Azure",
    "anthropic": "llmtap.providers.anthropic:Anthropic",
    "anthropic_text": "llmtap.providers.anthropic_text:AnthropicText",
    "gemini": "llmtap.providers.gemini:Gemini",
    "ollama": "llmtap.providers.ollama:Ollama",
    "ollama_chat": "llmtap.providers.ollama:Ollama",
    # OpenAI-compatible services, one row each in providers/compatible.py
    **{name: "llmtap.providers.compatible:Compatible" for name in (
        "groq", "together_ai", "deepseek", "mistral", "openrouter", "fireworks_ai", "perplexity",
        "xai", "hosted_vllm", "lm_studio",
    )},
}

_loaded: dict[str, Provider] = {}


def get_provider(name: str) -> Provider:
    provider = _loaded.get(name)
    if provider is None:
        module_name, _, class_name = REGISTRY[name].partition(":")
        provider = getattr(importlib.import_module(module_name), class_name)(name)
        _loaded[name] = provider
    return provider
