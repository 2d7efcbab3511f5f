"""``kwargs["standard_logging_object"]``: one typed, JSON-serialisable summary of a call.

Built-in sinks read this instead of the raw kwargs, and users can rely on it across versions.
Fields shared with LiteLLM's StandardLoggingPayload keep LiteLLM's names (so handlers written
for it keep working); our own additions sit beside them and never replace one.
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any, TypedDict

from ..params import mask_url

if TYPE_CHECKING:
    from .record import CallRecord


class StandardLoggingErrorInformation(TypedDict):
    error_code: str | None
    error_class: str | None
    llm_provider: str | None
    traceback: str | None
    error_message: str | None


class StandardLoggingHiddenParams(TypedDict):
    model_id: str | None
    cache_key: str | None
    api_base: str | None
    response_cost: float | None
    additional_headers: dict[str, str]
    usage_estimated: bool


class StandardLoggingPayload(TypedDict):
    id: str  # the call id (kwargs["litellm_call_id"])
    trace_id: str  # metadata["trace_id"] when given, else the call id
    call_type: str  # "completion", "acompletion", "embedding", ...
    stream: bool
    status: str  # "success" or "failure"
    custom_llm_provider: str
    model: str  # the model as the caller named it
    model_id: str | None
    model_group: str | None
    api_base: str | None
    cache_hit: bool
    cache_key: str | None
    saved_cache_cost: float
    response_cost: float | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    startTime: float  # epoch seconds
    endTime: float
    completionStartTime: float  # first streamed chunk, else endTime
    response_time: float  # seconds
    metadata: dict[str, Any]
    messages: Any
    response: Any  # the response as plain JSON, or None on failure
    model_parameters: dict[str, Any]
    error_str: str | None
    error_information: StandardLoggingErrorInformation | None
    hidden_params: StandardLoggingHiddenParams
    end_user: str | None
    request_tags: list
    # llmtap's own fields
    llmtap_version: str
    attempts: int
    usage_estimated: bool
    stream_abandoned: bool
    messages_redacted: bool


def build_standard_logging_object(
    record: CallRecord, response: Any, end_time: datetime.datetime | None, kwargs: dict
) -> StandardLoggingPayload:
    """The payload for one success or failure event; ``kwargs`` is that event's kwargs."""
    from .. import __version__

    call = record.call
    usage = _usage(response)
    start = record.start_time.timestamp()
    end = (end_time or datetime.datetime.now()).timestamp()
    first = record.first_chunk_time.timestamp() if record.first_chunk_time else end
    metadata = (kwargs.get("litellm_params") or {}).get("metadata") or {}  # the call's snapshot
    hidden = getattr(response, "_hidden_params", None) or {}
    exc = kwargs.get("exception")
    error_information = None
    if exc is not None:
        error_information = {
            "error_code": str(getattr(exc, "status_code", "") or "") or None,
            "error_class": type(exc).__name__,
            "llm_provider": getattr(exc, "llm_provider", None) or call.provider_name,
            "traceback": kwargs.get("traceback_exception"),
            "error_message": str(exc),
        }
    usage_estimated = bool(hidden.get("usage_estimated"))
    redact = record.redact
    model_info = call.model_info or {}
    payload: StandardLoggingPayload = {
        "id": record.call_id,
        "trace_id": str(metadata.get("trace_id") or record.call_id),
        "call_type": kwargs.get("call_type", call.call_type),
        "stream": call.stream,
        "status": "failure" if exc is not None else "success",
        "custom_llm_provider": call.provider_name,
        "model": call.model,
        "model_id": model_info.get("id"),
        "model_group": metadata.get("model_group"),
        "api_base": mask_url(call.api_base),
        "cache_hit": bool(kwargs.get("cache_hit")),
        "cache_key": kwargs.get("cache_key"),
        "saved_cache_cost": float(kwargs.get("saved_cache_cost") or 0.0),
        "response_cost": kwargs.get("response_cost"),
        "prompt_tokens": usage[0],
        "completion_tokens": usage[1],
        "total_tokens": usage[2],
        "startTime": start,
        "endTime": end,
        "completionStartTime": first,
        "response_time": max(0.0, end - start),
        "metadata": _jsonable(metadata),
        "messages": REDACTED if redact else _plain(kwargs.get("messages")),
        "response": _redact_response(response.model_dump()) if redact and response is not None
        else (response.model_dump() if response is not None else None),
        "model_parameters": _plain(_redact_params(call.params) if redact else call.params),
        "error_str": str(exc) if exc is not None else None,  # provider error text, never a prompt
        "error_information": error_information,
        "hidden_params": {
            "model_id": model_info.get("id"),
            "cache_key": kwargs.get("cache_key"),
            "api_base": mask_url(call.api_base),
            "response_cost": kwargs.get("response_cost"),
            "additional_headers": dict(record.response_headers),
            "usage_estimated": usage_estimated,
        },
        "end_user": call.params.get("user"),
        "request_tags": list(metadata.get("tags") or []),
        "llmtap_version": __version__,
        "messages_redacted": redact,
        "attempts": record.attempts,
        "usage_estimated": usage_estimated,
        "stream_abandoned": bool(kwargs.get("stream_abandoned")),
    }
    if "router" in kwargs:  # a Router attempt: which one, and whether it is the request's outcome
        payload["router"] = kwargs["router"]
    return payload


