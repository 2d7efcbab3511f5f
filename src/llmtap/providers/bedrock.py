"""AWS Bedrock: the Converse and ConverseStream APIs for chat, InvokeModel for embeddings.

Messages become Converse content blocks (text, inline images, toolUse, toolResult), system
messages the ``system`` list, sampling parameters ``inferenceConfig``, tools ``toolConfig``;
parameters Converse has no name for go in ``additionalModelRequestFields`` (as the peer does).
Stop reasons, usage (cache reads and writes included) and guardrail traces come back in the
OpenAI shapes. Streams are AWS's binary event stream (``llmtap.eventstream``).

Each attempt is signed afresh with SigV4 (``authorize``), with credentials from the AWS chain
(``aws_credentials``), so a retry after a throttle never reuses a stale date or signature. A
Bedrock API key (``api_key=``, or ``AWS_BEARER_TOKEN_BEDROCK``) is sent as a bearer token instead.
Embeddings: Titan (one text per request) and Cohere (a list per request).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from ..exceptions import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    decode_error_body,
    error_for_status,
)
from ..types import EmbeddingResponse, ModelResponse, ModelResponseStream
from ..wire import HttpRequest
from . import aws_credentials, aws_sigv4
from .base import Provider, StreamParser, decode_json, encode_json
from .parts import Image, image_of, tool_arguments

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse

DEFAULT_REGION = "us-west-2"  # the peer's default when nothing names a region
SERVICE = "bedrock"

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}

# Converse's own top-level request fields, passed through as given.
CONVERSE_FIELDS = frozenset({
    "guardrailConfig", "additionalModelRequestFields", "additionalModelResponseFieldPaths",
    "performanceConfig", "requestMetadata", "promptVariables",
})

# Bedrock's error types (x-amzn-ErrorType, or :exception-type in a stream) → HTTP status.
ERROR_STATUS = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "ExpiredTokenException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ModelNotReadyException": 429,
    "ThrottlingException": 429,
    "ServiceQuotaExceededException": 429,
    "ModelErrorException": 424,
    "ModelStreamErrorException": 424,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}
_AUTH_ERRORS = frozenset({"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
                          "IncompleteSignatureException", "MissingAuthenticationTokenException"})
_CONTEXT_HINTS = ("too long", "too many input tokens", "input length", "context window", "max input tokens")
_IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp"}

_CHAT = frozenset({"temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "tools", "tool_choice",
                   "stream_options", "parallel_tool_calls", "user", "response_format"})
# Converse has no JSON mode: a structured answer is asked for as a forced call of this tool, whose
# input comes back as the message's content (the peer does the same).
JSON_TOOL = "json_tool_call"
_EMBED = frozenset({"dimensions", "encoding_format", "user"})

CREDENTIAL_PARAMS = frozenset({
    "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region_name", "aws_profile_name",
    "aws_role_name", "aws_session_name", "aws_sts_endpoint", "aws_bedrock_runtime_endpoint", "aws_web_identity_token",
    "aws_external_id",
})


class Bedrock(Provider):
    name = "bedrock"
    text_completion = "chat"
    secret_headers = frozenset({"authorization", "x-amz-security-token"})
    module_key = None
    bare_prefixes = ()
    otel_name = "aws.bedrock"
    key_env = ("AWS_BEARER_TOKEN_BEDROCK",)
    base_env = ("AWS_BEDROCK_RUNTIME_ENDPOINT", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
    takes_global_key = False
    default_base = "https://bedrock-runtime.us-west-2.amazonaws.com"  # configure() picks the call's region
    needs_key = False
    credential_params: ClassVar[frozenset[str]] = CREDENTIAL_PARAMS
    configures = True
    authorizes = True
    supported_params = {"completion": _CHAT, "text_completion": frozenset(), "embedding": _EMBED}

    # -- before any request: region, endpoint, model id -------------------------------------------

    def configure(self, call: Call) -> None:
        model = call.provider_model
        for route in ("converse/", "invoke/"):
            if model.startswith(route):
                model = model[len(route):]
        if not model:
            raise BadRequestError(f"model {call.model!r} names no Bedrock model id", model=call.model, llm_provider=self.name)
        call.provider_model = model
        settings = call.credentials
        region = (
            settings.get("aws_region_name")
            or os.environ.get("AWS_REGION_NAME")
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or aws_credentials.profile_region(settings.get("aws_profile_name"))
            or DEFAULT_REGION
        )
        settings["aws_region_name"] = region
        explicit = settings.get("aws_bedrock_runtime_endpoint") or os.environ.get("AWS_ENDPOINT_URL")
        if call.api_base == self.default_base:  # no endpoint given: the region's own
            call.api_base = (explicit or f"https://bedrock-runtime.{region}.amazonaws.com").rstrip("/")
        if call.call_type == "embedding":
            _embedding_family(self, call)
        # A Bedrock API key (api_key=..., or AWS_BEARER_TOKEN_BEDROCK) replaces SigV4 altogether.
        settings["_bearer"] = (call.api_key or "").strip() or None

    def authorize(self, call: Call) -> Any:
        """This attempt's credentials: given, cached, or fetched (STS, container, instance)."""
        if call.credentials.get("_bearer"):
            return None
        call.auth = yield from aws_credentials.resolve(call.credentials, call.credentials["aws_region_name"])

    # -- request -----------------------------------------------------------------------------------

    def build_body(self, call: Call) -> dict:
        if call.call_type == "embedding":
            return _embedding_body(self, call)
        system, messages = convert_messages(self, call)
        params = dict(call.params)
        body: dict[str, Any] = {"messages": messages}
        if system:
            body["system"] = system
        config: dict[str, Any] = {}
        max_tokens = params.pop("max_tokens", None) or params.pop("max_completion_tokens", None)
        params.pop("max_completion_tokens", None)
        if max_tokens is not None:
            config["maxTokens"] = max_tokens
        for ours, theirs in (("temperature", "temperature"), ("top_p", "topP")):
            if ours in params:
                config[theirs] = params.pop(ours)
        stop = params.pop("stop", None)
        if stop:
            config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
        if config:
            body["inferenceConfig"] = config
        tools = params.pop("tools", None)
        choice = params.pop("tool_choice", None)
        schema = _json_schema(params.pop("response_format", None))
        if schema is not None:
            tools = [*(tools or []), {"type": "function", "function": {"name": JSON_TOOL, "parameters": schema}}]
            choice = {"type": "function", "function": {"name": JSON_TOOL}}
        if tools and choice != "none":
            tool_config: dict[str, Any] = {"tools": [_tool_spec(tool) for tool in tools]}
            if choice == "required":
                tool_config["toolChoice"] = {"any": {}}
            elif isinstance(choice, dict) and choice.get("type") == "function":
                tool_config["toolChoice"] = {"tool": {"name": (choice.get("function") or {}).get("name")}}
            elif choice == "auto":
                tool_config["toolChoice"] = {"auto": {}}
            body["toolConfig"] = tool_config
        for name in ("stream_options", "parallel_tool_calls", "user"):
            params.pop(name, None)
        extra_fields = dict(params.pop("additionalModelRequestFields", None) or {})
        for name in CONVERSE_FIELDS:
            if name in params:
                body[name] = params.pop(name)
        extra_fields.update(params)  # e.g. top_k: what Converse has no field for goes to the model
        if extra_fields:
            body["additionalModelRequestFields"] = extra_fields
        if call.extra_body:
            body.update(call.extra_body)
        return body

    def build_request(self, call: Call, body: dict) -> HttpRequest:
        model = quote(call.provider_model, safe="")
        if call.call_type == "embedding":
            action = "invoke"
        else:
            action = "converse-stream" if call.stream else "converse"
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if call.stream:
            headers["Accept"] = "application/vnd.amazon.eventstream"
        if call.extra_headers:
            headers.update(call.extra_headers)
        url = f"{call.api_base}/model/{model}/{action}"
        data = encode_json(body)
        creds = call.auth
        if call.credentials.get("_bearer"):
            headers["Authorization"] = f"Bearer {call.credentials['_bearer']}"
        elif creds is not None:  # signed afresh for every attempt: a new date, a new signature
            headers = aws_sigv4.sign("POST", url, headers, data, access_key=creds.access_key, secret_key=creds.secret_key,
                                     session_token=creds.token, region=call.credentials["aws_region_name"], service=SERVICE)
        return HttpRequest("POST", url, headers, data, call.timeout, call.stream)

    # -- answers -----------------------------------------------------------------------------------

    def parse_response(self, call: Call, response: HttpResponse) -> Any:
        data = decode_json(self.name, call, response)
        if not isinstance(data, dict):
            raise _invalid(self, call, f"answered with JSON that is not an object: {str(data)[:200]!r}")
        if call.call_type == "embedding":
            return _embedding_response(self, call, data, response)
        output = data.get("output")
        message = output.get("message") if isinstance(output, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("content", []), list):
            raise _invalid(self, call, f"answered without output.message: {str(data)[:200]!r}")
        texts, reasoning, calls = [], [], []
        stop = _reason(data.get("stopReason"))
        for block in message.get("content") or ():  # (a list: checked above)
            if not isinstance(block, dict):
                continue
            if "text" in block:
                texts.append(str(block["text"]))
            elif "toolUse" in block:
                use = _dict(block["toolUse"])
                calls.append({"id": use.get("toolUseId"), "type": "function",
                              "function": {"name": use.get("name"), "arguments": json.dumps(use.get("input", {}))}})
            elif "reasoningContent" in block:
                text = _dict(_dict(block["reasoningContent"]).get("reasoningText")).get("text")
                if isinstance(text, str) and text:
                    reasoning.append(text)
        if _json_schema(call.params.get("response_format")) is not None:
            answer = [c for c in calls if c["function"]["name"] == JSON_TOOL]
            if answer:  # the structured answer is the content, not a tool call
                calls = [c for c in calls if c["function"]["name"] != JSON_TOOL]
                texts = [answer[0]["function"]["arguments"]]
                if stop == "tool_use" and not calls:
                    stop = "end_turn"
        out_message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
        if calls:
            out_message["tool_calls"] = calls
        if reasoning:
            out_message["reasoning_content"] = "".join(reasoning)
        result: dict[str, Any] = {
            "id": "chatcmpl-" + (response.headers.get("x-amzn-requestid") or uuid.uuid4().hex),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": call.provider_model,
            "choices": [{"index": 0, "message": out_message, "finish_reason": FINISH_REASONS.get(stop, "stop")}],
            "usage": convert_usage(data.get("usage")),
        }
        fields = {k: data[k] for k in ("stopReason", "trace", "metrics", "additionalModelResponseFields") if k in data}
        if fields:
            result["provider_specific_fields"] = fields
        return ModelResponse.from_openai(result)

    def stream_parser(self, call: Call) -> StreamParser:
        return ConverseStreamParser(self, call)

    def error_from_response(self, call: Call, response: HttpResponse) -> APIError:
        body, message = decode_error_body(response.body)
        if isinstance(body, dict) and isinstance(body.get("Message"), str):
            message = body["Message"]
        kind = (response.headers.get("x-amzn-errortype") or "").split(":")[0] or None
        if kind is None and isinstance(body, dict) and isinstance(body.get("__type"), str):
            kind = body["__type"].rsplit("#", 1)[-1]
        return bedrock_error(self, call, response.status, kind, message, body, response.headers)


