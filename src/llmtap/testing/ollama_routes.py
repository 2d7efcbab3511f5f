"""Ollama's native routes: /api/chat, /api/generate (NDJSON streams) and /api/embed."""

from __future__ import annotations

import json
from typing import Any

from .common import DEFAULT_PREFIX, arguments_of, route, split_content, vector
from .http import Request, Response, StreamResponse, fault_response
from .script import Fault, Reply


def _error(status: int, message: str) -> Response:
    return Response.json({"error": message}, status)


def _fault(fault: Fault) -> Response:
    return fault_response(fault, lambda status, message, code: {"error": message or f"error {status}"})


def _answer(request: Request, item: Reply | Fault | None, text: str, chat: bool) -> Response | StreamResponse:
    body = request.json
    fault = item if isinstance(item, Fault) else None
    if fault is not None and not fault.breaks_stream:
        return _fault(fault)
    reply = item if isinstance(item, Reply) else Reply()
    content = reply.content if reply.content is not None else DEFAULT_PREFIX + text[:200]
    model = body.get("model")
    stamp = "2026-01-01T00:00:00Z"
    prompt = reply.prompt_tokens or max(1, len(text.split()) + 4)
    output = reply.completion_tokens or max(1, len(content.split()))
    calls = [{"function": {"name": c["name"], "arguments": arguments_of(c)}} for c in reply.tool_calls or ()]
    final: dict[str, Any] = {"model": model, "created_at": stamp, "done": True, "done_reason": reply.finish_reason or "stop",
                             "prompt_eval_count": prompt, "eval_count": output, "total_duration": 1000}
    if body.get("stream", True) is False:
        if chat:
            message: dict[str, Any] = {"role": "assistant", "content": "" if calls else content}
            if calls:
                message["tool_calls"] = calls
            return Response.json({**final, "message": message}, delay=reply.delay)
        return Response.json({**final, "response": content}, delay=reply.delay)
    lines = []
    for piece in split_content(content, reply.chunks) if not calls else []:
        line = {"model": model, "created_at": stamp, "done": False}
        line.update({"message": {"role": "assistant", "content": piece}} if chat else {"response": piece})
        lines.append(line)
    if calls:
        lines.append({"model": model, "created_at": stamp, "done": False, "message": {"role": "assistant", "content": "", "tool_calls": calls}})
    lines.append({**final, **({"message": {"role": "assistant", "content": ""}} if chat else {"response": ""})})
    ending = "done"
    if fault is not None and fault.cut_after is not None:
        lines = lines[: fault.cut_after]
        ending = fault.cut_mode
    pieces = [json.dumps(line).encode() + b"\n" for line in lines]
    if fault is not None and fault.malformed:
        pieces.insert(1, b"{not json\n")
    return StreamResponse(pieces, headers={"content-type": "application/x-ndjson"}, delay=reply.delay, piece_delay=reply.chunk_delay, ending=ending)


def chat(request: Request, item: Reply | Fault | None) -> Response | StreamResponse:
    messages = request.json.get("messages")
    if not isinstance(messages, list) or not messages:
        return _error(400, "messages is required")
    last = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    return _answer(request, item, last, chat=True)


def generate(request: Request, item: Reply | Fault | None) -> Response | StreamResponse:
    prompt = request.json.get("prompt")
    if not isinstance(prompt, str):
        return _error(400, "prompt is required")
    return _answer(request, item, prompt, chat=False)


def embed(request: Request, item: Reply | Fault | None) -> Response:
    if isinstance(item, Fault):
        return _fault(item)
    value = request.json.get("input")
    items = [value] if isinstance(value, str) else list(value or [])
    if not items:
        return _error(400, "input is required")
    dims = request.json.get("dimensions") or 8
    return Response.json({"model": request.json.get("model"), "embeddings": [vector(t, dims) for t in items], "prompt_eval_count": len(items) * 3})


def _route(handler: Any) -> Any:
    def answer(emulator: Any, request: Request, _: Any) -> Response | StreamResponse:
        if not isinstance(request.json, dict):
            return Response.json({"error": "invalid JSON body"}, 400)
        return handler(request, emulator.next_item(request))

    return answer


ROUTES = (
    route("POST", r"^/api/chat$", _route(chat)),
    route("POST", r"^/api/generate$", _route(generate)),
    route("POST", r"^/api/embed$", _route(embed)),
)
