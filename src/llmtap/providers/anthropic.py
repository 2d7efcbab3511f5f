"""Anthropic's Messages API: OpenAI-shaped calls in, Anthropic's wire format out, and back.

System messages are lifted into ``system``; tools, tool choices, tool calls and tool results
are translated both ways; stop reasons become OpenAI finish reasons; usage counts cache reads
and writes. Streams map message/content-block events onto OpenAI chunks.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..exceptions import error_for_status
from ..types import ModelResponse, ModelResponseStream
from ..wire import HttpRequest
from .base import Provider, SSEJSONParser, StreamParser, decode_json, encode_json
from .parts import image_of, tool_arguments_or_raw

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "pause_turn": "stop",
    "refusal": "content_filter",
}

# Anthropic's error types → HTTP status, for errors that arrive inside a 200 stream.
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}

_CHAT = frozenset(
    {
        "temperature", "top_p", "stop", "max_tokens", "max_completion_tokens", "user", "tools",
        "tool_choice", "parallel_tool_calls", "stream_options", "top_k", "response_format",
        "metadata", "thinking", "reasoning_effort",
    }
)


class Anthropic(Provider):
    name = "anthropic"
    key_env = ("ANTHROPIC_API_KEY",)
    base_env = ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE")
    default_base = "https://api.anthropic.com"
    text_completion = "chat"
    secret_headers = frozenset({"x-api-key", "authorization"})
    module_key = "anthropic_key"
    bare_prefixes = ("claude",)
    otel_name = "anthropic"
    supported_params = {"completion": _CHAT, "text_completion": frozenset(), "embedding": frozenset()}

    def variant(self, model: str) -> str | None:
        # "anthropic/claude-2.1" still means the legacy text-completions API
        return "anthropic_text" if model.startswith(("claude-2", "claude-instant-1")) else None

    def url(self, call: Call) -> str:
        base = call.api_base
        return base + ("/messages" if base.endswith("/v1") else "/v1/messages")

    def headers(self, call: Call) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "x-api-key": call.api_key or "",
            "anthropic-version": API_VERSION,
        }
        if call.extra_headers:
            headers.update(call.extra_headers)
        return headers

    def build_body(self, call: Call) -> dict:
        system, messages = convert_messages(call.messages or [])
        params = dict(call.params)
        body: dict[str, Any] = {"model": call.provider_model, "messages": messages}
        if system:
            body["system"] = system
        body["max_tokens"] = params.pop("max_tokens", None) or params.pop("max_completion_tokens", None) or DEFAULT_MAX_TOKENS
        params.pop("max_completion_tokens", None)
        tools = params.pop("tools", None)
        if tools:
            body["tools"] = [convert_tool(tool) for tool in tools]
        choice = params.pop("tool_choice", None)
        parallel = params.pop("parallel_tool_calls", None)
        if choice is not None or parallel is False:
            converted = convert_tool_choice(choice)
            if converted is None:
                body.pop("tools", None)
            else:
                if parallel is False:
                    converted["disable_parallel_tool_use"] = True
                body["tool_choice"] = converted
        response_format = params.pop("response_format", None)
        if response_format and response_format.get("type") == "json_schema":
            schema = response_format.get("json_schema", {})
            body["output_format"] = {"type": "json_schema", "schema": schema.get("schema", schema)}
        params.pop("reasoning_effort", None)
        return finish_body(call, params, body)

    def build_request(self, call: Call, body: dict) -> HttpRequest:
        return HttpRequest("POST", self.url(call), self.headers(call), encode_json(body), call.timeout, call.stream)

    def parse_response(self, call: Call, response: HttpResponse) -> Any:
        data = decode_json(self.name, call, response)
        if not isinstance(data, dict) or data.get("type") == "error":
            raise _stream_error(self, call, data if isinstance(data, dict) else {"error": data})
        text_parts = []
        tool_calls = []
        for block in data.get("content") or ():
            kind = block.get("type")
            if kind == "text":
                text_parts.append(block.get("text", ""))
            elif kind == "tool_use":
                tool_calls.append(
                    {
                        "id": block.get("id"),
                        "type": "function",
                        "function": {"name": block.get("name"), "arguments": json.dumps(block.get("input", {}))},
                    }
                )
        message: dict[str, Any] = {"role": "assistant", "content": "".join(text_parts) if text_parts else None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        return ModelResponse.from_openai(
            {
                "id": data.get("id"),
                "object": "chat.completion",
                "created": None,
                "model": data.get("model", call.provider_model),
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": FINISH_REASONS.get(data.get("stop_reason"), data.get("stop_reason") or "stop"),
                    }
                ],
                "usage": convert_usage(data.get("usage") or {}),
            }
        )

    def stream_parser(self, call: Call) -> StreamParser:
        return AnthropicStreamParser(self, call)

    def error_from_response(self, call: Call, response: HttpResponse) -> Any:
        error = super().error_from_response(call, response)
        body = error.body
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            kind = body["error"].get("type")
            if kind == "invalid_request_error" and "prompt is too long" in error.message:
                return error_for_status(400, error.message, provider=self.name, model=call.model,
                                        body=body, headers=response.headers, code="context_length_exceeded")
        return error


def finish_body(call: Call, params: dict, body: dict) -> dict:
    """What both Anthropic APIs share: stop sequences, the end user, the remaining parameters
    under their own names, the stream switch and extra_body."""
    stop = params.pop("stop", None)
    if stop:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    user = params.pop("user", None)
    if user:
        body["metadata"] = {"user_id": user}
    params.pop("stream_options", None)
    body.update(params)
    if call.stream:
        body["stream"] = True
    if call.extra_body:
        body.update(call.extra_body)
    return body


def convert_usage(usage: dict) -> dict:
    read = usage.get("cache_read_input_tokens") or 0
    created = usage.get("cache_creation_input_tokens") or 0
    prompt = (usage.get("input_tokens") or 0) + read + created
    completion = usage.get("output_tokens") or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": read},
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": created,
    }


def convert_tool(tool: dict) -> dict:
    if tool.get("type") != "function":
        return tool  # already Anthropic-shaped (or a server tool)
    function = tool.get("function", {})
    converted = {
        "name": function.get("name"),
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if function.get("description"):
        converted["description"] = function["description"]
    return converted


def convert_tool_choice(choice: Any) -> dict | None:
    if choice is None or choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return None
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "tool", "name": choice.get("function", {}).get("name")}
    return choice if isinstance(choice, dict) else {"type": "auto"}


def _content_blocks(content: Any) -> list[dict]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            blocks.append({"type": "text", "text": part.get("text", "")})
        elif kind == "image_url" and (image := image_of(part)) is not None:
            if image.inline:
                source = {"type": "base64", "media_type": image.media_type, "data": image.data}
            else:
                source = {"type": "url", "url": image.url}
            blocks.append({"type": "image", "source": source})
        else:
            blocks.append(part)
    return blocks


def convert_messages(messages: list[dict]) -> tuple[Any, list[dict]]:
    """(system, messages): system text lifted out; tool results as user turns; turns merged."""
    system_parts: list[str] = []
    converted: list[dict] = []

    def add(role: str, blocks: list[dict]) -> None:
        if converted and converted[-1]["role"] == role:
            converted[-1]["content"].extend(blocks)
        else:
            converted.append({"role": role, "content": blocks})

    for message in messages:
        role = message["role"]
        content = message.get("content")
        if role in ("system", "developer"):
            system_parts.extend(b["text"] for b in _content_blocks(content) if b.get("type") == "text")
        elif role == "tool" or role == "function":
            add(
                "user",
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": message.get("tool_call_id") or message.get("name"),
                        "content": content if isinstance(content, str) else _content_blocks(content),
                    }
                ],
            )
        elif role == "assistant":
            blocks = _content_blocks(content)
            for call in message.get("tool_calls") or ():
                function = call.get("function", {})
                parsed = tool_arguments_or_raw(function.get("arguments"))
                blocks.append({"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": parsed})
            add("assistant", blocks)
        else:
            add("user", _content_blocks(content))
    # Single text blocks read better (and match what people log) as plain strings.
    for message in converted:
        blocks = message["content"]
        if len(blocks) == 1 and blocks[0].get("type") == "text" and set(blocks[0]) == {"type", "text"}:
            message["content"] = blocks[0]["text"]
    return "\n".join(system_parts) if system_parts else None, converted


def _stream_error(provider: Provider, call: Call, data: dict) -> Exception:
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    kind = error.get("type", "api_error")
    return error_for_status(
        ERROR_STATUS.get(kind, 500),
        error.get("message") or str(data),
        provider=provider.name,
        model=call.model,
        body=data,
        code=kind,
    )


class AnthropicStreamParser(SSEJSONParser):
    """message_start, content_block_*, message_delta and message_stop events as OpenAI chunks."""

    end_marker = "message_stop"

    def __init__(self, provider: Provider, call: Call) -> None:
        super().__init__(provider, call)
        self._base: dict[str, Any] = {"id": None, "object": "chat.completion.chunk", "created": None, "model": call.provider_model}
        self._usage: dict[str, Any] = {}
        self._tool_index = -1
        self._blocks: dict[int, int] = {}  # content block index → tool call index

    def _chunk(self, delta: dict, finish_reason: str | None = None, usage: dict | None = None) -> Any:
        data = {**self._base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
        if usage is not None:
            data["usage"] = usage
        return ModelResponseStream.from_openai(data)

    def on_object(self, data: dict) -> Any:
        kind = data.get("type")
        if kind == "content_block_delta":
            delta = data.get("delta", {})
            if delta.get("type") == "text_delta":
                return self._chunk({"content": delta.get("text", "")})
            if delta.get("type") == "input_json_delta":
                index = self._blocks.get(data.get("index", 0), self._tool_index)
                return self._chunk({"tool_calls": [{"index": index, "function": {"arguments": delta.get("partial_json", "")}}]})
            return None
        if kind == "content_block_start":
            block = data.get("content_block", {})
            if block.get("type") == "tool_use":
                self._tool_index += 1
                self._blocks[data.get("index", 0)] = self._tool_index
                return self._chunk(
                    {
                        "tool_calls": [
                            {
                                "index": self._tool_index,
                                "id": block.get("id"),
                                "type": "function",
                                "function": {"name": block.get("name"), "arguments": ""},
                            }
                        ]
                    }
                )
            if block.get("type") == "text" and block.get("text"):
                return self._chunk({"content": block["text"]})
            return None
        if kind == "message_start":
            message = data.get("message", {})
            self._base["id"] = message.get("id")
            self._base["model"] = message.get("model", self._base["model"])
            self._usage = dict(message.get("usage") or {})
            return self._chunk({"role": "assistant", "content": ""})
        if kind == "message_delta":
            self._usage.update({k: v for k, v in (data.get("usage") or {}).items() if v is not None})
            reason = data.get("delta", {}).get("stop_reason")
            return self._chunk({}, FINISH_REASONS.get(reason, reason or "stop"), convert_usage(self._usage))
        if kind == "message_stop":
            self.complete = True
            return None
        if kind == "error":
            raise _stream_error(self.provider, self.call, data)
        return None  # ping, content_block_stop, and future event types
