"""OpenAI's and Azure OpenAI's routes: chat, text completions, embeddings, models; JSON and SSE.

Answers are deterministic (the default reply echoes the last user message) so tests can assert
exact content. A scripted ``Reply`` or ``Fault`` changes the next answer.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import random
import re
import struct
import time
import uuid
from typing import Any

from . import http
from .common import (
    DEFAULT_PREFIX,
    PIECES,
    bearer,
    forced_tool_call,
    last_user_text,
    prompt_tokens,
    route,
    split_content,
    text_of,
    vector,
)
from .http import Request, Response, StreamResponse
from .script import Fault, Reply

ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_denied", None),
    404: ("invalid_request_error", "model_not_found"),
    409: ("conflict", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", "service_unavailable"),
}
ERROR_MESSAGES = {
    400: "Invalid request.",
    401: "Incorrect API key provided.",
    403: "You are not allowed to sample from this model.",
    404: "The model does not exist or you do not have access to it.",
    409: "Conflict.",
    422: "Unprocessable entity.",
    429: "Rate limit reached for requests.",
    500: "The server had an error while processing your request.",
    503: "The engine is currently overloaded, please try again later.",
}


def error_body(status: int, message: str | None = None, code: str | None = None, param: str | None = None) -> dict:
    kind, default_code = ERROR_TYPES.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
    return {
        "error": {
            "message": message or ERROR_MESSAGES.get(status, f"Error {status}."),
            "type": kind,
            "param": param,
            "code": code or default_code,
        }
    }


def error_response(status: int, message: str | None = None, code: str | None = None, headers: dict | None = None) -> Response:
    return Response.json(error_body(status, message, code), status, headers)


def fault_response(fault: Fault) -> Response:
    return http.fault_response(fault, error_body)


def _limit(content: str, body: dict, finish: str) -> tuple[str, str]:
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    if isinstance(limit, int) and limit > 0:
        words = PIECES.findall(content)
        if len(words) > limit:
            return "".join(words[:limit]).rstrip(), "length"
    return content, finish


def _headers(reply: Reply | None) -> dict[str, str]:
    headers = {
        "x-request-id": "req_" + uuid.uuid4().hex[:24],
        "openai-processing-ms": str(random.randint(5, 50)),
        "x-ratelimit-remaining-requests": "9999",
    }
    if reply is not None and reply.headers:
        headers.update(reply.headers)
    return headers


def _sse(events: list[Any], reply: Reply) -> list[bytes]:
    pieces: list[bytes] = []
    for event in events:
        data = event if isinstance(event, bytes) else json.dumps(event).encode()
        pieces.append(b"data: " + data + b"\n\n")
        if reply.keepalive_comments:
            pieces.append(b": keep-alive\n\n")
    pieces.append(b"data: [DONE]\n\n")
    if reply.split_writes:
        joined = b"".join(pieces)
        pieces = []
        rng = random.Random(len(joined))
        i = 0
        while i < len(joined):
            step = rng.randint(1, 24)
            pieces.append(joined[i : i + step])
            i += step
    return pieces


def _stream(events: list[Any], reply: Reply, fault: Fault | None, head_events: int, headers: dict) -> StreamResponse:
    """SSE pieces; a fault may cut the stream after some content chunks or corrupt one event."""
    ending = "done"
    if fault is not None and fault.cut_after is not None:
        events = events[: head_events + fault.cut_after]
        ending = fault.cut_mode
    if fault is not None and fault.malformed:
        events = events[: head_events + 1] + [b'{"id": "broken", "choices": [{"delta": {"content": "x"'] + events[head_events + 1 :]
    pieces = _sse(events, reply)
    if ending != "done":
        pieces = pieces[:-1]  # no [DONE]
    return StreamResponse(
        pieces,
        headers={"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", **headers},
        delay=reply.delay or (fault.delay if fault else 0.0),
        piece_delay=reply.chunk_delay or (0.001 if reply.split_writes else 0.0),
        ending=ending,
    )


stream_events = _stream  # for routes modules whose streams are OpenAI-style SSE


def chat(request: Request, item: Reply | Fault | None, model: str) -> Response | StreamResponse:
    body = request.json
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error_response(400, "'messages' must be a non-empty array.", None)
    fault = item if isinstance(item, Fault) else None
    reply = item if isinstance(item, Reply) else Reply()
    if fault is not None and not fault.breaks_stream:
        return fault_response(fault)
    n = body.get("n") or 1
    if reply.tool_calls is None and reply.content is None:
        forced = forced_tool_call(body.get("tools"), body.get("tool_choice"))
        if forced is not None:  # a forced tool_choice is answered with a call, as OpenAI does
            reply = dataclasses.replace(reply, tool_calls=[forced])
    content = reply.content if reply.content is not None else DEFAULT_PREFIX + last_user_text(messages)
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    if not reply.tool_calls:
        content, finish = _limit(content, body, finish)
    tool_calls = [
        {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function", "function": {"name": c["name"], "arguments": c.get("arguments", "{}")}}
        for c in reply.tool_calls or ()
    ]
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else prompt_tokens([text_of(m.get("content")) for m in messages if isinstance(m, dict)])
    completion = reply.completion_tokens if reply.completion_tokens is not None else (
        len(content.split()) if not tool_calls else sum(len(c["function"]["arguments"]) // 4 + 1 for c in tool_calls)
    ) * n
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    ident = "chatcmpl-" + uuid.uuid4().hex[:24]
    created = int(time.time())
    headers = _headers(reply)
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": None if tool_calls else content, "refusal": None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        choices = [{"index": i, "message": message, "logprobs": None, "finish_reason": finish} for i in range(n)]
        data = {
            "id": ident, "object": "chat.completion", "created": created, "model": model,
            "system_fingerprint": "fp_emulator", "choices": choices, "usage": usage,
        }
        return Response.json(data, headers=headers, delay=reply.delay or (fault.delay if fault else 0.0))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model, "system_fingerprint": "fp_emulator"}
    if include_usage:
        base["usage"] = None

    def chunk(index: int, delta: dict, finish_reason: str | None = None) -> dict:
        return {**base, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}

    events: list[Any] = [chunk(i, {"role": "assistant", "content": "", "refusal": None}) for i in range(n)]
    head = len(events)
    if tool_calls:
        for index, call in enumerate(tool_calls):
            events.append(chunk(0, {"tool_calls": [{"index": index, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"], "arguments": ""}}]}))
            for piece in split_content(call["function"]["arguments"], None if reply.chunks is None else reply.chunks):
                events.append(chunk(0, {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    else:
        for piece in split_content(content, reply.chunks):
            for i in range(n):
                events.append(chunk(i, {"content": piece}))
    for i in range(n):
        events.append(chunk(i, {}, finish))
    if include_usage:
        events.append({**base, "choices": [], "usage": usage})
    return _stream(events, reply, fault, head, headers)


def completions(request: Request, item: Reply | Fault | None, model: str) -> Response | StreamResponse:
    body = request.json
    prompt = body.get("prompt")
    if prompt is None or prompt == "" or prompt == []:
        return error_response(400, "'prompt' is required.")
    fault = item if isinstance(item, Fault) else None
    reply = item if isinstance(item, Reply) else Reply()
    if fault is not None and not fault.breaks_stream:
        return fault_response(fault)
    prompts = prompt if isinstance(prompt, list) else [prompt]
    texts = [p if isinstance(p, str) else json.dumps(p) for p in prompts]
    content = reply.content if reply.content is not None else DEFAULT_PREFIX + texts[-1][:200]
    content, finish = _limit(content, body, reply.finish_reason or "stop")
    prompt_count = reply.prompt_tokens if reply.prompt_tokens is not None else prompt_tokens(texts)
    completion = reply.completion_tokens if reply.completion_tokens is not None else len(content.split())
    usage = {"prompt_tokens": prompt_count, "completion_tokens": completion, "total_tokens": prompt_count + completion}
    base = {"id": "cmpl-" + uuid.uuid4().hex[:24], "object": "text_completion", "created": int(time.time()), "model": model}
    headers = _headers(reply)
    if not body.get("stream"):
        choices = [{"text": content, "index": i, "logprobs": None, "finish_reason": finish} for i in range(len(prompts))]
        return Response.json({**base, "choices": choices, "usage": usage}, headers=headers, delay=reply.delay)
    events: list[Any] = [
        {**base, "choices": [{"text": piece, "index": 0, "logprobs": None, "finish_reason": None}]}
        for piece in split_content(content, reply.chunks)
    ]
    events.append({**base, "choices": [{"text": "", "index": 0, "logprobs": None, "finish_reason": finish}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**base, "choices": [], "usage": usage})
    return _stream(events, reply, fault, 0, headers)


def embeddings(request: Request, item: Reply | Fault | None, model: str) -> Response:
    body = request.json
    value = body.get("input")
    if value is None or value == "" or value == []:
        return error_response(400, "'input' is required.")
    if isinstance(item, Fault):
        return fault_response(item)
    if isinstance(value, str) or (isinstance(value, list) and value and isinstance(value[0], int)):
        items = [value]
    else:
        items = list(value)
    dimensions = body.get("dimensions") or 8
    data = []
    for index, entry in enumerate(items):
        values = vector(entry if isinstance(entry, str) else json.dumps(entry), dimensions)
        embedding: Any = values
        if body.get("encoding_format") == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = prompt_tokens([e if isinstance(e, str) else json.dumps(e) for e in items])
    return Response.json(
        {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}},
        headers=_headers(item if isinstance(item, Reply) else None),
        delay=item.delay if isinstance(item, Reply) else 0.0,
    )


def models() -> Response:
    ids = ["gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo", "gpt-3.5-turbo-instruct", "text-embedding-3-small"]
    return Response.json({"object": "list", "data": [{"id": i, "object": "model", "created": 1700000000, "owned_by": "llmtap-emulator"} for i in ids]})


# -- the route table -----------------------------------------------------------------------------

_CALLS = {"chat/completions": chat, "completions": completions, "embeddings": embeddings}


def check_key(key: str | None, api_key: str | None) -> Response | None:
    """OpenAI's 401s: no key at all, or (when the emulator was given one) a wrong key."""
    if not key:
        return error_response(
            401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.", None
        )
    if api_key is not None and key != api_key:
        return error_response(401, f"Incorrect API key provided: {key[:3]}***.", "invalid_api_key")
    return None


