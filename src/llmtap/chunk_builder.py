"""Rebuild a whole response from streamed chunks: text, tool-call deltas, finish and usage.

``ChunkAssembler`` is fed chunk by chunk (cheaply: it appends, it does not join, and it reads
chunk objects and plain OpenAI-shaped dicts alike without converting them) and builds the
response once at the end; ``stream_chunk_builder`` is LiteLLM's function on top of it.

Per choice index: the role, the content concatenated (None if none ever came; content sent as
a list of parts contributes its text parts), tool-call deltas merged by their ``index`` (id,
type and name from the first delta that has them, arguments concatenated; arguments sent as a
JSON object are encoded), the legacy ``function_call`` merged the same way,
``reasoning_content`` and logprobs concatenated, and the last non-null ``finish_reason``. A
chunk of the wrong shape (``choices`` not a list, content a number) raises ``ValueError``. Usage is the last usage a
chunk carried; without one it is estimated (``tokens.token_counter``) and the response is marked
``_hidden_params["usage_estimated"] = True``.
"""

from __future__ import annotations

from typing import Any

from .tokens import estimate_tokens as token_counter
from .types import (
    ChatCompletionMessageToolCall,
    Choices,
    Function,
    FunctionCall,
    Message,
    ModelResponse,
    OpenAIObject,
    TextChoices,
    TextCompletionResponse,
    Usage,
)


def _fields(obj: Any) -> dict:
    """The field dict of a chunk part: a plain dict as is, an object's ``__dict__``."""
    if type(obj) is dict:
        return obj
    return obj.__dict__ if isinstance(obj, OpenAIObject) else obj


class _ChoiceState:
    __slots__ = ("role", "parts", "reasoning", "tools", "function", "finish_reason", "logprobs")

    def __init__(self) -> None:
        self.role: str | None = None
        self.parts: list[str] = []
        self.reasoning: list[str] | None = None
        self.tools: dict[int, list] = {}  # index → [id, type, name, [argument parts]]
        self.function: list | None = None  # [name, [argument parts]]
        self.finish_reason: str | None = None
        self.logprobs: list | None = None  # logprobs["content"] items, in order


class ChunkAssembler:
    """Collects streamed chunks (``ModelResponseStream``/``TextCompletionResponse`` objects or
    OpenAI chunk dicts) one at a time; ``build()`` returns the whole response (None if no chunk)."""

    __slots__ = ("_first", "_choices", "_usage", "_text")

    def __init__(self) -> None:
        self._first: dict | None = None
        self._choices: dict[int, _ChoiceState] = {}
        self._usage: Any = None
        self._text = False

    def add(self, chunk: Any) -> None:
        # Runs once per streamed chunk: plain dict lookups only.
        fields = _fields(chunk)
        choices = fields.get("choices")
        if self._first is None:
            self._first = fields
            self._text = (
                isinstance(chunk, TextCompletionResponse)
                or fields.get("object") == "text_completion"
                or bool(choices and "text" in _fields(choices[0]))
            )
        usage = fields.get("usage")
        if usage:
            self._usage = usage
        if not choices:
            return
        if type(choices) is not list:
            raise ValueError(f"chunk choices must be a list, got {type(choices).__name__}")
        states = self._choices
        for choice in choices:
            c = _fields(choice)
            if not isinstance(c, dict):
                raise ValueError(f"chunk choice must be an object, got {type(choice).__name__}")
            index = c.get("index") or 0
            state = states.get(index)
            if state is None:
                state = states[index] = _ChoiceState()
            finish = c.get("finish_reason")
            if finish:
                state.finish_reason = finish
            logprobs = c.get("logprobs")
            if logprobs:
                self._add_logprobs(state, logprobs)
            if self._text:
                text = c.get("text")
                if text:
                    state.parts.append(text if type(text) is str else _text(text, "text"))
                continue
            delta = c.get("delta")
            if not delta:
                continue
            d = _fields(delta)
            if not isinstance(d, dict):
                raise ValueError(f"chunk delta must be an object, got {type(delta).__name__}")
            content = d.get("content")
            if content:
                state.parts.append(content if type(content) is str else _text(content, "delta.content"))
            role = d.get("role")
            if role:
                state.role = role
            tool_calls = d.get("tool_calls")
            if tool_calls:
                self._add_tool_calls(state, tool_calls)
            function_call = d.get("function_call")
            if function_call:
                self._add_function_call(state, function_call)
            reasoning = d.get("reasoning_content")
            if reasoning:
                if state.reasoning is None:
                    state.reasoning = []
                state.reasoning.append(reasoning if type(reasoning) is str else _text(reasoning, "reasoning_content"))

    def unfinished(self, expected: int) -> int:
        """How many of the ``expected`` choices have not said they are finished."""
        done = sum(1 for index, state in self._choices.items() if state.finish_reason and 0 <= index < expected)
        return expected - done

    @staticmethod
    def _add_tool_calls(state: _ChoiceState, tool_calls: list) -> None:
        tools = state.tools
        if type(tool_calls) is not list:
            raise ValueError(f"delta.tool_calls must be a list, got {type(tool_calls).__name__}")
        for call in tool_calls:
            t = _fields(call)
            if not isinstance(t, dict):
                raise ValueError(f"a tool-call delta must be an object, got {type(call).__name__}")
            index = t.get("index") or 0
            slot = tools.get(index)
            if slot is None:
                slot = tools[index] = [None, None, None, []]
            if slot[0] is None and t.get("id"):
                slot[0] = t["id"]
            if slot[1] is None and t.get("type"):
                slot[1] = t["type"]
            function = t.get("function")
            if function:
                f = _fields(function)
                if not isinstance(f, dict):
                    raise ValueError(f"a tool-call function must be an object, got {type(function).__name__}")
                if slot[2] is None and f.get("name"):
                    slot[2] = f["name"]
                if f.get("arguments"):
                    slot[3].append(_arguments(f["arguments"]))

    @staticmethod
    def _add_function_call(state: _ChoiceState, function_call: Any) -> None:
        f = _fields(function_call)
        if not isinstance(f, dict):
            raise ValueError(f"delta.function_call must be an object, got {type(function_call).__name__}")
        if state.function is None:
            state.function = [None, []]
        if state.function[0] is None and f.get("name"):
            state.function[0] = f["name"]
        if f.get("arguments"):
            state.function[1].append(_arguments(f["arguments"]))

    @staticmethod
    def _add_logprobs(state: _ChoiceState, logprobs: Any) -> None:
        content = logprobs.get("content") if hasattr(logprobs, "get") else None
        if content:
            if state.logprobs is None:
                state.logprobs = []
            state.logprobs.extend(content)

    def build(self, messages: list | None = None) -> ModelResponse | TextCompletionResponse | None:
        """The whole response so far; ``messages`` (the prompt) only matter for estimating usage."""
        first = self._first
        if first is None:
            return None
        states = sorted(self._choices.items())
        estimated = not self._usage
        if estimated:
            usage = Usage(
                prompt_tokens=token_counter(messages=messages) if messages else 0,
                completion_tokens=sum(_completion_tokens(state) for _, state in states),
            )
        else:
            raw = self._usage  # a copy, so the chunk handed out and the whole never share one
            usage = Usage.from_openai(raw if type(raw) is dict else raw.model_dump())
        if self._text:
            response: Any = TextCompletionResponse(
                id=first.get("id"),
                created=first.get("created"),
                model=first.get("model"),
                choices=[
                    TextChoices(
                        index=index,
                        text="".join(state.parts),
                        finish_reason=state.finish_reason,
                        logprobs=None,
                    )
                    for index, state in states
                ],
                usage=usage,
            )
        else:
            response = ModelResponse(
                id=first.get("id"),
                created=first.get("created"),
                model=first.get("model"),
                system_fingerprint=first.get("system_fingerprint"),
                choices=[_choice(index, state) for index, state in states] or None,
                usage=usage,
            )
        if estimated:
            response._hidden_params["usage_estimated"] = True
        return response


