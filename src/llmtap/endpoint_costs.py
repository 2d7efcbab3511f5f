"""What a call to one of the other endpoints cost: per image, per second of audio, per
character spoken, per rerank query. (Responses API calls are priced per token, like chat.)

Never raises: a model or an answer llmtap cannot price gives None.
"""

from __future__ import annotations

import logging
from typing import Any

from . import cost

logger = logging.getLogger("llmtap")

PRICED = frozenset({"image_generation", "transcription", "speech", "moderation", "rerank"})


def endpoint_cost(result: Any, call: Any) -> float | None:
    try:
        return _PRICERS[call.call_type](result, call)
    except Exception:  # a malformed answer must not break logging
        logger.debug("llmtap: could not price %s for %r", call.call_type, call.model, exc_info=True)
        return None


def _row(call: Any, *names: str) -> dict | None:
    for name in names:
        found = cost._lookup(name, call.provider_name)
        if found is not None:
            return found[1]
    return None


def _image(result: Any, call: Any) -> float | None:
    model = call.provider_model
    size = str(call.params.get("size") or "1024x1024").replace("x", "-x-")
    quality = call.params.get("quality") or ("standard" if "dall-e-3" in model else "medium")
    row = _row(call, f"{quality}/{size}/{model}", f"{size}/{model}", model)
    if row is None:
        return None
    n = len(result.get("data") or ()) or 1
    per_image = row.get("output_cost_per_image") or row.get("input_cost_per_image")
    if per_image is not None:
        return per_image * n
    per_pixel = row.get("input_cost_per_pixel")
    if per_pixel is not None:
        width, _, height = size.partition("-x-")
        return per_pixel * int(width) * int(height) * n
    return None


def _transcription(result: Any, call: Any) -> float | None:
    row = _row(call, call.provider_model)
    if row is None:
        return None
    usage = result.get("usage")
    if hasattr(usage, "get") and usage.get("input_tokens") is not None and row.get("input_cost_per_token") is not None:
        return usage.get("input_tokens", 0) * (row.get("input_cost_per_audio_token") or row["input_cost_per_token"]) + (
            usage.get("output_tokens") or 0
        ) * (row.get("output_cost_per_token") or 0.0)
    duration = result.get("duration")
    if isinstance(duration, (int, float)) and row.get("input_cost_per_second") is not None:
        return duration * row["input_cost_per_second"]
    return None  # plain json/text answers carry no duration


def _speech(result: Any, call: Any) -> float | None:
    row = _row(call, call.provider_model)
    if row is None or not isinstance(call.input, str):
        return None
    if row.get("input_cost_per_character") is not None:
        return len(call.input) * row["input_cost_per_character"]
    return None


def _moderation(result: Any, call: Any) -> float | None:
    return 0.0  # OpenAI's moderation endpoint is free


def _rerank(result: Any, call: Any) -> float | None:
    row = _row(call, call.provider_model)
    if row is None:
        return None
    meta = result.get("meta") or {}
    units = ((meta.get("billed_units") or {}).get("search_units")) if hasattr(meta, "get") else None
    if row.get("input_cost_per_query"):
        return row["input_cost_per_query"] * (units or 1)
    tokens = ((meta.get("tokens") or {}).get("input_tokens")) if hasattr(meta, "get") else None
    if row.get("input_cost_per_token") is not None and isinstance(tokens, int):
        return row["input_cost_per_token"] * tokens
    return None


_PRICERS = {
    "image_generation": _image,
    "transcription": _transcription,
    "speech": _speech,
    "moderation": _moderation,
    "rerank": _rerank,
}