def bedrock_error(provider: Provider, call: Call, status: int, kind: str | None, message: str,
                  body: Any = None, headers: dict | None = None) -> APIError:
    text = f"{kind}: {message}" if kind else message
    common = {"llm_provider": provider.name, "model": call.model, "status_code": status, "body": body, "headers": headers}
    if kind in _AUTH_ERRORS:
        return AuthenticationError(text, **common)
    if status == 400 and any(hint in message.lower() for hint in _CONTEXT_HINTS):
        return ContextWindowExceededError(text, **common)
    return error_for_status(status, text, provider=provider.name, model=call.model, body=body, headers=headers, code=kind)


def _invalid(provider: Provider, call: Call, what: str) -> APIError:
    from ..exceptions import APIResponseValidationError

    return APIResponseValidationError(f"{provider.name} {what}", llm_provider=provider.name, model=call.model)


def convert_usage(usage: Any) -> dict:
    usage = usage if isinstance(usage, dict) else {}
    prompt = _int(usage.get("inputTokens"))
    completion = _int(usage.get("outputTokens"))
    read = _int(usage.get("cacheReadInputTokens"))
    write = _int(usage.get("cacheWriteInputTokens"))
    out: dict[str, Any] = {
        "prompt_tokens": prompt + read + write,
        "completion_tokens": completion,
        "total_tokens": _int(usage.get("totalTokens")) or prompt + read + write + completion,
        "prompt_tokens_details": {"cached_tokens": read},
    }
    if read or write:
        out["cache_read_input_tokens"] = read
        out["cache_creation_input_tokens"] = write
    return out


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _reason(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# -- messages --------------------------------------------------------------------------------------


def _json_schema(response_format: Any) -> dict | None:
    """The schema a ``response_format`` asks for (json_object: any object), or None."""
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema", spec) if isinstance(spec, dict) else None
        return schema if isinstance(schema, dict) and schema else {"type": "object"}
    if kind == "json_object":
        return {"type": "object"}
    return None


def _tool_spec(tool: dict) -> dict:
    function = tool.get("function", tool) if isinstance(tool, dict) else {}
    spec: dict[str, Any] = {"name": function.get("name")}
    if function.get("description"):
        spec["description"] = function["description"]
    spec["inputSchema"] = {"json": function.get("parameters") or {"type": "object", "properties": {}}}
    return {"toolSpec": spec}


def _blocks(provider: Provider, call: Call, content: Any, where: str) -> list[dict]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content.strip() else []
    blocks = []
    for position, part in enumerate(content):
        if not isinstance(part, dict):
            raise BadRequestError(f"{where}.content[{position}] must be a dict, got {type(part).__name__}", model=call.model, llm_provider=provider.name)
        kind = part.get("type")
        if kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise BadRequestError(f"{where}.content[{position}].text must be a string", model=call.model, llm_provider=provider.name)
            if text.strip():
                blocks.append({"text": text})
        elif kind == "image_url":
            blocks.append(_image(provider, call, image_of(part), f"{where}.content[{position}]"))
        else:
            raise BadRequestError(f"{where}.content[{position}] has a type Bedrock cannot take: {kind!r}", model=call.model, llm_provider=provider.name)
    return blocks


def _image(provider: Provider, call: Call, image: Image | None, where: str) -> dict:
    if image is None or not image.inline:
        raise BadRequestError(
            f"{where}: Bedrock takes images inline only; pass a data: URL (data:image/png;base64,...)",
            model=call.model, llm_provider=provider.name,
        )
    mime = image.media_type.lower()
    if mime not in _IMAGE_FORMATS or not image.base64:
        raise BadRequestError(f"{where}: Bedrock takes base64 png, jpeg, gif or webp images, got {image.url.partition(',')[0][:40]!r}",
                              model=call.model, llm_provider=provider.name)
    return {"image": {"format": _IMAGE_FORMATS[mime], "source": {"bytes": image.data}}}


def convert_messages(provider: Provider, call: Call) -> tuple[list[dict], list[dict]]:
    """OpenAI messages as (system blocks, Converse messages), same-role turns merged."""
    system: list[dict] = []
    out: list[dict] = []

    def add(role: str, blocks: list[dict]) -> None:
        if not blocks:
            return
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})

    for index, message in enumerate(call.messages or ()):
        role = message["role"]
        where = f"messages[{index}]"
        content = message.get("content")
        if role in ("system", "developer"):
            system.extend(_blocks(provider, call, content, where))
        elif role == "assistant":
            blocks = _blocks(provider, call, content, where)
            for tool_call in message.get("tool_calls") or ():
                function = tool_call.get("function") or {}
                try:
                    parsed = tool_arguments(function.get("arguments"))
                except ValueError:
                    raise BadRequestError(f"{where}: tool call arguments are not JSON", model=call.model, llm_provider=provider.name) from None
                blocks.append({"toolUse": {"toolUseId": tool_call.get("id"), "name": function.get("name"), "input": parsed}})
            add("assistant", blocks)
        elif role in ("tool", "function"):
            if isinstance(content, str):
                result = [{"text": content or " "}]
            else:
                result = _blocks(provider, call, content, where) or [{"text": " "}]
            add("user", [{"toolResult": {"toolUseId": message.get("tool_call_id") or message.get("name"), "content": result}}])
        else:
            add("user", _blocks(provider, call, content, where))
    if not out:
        raise BadRequestError("Bedrock needs at least one user or assistant message with content", model=call.model, llm_provider=provider.name)
    return system, out


