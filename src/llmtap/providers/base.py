"""What every provider is: pure transforms between a resolved call and bytes on the wire.

A provider never does I/O. It turns a ``Call`` into a body (what callbacks see as
``complete_input_dict``), the body into an ``HttpRequest``, an ``HttpResponse`` into a response
object, an error answer into an ``APIError``, and gives a stream parser that
turns bytes into chunks. The sync and async paths run the very same code.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from ..exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    decode_error_body,
    error_for_status,
)
from ..sse import SSEDecoder

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse


class StreamParser:
    """Bytes in (``feed``), provider-neutral chunks out; ``close`` raises if the stream was cut."""

    def feed(self, data: bytes) -> list[Any]:
        raise NotImplementedError

    def close(self) -> list[Any]:
        raise NotImplementedError


class SSEJSONParser(StreamParser):
    """Server-sent events whose data is JSON: each decoded object becomes a chunk (or nothing).

    Subclasses say what an object means (``on_object``) and set ``complete`` when the provider
    has said the answer is over; a body that ends before that raises, never passing a cut
    stream off as a short answer. ``data: [DONE]`` also marks the end."""

    end_marker = "its end marker"

    def __init__(self, provider: Provider, call: Call) -> None:
        self.provider = provider
        self.call = call
        self.complete = False
        self._sse = SSEDecoder()

    def on_object(self, obj: dict) -> Any:
        raise NotImplementedError

    def feed(self, data: bytes) -> list[Any]:
        chunks = []
        for event in self._sse.feed(data):
            chunk = self._decode(event.data)
            if chunk is not None:
                chunks.append(chunk)
        return chunks

    def close(self) -> list[Any]:
        chunks = [chunk for event in self._sse.close() if (chunk := self._decode(event.data)) is not None]
        if not self.complete:
            raise APIConnectionError(
                f"{self.provider.name} stream ended before the answer was complete (no {self.end_marker})",
                llm_provider=self.provider.name,
                model=self.call.model,
            )
        return chunks

    def _decode(self, data: str) -> Any:
        if not data:
            return None
        if data == "[DONE]":
            self.complete = True
            return None
        try:
            obj = json.loads(data)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            raise APIResponseValidationError(
                f"{self.provider.name} sent a stream event that is not a JSON object (not JSON): {data[:200]!r}",
                llm_provider=self.provider.name,
                model=self.call.model,
            )
        return self.on_object(obj)


class Provider:
    name: ClassVar[str]
    key_env: ClassVar[tuple[str, ...]] = ()
    base_env: ClassVar[tuple[str, ...]] = ()
    version_env: ClassVar[tuple[str, ...]] = ()
    default_base: ClassVar[str | None] = None
    default_version: ClassVar[str | None] = None
    needs_key: ClassVar[bool] = True
    # Per call type, the OpenAI-surface parameters this provider accepts (others are refused,
    # or dropped with drop_params=True); None accepts them all.
    supported_params: ClassVar[dict[str, frozenset[str]]] = {}

    def __init__(self, registered_as: str | None = None) -> None:
        """Providers are built once, by the registry, under the name they are registered as."""

    def build_body(self, call: Call) -> dict:
        raise NotImplementedError

    def build_request(self, call: Call, body: dict) -> Any:
        raise NotImplementedError

    def parse_response(self, call: Call, response: HttpResponse) -> Any:
        raise NotImplementedError

    def stream_parser(self, call: Call) -> StreamParser:
        raise NotImplementedError

    def error_from_response(self, call: Call, response: HttpResponse) -> APIError:
        body, message = decode_error_body(response.body)
        code = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = body["error"].get("code")
        return error_for_status(
            response.status,
            message,
            provider=self.name,
            model=call.model,
            body=body,
            headers=response.headers,
            code=code if isinstance(code, str) else None,
        )


def encode_json(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_json(provider: str, call: Call, response: HttpResponse) -> Any:
    """Decode a success body, or say plainly that the provider's answer was not JSON."""
    try:
        return json.loads(response.body)
    except ValueError:
        preview = response.body[:200].decode("utf-8", "replace")
        raise APIResponseValidationError(
            f"{provider} answered with status {response.status} and a body that is not JSON: "
            f"{preview!r}",
            llm_provider=provider,
            model=call.model,
            status_code=response.status,
            headers=response.headers,
        ) from None
