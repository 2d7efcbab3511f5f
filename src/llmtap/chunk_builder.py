"""Rebuild a whole response from streamed chunks: text, tool-call deltas, finish and usage.

``ChunkAssembler`` is fed chunk by chunk (cheaply: it appends, it does not join) and builds the
response once at the end; ``stream_chunk_builder`` is LiteLLM's function on top of it.
"""

from __future__ import annotations

from typing import Any

from .tokens import token_counter
from .types import (
    ChatCompletionMessageToolCall,
    Choices,
    Function,
    FunctionCall,
    Message,
    ModelResponse,
    ModelResponseStream,
    TextChoices,
    TextCompletionResponse,
    Usage,
)


class _ChoiceState:
    __slots__ = ("role", "parts", "tools", "function", "finish_reason")

    def __init__(self) -> None:
        self.role: str | None = None
        self.parts: list[str] = []
        self.tools: dict[int, list] = {}  # index → [id, type, name, [argument parts]]
        self.function: list | None = None  # [name, [argument parts]]
        self.finish_reason: str | None = None


class ChunkAssembler:
    __slots__ = ("_first", "_choices", "_usage", "_text")

    def __init__(self) -> None:
        self._first: Any = None
        self._choices: dict[int, _ChoiceState] = {}
        self._usage: Any = None
        self._text = False

    def add(self, chunk: Any) -> None:
        # Runs once per streamed chunk: reads the objects' dicts directly.
        if isinstance(chunk, dict):
            chunk = (
                TextCompletionResponse.from_openai(chunk)
                if chunk.get("object") == "text_completion"
                else ModelResponseStream.from_openai(chunk)
            )
        fields = chunk.__dict__
        if self._first is None:
            self._first = chunk
            self._text = isinstance(chunk, TextCompletionResponse)
        usage = fields.get("usage")
        if usage:
            self._usage = usage
        for choice in fields.get("choices") or ():
            c = choice.__dict__
            index = c.get("index") or 0
            state = self._choices.get(index)
            if state is None:
                state = self._choices[index] = _ChoiceState()
            finish = c.get("finish_reason")
            if finish:
                state.finish_reason = finish
            if self._text:
                text = c.get("text")
                if text:
                    state.parts.append(text)
                continue
            delta = c.get("delta")
            if delta is None:
                continue
            d = delta.__dict__
            role = d.get("role")
            if role:
                state.role = role
            content = d.get("content")
            if content:
                state.parts.append(content)
            tool_calls = d.get("tool_calls")
            if tool_calls:
                self._add_tool_calls(state, tool_calls)
            function_call = d.get("function_call")
            if function_call:
                if state.function is None:
                    state.function = [None, []]
                if function_call.get("name"):
                    state.function[0] = function_call.name
                if function_call.get("arguments"):
                    state.function[1].append(function_call.arguments)

    @staticmethod
    def _add_tool_calls(state: _ChoiceState, tool_calls: list) -> None:
        for call in tool_calls:
            slot = state.tools.get(call.get("index") or 0)
            if slot is None:
                slot = state.tools[call.get("index") or 0] = [None, None, None, []]
            if call.get("id"):
                slot[0] = call.id
            if call.get("type"):
                slot[1] = call.type
            function = call.get("function")
            if function is not None:
                if function.get("name"):
                    slot[2] = function.name
                if function.get("arguments"):
                    slot[3].append(function.arguments)

    def build(self, messages: list | None = None) -> ModelResponse | TextCompletionResponse | None:
        first = self._first
        if first is None:
            return None
        estimated = self._usage is None
        if estimated:
            completion_text = "".join("".join(s.parts) for s in self._choices.values())
            prompt_tokens = token_counter(messages=messages) if messages else 0
            usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=token_counter(text=completion_text))
        else:
            usage = Usage.from_openai(self._usage.model_dump()) if hasattr(self._usage, "model_dump") else Usage(**self._usage)
        if self._text:
            choices = [
                TextChoices(index=i, text="".join(s.parts), finish_reason=s.finish_reason, logprobs=None)
                for i, s in sorted(self._choices.items())
            ]
            response: Any = TextCompletionResponse(
                id=first.get("id"), created=first.get("created"), model=first.get("model"), choices=choices, usage=usage
            )
        else:
            choices = [self._choice(i, s) for i, s in sorted(self._choices.items())] or [Choices()]
            response = ModelResponse(
                id=first.get("id"),
                created=first.get("created"),
                model=first.get("model"),
                system_fingerprint=first.get("system_fingerprint"),
                choices=choices,
                usage=usage,
            )
        if estimated:
            response._hidden_params["usage_estimated"] = True
        return response

    @staticmethod
    def _choice(index: int, state: _ChoiceState) -> Choices:
        tool_calls = None
        if state.tools:
            tool_calls = [
                ChatCompletionMessageToolCall(
                    id=slot[0], type=slot[1] or "function", function=Function(name=slot[2], arguments="".join(slot[3]))
                )
                for _, slot in sorted(state.tools.items())
            ]
        function_call = None
        if state.function is not None:
            function_call = FunctionCall(name=state.function[0], arguments="".join(state.function[1]))
        content = "".join(state.parts) if state.parts else None
        message = Message(
            content=content, role=state.role or "assistant", tool_calls=tool_calls, function_call=function_call
        )
        return Choices(index=index, message=message, finish_reason=state.finish_reason)


def stream_chunk_builder(chunks: list, messages: list | None = None) -> ModelResponse | TextCompletionResponse | None:
    """The whole response a list of streamed chunks adds up to (None for no chunks)."""
    assembler = ChunkAssembler()
    for chunk in chunks:
        assembler.add(chunk)
    return assembler.build(messages=messages)
