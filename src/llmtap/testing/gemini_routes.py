"""Google AI Studio's Gemini routes: generateContent and streamGenerateContent (?alt=sse)."""

from __future__ import annotations

import json
from typing import Any

from .common import DEFAULT_PREFIX, arguments_of, route, split_content
from .http import Request, Response, StreamResponse, fault_response
from .script import Fault, Reply

STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
          429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def _error_body(status: int, message: str | None, code: str | None = None) -> dict:
    return {"error": {"code": status, "message": message or f"error {status}", "status": STATUS.get(status, "UNKNOWN")}}


def error_response(status: int, message: str) -> Response:
    return Response.json(_error_body(status, message), status)


def handle(request: Request, item: Reply | Fault | None, model: str, stream: bool, api_key: str | None) -> Response | StreamResponse:
    key = request.headers.get("x-goog-api-key") or request.query.get("key")
    if not key or (api_key is not None and key != api_key):
        return error_response(400 if not key else 403, "API key not valid. Please pass a valid API key.")
    return answer(request, item, model, stream)


def answer(request: Request, item: Reply | Fault | None, model: str, stream: bool) -> Response | StreamResponse:
    """A GenerateContent answer (AI Studio and Vertex AI alike), once the caller is authenticated."""
    body = request.json
    contents = body.get("contents") if isinstance(body, dict) else None
    if not isinstance(contents, list) or not contents:
        return error_response(400, "* GenerateContentRequest.contents: contents is not specified")
    fault = item if isinstance(item, Fault) else None
    if fault is not None and fault.code == "content_policy_violation":
        return Response.json({"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": model})
    if fault is not None and not fault.breaks_stream:
        return fault_response(fault, _error_body)
    reply = item if isinstance(item, Reply) else Reply()
    last = next(
        (p.get("text", "") for c in reversed(contents) if c.get("role") == "user" for p in c.get("parts", []) if "text" in p), ""
    )
    content = reply.content if reply.content is not None else DEFAULT_PREFIX + last[:200]
    prompt = reply.prompt_tokens or max(1, len(last.split()) + 4)
    output = reply.completion_tokens or max(1, len(content.split()))
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output}
    calls = [{"functionCall": {"name": c["name"], "args": arguments_of(c)}} for c in reply.tool_calls or ()]
    finish = "MAX_TOKENS" if reply.finish_reason == "length" else "STOP"
    if not stream:
        parts: list[dict[str, Any]] = calls or [{"text": content}]
        return Response.json(
            {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
             "usageMetadata": usage, "modelVersion": model, "responseId": "resp-emulator"},
            delay=reply.delay,
        )
    events = []
    pieces = split_content(content, reply.chunks) if not calls else []
    for piece in pieces:
        events.append({"candidates": [{"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}], "modelVersion": model})
    events.append({"candidates": [{"content": {"role": "model", "parts": calls or [{"text": ""}]}, "finishReason": finish, "index": 0}],
                   "usageMetadata": usage, "modelVersion": model})
    ending = "done"
    if fault is not None and fault.cut_after is not None:
        events = events[: fault.cut_after]
        ending = fault.cut_mode
    data = [b"data: " + json.dumps(e).encode() + b"\r\n\r\n" for e in events]
    if fault is not None and fault.malformed:
        data.insert(1, b"data: {not json\r\n\r\n")
    return StreamResponse(data, headers={"content-type": "text/event-stream"}, delay=reply.delay, piece_delay=reply.chunk_delay, ending=ending)


ROUTES = (
    route(
        "POST",
        r"^/v1beta/models/([^/:]+):(generateContent|streamGenerateContent)$",
        lambda emulator, request, match: handle(
            request, emulator.next_item(request), match.group(1), match.group(2) == "streamGenerateContent", emulator.api_key
        ),
    ),
)
