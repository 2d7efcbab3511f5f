"""OpenAI-compatible services: OpenAI's wire format at another base URL, with another key.

Each is one row — name, default base URL, key and base variables — so adding one is a row here
and nothing else: the registry reads this table (``PROVIDERS``) as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from .openai import OpenAI


@dataclass(frozen=True)
class Preset:
    default_base: str | None
    key_env: tuple[str, ...]
    base_env: tuple[str, ...]
    needs_key: bool = True
    otel_name: str | None = None  # gen_ai.provider.name when it is not the row's own name


PRESETS: dict[str, Preset] = {
    "groq": Preset("https://api.groq.com/openai/v1", ("GROQ_API_KEY",), ("GROQ_API_BASE",)),
    "together_ai": Preset("https://api.together.xyz/v1", ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"), ("TOGETHERAI_API_BASE",)),
    "deepseek": Preset("https://api.deepseek.com/v1", ("DEEPSEEK_API_KEY",), ("DEEPSEEK_API_BASE",)),
    "openrouter": Preset("https://openrouter.ai/api/v1", ("OPENROUTER_API_KEY",), ("OPENROUTER_API_BASE",)),
    "fireworks_ai": Preset("https://api.fireworks.ai/inference/v1", ("FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY"), ("FIREWORKS_AI_API_BASE",)),
    "perplexity": Preset("https://api.perplexity.ai", ("PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"), ("PERPLEXITY_API_BASE",)),
    "xai": Preset("https://api.x.ai/v1", ("XAI_API_KEY",), ("XAI_API_BASE",), otel_name="x_ai"),
    "hosted_vllm": Preset(None, ("HOSTED_VLLM_API_KEY",), ("HOSTED_VLLM_API_BASE",), needs_key=False),
    "lm_studio": Preset("http://localhost:1234/v1", ("LM_STUDIO_API_KEY",), ("LM_STUDIO_API_BASE",), needs_key=False),
}


class Compatible(OpenAI):
    """One row of ``PRESETS`` as a provider: OpenAI's transforms with the row's facts."""

    text_completion = "native"
    module_key = None
    bare_prefixes = ()
    key_optional_at_custom_base = False

    def __init__(self, registered_as: str | None = None) -> None:
        preset = PRESETS[registered_as]
        self.name = registered_as
        self.default_base = preset.default_base
        self.key_env = preset.key_env
        self.base_env = preset.base_env
        self.needs_key = preset.needs_key
        self.otel_name = preset.otel_name or registered_as


# What the registry reads: every row, served by Compatible.
PROVIDERS = dict.fromkeys(PRESETS, Compatible)
