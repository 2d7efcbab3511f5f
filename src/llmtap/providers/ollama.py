"""Ollama's native API (/api/chat, /api/generate, /api/embed): what people run locally.

Sampling parameters go under ``options`` with Ollama's names; streams are newline-delimited
JSON, not SSE; usage comes from ``prompt_eval_count`` and ``eval_count``. No key is needed.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from ..exceptions import APIConnectionError, APIResponseValidationError, error_for_status
from ..sse import NDJSONDecoder
from ..types import EmbeddingResponse, ModelResponse, ModelResponseStream, TextCompletionResponse
from ..wire import HttpRequest
from .base import Provider, StreamParser, decode_json, encode_json
from .parts import image_of, tool_arguments_or_raw

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse

OPTION_NAMES = {
    "temperature": "temperature",
    "top_p": "top_p",
    "max_tokens": "num_predict",
    "max_completion_tokens": "num_predict",
    "stop": "stop",
    "seed": "seed",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
_SUPPORTED = frozenset({*OPTION_NAMES, "tools", "tool_choice", "response_format", "stream_options", "user"})
_PATHS = {"completion": "/api/chat", "text_completion": "/api/generate", "embedding": "/api/embed"}


class Ollama(Provider):
    name = "ollama"
    key_env = ("OLLAMA_API_KEY",)
    base_env = ("OLLAMA_API_BASE", "OLLAMA_HOST")
    default_base = "http://localhost:11434"
    needs_key = False
    text_completion = "native"
    secret_headers = frozenset({"authorization"})
    module_key = None
    bare_prefixes = ()
    otel_name = "ollama"
    supported_params = {"completion": _SUPPORTED, "text_completion": _SUPPORTED, "embedding": frozenset({"dimensions"})}

    def build_body(self, call: Call) -> dict:
        body: dict[str, Any] = {"model": call.provider_model}
        if call.call_type == "embedding":
            body["input"] = call.input
            if "dimensions" in call.params:
                body["dimensions"] = call.params["dimensions"]
            return body
        if call.call_type == "completion":
            body["messages"] = [_message(m) for m in call.messages or []]
        else:
            body["prompt"] = call.prompt if isinstance(call.prompt, str) else "".join(call.prompt)
        body["stream"] = call.stream  # Ollama streams unless told not to
        options = {OPTION_NAMES[k]: v for k, v in call.params.items() if k in OPTION_NAMES}
        if isinstance(options.get("stop"), str):
            options["stop"] = [options["stop"]]
        if options:
            body["options"] = options
        if call.params.get("tools"):
            body["tools"] = call.params["tools"]
        response_format = call.params.get("response_format")
        if response_format:
            if response_format.get("type") == "json_schema":
                schema = response_format.get("json_schema", {})
                body["format"] = schema.get("schema", schema)
            elif response_format.get("type") == "json_object":
                body["format"] = "json"
        if call.extra_body:
            body.update(call.extra_body)
        return body

    def build_request(self, call: Call, body: dict) -> HttpRequest:
        headers = {"Content-Type": "application/json"}
        if call.api_key:
            headers["Authorization"] = f"Bearer {call.api_key}"
        if call.extra_headers:
            headers.update(call.extra_headers)
        return HttpRequest("POST", call.api_base + _PATHS[call.call_type], headers, encode_json(body), call.timeout, call.stream)

    def parse_response(self, call: Call, response: HttpResponse) -> Any:
        data = decode_json(self.name, call, response)
        if not isinstance(data, dict):
            raise APIResponseValidationError(f"ollama answered with {str(data)[:200]!r}", llm_provider=self.name, model=call.model)
        if "error" in data:
            raise error_for_status(500, str(data["error"]), provider=self.name, model=call.model, body=data)
        if call.call_type == "embedding":
            vectors = data.get("embeddings") or []
            tokens = data.get("prompt_eval_count") or 0
            return EmbeddingResponse.from_openai(
                {
                    "object": "list",
                    "model": data.get("model", call.provider_model),
                    "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                }
            )
        return to_openai(call, data, whole=True)

    def stream_parser(self, call: Call) -> StreamParser:
        return OllamaStreamParser(self, call)


def _message(message: dict) -> dict:
    """OpenAI message → Ollama message: text content, images as base64, tool call arguments as objects."""
    out: dict[str, Any] = {"role": message["role"]}
    content = message.get("content")
    if isinstance(content, list):
        texts, images = [], []
        for part in content:
            if part.get("type") == "text":
                texts.append(part.get("text", ""))
            elif part.get("type") == "image_url" and (image := image_of(part)) is not None:
                images.append(image.data if image.inline else image.url)
        out["content"] = "".join(texts)
        if images:
            out["images"] = images
    else:
        out["content"] = content or ""
    if message.get("tool_calls"):
        out["tool_calls"] = [
            {"function": {"name": c["function"]["name"], "arguments": tool_arguments_or_raw(c["function"].get("arguments"))}}
            for c in message["tool_calls"]
        ]
    return out


def to_openai(call: Call, data: dict, whole: bool, ident: str | None = None) -> Any:
    """One Ollama answer (or stream line) as an OpenAI response (or chunk)."""
    created = int(time.time())
    ident = ident or "chatcmpl-ollama-" + uuid.uuid4().hex[:16]
    done = bool(data.get("done"))
    finish = (data.get("done_reason") or "stop") if done else None
    if finish == "load":
        finish = "stop"
    usage = None
    if done:
        prompt = data.get("prompt_eval_count") or 0
        completion = data.get("eval_count") or 0
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    model = data.get("model", call.provider_model)
    if call.call_type == "text_completion":
        choice = {"index": 0, "text": data.get("response", ""), "logprobs": None, "finish_reason": finish}
        return TextCompletionResponse.from_openai(
            {"id": ident, "object": "text_completion", "created": created, "model": model, "choices": [choice], "usage": usage}
        )
    message = data.get("message") or {}
    calls = [
        {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
         "function": {"name": c["function"]["name"], "arguments": json.dumps(c["function"].get("arguments", {}))}}
        for c in message.get("tool_calls") or ()
    ]
    if calls and done:
        finish = "tool_calls"
    if whole:
        out_message: dict[str, Any] = {"role": "assistant", "content": message.get("content") or (None if calls else "")}
        if calls:
            out_message["tool_calls"] = calls
        return ModelResponse.from_openai(
            {"id": ident, "object": "chat.completion", "created": created, "model": model,
             "choices": [{"index": 0, "message": out_message, "finish_reason": finish or "stop"}], "usage": usage}
        )
    delta: dict[str, Any] = {"role": "assistant", "content": message.get("content", "")}
    if calls:
        delta["tool_calls"] = [{"index": i, **c} for i, c in enumerate(calls)]
    chunk = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage:
        chunk["usage"] = usage
    return ModelResponseStream.from_openai(chunk)


class OllamaStreamParser(StreamParser):
    """One JSON object per line; the line with ``"done": true`` ends the answer."""

    def __init__(self, provider: Ollama, call: Call) -> None:
        self.provider = provider
        self.call = call
        self.complete = False
        self._lines = NDJSONDecoder()
        self._id = "chatcmpl-ollama-" + uuid.uuid4().hex[:16]

    def feed(self, data: bytes) -> list[Any]:
        return [self._line(line) for line in self._lines.feed(data)]

    def close(self) -> list[Any]:
        chunks = [self._line(line) for line in self._lines.close()]
        if not self.complete:
            raise APIConnectionError(
                "ollama stream ended before the answer was complete (no done: true)",
                llm_provider=self.provider.name,
                model=self.call.model,
            )
        return chunks

    def _line(self, line: str) -> Any:
        try:
            data = json.loads(line)
        except ValueError:
            raise APIResponseValidationError(
                f"ollama sent a stream line that is not JSON: {line[:200]!r}", llm_provider="ollama", model=self.call.model
            ) from None
        if "error" in data:
            raise error_for_status(500, str(data["error"]), provider="ollama", model=self.call.model, body=data)
        if data.get("done"):
            self.complete = True
        return to_openai(self.call, data, whole=False, ident=self._id)
