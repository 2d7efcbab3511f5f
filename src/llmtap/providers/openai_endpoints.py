"""OpenAI's other endpoints as pure transforms: Responses API, images, audio, moderation.

The OpenAI provider (and Azure and every OpenAI-compatible row, which inherit it) hands these
call types here: what body goes out (JSON, or multipart/form-data for an audio upload), how the
answer is read (JSON, plain text, or audio bytes), and how a streamed Responses call's events
are read.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from ..types import ImageResponse
from ..types.endpoints import (
    HttpxBinaryResponseContent,
    ModerationResponse,
    RerankResponse,
    ResponsesAPIResponse,
    ResponsesAPIStreamEvent,
    TranscriptionResponse,
)
from .base import SSEJSONParser, decode_json

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse

PATHS = {
    "responses": "/responses",
    "image_generation": "/images/generations",
    "transcription": "/audio/transcriptions",
    "speech": "/audio/speech",
    "moderation": "/moderations",
}
RESPONSE_TYPES: dict[str, Any] = {
    "responses": ResponsesAPIResponse,
    "image_generation": ImageResponse,
    "transcription": TranscriptionResponse,
    "moderation": ModerationResponse,
    "rerank": RerankResponse,  # not OpenAI's, but a cached rerank answer is rebuilt from here too
}
# Responses-stream events after which nothing more comes.
FINAL_EVENTS = frozenset({"response.completed", "response.failed", "response.incomplete"})


def build_body(call: Call) -> dict:
    body: dict[str, Any] = {"model": call.provider_model}
    if call.call_type == "image_generation":
        body["prompt"] = call.prompt
    elif call.call_type == "transcription":
        filename, data, _ = call.files["file"]
        body["file"] = f"<{filename}, {len(data)} bytes>"  # what callbacks see; the bytes go as a part
    else:
        body["input"] = call.input
    body.update(call.params)
    if call.call_type == "transcription" and "response_format" not in body and "whisper" in call.provider_model:
        body["response_format"] = "verbose_json"  # as the peer does: the duration prices the call
    if call.stream:
        body["stream"] = True
    if call.extra_body:
        body.update(call.extra_body)
    return body


def multipart(body: dict, files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """``multipart/form-data`` of the body's fields and the files; lists become ``name[]`` parts."""
    boundary = "llmtap-" + os.urandom(12).hex()
    parts: list[bytes] = []

    def field(name: str, value: Any) -> None:
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
            + text.encode()
            + b"\r\n"
        )

    for name, value in body.items():
        if name in files or value is None:
            continue
        if isinstance(value, list):
            for item in value:
                field(name + "[]", item)
        elif isinstance(value, bool):
            field(name, "true" if value else "false")
        else:
            field(name, value)
    for name, (filename, data, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"; '
            f'filename="{_quote(filename)}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def parse_response(provider: Any, call: Call, response: HttpResponse) -> Any:
    content_type = response.headers.get("content-type", "")
    if call.call_type == "speech":
        if "json" in content_type:  # an error object with a 200 status
            data = decode_json(provider.name, call, response)
            if isinstance(data, dict) and "error" in data:
                raise provider._stream_error(call, data)
        return HttpxBinaryResponseContent(response.body, response.headers)
    if call.call_type == "transcription" and "json" not in content_type:
        return TranscriptionResponse(text=response.body.decode("utf-8", "replace"))  # text, srt, vtt
    data = provider.decode_object(call, response)
    if isinstance(data.get("error"), dict) and call.call_type != "responses":
        raise provider._stream_error(call, data)
    if call.call_type == "responses" and data.get("status") == "failed" and isinstance(data.get("error"), dict):
        raise provider._stream_error(call, data)
    return RESPONSE_TYPES[call.call_type].from_openai(data)


class ResponsesStreamParser(SSEJSONParser):
    """Server-sent Responses events (``response.created`` ... ``response.completed``)."""

    end_marker = "response.completed event"

    def on_object(self, obj: dict) -> Any:
        kind = obj.get("type")
        if kind == "error" or (kind == "response.failed" and isinstance((obj.get("response") or {}).get("error"), dict)):
            error = obj if kind == "error" else obj["response"]
            if "error" not in error:
                error = {"error": {"message": obj.get("message"), "code": obj.get("code"), "type": "server_error"}}
            raise self.provider._stream_error(self.call, error)
        if kind in FINAL_EVENTS:
            self.complete = True
        return ResponsesAPIStreamEvent.from_openai(obj)

    @staticmethod
    def make_assembler() -> ResponsesAssembler:
        return ResponsesAssembler()


class ResponsesAssembler:
    """The whole response of a Responses stream: the final event's, or for a stream left early,
    the last snapshot with the text that arrived since."""

    def __init__(self) -> None:
        self.response: ResponsesAPIResponse | None = None
        self.final = False
        self.text: list[str] = []

    def add(self, event: Any) -> None:
        response = event.get("response")
        if isinstance(response, ResponsesAPIResponse) and not self.final:
            self.response = response
            self.final = event.get("type") in FINAL_EVENTS
        elif event.get("type") == "response.output_text.delta" and isinstance(event.get("delta"), str):
            self.text.append(event["delta"])

    def build(self, messages: Any = None) -> ResponsesAPIResponse | None:
        if self.response is None or self.final or not self.text:
            return self.response
        partial = ResponsesAPIResponse.from_openai(self.response.model_dump())
        partial["output"] = [{"type": "message", "role": "assistant", "status": "incomplete",
                              "content": [{"type": "output_text", "text": "".join(self.text), "annotations": []}]}]
        return ResponsesAPIResponse.from_openai(partial.model_dump())
