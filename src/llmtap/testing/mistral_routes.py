"""Mistral's own chat and embeddings routes, under ``/mistral/v1`` (``emulator.url + BASE_PATH``).

Stricter than OpenAI's, as Mistral is: a field it does not know is a 422 ``extra_forbidden``
(so ``seed``, ``max_completion_tokens`` or a ``name`` on a user message fail as they would
there); ``tool_choice`` takes "auto", "none", "any", "required" or a function; an assistant
turn with neither content nor tool calls is refused. Errors have Mistral's top-level shape.
Streams carry usage on the chunk with the finish reason, then ``[DONE]``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from . import openai_routes
from .common import (
    DEFAULT_PREFIX,
    bearer,
    last_user_text,
    prompt_tokens,
    route,
    split_content,
    text_of,
    vector,
)
from .http import Request, Response, StreamResponse, fault_response
from .script import Fault, Reply

BASE_PATH = "/mistral/v1"
_CHAT_FIELDS = frozenset({
    "model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed", "response_format",
    "tools", "tool_choice", "presence_penalty", "frequency_penalty", "n", "prediction", "parallel_tool_calls",
    "prompt_mode", "safe_prompt",
})
_EMBEDDING_FIELDS = frozenset({"model", "input", "output_dimension", "output_dtype", "encoding_format"})
_MESSAGE_FIELDS = {
    "system": {"role", "content"},
    "user": {"role", "content"},
    "assistant": {"role", "content", "tool_calls", "prefix"},
    "tool": {"role", "content", "tool_call_id", "name"},
}
_TYPES = {400: "invalid_request_error", 401: "unauthorized", 404: "invalid_request_error", 422: "invalid_request_error",
          429: "rate_limited", 500: "internal_error", 503: "service_unavailable"}


def error_body(status: int, message: Any = None, code: str | None = None) -> dict:
    return {"object": "error", "message": message or f"error {status}", "type": _TYPES.get(status, "internal_error"),
            "param": None, "code": code}


def _error(status: int, message: Any, code: str | None = None) -> Response:
    return Response.json(error_body(status, message, code), status)


def _extra(loc: list, value: Any) -> dict:
    return {"type": "extra_forbidden", "loc": loc, "msg": "Extra inputs are not permitted", "input": value}


def _problems(body: dict, allowed: frozenset[str]) -> list[dict]:
    problems = [_extra(["body", key], value) for key, value in body.items() if key not in allowed]
    for index, message in enumerate(body.get("messages") or ()):
        fields = _MESSAGE_FIELDS.get(message.get("role") if isinstance(message, dict) else None)
        if fields is None:
            problems.append({"type": "union_tag_invalid", "loc": ["body", "messages", index], "msg": "unknown role"})
            continue
        problems += [_extra(["body", "messages", index, message["role"], key], value)
                     for key, value in message.items() if key not in fields]
    choice = body.get("tool_choice")
    if choice is not None and choice not in ("auto", "none", "any", "required") and not (
        isinstance(choice, dict) and choice.get("type") == "function"
    ):
        problems.append({"type": "enum", "loc": ["body", "tool_choice"], "msg": "Input should be 'auto', 'none', 'any' or 'required'"})
    return problems


def _checked(emulator: Any, request: Request, allowed: frozenset[str]) -> Response | None:
    key = bearer(request)
    if not key or (emulator.api_key is not None and key != emulator.api_key):
        return Response.json({"message": "Unauthorized", "request_id": uuid.uuid4().hex}, 401)
    if not isinstance(request.json, dict):
        return _error(400, "Invalid JSON body")
    problems = _problems(request.json, allowed)
    if problems:
        return _error(422, {"detail": problems})
    return None


def chat(emulator: Any, request: Request, _: Any) -> Response | StreamResponse:
    denied = _checked(emulator, request, _CHAT_FIELDS)
    if denied is not None:
        return denied
    body = request.json
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _error(400, "Messages must not be empty")
    for message in messages:
        if message.get("role") == "assistant" and not message.get("content") and not message.get("tool_calls"):
            return _error(400, "Assistant message must have either content or tool_calls, but not none.", "3230")
    item = emulator.next_item(request)
    fault = item if isinstance(item, Fault) else None
    if fault is not None and not fault.breaks_stream:
        return fault_response(fault, error_body)
    reply = item if isinstance(item, Reply) else Reply()
    content = reply.content if reply.content is not None else DEFAULT_PREFIX + last_user_text(messages)
    calls = [{"id": uuid.uuid4().hex[:9], "type": "function", "function": {"name": c["name"], "arguments": c.get("arguments", "{}")}}
             for c in reply.tool_calls or ()]
    finish = reply.finish_reason or ("tool_calls" if calls else "stop")
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else prompt_tokens(
        [text_of(m.get("content")) for m in messages if isinstance(m, dict)]
    )
    completion = reply.completion_tokens if reply.completion_tokens is not None else max(1, len(content.split()))
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    base = {"id": uuid.uuid4().hex, "created": int(time.time()), "model": body.get("model")}
    if not body.get("stream"):
        message = {"role": "assistant", "content": "" if calls else content, "tool_calls": calls or None, "prefix": False}
        choice = {"index": 0, "message": message, "finish_reason": finish}
        return Response.json({**base, "object": "chat.completion", "choices": [choice], "usage": usage},
                             headers=dict(reply.headers or {}), delay=reply.delay)
    chunk = {**base, "object": "chat.completion.chunk"}
    events: list[Any] = [{**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    if calls:
        events.append({**chunk, "choices": [{"index": 0, "delta": {"tool_calls": [{**c, "index": i} for i, c in enumerate(calls)]},
                                             "finish_reason": None}]})
    else:
        events += [{**chunk, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                   for piece in split_content(content, reply.chunks)]
    events.append({**chunk, "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": finish}], "usage": usage})
    return openai_routes.stream_events(events, reply, fault, 1, dict(reply.headers or {}))


def embeddings(emulator: Any, request: Request, _: Any) -> Response:
    denied = _checked(emulator, request, _EMBEDDING_FIELDS)
    if denied is not None:
        return denied
    item = emulator.next_item(request)
    if isinstance(item, Fault):
        return fault_response(item, error_body)
    body = request.json
    items = [body.get("input")] if isinstance(body.get("input"), str) else list(body.get("input") or ())
    if not items:
        return _error(400, "input must not be empty")
    size = body.get("output_dimension") or 8
    data = [{"object": "embedding", "index": i, "embedding": vector(str(text), size)} for i, text in enumerate(items)]
    tokens = prompt_tokens([str(text) for text in items])
    return Response.json({"id": uuid.uuid4().hex, "object": "list", "data": data, "model": body.get("model"),
                          "usage": {"prompt_tokens": tokens, "total_tokens": tokens, "completion_tokens": 0}})


ROUTES = (
    route("POST", r"^/mistral/v1/chat/completions$", chat),
    route("POST", r"^/mistral/v1/embeddings$", embeddings),
)
