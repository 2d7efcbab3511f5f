"""Google Gemini through Google AI Studio: generateContent and streamGenerateContent (SSE).

Roles become "user"/"model", system messages a ``systemInstruction``, tools
``functionDeclarations``; sampling parameters go in ``generationConfig``. A prompt or answer
blocked for safety raises ContentPolicyViolationError rather than returning an empty answer.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..exceptions import ContentPolicyViolationError
from ..types import ModelResponse, ModelResponseStream
from ..wire import HttpRequest
from .base import Provider, SSEJSONParser, StreamParser, decode_json, encode_json
from .parts import image_of, tool_arguments_or_raw

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse

CONFIG_NAMES = {
    "temperature": "temperature",
    "top_p": "topP",
    "max_tokens": "maxOutputTokens",
    "max_completion_tokens": "maxOutputTokens",
    "n": "candidateCount",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
    "seed": "seed",
}
FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length"}
BLOCKED = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"})
_SUPPORTED = frozenset({*CONFIG_NAMES, "stop", "response_format", "tools", "tool_choice", "stream_options"})


class Gemini(Provider):
    name = "gemini"
    key_env = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    base_env = ("GEMINI_API_BASE",)
    default_base = "https://generativelanguage.googleapis.com"
    text_completion = "chat"
    secret_headers = frozenset({"x-goog-api-key", "authorization"})
    module_key = "gemini_key"
    bare_prefixes = ()
    otel_name = "gcp.gemini"
    supported_params = {"completion": _SUPPORTED, "text_completion": frozenset(), "embedding": frozenset()}

    def build_body(self, call: Call) -> dict:
        system, contents = convert_messages(call.messages or [])
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        params = call.params
        config = {CONFIG_NAMES[k]: v for k, v in params.items() if k in CONFIG_NAMES}
        stop = params.get("stop")
        if stop:
            config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
        response_format = params.get("response_format")
        if response_format and response_format.get("type") in ("json_object", "json_schema"):
            config["responseMimeType"] = "application/json"
            if response_format.get("type") == "json_schema":
                schema = response_format.get("json_schema", {})
                config["responseSchema"] = schema.get("schema", schema)
        if config:
            body["generationConfig"] = config
        if params.get("tools"):
            declarations = []
            for tool in params["tools"]:
                function = tool.get("function", tool)
                declaration = {"name": function.get("name")}
                if function.get("description"):
                    declaration["description"] = function["description"]
                if function.get("parameters"):
                    declaration["parameters"] = function["parameters"]
                declarations.append(declaration)
            body["tools"] = [{"functionDeclarations": declarations}]
        choice = params.get("tool_choice")
        if choice is not None:
            body["toolConfig"] = {"functionCallingConfig": _tool_choice(choice)}
        if call.extra_body:
            body.update(call.extra_body)
        return body

    def build_request(self, call: Call, body: dict) -> HttpRequest:
        action = "streamGenerateContent?alt=sse" if call.stream else "generateContent"
        url = f"{call.api_base}/v1beta/models/{quote(call.provider_model, safe='')}:{action}"
        headers = {"Content-Type": "application/json", "x-goog-api-key": call.api_key or ""}
        if call.extra_headers:
            headers.update(call.extra_headers)
        return HttpRequest("POST", url, headers, encode_json(body), call.timeout, call.stream)

    def parse_response(self, call: Call, response: HttpResponse) -> Any:
        data = decode_json(self.name, call, response)
        return ModelResponse.from_openai(to_openai(self, call, data, whole=True))

    def stream_parser(self, call: Call) -> StreamParser:
        return GeminiStreamParser(self, call)


def _tool_choice(choice: Any) -> dict:
    if choice == "none":
        return {"mode": "NONE"}
    if choice == "required":
        return {"mode": "ANY"}
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"mode": "ANY", "allowedFunctionNames": [choice.get("function", {}).get("name")]}
    return {"mode": "AUTO"}


def _parts(content: Any) -> list[dict]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts = []
    for part in content:
        if part.get("type") == "text":
            parts.append({"text": part.get("text", "")})
        elif part.get("type") == "image_url" and (image := image_of(part)) is not None:
            if image.inline:
                parts.append({"inlineData": {"mimeType": image.media_type, "data": image.data}})
            else:
                parts.append({"fileData": {"fileUri": image.url}})
    return parts


def convert_messages(messages: list[dict]) -> tuple[str | None, list[dict]]:
    system: list[str] = []
    contents: list[dict] = []
    tool_names: dict[str, str] = {}

    def add(role: str, parts: list[dict]) -> None:
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})

    for message in messages:
        role = message["role"]
        if role in ("system", "developer"):
            system.extend(p["text"] for p in _parts(message.get("content")) if "text" in p)
        elif role == "assistant":
            parts = _parts(message.get("content"))
            for call in message.get("tool_calls") or ():
                function = call.get("function", {})
                tool_names[call.get("id", "")] = function.get("name")
                args = tool_arguments_or_raw(function.get("arguments"))
                parts.append({"functionCall": {"name": function.get("name"), "args": args}})
            add("model", parts)
        elif role in ("tool", "function"):
            name = tool_names.get(message.get("tool_call_id", ""), message.get("name"))
            add("user", [{"functionResponse": {"name": name, "response": {"content": message.get("content")}}}])
        else:
            add("user", _parts(message.get("content")))
    return ("\n".join(system) or None), contents


def _blocked(provider: Provider, call: Call, reason: str) -> ContentPolicyViolationError:
    return ContentPolicyViolationError(
        f"gemini blocked the {'prompt' if reason.startswith('prompt') else 'answer'}: {reason}",
        llm_provider=provider.name,
        model=call.model,
    )


def to_openai(provider: Provider, call: Call, data: dict, whole: bool, ident: str | None = None) -> dict:
    """A GenerateContentResponse (or one streamed piece of it) as OpenAI JSON."""
    candidates = data.get("candidates") or []
    feedback = data.get("promptFeedback") or {}
    if not candidates and feedback.get("blockReason"):
        raise _blocked(provider, call, f"prompt blocked ({feedback['blockReason']})")
    choices = []
    for position, candidate in enumerate(candidates):
        texts, calls = [], []
        for part in (candidate.get("content") or {}).get("parts") or ():
            if "text" in part and not part.get("thought"):
                texts.append(part["text"])
            elif "functionCall" in part:
                call_part = part["functionCall"]
                calls.append({"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
                              "function": {"name": call_part.get("name"), "arguments": json.dumps(call_part.get("args", {}))}})
        reason = candidate.get("finishReason")
        if reason in BLOCKED and not texts and not calls:
            raise _blocked(provider, call, f"answer blocked ({reason})")
        finish = None
        if reason:
            finish = "tool_calls" if calls else FINISH_REASONS.get(reason, "content_filter" if reason in BLOCKED else "stop")
        index = candidate.get("index", position)
        if whole:
            message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
            if calls:
                message["tool_calls"] = calls
            choices.append({"index": index, "message": message, "finish_reason": finish or "stop"})
        else:
            delta: dict[str, Any] = {"content": "".join(texts)}
            if calls:
                delta["tool_calls"] = [{"index": i, **c} for i, c in enumerate(calls)]
            choices.append({"index": index, "delta": delta, "finish_reason": finish})
    out: dict[str, Any] = {
        "id": ident or data.get("responseId") or "chatcmpl-gemini-" + uuid.uuid4().hex[:16],
        "object": "chat.completion" if whole else "chat.completion.chunk",
        "created": int(time.time()),
        "model": data.get("modelVersion", call.provider_model),
        "choices": choices,
    }
    usage = data.get("usageMetadata")
    if usage and (whole or any(c.get("finishReason") for c in candidates)):
        prompt = usage.get("promptTokenCount", 0)
        completion = usage.get("candidatesTokenCount", 0) + usage.get("thoughtsTokenCount", 0)
        out["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": usage.get("totalTokenCount", prompt + completion),
            "prompt_tokens_details": {"cached_tokens": usage.get("cachedContentTokenCount", 0)},
        }
    return out


class GeminiStreamParser(SSEJSONParser):
    """Each event is a partial GenerateContentResponse; a finishReason ends the answer."""

    end_marker = "finishReason"

    def __init__(self, provider: Gemini, call: Call) -> None:
        super().__init__(provider, call)
        self._id = "chatcmpl-gemini-" + uuid.uuid4().hex[:16]

    def on_object(self, obj: dict) -> Any:
        if "error" in obj:
            from ..exceptions import error_for_status

            error = obj["error"] if isinstance(obj["error"], dict) else {}
            raise error_for_status(int(error.get("code") or 500), error.get("message", str(obj)), provider="gemini",
                                   model=self.call.model, body=obj)
        if any(c.get("finishReason") for c in obj.get("candidates") or ()):
            self.complete = True
        return ModelResponseStream.from_openai(to_openai(self.provider, self.call, obj, whole=False, ident=self._id))
