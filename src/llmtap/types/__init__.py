"""Response objects shaped like OpenAI's, light enough to build on every call and every chunk.

No pydantic: ``import llmtap`` must stay cheap. Every object offers attribute access
(``r.choices[0].message.content``) and item access (``r["choices"][0]["message"]["content"]``),
keeps fields it does not know (providers add their own), and dumps to plain JSON with
``model_dump()``/``model_dump_json()``. Fields a class declares in ``_defaults`` read as their
default when absent, so a chunk built straight from the wire still has ``delta.role`` etc.
``from_openai`` builds an object from decoded OpenAI JSON without copying more than it must:
that is the hot path of every call and every streamed chunk.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, ClassVar


class OpenAIObject:
    _defaults: ClassVar[dict[str, Any]] = {}
    # The fields the peer's pydantic class declares; the rest are ``model_extra``.
    _declared: ClassVar[frozenset[str] | None] = None

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    # -- mapping-style access -----------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        try:
            return self.__dict__[key]
        except KeyError:
            if key in self._defaults:
                return self._defaults[key]
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        self.__dict__[key] = value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and not key.startswith("_") and (key in self.__dict__ or key in self._defaults)

    def get(self, key: str, default: Any = None) -> Any:
        value = self.__dict__.get(key, self._defaults.get(key, default))
        return value

    def __getattr__(self, name: str) -> Any:
        # Only reached when the instance lacks the field: fall back to the declared default.
        try:
            return type(self)._defaults[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}") from None

    def _fields(self) -> dict[str, Any]:
        fields = {key: value for key, value in self.__dict__.items() if key[0] != "_"}
        for key, value in self._defaults.items():
            if key not in fields:
                fields[key] = value
        return fields

    def keys(self) -> list[str]:
        return list(self._fields())

    def values(self) -> list[Any]:
        return list(self._fields().values())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._fields().items())

    def __iter__(self):  # like pydantic: (field, value) pairs
        return iter(self._fields().items())

    # -- export ---------------------------------------------------------------------------------
    def model_dump(self, exclude_none: bool = False, **_: Any) -> dict[str, Any]:
        out = {}
        for key, value in self._fields().items():
            if exclude_none and value is None:
                continue
            out[key] = _dump(value, exclude_none)
        return out

    dict = model_dump
    to_dict = model_dump

    def model_dump_json(self, indent: int | None = None, exclude_none: bool = False, **_: Any) -> str:
        return json.dumps(self.model_dump(exclude_none=exclude_none), indent=indent, ensure_ascii=False)

    json = model_dump_json

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OpenAIObject):
            return self.model_dump() == other.model_dump()
        if isinstance(other, dict):
            return self.model_dump() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{key}={value!r}" for key, value in self._fields().items())
        return f"{type(self).__name__}({inner})"

    @classmethod
    def _wrap(cls, data: dict) -> Any:
        obj = object.__new__(cls)
        obj.__dict__ = data
        return obj

    # -- where pydantic is expected ---------------------------------------------------------------
    # Frameworks use these classes as pydantic field types and call model_validate/model_extra on
    # them. A core-schema hook keeps that working without importing pydantic here: pydantic calls
    # it only once pydantic is already in use (measured: building a pydantic twin of each class
    # at import would cost ~60 ms and ~8 MB; this costs nothing until used).
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(
            cls.model_validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: value.model_dump() if isinstance(value, OpenAIObject) else value
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict:
        return {"type": "object", "title": cls.__name__}

    @classmethod
    def model_validate(cls, obj: Any, **_: Any) -> Any:
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, OpenAIObject):
            obj = obj.model_dump()
        if not isinstance(obj, dict):
            raise ValueError(f"{cls.__name__} expects a dict or a {cls.__name__}, got {type(obj).__name__}")
        build = getattr(cls, "from_openai", None)
        return build(obj) if build is not None else cls(**obj)

    @classmethod
    def model_validate_json(cls, data: str | bytes, **_: Any) -> Any:
        return cls.model_validate(json.loads(data))

    @property
    def model_extra(self) -> dict[str, Any]:
        """Fields the class does not declare (a provider's own), as pydantic's extra="allow"."""
        declared = self._declared if self._declared is not None else self._defaults
        return {k: v for k, v in self.__dict__.items() if k[0] != "_" and k not in declared}

    @property
    def model_fields_set(self) -> set[str]:
        return {k for k in self.__dict__ if k[0] != "_"}

    def model_copy(self, update: dict | None = None, deep: bool = False) -> Any:
        import copy

        data = copy.deepcopy(self.__dict__) if deep else dict(self.__dict__)
        data.update(update or {})
        return type(self)._wrap(data)


class _ClassFields:
    """``Model.model_fields`` as pydantic has it on the class: the declared field names (frameworks
    read it to list what a response carries)."""

    def __get__(self, obj: Any, cls: type) -> dict[str, Any]:
        declared = cls._declared if cls._declared is not None else cls._defaults
        return dict.fromkeys(sorted(declared))


OpenAIObject.model_fields = _ClassFields()  # type: ignore[attr-defined]


def _dump(value: Any, exclude_none: bool) -> Any:
    if isinstance(value, OpenAIObject):
        return value.model_dump(exclude_none=exclude_none)
    if isinstance(value, list):
        return [_dump(item, exclude_none) for item in value]
    if isinstance(value, dict):
        return {key: _dump(item, exclude_none) for key, item in value.items()}
    return value


def _uuid4_hex() -> str:
    """What ``uuid4().hex`` gives, without importing ``uuid`` (~1.5 ms) or building a UUID."""
    n = int.from_bytes(os.urandom(16), "big")
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    n = (n & ~(0xF000 << 64)) | (4 << 76)  # version 4
    return f"{n:032x}"


def _obj(value: Any) -> Any:
    """Nested provider dicts we have no class for still get attribute access."""
    return OpenAIObject._wrap(dict(value)) if isinstance(value, dict) else value


# -- usage, functions, tool calls -------------------------------------------------------------


class _Details(OpenAIObject):
    """Token-count details: the counts a provider did not send read as None (and are not dumped,
    so a provider's answer round-trips exactly)."""

    _counts: ClassVar[frozenset[str]] = frozenset()

    def __getattr__(self, name: str) -> Any:
        if name in self._counts:
            return None
        return super().__getattr__(name)


class PromptTokensDetailsWrapper(_Details):
    """``usage.prompt_tokens_details``: cached, audio, text and image token counts."""

    _counts = frozenset({"cached_tokens", "audio_tokens", "text_tokens", "image_tokens"})


class CompletionTokensDetailsWrapper(_Details):
    """``usage.completion_tokens_details``: reasoning, audio, text and prediction token counts."""

    _counts = frozenset(
        {"reasoning_tokens", "audio_tokens", "text_tokens", "accepted_prediction_tokens", "rejected_prediction_tokens"}
    )


_DETAILS = {
    "prompt_tokens_details": PromptTokensDetailsWrapper,
    "completion_tokens_details": CompletionTokensDetailsWrapper,
}


class Usage(OpenAIObject):
    _declared = frozenset(('prompt_tokens', 'completion_tokens', 'total_tokens', 'prompt_tokens_details', 'completion_tokens_details'))
    _defaults = {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "prompt_tokens_details": None,
        "completion_tokens_details": None,
    }

    def __init__(
        self,
        prompt_tokens: int | None = 0,
        completion_tokens: int | None = 0,
        total_tokens: int | None = None,
        **extra: Any,
    ) -> None:
        prompt_tokens = prompt_tokens or 0
        completion_tokens = completion_tokens or 0
        if total_tokens is None:
            total_tokens = prompt_tokens + completion_tokens
        for key, wrapper in _DETAILS.items():
            if isinstance(extra.get(key), dict):
                extra[key] = wrapper._wrap(dict(extra[key]))
        super().__init__(
            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, total_tokens=total_tokens, **extra
        )

    @classmethod
    def from_openai(cls, data: dict) -> Usage:
        fields = dict(data)
        for key, wrapper in _DETAILS.items():
            if isinstance(fields.get(key), dict):
                fields[key] = wrapper._wrap(dict(fields[key]))
        if fields.get("total_tokens") is None:
            fields["total_tokens"] = (fields.get("prompt_tokens") or 0) + (fields.get("completion_tokens") or 0)
        return cls._wrap(fields)


class Function(OpenAIObject):
    _defaults = {"name": None, "arguments": ""}

    def __init__(self, name: str | None = None, arguments: str | None = "", **extra: Any) -> None:
        if isinstance(arguments, dict):
            arguments = json.dumps(arguments)
        super().__init__(name=name, arguments=arguments, **extra)


class FunctionCall(Function):
    pass


class ChatCompletionMessageToolCall(OpenAIObject):
    _defaults = {"id": None, "type": "function", "function": None}

    def __init__(self, id: str | None = None, type: str = "function", function: Any = None, **extra: Any) -> None:  # noqa: A002
        if isinstance(function, dict):
            function = Function(**function)
        super().__init__(id=id or f"call_{_uuid4_hex()[:24]}", type=type, function=function, **extra)

    @classmethod
    def from_openai(cls, data: dict) -> ChatCompletionMessageToolCall:
        fields = dict(data)
        if isinstance(fields.get("function"), dict):
            fields["function"] = Function._wrap(dict(fields["function"]))
        return cls._wrap(fields)


class ChatCompletionDeltaToolCall(OpenAIObject):
    _defaults = {"id": None, "type": None, "function": None, "index": 0}

    def __init__(self, index: int = 0, id: str | None = None, type: str | None = None, function: Any = None, **extra: Any) -> None:  # noqa: A002
        if isinstance(function, dict):
            function = Function(**{"arguments": "", **function})
        super().__init__(index=index, id=id, type=type, function=function, **extra)

    @classmethod
    def from_openai(cls, data: dict) -> ChatCompletionDeltaToolCall:
        fields = dict(data)
        if isinstance(fields.get("function"), dict):
            fields["function"] = Function._wrap(dict(fields["function"]))
        return cls._wrap(fields)


# -- messages and choices ---------------------------------------------------------------------


class Message(OpenAIObject):
    _declared = frozenset(('content', 'role', 'tool_calls', 'function_call', 'audio', 'images', 'reasoning_content', 'thinking_blocks', 'provider_specific_fields', 'annotations'))
    _defaults = {"content": None, "role": "assistant", "tool_calls": None, "function_call": None, "provider_specific_fields": None}

    def __init__(
        self,
        content: Any = None,
        role: str = "assistant",
        tool_calls: list | None = None,
        function_call: Any = None,
        **extra: Any,
    ) -> None:
        if tool_calls:
            tool_calls = [
                ChatCompletionMessageToolCall(**call) if isinstance(call, dict) else call for call in tool_calls
            ]
        if isinstance(function_call, dict):
            function_call = FunctionCall(**function_call)
        super().__init__(content=content, role=role, tool_calls=tool_calls, function_call=function_call, **extra)

    @classmethod
    def from_openai(cls, data: dict) -> Message:
        fields = dict(data)
        calls = fields.get("tool_calls")
        if calls:
            fields["tool_calls"] = [ChatCompletionMessageToolCall.from_openai(c) for c in calls]
        if isinstance(fields.get("function_call"), dict):
            fields["function_call"] = FunctionCall._wrap(dict(fields["function_call"]))
        return cls._wrap(fields)


class Delta(OpenAIObject):
    _declared = frozenset(('content', 'role', 'tool_calls', 'function_call', 'audio', 'images', 'reasoning_content', 'thinking_blocks', 'provider_specific_fields', 'annotations'))
    # audio / refusal / provider_specific_fields: read as None, as on the peer's deltas
    _defaults = {
        "content": None, "role": None, "tool_calls": None, "function_call": None,
        "audio": None, "refusal": None, "provider_specific_fields": None,
    }

    def __init__(
        self,
        content: Any = None,
        role: str | None = None,
        tool_calls: list | None = None,
        function_call: Any = None,
        **extra: Any,
    ) -> None:
        if tool_calls:
            tool_calls = [ChatCompletionDeltaToolCall(**c) if isinstance(c, dict) else c for c in tool_calls]
        if isinstance(function_call, dict):
            function_call = FunctionCall(**function_call)
        super().__init__(content=content, role=role, tool_calls=tool_calls, function_call=function_call, **extra)

    @classmethod
    def from_openai(cls, data: dict) -> Delta:
        calls = data.get("tool_calls")
        if not calls and "function_call" not in data:
            return cls._wrap(dict(data))
        fields = dict(data)
        if calls:
            fields["tool_calls"] = [ChatCompletionDeltaToolCall.from_openai(c) for c in calls]
        if isinstance(fields.get("function_call"), dict):
            fields["function_call"] = FunctionCall._wrap(dict(fields["function_call"]))
        return cls._wrap(fields)


class Choices(OpenAIObject):
    _declared = frozenset(('finish_reason', 'index', 'message', 'logprobs', 'provider_specific_fields'))
    _defaults = {"finish_reason": None, "index": 0, "message": None, "logprobs": None, "provider_specific_fields": None}

    def __init__(self, finish_reason: str | None = None, index: int = 0, message: Any = None, logprobs: Any = None, **extra: Any) -> None:
        if message is None:
            message = Message()
        elif isinstance(message, dict):
            message = Message(**message)
        super().__init__(finish_reason=finish_reason, index=index, message=message, logprobs=logprobs, **extra)

    @classmethod
    def from_openai(cls, data: dict) -> Choices:
        fields = dict(data)
        fields["message"] = Message.from_openai(fields.get("message") or {})
        return cls._wrap(fields)


class StreamingChoices(OpenAIObject):
    _declared = frozenset(('finish_reason', 'index', 'delta', 'logprobs', 'provider_specific_fields'))
    _defaults = {"finish_reason": None, "index": 0, "delta": None, "logprobs": None}

    def __init__(self, finish_reason: str | None = None, index: int = 0, delta: Any = None, logprobs: Any = None, **extra: Any) -> None:
        if delta is None:
            delta = Delta()
        elif isinstance(delta, dict):
            delta = Delta(**delta)
        super().__init__(finish_reason=finish_reason, index=index, delta=delta, logprobs=logprobs, **extra)

    @classmethod
    def from_openai(cls, data: dict) -> StreamingChoices:
        fields = dict(data)
        fields["delta"] = Delta.from_openai(fields.get("delta") or {})
        return cls._wrap(fields)


class TextChoices(OpenAIObject):
    _defaults = {"finish_reason": None, "index": 0, "logprobs": None, "text": ""}


# -- responses --------------------------------------------------------------------------------


def _new_id(prefix: str) -> str:
    return prefix + _uuid4_hex()


class _Response(OpenAIObject):
    """Responses carry ``_hidden_params`` (provider, headers, cost...), never dumped."""

    _declared = frozenset(("id", "created", "model", "object", "system_fingerprint", "choices", "provider_specific_fields"))
    _hidden_params: dict
    _response_ms: float | None = None  # set per call by the caller; reads None until then

    def __init__(self, **fields: Any) -> None:
        super().__init__(**fields)
        self._hidden_params = {}

    @classmethod
    def _wrap(cls, data: dict) -> Any:
        obj = object.__new__(cls)
        obj.__dict__ = data
        data["_hidden_params"] = {}
        return obj


class ModelResponse(_Response):
    _defaults = {"object": "chat.completion", "system_fingerprint": None, "service_tier": None, "moderation": None}

    def __init__(
        self,
        id: str | None = None,  # noqa: A002
        choices: list | None = None,
        created: int | None = None,
        model: str | None = None,
        object: str = "chat.completion",  # noqa: A002
        system_fingerprint: str | None = None,
        usage: Any = None,
        **extra: Any,
    ) -> None:
        if choices is None:
            choices = [Choices()]
        else:
            choices = [Choices(**c) if isinstance(c, dict) else c for c in choices]
        if usage is None:
            usage = Usage()
        elif isinstance(usage, dict):
            usage = Usage(**usage)
        super().__init__(
            id=id or _new_id("chatcmpl-"),
            created=created or int(time.time()),
            model=model,
            object=object,
            system_fingerprint=system_fingerprint,
            choices=choices,
            usage=usage,
            **extra,
        )

    @classmethod
    def from_openai(cls, data: dict) -> ModelResponse:
        fields = dict(data)
        fields["choices"] = [Choices.from_openai(c) for c in fields.get("choices") or ()]
        usage = fields.get("usage")
        fields["usage"] = Usage.from_openai(usage) if usage else Usage()
        return cls._wrap(fields)


class ModelResponseStream(_Response):
    _defaults = {
        "object": "chat.completion.chunk", "system_fingerprint": None, "usage": None,
        "service_tier": None, "moderation": None, "citations": None, "provider_specific_fields": None,
    }

    def __init__(
        self,
        id: str | None = None,  # noqa: A002
        choices: list | None = None,
        created: int | None = None,
        model: str | None = None,
        object: str = "chat.completion.chunk",  # noqa: A002
        system_fingerprint: str | None = None,
        usage: Any = None,
        **extra: Any,
    ) -> None:
        if choices is None:
            choices = [StreamingChoices()]
        else:
            choices = [StreamingChoices(**c) if isinstance(c, dict) else c for c in choices]
        if isinstance(usage, dict):
            usage = Usage(**usage)
        super().__init__(
            id=id or _new_id("chatcmpl-"),
            created=created or int(time.time()),
            model=model,
            object=object,
            system_fingerprint=system_fingerprint,
            choices=choices,
            usage=usage,
            **extra,
        )

    @classmethod
    def from_openai(cls, data: dict) -> ModelResponseStream:
        return cls._build(dict(data), False)

    @classmethod
    def from_decoded(cls, data: dict) -> ModelResponseStream:
        """``from_openai`` for a dict just decoded from JSON: takes it over instead of copying
        it and its nested dicts (the per-chunk path of every stream parser)."""
        return cls._build(data, True)

    @classmethod
    def _build(cls, fields: dict, own: bool) -> ModelResponseStream:
        obj = object.__new__(cls)
        obj.__dict__ = fields
        fields["_hidden_params"] = {}
        choices = fields.get("choices")
        if choices:
            fields["choices"] = [_streaming_choice(c, own) for c in choices]
        usage = fields.get("usage")
        if usage:
            fields["usage"] = Usage.from_openai(usage)
        return obj


def _streaming_choice(data: dict, own: bool) -> StreamingChoices:
    """StreamingChoices.from_openai with Delta.from_openai inlined: once per streamed chunk."""
    choice = object.__new__(StreamingChoices)
    choice.__dict__ = fields = data if own else dict(data)
    delta_data = fields.get("delta")
    if delta_data and ("tool_calls" in delta_data or "function_call" in delta_data):
        fields["delta"] = Delta.from_openai(delta_data)
    else:
        delta = object.__new__(Delta)
        delta.__dict__ = (delta_data if own else dict(delta_data)) if delta_data else {}
        fields["delta"] = delta
    return choice


class TextCompletionResponse(_Response):
    _defaults = {"object": "text_completion", "usage": None, "system_fingerprint": None}

    def __init__(
        self,
        id: str | None = None,  # noqa: A002
        choices: list | None = None,
        created: int | None = None,
        model: str | None = None,
        object: str = "text_completion",  # noqa: A002
        usage: Any = None,
        **extra: Any,
    ) -> None:
        choices = [TextChoices(**c) if isinstance(c, dict) else c for c in (choices or [])]
        if isinstance(usage, dict):
            usage = Usage(**usage)
        super().__init__(
            id=id or _new_id("cmpl-"),
            created=created or int(time.time()),
            model=model,
            object=object,
            choices=choices,
            usage=usage,
            **extra,
        )

    @classmethod
    def from_openai(cls, data: dict) -> TextCompletionResponse:
        fields = dict(data)
        fields["choices"] = [TextChoices._wrap(dict(c)) for c in fields.get("choices") or ()]
        usage = fields.get("usage")
        fields["usage"] = Usage.from_openai(usage) if usage else None
        return cls._wrap(fields)


class Embedding(OpenAIObject):
    _defaults = {"object": "embedding", "index": 0, "embedding": None}


class EmbeddingResponse(_Response):
    _defaults = {"object": "list", "usage": None, "model": None}

    def __init__(self, model: str | None = None, data: list | None = None, usage: Any = None, object: str = "list", **extra: Any) -> None:  # noqa: A002
        data = [Embedding(**d) if isinstance(d, dict) else d for d in (data or [])]
        if isinstance(usage, dict):
            usage = Usage(**usage)
        super().__init__(model=model, data=data, usage=usage or Usage(), object=object, **extra)

    @classmethod
    def from_openai(cls, data: dict) -> EmbeddingResponse:
        fields = dict(data)
        fields["data"] = [Embedding._wrap(dict(d)) for d in fields.get("data") or ()]
        usage = fields.get("usage")
        fields["usage"] = Usage.from_openai(usage) if usage else Usage()
        return cls._wrap(fields)


class ImageObject(OpenAIObject):
    _defaults = {"url": None, "b64_json": None, "revised_prompt": None}


class ImageResponse(_Response):
    # the peer's fields, None unless the provider says (gpt-image models report them)
    _defaults = {"data": None, "background": None, "output_format": None, "quality": None, "size": None, "usage": None}

    def __init__(self, created: int | None = None, data: list | None = None, **extra: Any) -> None:
        data = [ImageObject(**d) if isinstance(d, dict) else d for d in (data or [])]
        super().__init__(created=created or int(time.time()), data=data, **extra)

    @classmethod
    def from_openai(cls, data: dict) -> ImageResponse:
        fields = dict(data)
        fields["data"] = [ImageObject._wrap(dict(d)) for d in fields.get("data") or ()]
        return cls._wrap(fields)
