"""OpenAI and every OpenAI-compatible server (vLLM, LM Studio, llama.cpp, ...): the wire as is.

The request body is the call's parameters under their own names; answers are already in the
shape our types mirror, so parsing is decoding. Azure reuses all of this with other URLs.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ..exceptions import APIResponseValidationError, error_for_status
from ..types import EmbeddingResponse, ModelResponse, ModelResponseStream, TextCompletionResponse
from ..wire import HttpRequest
from .base import Provider, SSEJSONParser, StreamParser, decode_json, encode_json

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse

_PATHS = {"completion": "/chat/completions", "text_completion": "/completions", "embedding": "/embeddings"}
_RESPONSE_TYPES: dict[str, Any] = {
    "completion": ModelResponse,
    "text_completion": TextCompletionResponse,
    "embedding": EmbeddingResponse,
}


def path_for(call_type: str) -> str:
    path = _PATHS.get(call_type)
    if path is None:
        from .openai_endpoints import PATHS

        path = PATHS[call_type]
    return path


def response_type(call_type: str) -> Any:
    """The class a cached answer of this call type is rebuilt as."""
    found = _RESPONSE_TYPES.get(call_type)
    if found is None:
        from .openai_endpoints import RESPONSE_TYPES

        found = RESPONSE_TYPES[call_type]
    return found


@functools.cache
def _chat_params(without: frozenset[str] = frozenset()) -> frozenset[str]:
    from ..params import CHAT_PARAMS

    return frozenset(CHAT_PARAMS) - without


# Reasoning models take fewer sampling knobs: OpenAI refuses the rest with a 400.
_NOT_FOR_PLAIN = frozenset({"reasoning_effort"})
_NOT_FOR_O_SERIES = frozenset({"top_p", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs",
                               "parallel_tool_calls"})
_NOT_FOR_GPT5 = frozenset({"top_p", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs",
                           "logit_bias", "stop", "modalities", "prediction", "audio", "web_search_options"})


def reasoning_family(model: str) -> str | None:
    """"o" for o1/o3/o4..., "gpt-5" for GPT-5 reasoning models, None for the rest."""
    name = model.rsplit("/", 1)[-1]
    if name.startswith("ft:"):
        name = name[3:]
    if name.startswith(("o1", "o3", "o4")):
        return "o"
    if name.startswith("gpt-5") and "chat" not in name:
        return "gpt-5"
    return None


class OpenAI(Provider):
    name = "openai"
    call_types = frozenset({"completion", "text_completion", "embedding", "responses", "image_generation",
                            "transcription", "speech", "moderation"})
    key_env = ("OPENAI_API_KEY",)
    base_env = ("OPENAI_BASE_URL", "OPENAI_API_BASE")
    default_base = "https://api.openai.com/v1"
    text_completion = "by_model"
    secret_headers = frozenset({"authorization"})
    default_retries = 2  # the peer's OpenAI client retries 429s, 5xx and timeouts twice
    module_key = "openai_key"
    bare_prefixes = (
        "gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-", "davinci", "babbage", "omni-moderation",
        "dall-e", "gpt-image", "whisper", "tts-", "codex-", "computer-use-",
    )
    otel_name = "openai"
    key_optional_at_custom_base = True  # an OpenAI-compatible server you run may want no key

    def model_is_chat_only(self, model: str, custom_base: bool) -> bool:
        """OpenAI's own API serves /completions only for instruct/davinci/babbage models. A model
        the table knows as an OpenAI chat model goes to chat even with a base URL you chose (as
        the peer does); other names on other OpenAI-compatible servers go to /completions."""
        if "instruct" in model or model.startswith(("davinci", "babbage")):
            return False
        if not custom_base:
            return True
        from ..cost import _lookup

        found = _lookup(model, "openai")
        return found is not None and found[1].get("mode") == "chat" and found[1].get("litellm_provider") == "openai"

    def params_for(self, model: str, call_type: str) -> frozenset[str] | None:
        family = reasoning_family(model) if call_type == "completion" else None
        if family is None:
            if call_type == "completion" and self.name == "openai":
                return _chat_params(_NOT_FOR_PLAIN)  # OpenAI refuses reasoning_effort for non-reasoning models
            return self.supported_params.get(call_type)
        return _chat_params(_NOT_FOR_O_SERIES if family == "o" else _NOT_FOR_GPT5)

    def unsupported(self, model: str, call_type: str, params: dict) -> list[str]:
        names = super().unsupported(model, call_type, params)
        temperature = params.get("temperature")
        if temperature is not None and temperature != 1 and "temperature" not in names and (
            call_type == "completion" and reasoning_family(model)
        ):
            names.append("temperature")  # reasoning models take only the default, 1
        return names

    def url(self, call: Call) -> str:
        return call.api_base + path_for(call.call_type)

    def auth_headers(self, call: Call) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {call.api_key}"} if call.api_key else {}
        if call.organization:
            headers["OpenAI-Organization"] = call.organization
        return headers

    def build_body(self, call: Call) -> dict:
        if call.call_type not in _PATHS:
            from . import openai_endpoints

            return openai_endpoints.build_body(call)
        body: dict[str, Any] = {"model": call.provider_model}
        if call.call_type == "completion":
            body["messages"] = call.messages
        elif call.call_type == "text_completion":
            body["prompt"] = call.prompt
        else:
            body["input"] = call.input
        body.update(call.params)
        if "max_tokens" in body and call.call_type == "completion" and reasoning_family(call.provider_model):
            body.setdefault("max_completion_tokens", body.pop("max_tokens"))  # the only name they take
        if call.stream:
            body["stream"] = True
        if call.extra_body:
            body.update(call.extra_body)
        return body

    def build_request(self, call: Call, body: dict) -> HttpRequest:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if call.files:
            from .openai_endpoints import multipart

            data, headers["Content-Type"] = multipart(body, call.files)
        else:
            data = encode_json(body)
        if call.call_type == "speech":
            headers["Accept"] = "*/*"
        headers.update(self.auth_headers(call))
        if call.extra_headers:
            headers.update(call.extra_headers)
        return HttpRequest("POST", self.url(call), headers, data, call.timeout, call.stream)

    def parse_response(self, call: Call, response: HttpResponse) -> Any:
        if call.call_type not in _PATHS:
            from . import openai_endpoints

            return openai_endpoints.parse_response(self, call, response)
        data = self.decode_object(call, response)
        if "error" in data and "choices" not in data and "data" not in data:
            raise self._stream_error(call, data)
        return _RESPONSE_TYPES[call.call_type].from_openai(self.normalize(call, data))

    def decode_object(self, call: Call, response: HttpResponse) -> dict:
        """A success body as a JSON object, or a clear error saying it is not one."""
        data = decode_json(self.name, call, response)
        if not isinstance(data, dict):
            raise APIResponseValidationError(
                f"{self.name} answered with JSON that is not an object: {str(data)[:200]!r}",
                llm_provider=self.name,
                model=call.model,
                status_code=response.status,
            )
        return data

    def normalize(self, call: Call, data: dict) -> dict:
        """A decoded answer in OpenAI's exact shape; OpenAI-like providers adjust theirs here."""
        return data

    def stream_parser(self, call: Call) -> StreamParser:
        if call.call_type == "responses":
            from .openai_endpoints import ResponsesStreamParser

            return ResponsesStreamParser(self, call)
        return OpenAIStreamParser(self, call)

    def _stream_error(self, call: Call, data: dict) -> Exception:
        error = data.get("error")
        message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
        code = error.get("code") if isinstance(error, dict) else None
        status = 500
        if isinstance(code, int):
            status = code
        elif isinstance(error, dict) and error.get("type") == "invalid_request_error":
            status = 400
        return error_for_status(
            status, message, provider=self.name, model=call.model, body=data,
            code=code if isinstance(code, str) else None,
        )


class OpenAIStreamParser(SSEJSONParser):
    """``data:`` lines of chat or text chunks, ended by ``[DONE]`` or a finish_reason."""

    end_marker = "finish_reason and no [DONE]"

    def __init__(self, provider: OpenAI, call: Call) -> None:
        super().__init__(provider, call)
        self._build = (
            TextCompletionResponse.from_openai if call.call_type == "text_completion" else ModelResponseStream.from_decoded
        )

    def on_object(self, obj: dict) -> Any:
        if "error" in obj and not obj.get("choices"):
            raise self.provider._stream_error(self.call, obj)
        choices = obj.get("choices")
        if choices:
            for choice in choices:
                if choice.get("finish_reason"):
                    self.complete = True
        elif not obj.get("usage"):
            return None  # e.g. Azure's prompt_filter_results preamble
        return self._build(obj)