def _call(emulator: Any, request: Request, route: Any, model: str | None) -> Response | StreamResponse:
    if not isinstance(request.json, dict):
        return error_response(400, "We could not parse the JSON body of your request.", None)
    if model is None:
        model = request.json.get("model")
        if not model:
            return error_response(400, "you must provide a model parameter", None)
    return route(request, emulator.next_item(request), model)


def _openai(emulator: Any, request: Request, match: re.Match[str]) -> Response | StreamResponse:
    return check_key(bearer(request), emulator.api_key) or _call(emulator, request, _CALLS[match.group(1)], None)


def _azure(emulator: Any, request: Request, match: re.Match[str]) -> Response | StreamResponse:
    request.deployment = match.group(1)
    if "api-version" not in request.query:
        return error_response(404, "Resource not found: the api-version query parameter is required", "404")
    if not request.headers.get("api-key") and bearer(request):  # a Microsoft Entra ID token
        from .token_routes import check_azure_bearer

        denied = check_azure_bearer(emulator.tokens, request)
    else:
        denied = check_key(request.headers.get("api-key"), emulator.api_key)
    return denied or _call(emulator, request, _CALLS[match.group(2)], match.group(1))


ROUTES = (
    route("GET", r"^/v1/models$", lambda emulator, request, _: check_key(bearer(request), emulator.api_key) or models()),
    route("POST", r"^/v1/(chat/completions|completions|embeddings)$", _openai),
    route("POST", r"^/openai/deployments/([^/]+)/(chat/completions|completions|embeddings)$", _azure),
)

