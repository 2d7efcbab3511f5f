"""Ask one library (the peer or llmtap) the metadata and token questions, print the answers as JSON.

Usage: ``python helpers_probe.py <litellm|llmtap>``; test_helpers_peer.py diffs the two outputs.
Offline: no call leaves the process.
"""

from __future__ import annotations

import json
import sys

if sys.argv[1] == "litellm":
    import litellm as lib
else:
    import llmtap as lib

MODELS = [
    "gpt-4o", "gpt-4o-mini", "openai/gpt-4o", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini",
    "gpt-3.5-turbo", "text-embedding-3-small", "azure/gpt-4o", "claude-sonnet-4-5", "claude-haiku-4-5",
    "anthropic/claude-opus-4-5", "gemini/gemini-2.5-pro", "gemini/gemini-2.5-flash", "deepseek/deepseek-chat",
    "xai/grok-code-fast-1", "groq/openai/gpt-oss-120b", "mistral/mistral-large-latest", "perplexity/sonar",
    "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "ollama/llama3.1", "whisper-1", "tts-1",
    "ft:gpt-4o-mini-2024-07-18",
]
INFO_FIELDS = ["key", "max_tokens", "max_input_tokens", "max_output_tokens", "input_cost_per_token",
               "output_cost_per_token", "cache_read_input_token_cost", "litellm_provider", "mode",
               "supports_function_calling", "supports_vision", "supports_reasoning", "supports_response_schema",
               "supports_parallel_function_calling", "supports_prompt_caching"]
HELPERS = ["supports_function_calling", "supports_parallel_function_calling", "supports_vision",
           "supports_reasoning", "supports_response_schema"]
PARAMS = ["temperature", "top_p", "tools", "tool_choice", "reasoning_effort", "logprobs", "stop", "response_format",
          "max_completion_tokens", "parallel_tool_calls", "frequency_penalty"]


def attempt(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - which calls raise is part of the answer
        return {"raised": type(exc).__name__}


out: dict = {"models": {}, "tokens": {}}
for model in MODELS:
    info = attempt(lib.get_model_info, model)
    entry: dict = {"info": {f: info.get(f) for f in INFO_FIELDS} if "raised" not in info else info}
    entry["helpers"] = {h: attempt(getattr(lib, h), model) for h in HELPERS}
    entry["max_tokens"] = attempt(lib.get_max_tokens, model)
    provider = attempt(lib.get_llm_provider, model)
    entry["provider"] = list(provider[:2]) if isinstance(provider, tuple) else provider
    params = attempt(lib.get_supported_openai_params, model)
    entry["params"] = {p: p in params for p in PARAMS} if isinstance(params, list) else params
    out["models"][model] = entry

TEXTS = ["hello world", "naïve café — 東京 🚀 and Ελληνικά", "def f(x):\n    return {'a': [1, 2, 3]}\n", "<|endoftext|> x"]
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris?", "name": "bob"},
    {"role": "assistant", "content": None,
     "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "18C"},
    {"role": "user", "content": [{"type": "text", "text": "and tomorrow?"}]},
]
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather now",
    "parameters": {"type": "object", "required": ["city"], "properties": {
        "city": {"type": "string", "description": "City"}, "unit": {"type": "string", "enum": ["C", "F"]},
        "days": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}},
        "opts": {"type": "object", "properties": {"x": {"type": "boolean"}}}}}}}]
for model in ("gpt-4o", "gpt-4", "gpt-3.5-turbo", "gpt-4.1-mini", "o3-mini"):
    out["tokens"][model] = {
        "texts": [lib.token_counter(model=model, text=t) for t in TEXTS],
        "messages": lib.token_counter(model=model, messages=MESSAGES),
        "tools": lib.token_counter(model=model, messages=MESSAGES, tools=TOOLS),
        "forced": lib.token_counter(model=model, messages=MESSAGES, tools=TOOLS,
                                    tool_choice={"type": "function", "function": {"name": "get_weather"}}),
        "response": lib.token_counter(model=model, messages=MESSAGES[1:2], count_response_tokens=True),
        "encode": lib.encode(model=model, text=TEXTS[1]),
    }
print(json.dumps(out, sort_keys=True, default=str))
