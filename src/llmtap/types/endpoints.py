"""Response objects of the other endpoints: Responses API, images, audio, moderation, rerank.

Same base as the chat types (attribute and item access, unknown fields kept, ``model_dump``),
shaped like the peer's: ``ResponsesAPIResponse`` and its stream events, ``TranscriptionResponse``,
``HttpxBinaryResponseContent`` (speech audio), ``ModerationResponse`` and ``RerankResponse``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from . import OpenAIObject, _Response


def _wrap_all(items: Any) -> list:
    return [_deep(item) for item in items or ()]


def _deep(value: Any) -> Any:
    """Nested dicts and lists become objects with attribute access, all the way down."""
    if isinstance(value, dict):
        return OpenAIObject._wrap({key: _deep(item) for key, item in value.items()})
    if isinstance(value, list):
        return [_deep(item) for item in value]
    return value


# -- Responses API -----------------------------------------------------------------------------


class ResponseAPIUsage(OpenAIObject):
    _defaults = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
                 "input_tokens_details": None, "output_tokens_details": None}

    @classmethod
    def from_openai(cls, data: dict) -> ResponseAPIUsage:
        fields = {key: _deep(value) for key, value in data.items()}
        if fields.get("total_tokens") is None:
            fields["total_tokens"] = (fields.get("input_tokens") or 0) + (fields.get("output_tokens") or 0)
        return cls._wrap(fields)

    # The chat names too, so code (and cost tracking) written for chat usage reads it.
    @property
    def prompt_tokens(self) -> int:
        return self.get("input_tokens") or 0

    @property
    def completion_tokens(self) -> int:
        return self.get("output_tokens") or 0


class ResponsesAPIResponse(_Response):
    _defaults = {"object": "response", "status": None, "output": None, "usage": None, "error": None,
                 "incomplete_details": None, "instructions": None, "metadata": None, "model": None,
                 "parallel_tool_calls": True, "temperature": None, "tool_choice": "auto", "tools": None,
                 "top_p": None, "previous_response_id": None, "reasoning": None, "text": None}

    @classmethod
    def from_openai(cls, data: dict) -> ResponsesAPIResponse:
        fields = {key: _deep(value) for key, value in data.items() if key != "usage"}
        usage = data.get("usage")
        fields["usage"] = ResponseAPIUsage.from_openai(usage) if isinstance(usage, dict) else None
        return cls._wrap(fields)

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message, joined (as the OpenAI SDK's)."""
        texts = []
        output = self.get("output")
        for item in output if isinstance(output, list) else ():
            content = item.get("content") if isinstance(item, OpenAIObject) and item.get("type") == "message" else None
            for part in content if isinstance(content, list) else ():
                if isinstance(part, OpenAIObject) and part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        return "".join(texts)


class ResponsesAPIStreamEvent(OpenAIObject):
    """One server-sent event of a streamed Responses call: ``type`` says which (the peer has a
    class per type; here ``event.type == "response.output_text.delta"`` and the fields)."""

    _defaults = {"type": None}

    @classmethod
    def from_openai(cls, data: dict) -> ResponsesAPIStreamEvent:
        fields = {key: _deep(value) for key, value in data.items() if key != "response"}
        if isinstance(data.get("response"), dict):
            fields["response"] = ResponsesAPIResponse.from_openai(data["response"])
        return cls._wrap(fields)


# -- images, audio, moderation, rerank -------------------------------------------------------


class TranscriptionResponse(_Response):
    _defaults = {"text": None, "usage": None, "words": None}

    def __init__(self, text: str | None = None, **extra: Any) -> None:
        super().__init__(text=text, **extra)

    @classmethod
    def from_openai(cls, data: dict) -> TranscriptionResponse:
        return cls._wrap({key: _deep(value) for key, value in data.items()})


class ModerationResponse(_Response):
    _defaults = {"id": None, "model": None, "results": None}

    @classmethod
    def from_openai(cls, data: dict) -> ModerationResponse:
        fields = dict(data)
        fields["results"] = _wrap_all(data.get("results"))
        return cls._wrap(fields)


class RerankResponse(_Response):
    _defaults = {"id": None, "results": None, "meta": None}

    @classmethod
    def from_openai(cls, data: dict) -> RerankResponse:
        fields = {key: _deep(value) for key, value in data.items()}
        fields.setdefault("meta", None)
        return cls._wrap(fields)


class HttpxBinaryResponseContent:
    """Audio from ``speech``: the bytes and the openai SDK's helpers for them."""

    def __init__(self, content: bytes, headers: dict[str, str] | None = None) -> None:
        self.content = content
        self.headers = headers or {}
        self._hidden_params: dict[str, Any] = {}
        self.created = int(time.time())

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def encoding(self) -> str | None:
        return None

    def read(self) -> bytes:
        return self.content

    async def aread(self) -> bytes:
        return self.content

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        size = chunk_size or 65536
        for start in range(0, len(self.content), size):
            yield self.content[start : start + size]

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        for piece in self.iter_bytes(chunk_size):
            yield piece

    def write_to_file(self, file: Any) -> None:
        with open(file, "wb") as handle:
            handle.write(self.content)

    stream_to_file = write_to_file

    async def astream_to_file(self, file: Any) -> None:
        self.write_to_file(file)

    def model_dump(self, **_: Any) -> dict[str, Any]:
        """What logs and callbacks record of it: the size and type, never the audio."""
        return {"object": "audio", "content_type": self.headers.get("content-type"), "bytes": len(self.content)}

    def get(self, key: str, default: Any = None) -> Any:
        return self.model_dump().get(key, default)

    def __repr__(self) -> str:
        return f"HttpxBinaryResponseContent({len(self.content)} bytes, {self.headers.get('content-type', '?')})"


__all__ = [
    "HttpxBinaryResponseContent", "ModerationResponse", "RerankResponse", "ResponseAPIUsage",
    "ResponsesAPIResponse", "ResponsesAPIStreamEvent", "TranscriptionResponse",
]