# -- embeddings --------------------------------------------------------------------------------------


def _embedding_family(provider: Provider, call: Call) -> str:
    model = call.provider_model
    if "titan-embed" in model:
        return "titan"
    if "cohere.embed" in model:
        return "cohere"
    raise BadRequestError(f"Bedrock embeddings: llmtap speaks Titan (amazon.titan-embed-*) and Cohere (cohere.embed-*), not {model!r}",
                          model=call.model, llm_provider=provider.name)


def _embedding_body(provider: Provider, call: Call) -> dict:
    family = _embedding_family(provider, call)
    items = call.input if isinstance(call.input, list) else [call.input]
    if not all(isinstance(item, str) for item in items):
        raise BadRequestError("Bedrock embeddings take text, not token lists", model=call.model, llm_provider=provider.name)
    body: dict[str, Any]
    if family == "titan":
        if len(items) != 1:
            raise BadRequestError(f"Titan embeds one text per request; got {len(items)} (send them one by one, or use cohere.embed-*)",
                                  model=call.model, llm_provider=provider.name)
        body = {"inputText": items[0]}
        if call.params.get("dimensions") is not None:
            body["dimensions"] = call.params["dimensions"]
    else:
        body = {"texts": items, "input_type": call.params.get("input_type") or "search_document"}
    if call.extra_body:
        body.update(call.extra_body)
    return body


