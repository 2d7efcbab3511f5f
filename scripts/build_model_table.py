"""Rebuild src/llmtap/data/models/*.json, llmtap's model table (prices, limits, capabilities).

Maintainer tool, not run by the library or by CI. Usage:

    python scripts/build_model_table.py PUBLIC_MAP.json

PUBLIC_MAP.json is LiteLLM's public model map (model_prices_and_context_window.json, MIT), used
as a cross-reference of the providers' published prices and limits. The script keeps only the
providers llmtap serves, only the fields llmtap reads, and lays the rows out one file per
provider. Rows in data/models/_curated.json (models the public map has retired but people still
call, local-model defaults, corrections) are written by hand and win over the map. Files named in
``HAND_WRITTEN`` (bedrock.json, vertex_ai.json, ...) are never touched by this script.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "src" / "llmtap" / "data" / "models"

# provider in the public map -> the file its rows go to
PROVIDERS = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "azure": "azure",
    "azure_text": "azure",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama",
    "mistral": "mistral",
    "codestral": "mistral",
    "text-completion-codestral": "mistral",
    "groq": "groq",
    "together_ai": "together_ai",
    "deepseek": "deepseek",
    "openrouter": "openrouter",
    "fireworks_ai": "fireworks_ai",
    "fireworks_ai-embedding-models": "fireworks_ai",
    "perplexity": "perplexity",
    "xai": "xai",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "jina_ai": "jina_ai",
    "deepinfra": "deepinfra",
    "cerebras": "cerebras",
    "sambanova": "sambanova",
    "nvidia_nim": "nvidia_nim",
    "hosted_vllm": "hosted_vllm",
    "lm_studio": "lm_studio",
}

HAND_WRITTEN = {"_curated", "bedrock", "vertex_ai"}

KEEP = {
    "litellm_provider", "mode", "max_tokens", "max_input_tokens", "max_output_tokens",
    "input_cost_per_token", "output_cost_per_token",
    "cache_read_input_token_cost", "cache_creation_input_token_cost",
    "input_cost_per_token_above_128k_tokens", "output_cost_per_token_above_128k_tokens",
    "input_cost_per_token_above_200k_tokens", "output_cost_per_token_above_200k_tokens",
    "cache_read_input_token_cost_above_200k_tokens",
    "input_cost_per_token_batches", "output_cost_per_token_batches",
    "input_cost_per_audio_token", "output_cost_per_audio_token", "output_cost_per_reasoning_token",
    "input_cost_per_second", "output_cost_per_second",
    "input_cost_per_character", "output_cost_per_character",
    "input_cost_per_image", "output_cost_per_image", "input_cost_per_pixel", "output_cost_per_pixel",
    "input_cost_per_query", "input_cost_per_request", "output_vector_size",
    "search_context_cost_per_query", "deprecation_date", "supported_endpoints",
    "supported_modalities", "supported_output_modalities", "source",
}


def main(path: str) -> None:
    public = json.loads(Path(path).read_text("utf-8"))
    files: dict[str, dict[str, dict]] = {}
    for name, row in public.items():
        if not isinstance(row, dict) or name == "sample_spec":
            continue
        target = PROVIDERS.get(row.get("litellm_provider", ""))
        if target is None:
            continue
        kept = {k: v for k, v in row.items() if k in KEEP or k.startswith("supports_")}
        files.setdefault(target, {})[name] = kept
    for target, rows in files.items():
        assert target not in HAND_WRITTEN
        out = DATA / f"{target}.json"
        out.write_text(dump(rows), "utf-8")
        print(f"{out.name}: {len(rows)} models")


def dump(rows: dict[str, dict]) -> str:
    """One model per line: a price change is a one-line diff."""
    lines = [f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in sorted(rows.items())]
    return "{\n" + ",\n".join(lines) + "\n}\n"


if __name__ == "__main__":
    main(sys.argv[1])
