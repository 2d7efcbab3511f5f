"""Pieces of an OpenAI-shaped request that several providers translate the same way: image
parts (a ``data:`` URL or a link) and tool-call arguments (a JSON string, or already an object).
Pure functions, written once so the providers cannot drift apart."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Image:
    """An image part's URL, split when it is a ``data:`` URL (``inline``): its media type,
    whether the payload is base64, and the payload."""

    url: str
    inline: bool = False
    media_type: str = ""
    base64: bool = False
    data: str = ""


def image_of(part: dict) -> Image | None:
    """The image of an ``{"type": "image_url", "image_url": {"url": ...} | "..."}`` part, or
    None when it names no URL string."""
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str):
        return None
    if not url.startswith("data:"):
        return Image(url)
    header, _, data = url.partition(",")
    params = header[5:].split(";")
    return Image(url, True, params[0], "base64" in params[1:], data)


def tool_arguments(value: Any) -> Any:
    """Tool-call arguments as an object: OpenAI sends a JSON string, some callers an object.
    Empty means ``{}``; a string that is not JSON raises ValueError."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        return json.loads(value)
    return value


def tool_arguments_or_raw(value: Any) -> Any:
    """``tool_arguments``, keeping a string that is not JSON as ``{"_raw": text}`` rather than
    losing it (for providers that accept any object)."""
    try:
        return tool_arguments(value)
    except ValueError:
        return {"_raw": value}
