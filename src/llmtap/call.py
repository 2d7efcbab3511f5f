"""A call, resolved and checked: the one object the pipeline, providers and callbacks share.

``prepare`` does everything that can fail without the network — routing, keys, parameter
types, message shape — so bad input is refused before a byte is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import params as P
from . import routing
from .exceptions import BadRequestError, UnsupportedParamsError
from .providers.base import Provider
from .retry import DEFAULT_RULES, RetryRules
from .settings import Settings, snapshot

_NOT_SENT = frozenset(P.LIBRARY_PARAMS) | (P.PEER_OWNED_PARAMS - frozenset(P.CREDENTIAL_PARAMS))


@dataclass(slots=True, eq=False)
class Call:
    call_type: str
    model: str
    provider: Provider | None
    provider_model: str
    is_async: bool
    messages: list | None = None
    prompt: Any = None
    input: Any = None
    params: dict = field(default_factory=dict)
    stream: bool = False
    api_key: str | None = None
    api_base: str | None = None
    api_version: str | None = None
    organization: str | None = None
    extra_headers: dict | None = None
    extra_body: dict | None = None
    timeout: float | None = None
    stream_timeout: float | None = None  # idle bound between streamed chunks (default: timeout)
    num_retries: int = 0
    quiet_retries: bool = False  # default retries: no pre-call event per attempt (the peer's)
    retry_rules: RetryRules = DEFAULT_RULES
    metadata: dict | None = None
    mock_response: Any = None
    # What the caller passed that is not sent to the provider, verbatim. Code reads the typed
    # fields below, never this dict (tests/test_architecture.py checks): a new library
    # parameter gets a field here, set in prepare().
    library_params: dict = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    cache: Any = None  # the Cache in force (llmtap.cache when the call started)
    caching: bool | None = None  # caching=True/False for this call
    cache_options: dict | None = None  # cache={"no-cache": ..., "no-store": ..., "ttl": ..., "namespace": ...}
    litellm_call_id: str | None = None
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    turn_off_message_logging: bool = False
    mock_timeout: bool = False  # the peer's mock_timeout=True: wait out the timeout, then time out
    model_info: dict | None = None  # set by the Router: the deployment this attempt went to
    router_attempt: Any = None  # set by the Router: the attempt's hook for the call record
    record: Any = None
    cache_plan: Any = None
    text_via_chat: bool = False  # a text_completion served by the chat endpoint
    files: dict | None = field(default=None, repr=False)  # multipart uploads: field → (filename, bytes, content type)
    credentials: dict = field(default_factory=dict, repr=False)  # P.CREDENTIAL_PARAMS given; never logged
    auth: Any = field(default=None, repr=False)  # what ``authorize`` fetched for this attempt (credentials, a token)

    @property
    def provider_name(self) -> str:
        return self.provider.name if self.provider is not None else "openai"


def prepare(call_type: str, model: str, kwargs: dict, is_async: bool, settings: Settings | None = None) -> Call:
    """Check and resolve a call; ``settings`` is the snapshot taken as it started."""
    if settings is None:
        settings = snapshot()
    lib = {name: kwargs.pop(name) for name in list(kwargs) if name in _NOT_SENT}
    for name, value in lib.items():
        types = P.LIBRARY_PARAMS.get(name)
        if types is not None:
            P.check_type(name, value, types, model)
    mock = kwargs.pop("mock_response", None)
    credentials = _credentials(kwargs, model)
    try:
        provider, provider_model = routing.resolve_provider(model, lib.get("custom_llm_provider"))
    except BadRequestError:
        if mock is None:
            raise
        provider, provider_model = None, model
    if provider is not None and call_type not in provider.call_types:
        raise BadRequestError(
            f"{provider.name} does not serve {call_type} in llmtap; it serves {', '.join(sorted(provider.call_types))}",
            model=model,
            llm_provider=provider.name,
        )
    text_via_chat = call_type == "text_completion" and provider is not None and provider.text_via_chat(
        provider_model,
        bool(lib.get("api_base") or lib.get("base_url") or settings.api_base or routing.first_env(provider.base_env)),
    )
    if text_via_chat:
        call_type = "completion"
    table = P.WIRE_PARAMS[call_type]
    wire: dict[str, Any] = {}
    for name, value in kwargs.items():
        if value is None:
            continue
        if name == "response_format" and isinstance(value, type):
            value = P.response_format_from_class(value, model)
        types = table.get(name)
        if types is not None:
            P.check_type(name, value, types, model)
        wire[name] = value
    P.check_numbers(wire, model)

    unsupported = [] if provider is None else provider.unsupported(
        provider_model, call_type, {n: v for n, v in wire.items() if n in table}
    )
    if unsupported:
        if lib.get("drop_params", settings.drop_params):
            for name in unsupported:
                del wire[name]
        else:
            raise UnsupportedParamsError(
                f"{provider.name} does not support {', '.join(map(repr, unsupported))} "
                f"for {call_type}; pass drop_params=True to drop it",
                model=model,
                llm_provider=provider.name,
            )

    timeout = lib.get("timeout", lib.get("request_timeout", settings.request_timeout))
    if timeout is not None and timeout <= 0:
        raise BadRequestError(f"timeout must be positive, got {timeout!r}", model=model)
    retries = lib.get("num_retries", lib.get("max_retries", settings.num_retries))
    quiet_retries = False
    if retries is None and provider is not None:
        # The peer's default: its OpenAI client retries twice inside one logged attempt, so
        # these retries log no pre-call event of their own.
        retries = provider.default_retries
        quiet_retries = True
    if retries is not None and retries < 0:
        raise BadRequestError(f"num_retries must be >= 0, got {retries!r}", model=model)
    headers = lib.get("extra_headers") or lib.get("headers")
    call = Call(
        call_type=call_type,
        model=model,
        provider=provider,
        provider_model=provider_model,
        is_async=is_async,
        params=wire,
        stream=bool(lib.get("stream", False)),
        organization=lib.get("organization"),
        extra_headers=headers,
        extra_body=lib.get("extra_body"),
        timeout=timeout,
        num_retries=retries or 0,
        quiet_retries=quiet_retries,
        retry_rules=settings.retry_rules,
        metadata=lib.get("metadata"),
        mock_response=mock,
        library_params=lib,
        stream_timeout=lib.get("stream_timeout"),
        text_via_chat=text_via_chat,
        credentials=credentials,
        settings=settings,
        cache=settings.cache,
        caching=lib.get("caching"),
        cache_options=_cache_options(lib, model),
        litellm_call_id=lib.get("litellm_call_id"),
        input_cost_per_token=lib.get("input_cost_per_token"),
        output_cost_per_token=lib.get("output_cost_per_token"),
        turn_off_message_logging=bool(lib.get("turn_off_message_logging", settings.turn_off_message_logging)),
        mock_timeout=lib.get("mock_timeout") is True,
        model_info=lib.get("model_info"),
        router_attempt=lib.get("router_attempt"),
    )
    if credentials and provider is not None:
        unused = sorted(set(credentials) - provider.credential_params)
        if unused and mock is None:
            if not lib.get("drop_params", settings.drop_params):
                raise UnsupportedParamsError(
                    f"{provider.name} does not use {', '.join(map(repr, unused))}: credentials for "
                    f"another provider are refused rather than sent; pass drop_params=True to ignore them",
                    model=model,
                    llm_provider=provider.name,
                )
            for name in unused:
                del credentials[name]
    if mock is None and provider is not None:
        custom_base = lib.get("api_base") or lib.get("base_url")
        call.api_base = routing.resolve_base(provider, custom_base, model, settings)
        custom = bool(custom_base or routing.first_env(provider.base_env))
        P.check_api_base(call.api_base, model)
        call.api_key = P.check_api_key(
            routing.resolve_key(provider, lib.get("api_key"), model, custom, settings), provider.name, model
        )
        if provider.default_version is not None or provider.version_env:
            call.api_version = (
                lib.get("api_version")
                or routing.first_env(provider.version_env)
                or provider.default_version
            )
        if provider.configures:
            provider.configure(call)
    return call


def _cache_options(lib: dict, model: str) -> dict | None:
    """``cache={...}``, with a per-call ``ttl=`` folded in: a cache setting, never sent."""
    options = lib.get("cache")
    if "ttl" not in lib:
        return options
    ttl = lib["ttl"]
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl != ttl:
        raise BadRequestError(f"ttl must be a number of seconds, got {ttl!r}", model=model)
    return {**(options or {}), "ttl": ttl}


def _credentials(kwargs: dict, model: str) -> dict:
    """Pop the credential-like parameters; check their types without ever printing a secret."""
    found = {}
    for name in [n for n in kwargs if n in P.CREDENTIAL_PARAMS]:
        value = kwargs.pop(name)
        if value is None:
            continue
        types = P.CREDENTIAL_PARAMS[name]
        if object not in types and not isinstance(value, types):
            shown = "" if name in P.SECRET_PARAMS else f": {value!r:.80}"
            raise BadRequestError(
                f"parameter {name!r} must be {' or '.join(t.__name__ for t in types)}, got {type(value).__name__}{shown}",
                model=model,
            )
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise BadRequestError(f"parameter {name!r} is empty", model=model)
            if any(ord(char) < 32 or ord(char) == 127 for char in value) and name != "vertex_credentials":
                raise BadRequestError(f"parameter {name!r} contains a line break or control character", model=model)
        found[name] = value
    return found

