"""What every provider's emulator routes share: the route table's row, and the helpers that
shape an echo answer (text of a message, chunking, token counts, fake vectors, bearer keys).

A routes module (``<provider>_routes.py``) exposes ``ROUTES``, a tuple of ``Route`` rows. The
emulator tries the rows of every module in turn; a handler gets the emulator (for
``next_item(request)``, ``api_key`` and shared state), the request and the path's match, and
returns an answer — or None to let a later row have the request.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .http import Request, Response, StreamResponse

DEFAULT_PREFIX = "Hello from the llmtap emulator. You said: "
PIECES = re.compile(r"\S+\s*|\s+")

Answer = Response | StreamResponse | None


@dataclass(frozen=True, slots=True)
class Route:
    """``method`` ("*" for any) and a path ``pattern``; ``handler(emulator, request, match)``."""

    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Any, Request, re.Match[str]], Answer]

    def answer(self, emulator: Any, request: Request) -> Answer:
        if self.method != "*" and self.method != request.method:
            return None
        match = self.pattern.match(request.path)
        return None if match is None else self.handler(emulator, request, match)


def route(method: str, pattern: str, handler: Callable[[Any, Request, re.Match[str]], Answer]) -> Route:
    return Route(method, re.compile(pattern), handler)


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts/blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str) and part.get("type", "text") == "text"
        )
    return ""


def last_user_text(messages: Any) -> str:
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of(message.get("content"))[:200]
    return ""


def prompt_tokens(texts: list[str]) -> int:
    return max(1, sum(len(text.split()) + 4 for text in texts))


def split_content(content: str, chunks: int | None) -> list[str]:
    """The pieces a streamed answer is sent in: words, or ``chunks`` equal slices."""
    if chunks is None:
        return PIECES.findall(content) or ([content] if content else [])
    size = max(1, -(-len(content) // chunks)) if content else 1
    pieces = [content[i : i + size] for i in range(0, len(content), size)]
    while len(pieces) < chunks:
        pieces.append("")
    return pieces


def vector(text: str, dimensions: int) -> list[float]:
    """A deterministic fake embedding: the same text always gives the same vector."""
    digest = hashlib.sha256(text.encode()).digest()
    while len(digest) < dimensions * 2:
        digest += hashlib.sha256(digest).digest()
    return [round((digest[2 * i] * 256 + digest[2 * i + 1]) / 65535 * 2 - 1, 6) for i in range(dimensions)]


def arguments_of(tool_call: dict) -> Any:
    """A scripted tool call's arguments (a JSON string) as the object native APIs send."""
    return json.loads(tool_call.get("arguments") or "{}")


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[7:].strip() or None if value.lower().startswith("bearer ") else None


def forced_tool_call(tools: Any, choice: Any) -> dict | None:
    """The tool call a provider answers with when ``tool_choice`` forces one — a named function,
    OpenAI's ``"required"`` or Anthropic's ``{"type": "any"}`` / ``{"type": "tool"}`` — as a
    scripted call ``{"name", "arguments"}`` whose arguments fit the tool's schema. None when the
    choice forces nothing (``"auto"``, ``"none"``, absent) or names no known tool."""
    if not isinstance(tools, list) or not tools:
        return None
    specs = {}
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        name = function.get("name")
        if isinstance(name, str):
            specs[name] = function.get("parameters") or function.get("input_schema") or {}
    if not specs:
        return None
    name = None
    if choice == "required" or (isinstance(choice, dict) and choice.get("type") == "any"):
        name = next(iter(specs))
    elif isinstance(choice, dict):
        named = choice.get("function") if isinstance(choice.get("function"), dict) else choice
        if choice.get("type") in ("function", "tool"):
            name = named.get("name")
    if name not in specs:
        return None
    return {"name": name, "arguments": json.dumps(example_for(specs[name]))}


def example_for(schema: Any, depth: int = 0) -> Any:
    """A value that fits a JSON schema: every property filled, enums and types respected."""
    if not isinstance(schema, dict) or depth > 8:
        return {}
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            return example_for(options[0], depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties") or {}
        return {key: example_for(value, depth + 1) for key, value in properties.items() if isinstance(key, str)}
    if kind == "array":
        return [example_for(schema.get("items") or {}, depth + 1)]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "example"
