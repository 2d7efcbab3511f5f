"""Counting tokens: tiktoken's count when the ``llmtap[tokenizers]`` extra is installed, else a
dependency-free *estimate*.

With tiktoken, ``token_counter`` counts what OpenAI counts (the peer's accounting: 3 tokens per
message, every string field's tokens, 1 more for a ``name``, tool-call arguments, 3 to prime the
reply, tool definitions in OpenAI's TypeScript-like rendering plus 9). The encoding is the
model's (o200k_base for GPT-4o and later, cl100k_base otherwise, see tokenizers.py); its data ships
with llmtap, so nothing is downloaded.

Without tiktoken it is an estimate — responses whose usage comes from it are marked
``_hidden_params["usage_estimated"] = True``. Rules: a text costs ``ceil(len / 4)`` tokens, at
least 1 when non-empty. A chat prompt costs 3 tokens per message plus 3 for priming the reply,
plus its texts: string contents, the ``"text"`` parts of list contents, a message's ``name``,
and the names and arguments of its tool calls and legacy ``function_call``. ``tools`` (if given)
count as their JSON text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PER_MESSAGE = 3
REPLY_PRIMING = 3
TOOLS_OVERHEAD = 9
IMAGE_TOKENS = 85  # an image at low or auto detail, as OpenAI prices it; no image is fetched


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
    model: str | None = "",
    custom_tokenizer: Any = None,
    text: str | list[str] | None = None,
    messages: list | None = None,
    count_response_tokens: bool | None = False,
    tools: list | None = None,
    tool_choice: Any = None,
    use_default_image_token_count: bool | None = False,
    default_token_count: int | None = None,
    **_: Any,
) -> int:
    """Tokens of ``text``, or of ``messages`` (plus ``tools``) as a chat prompt for ``model``.

    Exact (tiktoken) when the extra is installed or a ``custom_tokenizer`` is given, else the
    estimate described in the module doc."""
    if text is not None and messages is not None:
        raise ValueError("token_counter takes text or messages, not both")
    if text is None and messages is None:
        raise ValueError("token_counter needs text or messages")
    if isinstance(text, list):
        text = "".join(t for t in text if isinstance(t, str))
    count = _count_function(model, custom_tokenizer)
    if count is None:
        return _estimate(text, messages, tools)
    if messages is None:
        if text is not None and not isinstance(text, str):
            raise ValueError(f"text must be a string or a list of strings, got {type(text).__name__}")
        return count(text or "")
    total = 0
    for message in messages:
        if hasattr(message, "model_dump") and not isinstance(message, dict):
            message = message.model_dump()
        if not hasattr(message, "items"):
            raise ValueError(f"messages must be dicts, got {type(message).__name__}")
        total += PER_MESSAGE
        for key, value in message.items():
            if value is None:
                continue
            if key == "tool_calls":
                for call in value if isinstance(value, list) else ():
                    function = call.get("function") if hasattr(call, "get") else None
                    if hasattr(function, "get"):
                        total += count(str(function.get("arguments") or ""))
            elif key == "function_call":
                if hasattr(value, "get"):
                    total += count(str(value.get("arguments") or ""))
            elif isinstance(value, str):
                total += count(value) + (1 if key == "name" else 0)
            elif key == "content" and isinstance(value, list):
                total += _content_list(count, value, default_token_count)
    if count_response_tokens:
        return total
    total += REPLY_PRIMING
    if tools:
        total += count(format_tools(tools)) + TOOLS_OVERHEAD
        if any(hasattr(m, "get") and m.get("role") == "system" for m in messages):
            total -= 4
    if tool_choice == "none":
        total += 1
    elif isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name") if hasattr(tool_choice.get("function"), "get") else None
        total += 7 + count(str(name or ""))
    return total


def _content_list(count: Callable[[str], int], parts: list, default: int | None) -> int:
    total = 0
    for part in parts:
        if isinstance(part, str):
            total += count(part)
        elif not hasattr(part, "get"):
            if default is not None:
                return default
            raise ValueError(f"a content part must be a dict or a string, got {type(part).__name__}")
        elif part.get("type") == "text":
            total += count(str(part.get("text", "")))
        elif part.get("type") in ("image_url", "image"):
            total += IMAGE_TOKENS
        elif part.get("type") in ("thinking", "redacted_thinking"):
            total += count(str(part.get("thinking") or ""))
    return total


def _count_function(model: str | None, custom_tokenizer: Any) -> Callable[[str], int] | None:
    if custom_tokenizer is not None:
        return _custom(custom_tokenizer)
    from . import tokenizers

    encoding = tokenizers.encoding(tokenizers.encoding_name_for_model(model))
    if encoding is None:
        return None
    return lambda text: len(encoding.encode_ordinary(text))


def _custom(tokenizer: Any) -> Callable[[str], int]:
    kind, impl = _unpack(tokenizer)
    if kind == "huggingface_tokenizer":
        return lambda text: len(impl.encode(text, add_special_tokens=False).ids)
    return lambda text: len(impl.encode_ordinary(text))


def _unpack(tokenizer: Any) -> tuple[str, Any]:
    if isinstance(tokenizer, dict) and "tokenizer" in tokenizer:
        kind = tokenizer.get("type", "huggingface_tokenizer")
        if kind not in ("huggingface_tokenizer", "openai_tokenizer"):
            raise ValueError(f"unknown tokenizer type {kind!r}: expected 'huggingface_tokenizer' or 'openai_tokenizer'")
        return kind, tokenizer["tokenizer"]
    raise ValueError(
        "custom_tokenizer must be the dict create_pretrained_tokenizer() or create_tokenizer() returns"
    )


def _tokenizer_for(model: str | None, custom_tokenizer: Any) -> tuple[str, Any]:
    if custom_tokenizer is not None:
        return _unpack(custom_tokenizer)
    from . import tokenizers

    encoding = tokenizers.encoding(tokenizers.encoding_name_for_model(model))
    if encoding is None:
        raise ImportError("encode() and decode() need tiktoken: pip install 'llmtap[tokenizers]'")
    return "openai_tokenizer", encoding


def encode(model: str = "", text: str = "", custom_tokenizer: Any = None) -> list[int]:
    """Token ids of ``text`` in the model's tokenizer (special-token text is encoded as text)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    kind, impl = _tokenizer_for(model, custom_tokenizer)
    if kind == "huggingface_tokenizer":
        return list(impl.encode(text, add_special_tokens=False).ids)
    return impl.encode_ordinary(text)


