"""Is a parsed answer the shape its type promises? Checked once per answer, before anyone sees it.

Valid JSON of the wrong shape (``choices: null``, a string where a list belongs, ``usage: 5``)
would otherwise reach the caller as a raw ``TypeError`` from deep in a parser, or worse, as an
empty "success" that callbacks log and the cache keeps. ``check`` turns every such answer into
one ``APIResponseValidationError`` naming the field; the pipeline's failure path logs it once.
The same check guards cache entries (an entry that fails it is a miss, never an error).

It reads the response objects' raw fields (``__dict__``): they hold what the provider sent.
"""

from __future__ import annotations

import math
from typing import Any

from .exceptions import APIError, APIResponseValidationError


class ShapeError(ValueError):
    """Where the answer went wrong: a dotted path and what was found there."""


def _fields(obj: Any, where: str) -> dict:
    if isinstance(obj, dict):
        return obj
    fields = getattr(obj, "__dict__", None)
    if not isinstance(fields, dict) or not hasattr(obj, "_defaults"):
        raise ShapeError(f"{where} must be an object, got {type(obj).__name__}")
    return fields


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _check_count(value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ShapeError(f"{where} must be a non-negative number, got {_kind(value)}: {value!r:.40}")


def _check_usage(usage: Any, where: str = "usage") -> None:
    if usage is None:
        return
    fields = _fields(usage, where)
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        _check_count(fields.get(name), f"{where}.{name}")


def _check_text(value: Any, where: str, parts_ok: bool = False) -> None:
    if value is None or isinstance(value, str):
        return
    if parts_ok and isinstance(value, list) and all(isinstance(p, dict) for p in value):
        return
    raise ShapeError(f"{where} must be a string, got {_kind(value)}")


def _check_function(function: Any, where: str, need_name: bool) -> None:
    fields = _fields(function, where)
    name = fields.get("name")
    if not isinstance(name, str) and (need_name or name is not None):
        raise ShapeError(f"{where}.name must be a string, got {_kind(name)}")
    _check_text(fields.get("arguments"), f"{where}.arguments")


def _check_message(message: Any, where: str) -> None:
    if message is None:
        return
    fields = _fields(message, where)
    _check_text(fields.get("content"), f"{where}.content", parts_ok=True)
    _check_text(fields.get("role"), f"{where}.role")
    _check_text(fields.get("reasoning_content"), f"{where}.reasoning_content")
    calls = fields.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise ShapeError(f"{where}.tool_calls must be a list, got {_kind(calls)}")
        for i, call in enumerate(calls):
            call_fields = _fields(call, f"{where}.tool_calls[{i}]")
            _check_function(call_fields.get("function"), f"{where}.tool_calls[{i}].function", need_name=True)
    if fields.get("function_call") is not None:
        _check_function(fields["function_call"], f"{where}.function_call", need_name=False)


def _check_choices(choices: Any, text: bool) -> None:
    if not isinstance(choices, list) or not choices:
        raise ShapeError(f"choices must be a non-empty list, got {_kind(choices)}: {choices!r:.40}")
    for i, choice in enumerate(choices):
        fields = _fields(choice, f"choices[{i}]")
        index = fields.get("index", 0)
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise ShapeError(f"choices[{i}].index must be an integer, got {_kind(index)}")
        _check_text(fields.get("finish_reason"), f"choices[{i}].finish_reason")
        if text:
            _check_text(fields.get("text"), f"choices[{i}].text")
        else:
            _check_message(fields.get("message"), f"choices[{i}].message")


def _check_embeddings(data: Any) -> None:
    if not isinstance(data, list) or not data:
        raise ShapeError(f"data must be a non-empty list, got {_kind(data)}")
    for i, item in enumerate(data):
        fields = _fields(item, f"data[{i}]")
        index = fields.get("index", 0)
        if isinstance(index, bool) or not isinstance(index, int):
            raise ShapeError(f"data[{i}].index must be an integer, got {_kind(index)}")
        check_vector(fields.get("embedding"), f"data[{i}].embedding")


def check_vector(vector: Any, where: str = "embedding") -> None:
    if isinstance(vector, str):  # encoding_format="base64"
        import base64
        import binascii

        try:
            base64.b64decode(vector, validate=True)
        except (binascii.Error, ValueError):
            raise ShapeError(f"{where} must be a list of numbers or base64 text, got {_kind(vector)}") from None
        return
    if not isinstance(vector, list) or not all(_number(x) or (isinstance(x, list) and all(map(_number, x))) for x in vector):
        # (one level of nesting passes: a mock_response=[[...]] comes back as given, as the peer's)
        raise ShapeError(f"{where} must be a list of numbers, got {_kind(vector)}")


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def check_shape(call_type: str, response: Any) -> None:
    """Raise ``ShapeError`` if ``response`` (a response object or its OpenAI JSON) is malformed.

    Chat, text and embedding answers are checked here; the other endpoints' types check their
    own fields as they are built."""
    if call_type not in ("completion", "text_completion", "embedding"):
        return
    fields = _fields(response, "the answer")
    if call_type == "embedding":
        _check_embeddings(fields.get("data"))
    else:
        _check_choices(fields.get("choices"), text=call_type == "text_completion")
    _check_usage(fields.get("usage"))


def check(call: Any, response: Any, status: int | None = None) -> Any:
    """``response`` itself if well-formed; else the error the caller gets."""
    try:
        check_shape(call.call_type, response)
    except ShapeError as exc:
        raise invalid(call, str(exc), status) from None
    return response


def invalid(call: Any, problem: str, status: int | None = None) -> APIResponseValidationError:
    provider = call.provider_name
    return APIResponseValidationError(
        f"{provider} answered with JSON of the wrong shape: {problem}",
        llm_provider=provider,
        model=call.model,
        status_code=status,
    )


def parse(call: Any, parse_response: Any, response: Any) -> Any:
    """Run a provider's parser; any failure to read the answer is one validation error."""
    try:
        result = parse_response(call, response)
    except APIError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise invalid(call, f"{type(exc).__name__}: {exc}", response.status) from None
    return check(call, result, response.status)
