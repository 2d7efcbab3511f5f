"""A chat answer dressed as a legacy text completion, for models that only have chat.

``text_completion(model="gpt-4o-mini", prompt=...)`` is sent as one user message; the answer
(or each streamed chunk) comes back as a TextCompletionResponse, as LiteLLM returns it.
"""

from __future__ import annotations

from typing import Any

from .types import TextCompletionResponse


def chat_to_text(result: Any) -> Any:
    """A ModelResponse becomes a TextCompletionResponse; a stream, a stream of them."""
    return _convert(result, "message") if hasattr(result, "choices") else TextStream(result)


def _convert(response: Any, field: str) -> TextCompletionResponse:
    choices = []
    for choice in response.choices or ():
        part = getattr(choice, field, None)
        choices.append(
            {"index": choice.index, "text": (part.content if part is not None else None) or "",
             "logprobs": None, "finish_reason": choice.finish_reason}
        )
    usage = response.get("usage")
    converted = TextCompletionResponse.from_openai(
        {"id": response.id, "object": "text_completion", "created": response.created, "model": response.model,
         "choices": choices, "usage": usage.model_dump() if usage else None}
    )
    converted._hidden_params.update(response._hidden_params)
    return converted


class TextStream:
    """The chat stream's chunks as text-completion chunks; iterate it sync or async."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> TextCompletionResponse:
        return _convert(next(self.stream), "delta")

    def __aiter__(self) -> TextStream:
        return self

    async def __anext__(self) -> TextCompletionResponse:
        return _convert(await self.stream.__anext__(), "delta")

    def close(self) -> None:
        self.stream.close()
