"""Mistral's own chat API (La Plateforme): OpenAI's shape, with a few documented differences.

Requests: ``seed`` is sent as ``random_seed`` and ``max_completion_tokens`` as ``max_tokens``;
``tool_choice="required"`` is Mistral's ``"any"``; Mistral refuses unknown fields, so ``name``
goes only on tool messages and an assistant turn with nothing in it is left out. Mistral's own
parameters (``safe_prompt``, ``random_seed``, ``prompt_mode``...) pass through as given.
Answers may carry ``content`` as a list of blocks: text blocks become ``content``, ``thinking``
blocks ``reasoning_content``; an empty content string is None. Streams put usage on the chunk
with the finish reason. Errors are a top-level ``{"object": "error", "message", "type", "code"}``,
and a validation failure's message is ``{"detail": [{"loc": [...], "msg": ...}]}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import APIError, decode_error_body, error_for_status
from .base import StreamParser
from .openai import OpenAI, OpenAIStreamParser

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse

_CHAT = frozenset({
    "temperature", "top_p", "max_tokens", "max_completion_tokens", "tools", "tool_choice", "seed", "stop",
    "response_format", "parallel_tool_calls",
})
_RENAMED = {"seed": "random_seed", "max_completion_tokens": "max_tokens", "dimensions": "output_dimension"}


class Mistral(OpenAI):
    name = "mistral"
    key_env = ("MISTRAL_API_KEY",)
    base_env = ("MISTRAL_API_BASE",)
    default_base = "https://api.mistral.ai/v1"
    text_completion = "chat"
    secret_headers = frozenset({"authorization"})
    module_key = None
    bare_prefixes = ()
    otel_name = "mistral_ai"
    key_optional_at_custom_base = False
    supported_params = {
        "completion": _CHAT,
        "text_completion": _CHAT,
        "embedding": frozenset({"encoding_format", "dimensions"}),
    }

    def build_body(self, call: Call) -> dict:
        body: dict[str, Any] = {"model": call.provider_model}
        if call.call_type == "embedding":
            body["input"] = call.input
        else:
            body["messages"] = [_message(m) for m in call.messages or () if not _empty_assistant(m)]
        for name, value in call.params.items():
            if name == "max_tokens" and "max_completion_tokens" in call.params:
                continue  # max_completion_tokens wins, as for OpenAI's reasoning models
            if name == "tool_choice" and value == "required":
                value = "any"
            body[_RENAMED.get(name, name)] = value
        if call.stream:
            body["stream"] = True
        if call.extra_body:
            body.update(call.extra_body)
        return body

    def normalize(self, call: Call, data: dict) -> dict:
        for choice in data.get("choices") or ():
            message = choice.get("message") if isinstance(choice, dict) else None
            if isinstance(message, dict):
                _split_blocks(message)
        return data

    def stream_parser(self, call: Call) -> StreamParser:
        return MistralStreamParser(self, call)

    def error_from_response(self, call: Call, response: HttpResponse) -> APIError:
        body, message = decode_error_body(response.body)
        code = None
        if isinstance(body, dict) and "error" not in body:
            detail = body.get("message")
            if isinstance(detail, dict):
                detail = detail.get("detail")
            if not isinstance(detail, list):
                detail = body.get("detail")
            if isinstance(detail, list) and detail:
                message = "; ".join(_problem(item) for item in detail)
            code = body.get("code") if isinstance(body.get("code"), str) else body.get("type")
        return error_for_status(
            response.status, message, provider=self.name, model=call.model, body=body, headers=response.headers,
            code=code if isinstance(code, str) else None,
        )


class MistralStreamParser(OpenAIStreamParser):
    """OpenAI's chunks, but a delta's content may be a list of text and thinking blocks."""

    def on_object(self, obj: dict) -> Any:
        for choice in obj.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if isinstance(delta, dict) and isinstance(delta.get("content"), list):
                _split_blocks(delta, empty_is_none=False)
        return super().on_object(obj)


def _message(message: dict) -> dict:
    """An OpenAI message as Mistral takes it: no None fields, ``name`` only on tool messages."""
    out = {key: value for key, value in message.items() if value is not None}
    if out.get("role") != "tool" or not str(out.get("name", "")).strip():
        out.pop("name", None)
    return out


def _empty_assistant(message: dict) -> bool:
    return (
        isinstance(message, dict)
        and message.get("role") == "assistant"
        and not message.get("content")
        and not message.get("tool_calls")
        and not message.get("function_call")
    )


def _split_blocks(message: dict, empty_is_none: bool = True) -> None:
    """Content blocks → ``content`` text and ``reasoning_content``; "" → None in whole answers."""
    content = message.get("content")
    if isinstance(content, list):
        text, thinking = [], []
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                text.append(block.get("text") or "")
            elif block.get("type") == "thinking":
                thinking.extend(
                    part.get("text") or "" for part in block.get("thinking") or () if isinstance(part, dict)
                )
        message["content"] = content = "".join(text)
        if thinking:
            message["reasoning_content"] = "".join(thinking)
    if content == "" and empty_is_none:
        message["content"] = None


def _problem(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    loc = item.get("loc")
    where = ".".join(str(part) for part in loc) if isinstance(loc, (list, tuple)) else ""
    return f"{where}: {item.get('msg')}" if where else str(item.get("msg"))
