"""The Responses API for providers that only have chat: the request becomes a chat completion
and the answer (or its stream) comes back as a Responses object (or Responses events).

As the peer does for Anthropic, Gemini, Ollama... The call runs through the pipeline as a chat
completion, so callbacks see ``call_type == "completion"`` with the chat body that was sent.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .exceptions import BadRequestError
from .types.endpoints import ResponsesAPIResponse, ResponsesAPIStreamEvent

# Responses parameters that mean nothing to a chat completion and are dropped.
_IGNORED = frozenset({"store", "include", "truncation", "background", "service_tier", "prompt_cache_key",
                      "safety_identifier", "stream_options", "max_tool_calls", "top_logprobs"})


def chat_request(input: Any, kwargs: dict, model: str) -> tuple[list, dict]:  # noqa: A002
    """(messages, completion kwargs) for a Responses request."""
    kwargs = dict(kwargs)
    messages: list = []
    instructions = kwargs.pop("instructions", None)
    if instructions:
        messages.append({"role": "system", "content": instructions})
    if isinstance(input, str):
        messages.append({"role": "user", "content": input})
    else:
        for item in input:
            messages.extend(_message(item, model))
    if kwargs.pop("previous_response_id", None) or kwargs.pop("conversation", None):
        raise BadRequestError("previous_response_id/conversation need a provider that stores responses (OpenAI)", model=model)
    if "max_output_tokens" in kwargs:
        kwargs["max_tokens"] = kwargs.pop("max_output_tokens")
    reasoning = kwargs.pop("reasoning", None)
    if isinstance(reasoning, dict) and reasoning.get("effort"):
        kwargs["reasoning_effort"] = reasoning["effort"]
    text = kwargs.pop("text", None)
    form = text.get("format") if isinstance(text, dict) else None
    if isinstance(form, dict) and form.get("type") == "json_schema":
        schema = {k: form[k] for k in ("name", "schema", "strict", "description") if k in form}
        kwargs["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif isinstance(form, dict) and form.get("type") == "json_object":
        kwargs["response_format"] = {"type": "json_object"}
    if kwargs.get("tools"):
        kwargs["tools"] = [_tool(tool, model) for tool in kwargs["tools"]]
    choice = kwargs.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function" and "name" in choice:
        kwargs["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    for name in _IGNORED:
        kwargs.pop(name, None)
    kwargs.pop("prompt", None)
    return messages, kwargs


def _message(item: Any, model: str) -> list[dict]:
    if not isinstance(item, dict):
        raise BadRequestError(f"input items must be dicts, got {type(item).__name__}", model=model)
    kind = item.get("type", "message")
    if kind == "function_call":
        call = {"id": item.get("call_id") or item.get("id"), "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments") or "{}"}}
        return [{"role": "assistant", "content": None, "tool_calls": [call]}]
    if kind == "function_call_output":
        output = item.get("output")
        return [{"role": "tool", "tool_call_id": item.get("call_id"),
                 "content": output if isinstance(output, str) else json.dumps(output)}]
    if kind == "reasoning":
        return []
    if kind != "message":
        raise BadRequestError(f"input item type {kind!r} needs a provider with the Responses API (OpenAI)", model=model)
    role = item.get("role", "user")
    content = item.get("content")
    if isinstance(content, list):
        parts = []
        for part in content:
            if not isinstance(part, dict):
                continue
            if part.get("type") in ("input_text", "output_text", "text"):
                parts.append({"type": "text", "text": part.get("text", "")})
            elif part.get("type") == "input_image":
                url = part.get("image_url") or part.get("file_id")
                parts.append({"type": "image_url", "image_url": {"url": url, "detail": part.get("detail", "auto")}})
        content = parts
    return [{"role": "developer" if role == "developer" else role, "content": content}]


def _tool(tool: Any, model: str) -> dict:
    if isinstance(tool, dict) and tool.get("type") == "function" and "function" not in tool:
        function = {k: tool[k] for k in ("name", "description", "parameters", "strict") if k in tool}
        return {"type": "function", "function": function}
    if isinstance(tool, dict) and "function" in tool:
        return tool
    raise BadRequestError(f"tool {tool!r:.80} needs a provider with the Responses API (OpenAI)", model=model)


def to_response(chat: Any) -> ResponsesAPIResponse:
    """A chat completion as the Responses object it answers."""
    choice = chat.choices[0] if chat.choices else None
    message = choice.message if choice is not None else None
    output: list[dict] = []
    reasoning = getattr(message, "reasoning_content", None) if message is not None else None
    if reasoning:
        output.append({"type": "reasoning", "id": "rs_" + chat.id, "summary": [{"type": "summary_text", "text": reasoning}]})
    if message is not None and message.content:
        output.append({"type": "message", "id": "msg_" + chat.id, "status": "completed", "role": "assistant",
                       "content": [{"type": "output_text", "text": message.content, "annotations": []}]})
    for call in (message.tool_calls or []) if message is not None else []:
        output.append({"type": "function_call", "id": "fc_" + str(call.id), "call_id": call.id, "status": "completed",
                       "name": call.function.name, "arguments": call.function.arguments})
    usage = chat.usage
    finish = choice.finish_reason if choice is not None else None
    data = {
        "id": "resp_" + str(chat.id), "object": "response", "created_at": chat.created or int(time.time()),
        "status": "incomplete" if finish == "length" else "completed", "model": chat.model, "output": output,
        "incomplete_details": {"reason": "max_output_tokens"} if finish == "length" else None,
        "usage": {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens,
                  "total_tokens": usage.total_tokens} if usage is not None else None,
        "error": None,
    }
    result = ResponsesAPIResponse.from_openai(data)
    result._hidden_params.update(chat._hidden_params)
    return result


class EventStream:
    """A chat stream as Responses events: created, one text delta per content chunk, completed."""

    def __init__(self, chat_stream: Any, model: str) -> None:
        self._chat = chat_stream
        self._model = model
        self._pending: list[Any] = [self._event("response.created", response=self._snapshot("in_progress", ""))]
        self._text: list[str] = []
        self._done = False

    def _snapshot(self, status: str, text: str) -> dict:
        output = [{"type": "message", "id": "msg_0", "status": status, "role": "assistant",
                   "content": [{"type": "output_text", "text": text, "annotations": []}]}] if text else []
        return {"id": "resp_stream", "object": "response", "created_at": int(time.time()), "status": status,
                "model": self._model, "output": output, "usage": None}

    @staticmethod
    def _event(kind: str, **fields: Any) -> ResponsesAPIStreamEvent:
        return ResponsesAPIStreamEvent.from_openai({"type": kind, **fields})

    def _take(self, chunk: Any) -> None:
        for choice in chunk.choices or ():
            delta = choice.delta.content if choice.delta is not None else None
            if delta:
                self._text.append(delta)
                self._pending.append(self._event("response.output_text.delta", item_id="msg_0", output_index=0,
                                                 content_index=0, delta=delta))

    def _finish(self) -> None:
        self._done = True
        text = "".join(self._text)
        self._pending.append(self._event("response.output_text.done", item_id="msg_0", output_index=0,
                                         content_index=0, text=text))
        self._pending.append(self._event("response.completed", response=self._snapshot("completed", text)))

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> Any:
        while not self._pending:
            if self._done:
                raise StopIteration
            try:
                self._take(next(self._chat))
            except StopIteration:
                self._finish()
        return self._pending.pop(0)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Any:
        while not self._pending:
            if self._done:
                raise StopAsyncIteration
            try:
                self._take(await self._chat.__anext__())
            except StopAsyncIteration:
                self._finish()
        return self._pending.pop(0)

    def close(self) -> None:
        self._chat.close()
