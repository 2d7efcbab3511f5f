"""Anthropic's legacy Text Completions API (/v1/complete): claude-2, claude-2.1, claude-instant-1.

Messages become one prompt in the "\\n\\nHuman: ...\\n\\nAssistant: " form that API expects: a
system message is plain text before the first turn, each turn is introduced by its speaker, and
the prompt ends by handing the turn to the assistant (or continues a final assistant message).
The API reports no token usage, so usage is estimated and marked as such.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import APIResponseValidationError
from ..tokens import estimate_tokens as token_counter
from ..types import ModelResponse, ModelResponseStream
from .anthropic import FINISH_REASONS, Anthropic, _stream_error, finish_body
from .base import SSEJSONParser, StreamParser, decode_json

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse

HUMAN = "\n\nHuman: "
ASSISTANT = "\n\nAssistant: "
DEFAULT_MAX_TOKENS_TO_SAMPLE = 256
LEGACY_MODELS = frozenset({"claude-2", "claude-2.0", "claude-2.1", "claude-instant-1", "claude-instant-1.2"})

_TEXT = frozenset({"temperature", "top_p", "stop", "max_tokens", "max_completion_tokens", "user", "top_k", "stream_options"})


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def build_prompt(messages: list[dict]) -> str:
    prompt = ""
    last_role = None
    for message in messages:
        role = message["role"]
        text = _text(message.get("content"))
        if role in ("system", "developer"):
            prompt += text if not prompt else f"\n\n{text}"
            continue
        last_role = "assistant" if role == "assistant" else "user"
        prompt += (ASSISTANT if last_role == "assistant" else HUMAN) + text
    if last_role != "assistant":
        prompt += ASSISTANT
    return prompt


class AnthropicText(Anthropic):
    name = "anthropic_text"
    text_completion = "native"
    bare_prefixes = ()
    bare_names = LEGACY_MODELS
    supported_params = {"completion": _TEXT, "text_completion": _TEXT, "embedding": frozenset()}

    def variant(self, model: str) -> str | None:
        return None

    def url(self, call: Call) -> str:
        base = call.api_base
        return base + ("/complete" if base.endswith("/v1") else "/v1/complete")

    def build_body(self, call: Call) -> dict:
        params = dict(call.params)
        if call.call_type == "text_completion":
            prompt = call.prompt if isinstance(call.prompt, str) else "".join(call.prompt)
            if HUMAN.strip() not in prompt:
                prompt = HUMAN + prompt + ASSISTANT
        else:
            prompt = build_prompt(call.messages or [])
        body: dict[str, Any] = {
            "model": call.provider_model,
            "prompt": prompt,
            "max_tokens_to_sample": params.pop("max_tokens", None)
            or params.pop("max_completion_tokens", None)
            or DEFAULT_MAX_TOKENS_TO_SAMPLE,
        }
        params.pop("max_completion_tokens", None)
        return finish_body(call, params, body)

    def parse_response(self, call: Call, response: HttpResponse) -> Any:
        data = decode_json(self.name, call, response)
        if not isinstance(data, dict) or data.get("type") == "error" or "completion" not in data:
            if isinstance(data, dict) and data.get("type") == "error":
                raise _stream_error(self, call, data)
            raise APIResponseValidationError(
                f"anthropic answered without a completion: {str(data)[:200]!r}",
                llm_provider=self.name,
                model=call.model,
            )
        text = data.get("completion", "")
        result = ModelResponse.from_openai(
            {
                "id": data.get("id") or data.get("log_id"),
                "object": "chat.completion",
                "created": None,
                "model": data.get("model", call.provider_model),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": FINISH_REASONS.get(data.get("stop_reason"), "stop"),
                    }
                ],
                "usage": _estimate(call, text),
            }
        )
        result._hidden_params["usage_estimated"] = True
        return result

    def stream_parser(self, call: Call) -> StreamParser:
        return AnthropicTextStreamParser(self, call)


def _estimate(call: Call, completion: str) -> dict:
    prompt = token_counter(messages=call.messages) if call.messages else token_counter(text=str(call.prompt))
    done = token_counter(text=completion)
    return {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}


class AnthropicTextStreamParser(SSEJSONParser):
    """``completion`` events as OpenAI chunks; the one with a stop_reason ends the answer."""

    end_marker = "stop_reason"

    def __init__(self, provider: AnthropicText, call: Call) -> None:
        super().__init__(provider, call)
        self._first = True
        self._parts: list[str] = []

    def on_object(self, data: dict) -> Any:
        kind = data.get("type")
        if kind == "error":
            raise _stream_error(self.provider, self.call, data)
        if kind != "completion":
            return None
        text = data.get("completion", "")
        self._parts.append(text)
        delta: dict[str, Any] = {"content": text}
        if self._first:
            delta["role"] = "assistant"
            self._first = False
        reason = data.get("stop_reason")
        chunk: dict[str, Any] = {
            "id": data.get("id") or data.get("log_id"),
            "object": "chat.completion.chunk",
            "created": None,
            "model": data.get("model", self.call.provider_model),
            "choices": [{"index": 0, "delta": delta, "finish_reason": FINISH_REASONS.get(reason, reason) if reason else None}],
        }
        if reason:
            self.complete = True
            chunk["usage"] = _estimate(self.call, "".join(self._parts))
        return ModelResponseStream.from_openai(chunk)
