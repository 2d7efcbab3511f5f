"""A dependency-free token estimate: about one token per four characters.

Used only where a provider reports no usage (some streams, mock answers). It is an estimate —
responses priced from it are marked ``_hidden_params["usage_estimated"] = True``.
"""

from __future__ import annotations

from typing import Any

PER_MESSAGE = 3
REPLY_PRIMING = 3


def _text_tokens(text: str) -> int:
    return (len(text) + 3) // 4 if text else 0


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def token_counter(model: str | None = None, text: str | None = None, messages: list | None = None) -> int:
    """Estimated tokens of ``text``, or of ``messages`` as a chat prompt."""
    if messages is None:
        return _text_tokens(text or "")
    total = REPLY_PRIMING
    for message in messages:
        total += PER_MESSAGE
        if not isinstance(message, dict):
            continue
        total += _text_tokens(_content_text(message.get("content")))
        for call in message.get("tool_calls") or ():
            function = call.get("function", {}) if isinstance(call, dict) else {}
            total += _text_tokens(function.get("name") or "") + _text_tokens(function.get("arguments") or "")
    return total
