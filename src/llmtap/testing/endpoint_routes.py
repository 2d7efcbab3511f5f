"""The other endpoints' routes: OpenAI's Responses API (JSON and SSE), images, audio
transcription (multipart upload) and speech (audio bytes), moderation; Cohere's and Jina AI's
rerank. Azure's deployment URLs serve the image and audio routes too.

Answers are deterministic so tests can assert them: a transcription names the bytes it got,
speech returns the same bytes for the same text, moderation flags text that says "kill", rerank
scores documents by the words they share with the query. A scripted ``Reply`` sets the text of
a Responses or transcription answer; a scripted ``Fault`` answers with its error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from typing import Any

from . import openai_routes
from .common import PIECES, bearer, route
from .http import Request, Response, StreamResponse
from .script import Fault, Reply

# -- request helpers -------------------------------------------------------------------------


def _denied(emulator: Any, request: Request, azure: bool = False) -> Response | None:
    key = (request.headers.get("api-key") or bearer(request)) if azure else bearer(request)
    return openai_routes.check_key(key, emulator.api_key)


def _json_body(request: Request) -> dict | Response:
    if not isinstance(request.json, dict):
        return openai_routes.error_response(400, "We could not parse the JSON body of your request.", None)
    if not request.json.get("model"):
        return openai_routes.error_response(400, "you must provide a model parameter", None)
    return request.json


def parse_multipart(request: Request) -> dict[str, Any] | None:
    """Form fields (str) and files ((filename, bytes)) of a multipart/form-data body."""
    match = re.search(r'boundary="?([^";]+)"?', request.headers.get("content-type", ""))
    if match is None or "multipart/form-data" not in request.headers.get("content-type", ""):
        return None
    boundary = b"--" + match.group(1).encode()
    fields: dict[str, Any] = {}
    for part in request.body.split(boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part.strip(b"\r\n").partition(b"\r\n\r\n")
        disposition = re.search(rb'name="([^"]*)"(?:; filename="([^"]*)")?', head)
        if disposition is None:
            return None
        name = disposition.group(1).decode()
        if disposition.group(2) is not None:
            fields[name] = (disposition.group(2).decode(), value)
        elif name.endswith("[]"):
            fields.setdefault(name[:-2], []).append(value.decode())
        else:
            fields[name] = value.decode()
    return fields


def _text_of_input(value: Any) -> str:
    if isinstance(value, str):
        return value
    texts = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        content = item.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        elif isinstance(item.get("text"), str):
            texts.append(item["text"])
    return " ".join(texts)


def _words(text: str) -> int:
    return max(1, len(text.split()))


# -- OpenAI: Responses API -----------------------------------------------------------------------


def _response_object(body: dict, text: str, status: str, usage: dict | None, rid: str) -> dict:
    output = []
    if text is not None:
        output = [{
            "type": "message", "id": "msg_" + rid[5:], "status": "completed" if status == "completed" else "in_progress",
            "role": "assistant", "content": [{"type": "output_text", "text": text, "annotations": []}],
        }]
    return {
        "id": rid, "object": "response", "created_at": int(time.time()), "status": status,
        "model": body["model"], "output": output, "usage": usage, "error": None, "incomplete_details": None,
        "instructions": body.get("instructions"), "metadata": body.get("metadata") or {},
        "parallel_tool_calls": body.get("parallel_tool_calls", True), "temperature": body.get("temperature", 1.0),
        "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0), "previous_response_id": body.get("previous_response_id"),
        "max_output_tokens": body.get("max_output_tokens"), "store": body.get("store", True),
        "text": body.get("text") or {"format": {"type": "text"}}, "reasoning": body.get("reasoning"),
    }


def responses(emulator: Any, request: Request, match: re.Match[str]) -> Response | StreamResponse:
    denied = _denied(emulator, request, azure=match.re.pattern.startswith("^/openai"))
    if denied is not None:
        return denied
    body = _json_body(request)
    if isinstance(body, Response):
        return body
    if body.get("input") in (None, "", []):
        return openai_routes.error_response(400, "Missing required parameter: 'input'.", "missing_required_parameter")
    item = emulator.next_item(request)
    if isinstance(item, Fault) and not item.breaks_stream:
        return openai_routes.fault_response(item)
    reply = item if isinstance(item, Reply) else Reply()
    said = _text_of_input(body["input"])[:200]
    text = reply.content if reply.content is not None else "Hello from the llmtap emulator. You said: " + said
    usage = {
        "input_tokens": reply.prompt_tokens or _words(said) + 4, "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": reply.completion_tokens or _words(text), "output_tokens_details": {"reasoning_tokens": 0},
    }
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    rid = "resp_" + uuid.uuid4().hex[:24]
    if not body.get("stream"):
        return Response.json(_response_object(body, text, "completed", usage, rid), delay=reply.delay)
    pieces = [p for p in PIECES.findall(text)] or [""]
    events: list[Any] = [
        {"type": "response.created", "response": _response_object(body, None, "in_progress", None, rid)},
        {"type": "response.in_progress", "response": _response_object(body, None, "in_progress", None, rid)},
        {"type": "response.output_item.added", "output_index": 0,
         "item": {"type": "message", "id": "msg_" + rid[5:], "status": "in_progress", "role": "assistant", "content": []}},
    ]
    events += [{"type": "response.output_text.delta", "item_id": "msg_" + rid[5:], "output_index": 0,
                "content_index": 0, "delta": piece} for piece in pieces]
    events += [
        {"type": "response.output_text.done", "item_id": "msg_" + rid[5:], "output_index": 0, "content_index": 0, "text": text},
        {"type": "response.completed", "response": _response_object(body, text, "completed", usage, rid)},
    ]
    fault = item if isinstance(item, Fault) else None
    ending = "done"
    if fault is not None and fault.cut_after is not None:
        events = events[: 3 + fault.cut_after]
        ending = fault.cut_mode
    if fault is not None and fault.mid_stream:
        events = events[:4] + [{"type": "error", "code": "server_error", "message": fault.message or "The server had an error.", "param": None}]
    lines = []
    for number, event in enumerate(events):
        event["sequence_number"] = number
        lines.append(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
    if fault is not None and fault.malformed:
        lines.insert(4, b'event: response.output_text.delta\ndata: {"type": "response.output_text.delta", "delta": "x"\n\n')
    return StreamResponse(
        lines, headers={"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"},
        delay=reply.delay or (fault.delay if fault else 0.0), piece_delay=reply.chunk_delay, ending=ending,
    )


# -- OpenAI: images, audio, moderation ---------------------------------------------------------


def _image_answer(body: dict, item: Any) -> Response:
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        return openai_routes.error_response(400, "Missing required parameter: 'prompt'.", "missing_required_parameter")
    n = body.get("n") or 1
    if not isinstance(n, int) or not 1 <= n <= 10:
        return openai_routes.error_response(400, f"Invalid 'n': {n!r}; expected an integer from 1 to 10.", "invalid_value")
    digest = hashlib.sha256(body["prompt"].encode()).hexdigest()[:16]
    data = []
    for i in range(n):
        if body.get("response_format") == "b64_json" or str(body["model"]).startswith("gpt-image"):
            data.append({"b64_json": base64.b64encode(f"PNG:{digest}:{i}".encode()).decode()})
        else:
            data.append({"url": f"https://emulator.invalid/images/{digest}-{i}.png", "revised_prompt": body["prompt"]})
    answer: dict[str, Any] = {"created": int(time.time()), "data": data}
    if str(body["model"]).startswith("gpt-image"):
        answer["usage"] = {"input_tokens": _words(body["prompt"]), "output_tokens": 1056 * n,
                           "total_tokens": _words(body["prompt"]) + 1056 * n}
    return Response.json(answer, delay=getattr(item, "delay", 0.0) or 0.0)


def _transcription_answer(request: Request, item: Any, model: str | None) -> Response:
    form = parse_multipart(request)
    if form is None:
        return openai_routes.error_response(400, "Could not parse multipart form", None)
    model = model or form.get("model")
    upload = form.get("file")
    if not model:
        return openai_routes.error_response(400, "you must provide a model parameter", None)
    if not isinstance(upload, tuple) or not upload[1]:
        return openai_routes.error_response(400, "Missing required parameter: 'file'.", "missing_required_parameter")
    filename, data = upload
    text = item.content if isinstance(item, Reply) and item.content is not None else (
        f"Transcribed {len(data)} bytes of {filename}."
    )
    response_format = form.get("response_format") or "json"
    if response_format in ("text", "srt", "vtt"):
        return Response(200, text.encode(), {"content-type": "text/plain; charset=utf-8"})
    if response_format == "verbose_json":
        duration = round(len(data) / 16000, 3)  # as if 16 kB per second
        return Response.json({"task": "transcribe", "language": form.get("language") or "english",
                              "duration": duration, "text": text,
                              "segments": [{"id": 0, "start": 0.0, "end": duration, "text": text}]})
    answer: dict[str, Any] = {"text": text}
    if str(model).startswith("gpt-4o"):
        answer["usage"] = {"type": "tokens", "input_tokens": max(1, len(data) // 100), "output_tokens": _words(text),
                           "total_tokens": max(1, len(data) // 100) + _words(text)}
    return Response.json(answer)


_AUDIO_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
                "wav": "audio/wav", "pcm": "audio/pcm"}


def _speech_answer(body: dict) -> Response:
    if not isinstance(body.get("input"), str) or not body["input"]:
        return openai_routes.error_response(400, "Missing required parameter: 'input'.", "missing_required_parameter")
    if not body.get("voice"):
        return openai_routes.error_response(400, "Missing required parameter: 'voice'.", "missing_required_parameter")
    audio_format = body.get("response_format") or "mp3"
    if audio_format not in _AUDIO_TYPES:
        return openai_routes.error_response(400, f"Invalid value for 'response_format': {audio_format!r}.", "invalid_value")
    seed = f"{body['model']}|{body['voice']}|{body['input']}".encode()
    audio = b"ID3\x04\x00" + hashlib.sha256(seed).digest() * max(1, len(body["input"]) // 8)
    return Response(200, audio, {"content-type": _AUDIO_TYPES[audio_format]})


def _moderation_answer(body: dict) -> Response:
    value = body.get("input")
    inputs = value if isinstance(value, list) else [value]
    if value in (None, "", []):
        return openai_routes.error_response(400, "Missing required parameter: 'input'.", "missing_required_parameter")
    categories = ("harassment", "hate", "self-harm", "sexual", "violence")
    results = []
    for entry in inputs:
        text = entry if isinstance(entry, str) else json.dumps(entry)
        violent = "kill" in text.lower()
        results.append({
            "flagged": violent,
            "categories": {c: (c == "violence" and violent) for c in categories},
            "category_scores": {c: (0.97 if c == "violence" and violent else 0.0001) for c in categories},
            "category_applied_input_types": {c: ["text"] for c in categories},
        })
    return Response.json({"id": "modr-" + uuid.uuid4().hex[:20], "model": body["model"], "results": results})


def _openai_json(handler: Any) -> Any:
    def answer(emulator: Any, request: Request, _: re.Match[str]) -> Response:
        denied = _denied(emulator, request)
        if denied is not None:
            return denied
        body = _json_body(request)
        if isinstance(body, Response):
            return body
        item = emulator.next_item(request)
        if isinstance(item, Fault):
            return openai_routes.fault_response(item)
        return handler(body, item) if handler is _image_answer else handler(body)

    return answer


def _transcriptions(emulator: Any, request: Request, match: re.Match[str]) -> Response:
    azure = match.re.pattern.startswith("^/openai")
    if azure and "api-version" not in request.query:
        return openai_routes.error_response(404, "Resource not found: the api-version query parameter is required", "404")
    denied = _denied(emulator, request, azure)
    if denied is not None:
        return denied
    item = emulator.next_item(request)
    if isinstance(item, Fault):
        return openai_routes.fault_response(item)
    return _transcription_answer(request, item, match.group(1) if azure else None)


def _azure_json(handler: Any) -> Any:
    def answer(emulator: Any, request: Request, match: re.Match[str]) -> Response:
        if "api-version" not in request.query:
            return openai_routes.error_response(404, "Resource not found: the api-version query parameter is required", "404")
        denied = _denied(emulator, request, azure=True)
        if denied is not None:
            return denied
        if not isinstance(request.json, dict):
            return openai_routes.error_response(400, "We could not parse the JSON body of your request.", None)
        body = {**request.json, "model": request.json.get("model") or match.group(1)}
        item = emulator.next_item(request)
        if isinstance(item, Fault):
            return openai_routes.fault_response(item)
        return handler(body, item) if handler is _image_answer else handler(body)

    return answer


# -- rerank: Cohere (v2) and Jina AI ----------------------------------------------------------


def _scores(query: str, documents: list) -> list[tuple[int, float, str]]:
    wanted = set(re.findall(r"\w+", query.lower()))
    scored = []
    for index, document in enumerate(documents):
        text = document if isinstance(document, str) else str(document.get("text", json.dumps(document)))
        words = set(re.findall(r"\w+", text.lower()))
        overlap = len(wanted & words) / max(1, len(wanted))
        scored.append((index, round(0.05 + 0.9 * overlap - index * 1e-4, 6), text))
    return sorted(scored, key=lambda s: -s[1])


def _rerank_body(request: Request) -> dict | str:
    body = request.json
    if not isinstance(body, dict):
        return "invalid JSON body"
    if not body.get("model"):
        return "model is required"
    if not isinstance(body.get("query"), str) or not body["query"]:
        return "query is required"
    if not isinstance(body.get("documents"), list) or not body["documents"]:
        return "documents must be a non-empty list"
    return body


def _cohere_answer(body: dict, ranked: list) -> dict:
    results = [{"index": i, "relevance_score": s} for i, s, _ in ranked]
    return {"id": str(uuid.uuid4()), "results": results,
            "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}}}


def _jina_answer(body: dict, ranked: list) -> dict:
    with_documents = body.get("return_documents", True)
    results = [{"index": i, "relevance_score": s, **({"document": {"text": t}} if with_documents else {})}
               for i, s, t in ranked]
    tokens = sum(_words(t) for _, _, t in ranked) + _words(body["query"])
    return {"model": body["model"], "usage": {"total_tokens": tokens}, "results": results}


def _rerank_route(error_field: str, unauthorized: str, invalid_status: int, answer: Any) -> Any:
    """A rerank service: Cohere errors are ``{"message"}``, Jina's ``{"detail"}``."""

    def handle(emulator: Any, request: Request, _: re.Match[str]) -> Response:
        key = bearer(request)
        if not key or (emulator.api_key is not None and key != emulator.api_key):
            return Response.json({error_field: unauthorized}, 401)
        item = emulator.next_item(request)
        if isinstance(item, Fault):
            headers = {"retry-after": f"{item.retry_after:g}"} if item.retry_after is not None else None
            return Response.json({error_field: item.message or f"error {item.status}"}, item.status, headers)
        body = _rerank_body(request)
        if isinstance(body, str):
            return Response.json({error_field: body}, invalid_status)
        ranked = _scores(body["query"], body["documents"])[: body.get("top_n") or None]
        return Response.json(answer(body, ranked))

    return handle


_AZURE = r"^/openai/deployments/([^/]+)/"
ROUTES = (
    route("POST", r"^/v1/responses$", responses),
    route("POST", r"^/openai/v1/responses$", responses),  # Azure's v1 surface
    route("POST", r"^/v1/images/generations$", _openai_json(_image_answer)),
    route("POST", r"^/v1/audio/speech$", _openai_json(_speech_answer)),
    route("POST", r"^/v1/moderations$", _openai_json(_moderation_answer)),
    route("POST", r"^/v1/audio/transcriptions$", _transcriptions),
    route("POST", _AZURE + r"images/generations$", _azure_json(_image_answer)),
    route("POST", _AZURE + r"audio/speech$", _azure_json(_speech_answer)),
    route("POST", _AZURE + r"audio/transcriptions$", _transcriptions),
    route("POST", r"^/v2/rerank$", _rerank_route("message", "invalid api token", 400, _cohere_answer)),
    route("POST", r"^/v1/rerank$", _rerank_route("detail", "Unauthorized: invalid API key", 422, _jina_answer)),
)