def _embedding_response(provider: Provider, call: Call, data: dict, response: HttpResponse) -> Any:
    if "embedding" in data:
        vectors = [data["embedding"]]
        tokens = _int(data.get("inputTextTokenCount"))
    else:
        vectors = data.get("embeddings")
        if isinstance(vectors, dict):  # Cohere with embedding_types
            vectors = vectors.get("float")
        count = response.headers.get("x-amzn-bedrock-input-token-count") or ""
        tokens = int(count) if count.isdigit() else 0
    if not isinstance(vectors, list) or not all(isinstance(v, list) for v in vectors):
        raise _invalid(provider, call, f"embedding answer has no vectors: {str(data)[:200]!r}")
    return EmbeddingResponse.from_openai({
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "model": call.provider_model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    })


# -- streams ---------------------------------------------------------------------------------------


class ConverseStreamParser(StreamParser):
    """ConverseStream's events (messageStart, contentBlock*, messageStop, metadata) as chunks."""

    def __init__(self, provider: Bedrock, call: Call) -> None:
        from ..eventstream import EventStreamDecoder

        self.provider = provider
        self.call = call
        self._decoder = EventStreamDecoder()
        self._id = "chatcmpl-" + uuid.uuid4().hex
        self._created = int(time.time())
        self._tools: dict[int, int] = {}  # content block index → tool call index
        self._json_blocks: set[int] = set()  # blocks of the JSON-mode tool: streamed as content
        self._json_mode = _json_schema(call.params.get("response_format")) is not None
        self.complete = False

    def feed(self, data: bytes) -> list[Any]:
        from ..eventstream import EventStreamError

        try:
            messages = self._decoder.feed(data)
        except EventStreamError as exc:
            raise APIConnectionError(f"bedrock stream is corrupt: {exc}", llm_provider=self.provider.name, model=self.call.model) from None
        return [chunk for message in messages if (chunk := self._on_message(message)) is not None]

    def close(self) -> list[Any]:
        from ..eventstream import EventStreamError

        try:
            self._decoder.close()
        except EventStreamError as exc:
            raise APIConnectionError(f"bedrock stream was cut: {exc}", llm_provider=self.provider.name, model=self.call.model) from None
        if not self.complete:
            raise APIConnectionError("bedrock stream ended before the answer was complete (no messageStop)",
                                     llm_provider=self.provider.name, model=self.call.model)
        return []

    def _chunk(self, delta: dict, finish: str | None = None, usage: dict | None = None, choices: bool = True) -> Any:
        data: dict[str, Any] = {"id": self._id, "object": "chat.completion.chunk", "created": self._created,
                                "model": self.call.provider_model,
                                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else []}
        if usage is not None:
            data["usage"] = usage
        return ModelResponseStream.from_openai(data)

    def _on_message(self, message: Any) -> Any:
        headers = message.headers
        kind = headers.get(":message-type")
        if kind == "exception" or kind == "error":
            name = str(headers.get(":exception-type") or headers.get(":error-code") or "InternalServerException")
            name = name[:1].upper() + name[1:]
            try:
                body = json.loads(message.payload) if message.payload else {}
            except ValueError:
                body = {}
            text = (body.get("message") or body.get("Message") if isinstance(body, dict) else None) or headers.get(":error-message") or name
            text = str(text)
            raise bedrock_error(self.provider, self.call, ERROR_STATUS.get(name, 500), name, text, body)
        event = headers.get(":event-type")
        try:
            data = json.loads(message.payload) if message.payload else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise _invalid(self.provider, self.call, f"sent a {event} event that is not a JSON object: {message.payload[:200]!r}")
        if event == "contentBlockDelta":
            delta = _dict(data.get("delta"))
            if isinstance(delta.get("text"), str):
                return self._chunk({"content": delta["text"]})
            if "toolUse" in delta:
                block = data.get("contentBlockIndex", 0)
                index = self._tools.get(block, max(self._tools.values(), default=0))
                arguments = _dict(delta["toolUse"]).get("input", "")
                if not isinstance(arguments, str):  # an object: its JSON text
                    arguments = json.dumps(arguments)
                if block in self._json_blocks:
                    return self._chunk({"content": arguments})
                return self._chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]})
            if "reasoningContent" in delta:
                text = _dict(delta["reasoningContent"]).get("text")
                return self._chunk({"reasoning_content": text}) if isinstance(text, str) and text else None
            return None
        if event == "contentBlockStart":
            use = _dict(_dict(data.get("start")).get("toolUse"))
            if use and self._json_mode and use.get("name") == JSON_TOOL:
                self._json_blocks.add(data.get("contentBlockIndex", 0))
                return None
            if use:
                index = self._tools[data.get("contentBlockIndex", 0)] = len(self._tools)
                return self._chunk({"tool_calls": [{"index": index, "id": use.get("toolUseId"), "type": "function",
                                                    "function": {"name": use.get("name"), "arguments": ""}}]})
            return None
        if event == "messageStart":
            return self._chunk({"role": data.get("role", "assistant"), "content": ""})
        if event == "messageStop":
            self.complete = True
            stop = _reason(data.get("stopReason"))
            if stop == "tool_use" and self._json_blocks and not self._tools:
                stop = "end_turn"
            chunk = self._chunk({}, FINISH_REASONS.get(stop, "stop"))
            chunk.provider_specific_fields = {"stopReason": stop}
            return chunk
        if event == "metadata":
            chunk = self._chunk({}, usage=convert_usage(data.get("usage")), choices=False)
            fields = {k: data[k] for k in ("trace", "metrics") if k in data}
            if fields:  # guardrail assessments and latency, as on a whole answer
                chunk.provider_specific_fields = fields
            return chunk
        return None  # contentBlockStop and event types added later
