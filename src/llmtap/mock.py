"""The bytes a provider would have sent for ``mock_response=...``: OpenAI's JSON and SSE.

Mock answers are parsed by the same provider code as real ones, so users' tests that use
``mock_response`` exercise the same pipeline, callbacks and stream handling as production.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from .tokens import estimate_tokens as token_counter

if TYPE_CHECKING:
    from .call import Call

_PIECES = re.compile(r"\S+\s*|\s+")


def magic_error(call: Call, mock: str) -> Exception | None:
    """The peer's ``mock_response`` strings that raise instead of answering."""
    from . import exceptions as E

    provider = call.provider_name
    if mock == "litellm.RateLimitError":
        return E.RateLimitError("this is a mock rate limit error", llm_provider=provider, model=call.model)
    if mock == "litellm.ContextWindowExceededError":
        return E.ContextWindowExceededError(
            "this is a mock context window exceeded error", llm_provider=provider, model=call.model
        )
    if mock == "litellm.InternalServerError":
        return E.InternalServerError("this is a mock internal server error", llm_provider=provider, model=call.model)
    if mock.startswith("Exception: content_filter_policy"):
        return E.ContentPolicyViolationError(mock, llm_provider="azure", model=call.model)
    if mock.startswith("Exception: mock_streaming_error"):
        return E.InternalServerError(
            "This is a mock error raised mid-stream", llm_provider="anthropic", model=call.model, status_code=529
        )
    return None


def mock_body(call: Call, mock: Any) -> tuple[bytes, list[bytes]]:
    """(the JSON body, the SSE stream split into network-sized pieces) for a mock answer."""
    if hasattr(mock, "model_dump"):
        data = mock.model_dump()
        return json.dumps(data).encode(), _sse([_as_chunk(data)])
    content = str(mock)
    created = int(time.time())
    ident = "chatcmpl-mock-" + uuid.uuid4().hex[:12]
    prompt_tokens = token_counter(model=call.model, messages=call.messages) if call.messages else 1
    completion_tokens = token_counter(model=call.model, text=content) if content else 0
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    model = call.provider_model
    if call.call_type == "embedding":
        items = call.input if isinstance(call.input, list) else [call.input]
        if isinstance(mock, list):  # the peer: the mock list is the (one) embedding returned
            vectors = [{"object": "embedding", "index": 0, "embedding": mock}]
        else:
            vectors = [{"object": "embedding", "index": i, "embedding": [0.0] * 8} for i in range(len(items))]
        data = {
            "object": "list",
            "model": model,
            "data": vectors,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }
        return json.dumps(data).encode(), []
    if call.call_type == "text_completion":
        base = {"id": ident, "object": "text_completion", "created": created, "model": model}
        whole = {**base, "choices": [{"index": 0, "text": content, "logprobs": None, "finish_reason": "stop"}], "usage": usage}
        pieces = [{**base, "choices": [{"index": 0, "text": piece, "logprobs": None, "finish_reason": None}]} for piece in _PIECES.findall(content)]
        pieces.append({**base, "choices": [{"index": 0, "text": "", "logprobs": None, "finish_reason": "stop"}], "usage": usage})
        return json.dumps(whole).encode(), _sse(pieces)
    base = {"id": ident, "created": created, "model": model, "system_fingerprint": None}
    whole = {
        **base,
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "logprobs": None, "finish_reason": "stop"}],
        "usage": usage,
    }
    chunk = {**base, "object": "chat.completion.chunk"}
    pieces = [{**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    pieces += [{**chunk, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]} for piece in _PIECES.findall(content)]
    pieces.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage})
    return json.dumps(whole).encode(), _sse(pieces)


def _as_chunk(data: dict) -> dict:
    choices = [
        {"index": c.get("index", 0), "delta": c.get("message", {}), "finish_reason": c.get("finish_reason") or "stop"}
        for c in data.get("choices", [])
    ]
    return {**data, "object": "chat.completion.chunk", "choices": choices}


def stream_from_response(data: dict) -> list[bytes]:
    """Replay a whole response as a stream: role, text in word pieces, tool calls, finish+usage."""
    if data.get("object") == "text_completion":
        base = {k: data.get(k) for k in ("id", "object", "created", "model")}
        events = []
        for choice in data.get("choices", []):
            for piece in _PIECES.findall(choice.get("text") or ""):
                events.append({**base, "choices": [{"index": choice.get("index", 0), "text": piece, "finish_reason": None}]})
            events.append({**base, "choices": [{"index": choice.get("index", 0), "text": "", "finish_reason": choice.get("finish_reason") or "stop"}]})
        if events:
            events[-1]["usage"] = data.get("usage")
        return _sse(events)
    base = {k: data.get(k) for k in ("id", "created", "model", "system_fingerprint")}
    base["object"] = "chat.completion.chunk"
    events = []
    for choice in data.get("choices", []):
        index = choice.get("index", 0)
        message = choice.get("message") or {}
        events.append({**base, "choices": [{"index": index, "delta": {"role": message.get("role", "assistant"), "content": ""}, "finish_reason": None}]})
        for piece in _PIECES.findall(_text(message.get("content"))):
            events.append({**base, "choices": [{"index": index, "delta": {"content": piece}, "finish_reason": None}]})
        calls = message.get("tool_calls") or []
        if calls:
            deltas = [{"index": i, **call} for i, call in enumerate(calls)]
            events.append({**base, "choices": [{"index": index, "delta": {"tool_calls": deltas}, "finish_reason": None}]})
        events.append({**base, "choices": [{"index": index, "delta": {}, "finish_reason": choice.get("finish_reason") or "stop"}]})
    if events:
        events[-1]["usage"] = data.get("usage")
    return _sse(events)


def _text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a list of content parts."""
    if isinstance(content, list):
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return content if isinstance(content, str) else ""


def _sse(events: list[dict]) -> list[bytes]:
    lines = [b"data: " + json.dumps(event).encode() + b"\n\n" for event in events]
    lines.append(b"data: [DONE]\n\n")
    return lines