REDACTED = "redacted-by-litellm"  # the peer's marker, so downstream filters keep working


def redacting(call: Any) -> bool:
    """``llmtap.turn_off_message_logging``, or per call ``metadata={"redact": True}`` or
    ``turn_off_message_logging=True`` (a per-call False overrides the global True); decided
    when the call starts."""
    metadata = call.metadata or {}
    return bool(call.turn_off_message_logging or metadata.get("redact"))


def _redact_response(data: dict) -> dict:
    """Keep the shape, usage and ids; drop every text the model wrote: content, reasoning,
    tool-call and legacy function-call arguments, logprob tokens (and their bytes)."""
    for choice in data.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        for key in ("message", "delta"):
            message = choice.get(key)
            if isinstance(message, dict):
                for field in ("content", "reasoning_content", "refusal"):
                    if message.get(field) is not None:
                        message[field] = REDACTED
                if message.get("thinking_blocks") is not None:
                    message["thinking_blocks"] = None
                for call in message.get("tool_calls") or ():
                    if isinstance(call, dict) and isinstance(call.get("function"), dict):
                        call["function"]["arguments"] = REDACTED
                function_call = message.get("function_call")
                if isinstance(function_call, dict):
                    function_call["arguments"] = REDACTED
        if choice.get("text") is not None:
            choice["text"] = REDACTED
        if choice.get("logprobs") is not None:
            choice["logprobs"] = _redact_logprobs(choice["logprobs"])
    for item in data.get("data") or ():
        if isinstance(item, dict) and "embedding" in item:
            item["embedding"] = REDACTED
    return data


def _redact_logprobs(logprobs: Any) -> Any:
    """Logprobs spell the answer out token by token: keep the numbers, drop the tokens."""
    if isinstance(logprobs, dict):
        out = {}
        for key, value in logprobs.items():
            if key in ("token", "text_offset"):
                out[key] = REDACTED if key == "token" else value
            elif key == "bytes":
                out[key] = None
            elif key == "tokens" and isinstance(value, list):  # legacy completions
                out[key] = [REDACTED] * len(value)
            elif key == "top_logprobs" and isinstance(value, list) and value and isinstance(value[0], dict) and "token" not in value[0]:
                out[key] = [{REDACTED: v} for item in value for v in list(item.values())[:1]]  # legacy: {token: logprob}
            else:
                out[key] = _redact_logprobs(value)
        return out
    if isinstance(logprobs, list):
        return [_redact_logprobs(item) for item in logprobs]
    return logprobs


def _redact_params(params: dict) -> dict:
    """The call's parameters without the caller's own text in them (a predicted output)."""
    prediction = params.get("prediction")
    if prediction is None:
        return params
    return {**params, "prediction": REDACTED}


def _usage(response: Any) -> tuple[int, int, int]:
    usage = getattr(response, "usage", None) if response is not None else None
    if usage is None:
        return 0, 0, 0
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    total = int(getattr(usage, "total_tokens", 0) or prompt + completion)
    return prompt, completion, total


_JSON_TYPES = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """Messages and parameters are JSON already in nearly every call: check, copy only if not."""
    if isinstance(value, _JSON_TYPES):
        return value
    if isinstance(value, list):
        return value if all(isinstance(v, dict) and _is_plain(v) or isinstance(v, _JSON_TYPES) for v in value) else _jsonable(value)
    if isinstance(value, dict):
        return value if _is_plain(value) else _jsonable(value)
    return _jsonable(value)


def _is_plain(value: Any) -> bool:
    if isinstance(value, _JSON_TYPES):
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    return False


def _jsonable(value: Any) -> Any:
    """Plain JSON data: response objects are dumped, anything else unknown becomes its str."""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=_fallback))


def _fallback(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return str(value)