def _text(content: Any, where: str) -> str:
    """Content sent as a list of parts: its text parts, joined. Anything else is malformed."""
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif not isinstance(part, dict):
                raise ValueError(f"{where} parts must be objects, got {type(part).__name__}")
        return "".join(texts)
    raise ValueError(f"{where} must be a string or a list of parts, got {type(content).__name__}")


def _arguments(arguments: Any) -> str:
    """Tool arguments as the JSON text OpenAI sends, even when a server sent them as an object."""
    if type(arguments) is str:
        return arguments
    if isinstance(arguments, (dict, list)):
        import json

        return json.dumps(arguments, ensure_ascii=False)
    raise ValueError(f"tool-call arguments must be a string or an object, got {type(arguments).__name__}")


def _completion_tokens(state: _ChoiceState) -> int:
    total = token_counter(text="".join(state.parts)) if state.parts else 0
    for slot in state.tools.values():
        total += token_counter(text=slot[2] or "") + token_counter(text="".join(slot[3]))
    if state.function is not None:
        total += token_counter(text=state.function[0] or "") + token_counter(text="".join(state.function[1]))
    if state.reasoning:
        total += token_counter(text="".join(state.reasoning))
    return total


def _choice(index: int, state: _ChoiceState) -> Choices:
    tool_calls = None
    if state.tools:
        tool_calls = [
            ChatCompletionMessageToolCall(
                id=slot[0],
                type=slot[1] or "function",
                function=Function(name=slot[2], arguments="".join(slot[3])),
            )
            for _, slot in sorted(state.tools.items())
        ]
    function_call = None
    if state.function is not None:
        function_call = FunctionCall(name=state.function[0], arguments="".join(state.function[1]))
    extra = {}
    if state.reasoning is not None:
        extra["reasoning_content"] = "".join(state.reasoning)
    message = Message(
        content="".join(state.parts) if state.parts else None,
        role=state.role or "assistant",
        tool_calls=tool_calls,
        function_call=function_call,
        **extra,
    )
    logprobs = OpenAIObject._wrap({"content": state.logprobs}) if state.logprobs is not None else None
    return Choices(index=index, message=message, finish_reason=state.finish_reason, logprobs=logprobs)


def stream_chunk_builder(
    chunks: list, messages: list | None = None
) -> ModelResponse | TextCompletionResponse | None:
    """The whole response a list of streamed chunks adds up to (None for no chunks).

    ``chunks`` are ``ModelResponseStream`` objects or OpenAI chunk dicts (text-completion chunks
    give a ``TextCompletionResponse``); ``messages`` are the prompt, used only to estimate usage
    when no chunk carried any.
    """
    assembler = ChunkAssembler()
    add = assembler.add
    for chunk in chunks:
        add(chunk)
    return assembler.build(messages=messages)
