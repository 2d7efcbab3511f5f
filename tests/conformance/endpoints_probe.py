"""Call the other endpoints through one library (the peer or llmtap) against the emulator and
print the shape of each answer as JSON; test_endpoints_peer.py diffs the two outputs.

Usage: ``python endpoints_probe.py <litellm|llmtap>`` with ``CONFORMANCE_BASE`` (the emulator's
root URL) and ``CONFORMANCE_KEY`` set.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback

if sys.argv[1] == "litellm":
    import litellm as lib
else:
    import llmtap as lib

BASE = os.environ["CONFORMANCE_BASE"]
KEY = os.environ["CONFORMANCE_KEY"]
OPENAI = {"api_base": BASE + "/v1", "api_key": KEY}


def shape(value: object, depth: int = 0) -> object:
    if hasattr(value, "model_dump") and not isinstance(value, type):
        value = value.model_dump()
    if isinstance(value, dict):
        return {str(k): shape(v, depth + 1) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))} if depth < 4 else "dict"
    if isinstance(value, (list, tuple)):
        return [shape(value[0], depth + 1)] if value else []
    return type(value).__name__


def record(name: str, fn) -> None:
    try:
        result = fn()
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        out[name] = {"type": type(result).__name__, "shape": shape(result), "text": summary(name, result)}
    except Exception as exc:  # noqa: BLE001 - which calls raise is part of the answer
        out[name] = {"raised": type(exc).__name__, "detail": "".join(traceback.format_exception_only(exc))[-300:]}


def summary(name: str, result: object) -> object:
    """A few values that must agree, whatever the shape."""
    if name.startswith("responses"):
        return result.output[0].content[0].text
    if name.startswith("image"):
        return [d.url for d in result.data]
    if name.startswith("transcription"):
        return result.text
    if name.startswith("speech"):
        return len(result.content)
    if name.startswith("moderation"):
        return [r.flagged for r in result.results]
    if name.startswith("rerank"):
        return [(r["index"], round(r["relevance_score"], 4)) for r in result.results]  # the peer's are dicts
    return None


def stream_types() -> list:
    return [event.type for event in lib.responses(model="openai/gpt-4o-mini", input="hi", stream=True, **OPENAI)]


out: dict = {}
record("responses", lambda: lib.responses(model="openai/gpt-4o-mini", input="Tell me a joke", **OPENAI))
record("aresponses", lambda: lib.aresponses(model="openai/gpt-4o-mini", input="Tell me a joke", **OPENAI))
try:
    out["responses_stream"] = stream_types()
except Exception as exc:  # noqa: BLE001
    out["responses_stream"] = {"raised": type(exc).__name__, "detail": str(exc)[-300:]}
record("image_generation", lambda: lib.image_generation(prompt="a red fox", model="openai/dall-e-3", **OPENAI))
record("transcription", lambda: lib.transcription(model="openai/whisper-1", file=("a.mp3", b"x" * 3200), **OPENAI))
record("speech", lambda: lib.speech(model="openai/tts-1", input="Hello there", voice="alloy", **OPENAI))
record("moderation", lambda: lib.moderation(input="I will kill the process", model="omni-moderation-latest", **OPENAI))
record("rerank", lambda: lib.rerank(model="cohere/rerank-v3.5", query="capital of France",
                                    documents=["Paris is in France", "Cats sleep", "The capital of France is Paris"],
                                    api_base=BASE, api_key=KEY))
print(json.dumps(out, sort_keys=True, default=str))
