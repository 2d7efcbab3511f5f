"""The provider contract: what a provider is, what it must declare, and what it must never do.

A provider is a pure transform between a resolved ``Call`` and bytes on the wire. It never does
I/O and imports neither ``transport`` nor ``logging`` nor ``caching`` (tests/test_architecture.py
enforces it); the only values it shares with the transport are those of ``llmtap.wire``. The
sync and async paths run the very same provider code.

Adding a provider is: a module here with one ``Provider`` subclass, one line in
``providers/__init__.py`` (or an entry point in your own package, group ``llmtap.providers``),
routes in the emulator (``llmtap/testing/<name>_routes.py``) and tests. Nothing else in the
package lists providers: every fact about one lives in its class.

**Facts** (class attributes; those marked *required* have no default, and a provider missing one
is refused when the registry loads it, naming what is missing):

``name``                 *required* provider name reported to callbacks (``custom_llm_provider``)
``text_completion``      *required* how ``text_completion`` is served: ``"native"`` (the provider
                         has a text endpoint), ``"chat"`` (it has none: the prompt goes through
                         chat and the answer comes back text-shaped), or ``"by_model"`` (decided
                         per model by the method ``model_is_chat_only``)
``secret_headers``       *required* lower-case names of the request headers that carry
                         credentials; callbacks, spans and logs see them masked
``module_key``           *required* the ``llmtap.<attribute>`` holding a key set in code (e.g.
                         ``"openai_key"``), or None
``bare_prefixes``        *required* model-name prefixes that mean this provider when a model is
                         named without ``provider/`` (``"claude"``); () for none
``otel_name``            *required* ``gen_ai.provider.name`` in OpenTelemetry spans (the semantic
                         conventions' well-known value where there is one)
``bare_names``           exact bare model names claimed (beat any prefix); default none
``key_env`` / ``base_env`` / ``version_env``   environment variables, first set one wins
``default_base`` / ``default_version``         used when neither call nor environment gives one
``needs_key``            a call without a key fails before sending (default True)
``key_optional_at_custom_base``  no key needed once the user chose the base URL (default False)
``takes_global_key``     ``llmtap.api_key`` applies to this provider (default True)
``supported_params``     per call type, the OpenAI-surface parameters accepted (others are
                         refused, or dropped with ``drop_params=True``); a missing call type
                         accepts them all; ``params_for(model, call_type)`` refines it per model
``call_types``           the call types served; others are refused before anything is sent
``credential_params``    credential-like call parameters (``aws_*``, ``vertex_*``...) this
                         provider authenticates with; any other is refused, never sent
``configures`` / ``authorizes``  call ``configure(call)`` once resolved (region, endpoint), and
                         ``authorize(call)`` before each attempt (see below)

**Transforms** (methods): ``build_body(call)`` returns the JSON-able body callbacks see as
``complete_input_dict``; ``build_request(call, body)`` returns an ``HttpRequest`` and is called
again for every retry, so signing (dates, signatures, tokens) belongs there;
``parse_response(call, response)`` returns the response object; ``stream_parser(call)`` returns
a ``StreamParser`` (bytes in, chunks out); ``error_from_response(call, response)`` returns the
``APIError`` for an error status. ``variant(model)`` may name another registered provider that
should serve an explicit ``<name>/<model>`` (Anthropic's legacy text models). ``authorize(call)``
is a generator that may yield ``HttpRequest``s of its own (token endpoints, STS) and is sent
their answers — the pipeline runs it, so it stays free of I/O too — leaving this attempt's
credentials in ``call.auth`` for ``build_request`` to sign with.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from ..exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    decode_error_body,
    error_for_status,
)
from ..sse import SSEDecoder

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpRequest, HttpResponse

TEXT_COMPLETION_MODES = frozenset({"native", "chat", "by_model"})
# Facts with no default: a provider that forgets one is refused at load, not half-served.
REQUIRED_FACTS: dict[str, Any] = {
    "name": str,
    "text_completion": str,
    "secret_headers": frozenset,
    "module_key": (str, type(None)),
    "bare_prefixes": tuple,
    "otel_name": str,
}


class StreamParser:
    """Bytes in (``feed``), provider-neutral chunks out; ``close`` raises if the stream was cut."""

    def feed(self, data: bytes) -> list[Any]:
        raise NotImplementedError

    def close(self) -> list[Any]:
        raise NotImplementedError


class SSEJSONParser(StreamParser):
    """Server-sent events whose data is JSON: each decoded object becomes a chunk (or nothing).

    Subclasses say what an object means (``on_object``) and set ``complete`` when the provider
    has said the answer is over; a body that ends before that raises, never passing a cut
    stream off as a short answer. ``data: [DONE]`` also marks the end."""

    end_marker = "its end marker"

    def __init__(self, provider: Provider, call: Call) -> None:
        self.provider = provider
        self.call = call
        self.complete = False
        self._sse = SSEDecoder()

    def on_object(self, obj: dict) -> Any:
        raise NotImplementedError

    def feed(self, data: bytes) -> list[Any]:
        chunks = []
        for event in self._sse.feed(data):
            chunk = self._decode(event.data)
            if chunk is not None:
                chunks.append(chunk)
        return chunks

    def close(self) -> list[Any]:
        chunks = [chunk for event in self._sse.close() if (chunk := self._decode(event.data)) is not None]
        if not self.complete:
            raise APIConnectionError(
                f"{self.provider.name} stream ended before the answer was complete (no {self.end_marker})",
                llm_provider=self.provider.name,
                model=self.call.model,
            )
        return chunks

    def _decode(self, data: str) -> Any:
        if not data:
            return None
        if data == "[DONE]":
            self.complete = True
            return None
        try:
            obj = json.loads(data)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            raise APIResponseValidationError(
                f"{self.provider.name} sent a stream event that is not a JSON object (not JSON): {data[:200]!r}",
                llm_provider=self.provider.name,
                model=self.call.model,
            )
        return self.on_object(obj)


class Provider:
    """Base of every provider; see the module docstring for the contract."""

    name: ClassVar[str]
    text_completion: ClassVar[str]
    secret_headers: ClassVar[frozenset[str]]
    module_key: ClassVar[str | None]
    bare_prefixes: ClassVar[tuple[str, ...]]
    otel_name: ClassVar[str]
    bare_names: ClassVar[frozenset[str]] = frozenset()
    key_env: ClassVar[tuple[str, ...]] = ()
    base_env: ClassVar[tuple[str, ...]] = ()
    version_env: ClassVar[tuple[str, ...]] = ()
    default_base: ClassVar[str | None] = None
    default_version: ClassVar[str | None] = None
    needs_key: ClassVar[bool] = True
    # Retries when the caller sets none (num_retries / llmtap.num_retries): the peer's default
    # for this provider's client.
    default_retries: ClassVar[int] = 0
    key_optional_at_custom_base: ClassVar[bool] = False
    # Whether ``llmtap.api_key`` (the key for every provider) applies; False where a key changes
    # how the call authenticates (a Bedrock API key replaces SigV4, a Vertex key its OAuth).
    takes_global_key: ClassVar[bool] = True
    supported_params: ClassVar[dict[str, frozenset[str]]] = {}
    # Credential-like call parameters (params.CREDENTIAL_PARAMS) this provider authenticates
    # with; any other is refused. ``configures``: call ``configure(call)`` once the call is
    # resolved. ``authorizes``: each attempt's request goes through ``authorize`` (signing,
    # tokens), a generator that may yield HttpRequests of its own (token endpoints, STS).
    credential_params: ClassVar[frozenset[str]] = frozenset()
    # The call types this provider serves; any other is refused before anything is sent.
    call_types: ClassVar[frozenset[str]] = frozenset({"completion", "text_completion", "embedding"})
    configures: ClassVar[bool] = False
    authorizes: ClassVar[bool] = False

    def __init__(self, registered_as: str | None = None) -> None:
        """Providers are built once, by the registry, under the name they are registered as."""

    def text_via_chat(self, model: str, custom_base: bool) -> bool:
        """Whether ``text_completion`` for this model goes through the chat endpoint."""
        mode = self.text_completion
        if mode == "by_model":
            return self.model_is_chat_only(model, custom_base)
        return mode == "chat"

    def model_is_chat_only(self, model: str, custom_base: bool) -> bool:
        """For ``text_completion = "by_model"``: whether this model lacks a text endpoint."""
        raise NotImplementedError

    def variant(self, model: str) -> str | None:
        """Another registered provider that serves ``<this name>/<model>``, if any."""
        return None

    def params_for(self, model: str, call_type: str) -> frozenset[str] | None:
        """The OpenAI parameters this provider takes for this model (None: all of them).

        The peer checks ``drop_params`` per model; a provider whose models differ overrides this."""
        return self.supported_params.get(call_type)

    def unsupported(self, model: str, call_type: str, params: dict) -> list[str]:
        """The names in ``params`` this model will not take (refused, or dropped by drop_params)."""
        allowed = self.params_for(model, call_type)
        return [] if allowed is None else [name for name in params if name not in allowed]

    def configure(self, call: Call) -> None:
        """Settle what depends on the call's credentials (region, endpoint), before any I/O."""

    def authorize(self, call: Call) -> Any:
        """Fetch (or take from cache) this attempt's credentials into ``call.auth``.

        A generator (``yield from``) that may yield ``HttpRequest``s of its own — token endpoints,
        STS, instance metadata — and is sent their ``HttpResponse``s, so sync and async calls
        share it; ``build_request`` then signs with ``call.auth``, purely."""
        return None
        yield  # noqa: B901 - a generator, like every flow step

    def build_body(self, call: Call) -> dict:
        raise NotImplementedError

    def build_request(self, call: Call, body: dict) -> HttpRequest:
        raise NotImplementedError

    def parse_response(self, call: Call, response: HttpResponse) -> Any:
        raise NotImplementedError

    def stream_parser(self, call: Call) -> StreamParser:
        raise NotImplementedError

    def error_from_response(self, call: Call, response: HttpResponse) -> APIError:
        body, message = decode_error_body(response.body)
        code = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = body["error"].get("code")
        return error_for_status(
            response.status,
            message,
            provider=self.name,
            model=call.model,
            body=body,
            headers=response.headers,
            code=code if isinstance(code, str) else None,
        )


def encode_json(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_json(provider: str, call: Call, response: HttpResponse) -> Any:
    """Decode a success body, or say plainly that the provider's answer was not JSON."""
    try:
        return json.loads(response.body)
    except ValueError:
        preview = response.body[:200].decode("utf-8", "replace")
        raise APIResponseValidationError(
            f"{provider} answered with status {response.status} and a body that is not JSON: "
            f"{preview!r}",
            llm_provider=provider,
            model=call.model,
            status_code=response.status,
            headers=response.headers,
        ) from None


def missing_facts(provider: Provider) -> list[str]:
    """The required facts a provider does not declare (or declares with the wrong type)."""
    missing = []
    for fact, kind in REQUIRED_FACTS.items():
        value = getattr(provider, fact, _ABSENT)
        if value is _ABSENT or not isinstance(value, kind):
            missing.append(fact)
    if "text_completion" not in missing and provider.text_completion not in TEXT_COMPLETION_MODES:
        missing.append(f"text_completion (one of {', '.join(sorted(TEXT_COMPLETION_MODES))})")
    if "secret_headers" not in missing and any(name != name.lower() for name in provider.secret_headers):
        missing.append("secret_headers (lower-case names)")
    return missing


_ABSENT = object()