def decode(model: str = "", tokens: list[int] | None = None, custom_tokenizer: Any = None) -> str:
    """The text of token ids in the model's tokenizer."""
    tokens = list(tokens or [])
    if not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in tokens):
        raise ValueError("tokens must be a list of non-negative integers")
    kind, impl = _tokenizer_for(model, custom_tokenizer)
    return impl.decode(tokens)


def create_pretrained_tokenizer(
    identifier: str, revision: str = "main", auth_token: str | None = None
) -> dict[str, Any]:
    """A Hugging Face tokenizer for ``custom_tokenizer=``: from a local tokenizer.json (file or
    folder), else from the Hub (needs the ``tokenizers`` package and network access)."""
    import os

    Tokenizer = _hf_tokenizer_class()
    path = os.path.join(identifier, "tokenizer.json") if os.path.isdir(identifier) else identifier
    if os.path.isfile(path):
        return {"type": "huggingface_tokenizer", "tokenizer": Tokenizer.from_file(path)}
    try:
        tokenizer = Tokenizer.from_pretrained(identifier, revision=revision, token=auth_token)
    except TypeError:  # older tokenizers releases call it auth_token
        tokenizer = Tokenizer.from_pretrained(identifier, revision=revision, auth_token=auth_token)
    return {"type": "huggingface_tokenizer", "tokenizer": tokenizer}


def create_tokenizer(json: str) -> dict[str, Any]:
    """A Hugging Face tokenizer from its JSON text, for ``custom_tokenizer=``."""
    return {"type": "huggingface_tokenizer", "tokenizer": _hf_tokenizer_class().from_str(json)}


def _hf_tokenizer_class() -> Any:
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise ImportError("Hugging Face tokenizers need the tokenizers package: pip install tokenizers") from None
    return Tokenizer


def format_tools(tools: list) -> str:
    """Tool definitions as OpenAI renders them into the prompt (a TypeScript-like namespace)."""
    lines = ["namespace functions {", ""]
    for tool in tools:
        if not hasattr(tool, "get"):
            continue
        function = tool.get("function") if hasattr(tool.get("function"), "get") else tool
        name = function.get("name")
        if not name:
            continue
        description = function.get("description")
        if description:
            lines.append(f"// {description}")
        parameters = function.get("parameters") or function.get("input_schema") or {}
        properties = parameters.get("properties") if hasattr(parameters, "get") else None
        if properties and hasattr(properties, "items"):
            lines += [f"type {name} = (_: {{", _format_object(parameters, 0), "}) => any;", ""]
        else:
            lines += [f"type {name} = () => any;", ""]
    lines.append("} // namespace functions")
    return "\n".join(lines)


def _format_object(schema: dict, indent: int) -> str:
    properties = schema.get("properties") or {}
    required = schema.get("required") or []
    lines = []
    for key, prop in properties.items():
        if not hasattr(prop, "get"):
            continue
        if prop.get("description"):
            lines.append(f"// {prop['description']}")
        optional = "" if key in required else "?"
        lines.append(f"{key}{optional}: {_format_type(prop, indent)},")
    return "\n".join(" " * indent + line for line in lines)


def _format_type(prop: dict, indent: int) -> str:
    kind = prop.get("type")
    if kind in ("string", "integer", "number") and "enum" in prop:
        return " | ".join(f'"{item}"' for item in prop["enum"])
    if kind == "string":
        return "string"
    if kind in ("integer", "number"):
        return "number"
    if kind == "array":
        items = prop.get("items")
        return f"{_format_type(items, indent) if hasattr(items, 'get') else 'any'}[]"
    if kind == "object":
        return "{\n" + _format_object(prop, indent + 2) + "\n}"
    if kind in ("boolean", "null"):
        return kind
    return "any"


def estimate_tokens(text: Any = None, messages: list | None = None, tools: list | None = None, **_: Any) -> int:
    """The dependency-free estimate (module doc), whatever is installed: llmtap's own usage
    estimates use it, so they are fast, deterministic, and never load a tokenizer mid-call."""
    return _estimate(text, messages, tools)


def _estimate(text: Any, messages: list | None, tools: list | None) -> int:
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
