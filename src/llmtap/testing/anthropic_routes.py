"""Anthropic's routes: the Messages API (/v1/messages) and legacy Text Completions (/v1/complete)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from .common import (
    DEFAULT_PREFIX,
    PIECES,
    arguments_of,
    bearer,
    forced_tool_call,
    route,
    split_content,
    text_of,
)
from .http import Request, Response, StreamResponse, fault_response
from .script import Fault, Reply

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_response(status: int, kind: str | None = None, message: str | None = None) -> Response:
    kind = kind or ERROR_TYPES.get(status, "api_error")
    return Response.json({"type": "error", "error": {"type": kind, "message": message or f"{kind} ({status})"}}, status)


def check_auth(request: Request, api_key: str | None) -> Response | None:
    """``x-api-key``, or ``Authorization: Bearer`` as current SDKs may send it; any
    ``anthropic-version`` date (the SDKs move to newer ones)."""
    key = request.headers.get("x-api-key") or bearer(request)
    if not key or (api_key is not None and key != api_key):
        return error_response(401, "authentication_error", "invalid x-api-key")
    if "anthropic-version" not in request.headers:
        return error_response(400, "invalid_request_error", "anthropic-version: header is required")
    return None


def _error_body(status: int, message: str | None, code: str | None) -> dict:
    if code == "context_length_exceeded":
        message = "prompt is too long: 210000 tokens > 200000 maximum"
    kind = ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message or f"{kind} ({status})"}}


def _fault(fault: Fault) -> Response:
    return fault_response(fault, _error_body)


def _sse(events: list[tuple[str, Any]], reply: Reply, fault: Fault | None, head: int) -> StreamResponse:
    ending = "done"
    if fault is not None and fault.cut_after is not None:
        events = events[: head + fault.cut_after]
        ending = fault.cut_mode
    pieces = []
    for index, (name, data) in enumerate(events):
        payload = data if isinstance(data, bytes) else json.dumps(data).encode()
        pieces.append(b"event: " + name.encode() + b"\ndata: " + payload + b"\n\n")
        if fault is not None and fault.malformed and index == head:
            pieces.append(b"event: content_block_delta\ndata: {not json\n\n")
        if reply.keepalive_comments:
            pieces.append(b'event: ping\ndata: {"type": "ping"}\n\n')
    return StreamResponse(
        pieces,
        headers={"content-type": "text/event-stream; charset=utf-8", "request-id": "req_" + uuid.uuid4().hex[:24]},
        delay=reply.delay,
        piece_delay=reply.chunk_delay,
        ending=ending,
    )


def messages(request: Request, item: Reply | Fault | None) -> Response | StreamResponse:
    body = request.json
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return error_response(400, None, "messages: field required")
    if not isinstance(body.get("max_tokens"), int):
        return error_response(400, None, "max_tokens: field required")
    fault = item if isinstance(item, Fault) else None
    if fault is not None and not fault.breaks_stream:
        return _fault(fault)
    reply = item if isinstance(item, Reply) else Reply()
    if reply.tool_calls is None and reply.content is None:
        forced = forced_tool_call(body.get("tools"), body.get("tool_choice"))
        if forced is not None:  # Anthropic answers a forced tool_choice with a tool_use block
            reply = dataclasses.replace(reply, tool_calls=[forced])
    last = next((text_of(m.get("content")) for m in reversed(body["messages"]) if m.get("role") == "user"), "")
    content = reply.content if reply.content is not None else DEFAULT_PREFIX + last[:200]
    stop = "tool_use" if reply.tool_calls else ("end_turn" if reply.finish_reason is None else reply.finish_reason)
    words = PIECES.findall(content)
    if not reply.tool_calls and len(words) > body["max_tokens"]:
        content, stop = "".join(words[: body["max_tokens"]]).rstrip(), "max_tokens"
    system = body.get("system")
    prompt = reply.prompt_tokens or max(1, sum(len(text_of(m.get("content")).split()) + 4 for m in body["messages"]) + len(text_of(system).split()))
    output = reply.completion_tokens or max(1, len(content.split()))
    blocks: list[dict] = [] if reply.tool_calls and reply.content is None else [{"type": "text", "text": content}]
    for call in reply.tool_calls or ():
        blocks.append({"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:20], "name": call["name"], "input": arguments_of(call)})
    ident = "msg_" + uuid.uuid4().hex[:24]
    model = body.get("model")
    usage = {"input_tokens": prompt, "output_tokens": output, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    if not body.get("stream"):
        return Response.json(
            {"id": ident, "type": "message", "role": "assistant", "model": model, "content": blocks,
             "stop_reason": stop, "stop_sequence": None, "usage": usage},
            headers={"request-id": "req_" + uuid.uuid4().hex[:24], **(reply.headers or {})},
            delay=reply.delay,
        )
    events: list[tuple[str, Any]] = [
        ("message_start", {"type": "message_start", "message": {"id": ident, "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}}),
    ]
    head = len(events)
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}))
            for piece in split_content(block["text"], reply.chunks):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}))
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}))
            for piece in split_content(json.dumps(block["input"]), None):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": piece}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": output}}))
    events.append(("message_stop", {"type": "message_stop"}))
    if fault is not None and fault.mid_stream:
        events = events[:head] + [("error", {"type": "error", "error": {"type": ERROR_TYPES.get(fault.status, "api_error"), "message": fault.message or "Overloaded"}})]
    return _sse(events, reply, fault, head)


def complete(request: Request, item: Reply | Fault | None) -> Response | StreamResponse:
    body = request.json
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or "\n\nHuman:" not in prompt or not prompt.endswith("\n\nAssistant: ") and "\n\nAssistant:" not in prompt:
        return error_response(400, None, 'prompt must contain "\\n\\nHuman:" and "\\n\\nAssistant:" turns')
    if not isinstance(body.get("max_tokens_to_sample"), int):
        return error_response(400, None, "max_tokens_to_sample: field required")
    fault = item if isinstance(item, Fault) else None
    if fault is not None and not fault.breaks_stream:
        return _fault(fault)
    reply = item if isinstance(item, Reply) else Reply()
    last = prompt.rsplit("\n\nHuman:", 1)[-1].split("\n\nAssistant:", 1)[0].strip()
    content = reply.content if reply.content is not None else " " + DEFAULT_PREFIX + last[:200]
    ident = "compl_" + uuid.uuid4().hex[:24]
    model = body.get("model")
    if not body.get("stream"):
        return Response.json(
            {"type": "completion", "id": ident, "completion": content, "stop_reason": "stop_sequence", "model": model, "stop": "\n\nHuman:", "log_id": ident},
            delay=reply.delay,
        )
    pieces = split_content(content, reply.chunks)
    events: list[tuple[str, Any]] = [
        ("completion", {"type": "completion", "id": ident, "completion": piece, "stop_reason": None, "model": model})
        for piece in pieces
    ]
    events.append(("completion", {"type": "completion", "id": ident, "completion": "", "stop_reason": "stop_sequence", "model": model}))
    return _sse(events, reply, fault, 0)


def _route(handler: Any) -> Any:
    def answer(emulator: Any, request: Request, _: Any) -> Response | StreamResponse:
        denied = check_auth(request, emulator.api_key)
        if denied is not None:
            return denied
        if not isinstance(request.json, dict):
            return error_response(400, "invalid_request_error", "request body is not valid JSON")
        return handler(request, emulator.next_item(request))

    return answer


ROUTES = (
    route("POST", r"^/v1/messages$", _route(messages)),
    route("POST", r"^/v1/complete$", _route(complete)),
)

