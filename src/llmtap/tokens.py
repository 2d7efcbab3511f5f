"""A dependency-free token *estimate* (no tiktoken): about one token per four characters.

Used only where a provider reports no usage (some streams, mock answers). It is an estimate,
not any model's tokenizer — responses whose usage comes from it are marked
``_hidden_params["usage_estimated"] = True``.

Rules: a text costs ``ceil(len / 4)`` tokens, at least 1 when non-empty. A chat prompt costs
3 tokens per message plus 3 for priming the reply, plus its texts: string contents, the
``"text"`` parts of list contents, a message's ``name``, and the names and arguments of its
tool calls and legacy ``function_call``. ``tools`` (if given) count as their JSON text.
"""

from __future__ import annotations

from typing import Any

PER_MESSAGE = 3
REPLY_PRIMING = 3


def _text_tokens(text: Any) -> int:
    if not text:
        return 0
    if not isinstance(text, str):
        text = str(text)
    return (len(text) + 3) // 4


def _content_tokens(content: Any) -> int:
    if isinstance(content, str):
        return _text_tokens(content)
    total = 0
    if isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                total += _text_tokens(part)
            elif hasattr(part, "get") and part.get("type", "text") == "text":
                total += _text_tokens(part.get("text"))
    return total


def _function_tokens(function: Any) -> int:
    if not hasattr(function, "get"):
        return 0
    return _text_tokens(function.get("name")) + _text_tokens(function.get("arguments"))


def token_counter(
    model: str | None = None,
    text: str | None = None,
    messages: list | None = None,
    tools: list | None = None,
    **_: Any,
) -> int:
    """Estimated tokens of ``text``, or of ``messages`` as a chat prompt (see the module doc).

    ``model`` is accepted for LiteLLM compatibility and does not change the estimate; other
    LiteLLM keywords (``count_response_tokens``, ``tool_choice``...) are accepted and ignored.
    """
    if messages is None:
        total = _text_tokens(text)
    else:
        total = REPLY_PRIMING
        for message in messages:
            total += PER_MESSAGE
            if not hasattr(message, "get"):  # dicts and llmtap's Message objects
                continue
            total += _content_tokens(message.get("content")) + _text_tokens(message.get("name"))
            for call in message.get("tool_calls") or ():
                if hasattr(call, "get"):
                    total += _function_tokens(call.get("function"))
            total += _function_tokens(message.get("function_call"))
    if tools:
        import json

        total += _text_tokens(json.dumps(tools, default=str))
    return total
