"""The call record: the one ``kwargs`` dict of a call, growing as the call proceeds.

Each event hands its sinks a snapshot of the record as it stood at that moment (a shallow
copy), so a hook that runs later on the worker still sees the call as it was when the event
happened. The lifecycle is a transition table (logging/hooks.py): an event that does not fit
the call's state is refused, so a call can never log two outcomes.
"""

from __future__ import annotations

import datetime
import functools
import random
import traceback
from typing import TYPE_CHECKING, Any

from ..params import mask_url
from .delivery import OutcomeWaiter, delivery
from .delivery.outcome import attach
from .hooks import FAILURE, POST, PRE, STREAM, SUCCESS, TRANSITIONS, refused
from .sinks import Sink, sink_profile
from .standard import redacting

if TYPE_CHECKING:
    from ..call import Call


SLO = "standard_logging_object"


class CallDetails(dict):
    """The ``kwargs`` of a success or failure event. ``standard_logging_object`` is part of it
    (``in``, ``get``, ``[]``, printing and copying all see it) but is only built the first time
    something reads it, so handlers that never look at it do not pay for it."""

    __slots__ = ("_build",)  # build(kwargs) -> the standard logging object, until it is built

    def _materialize(self) -> None:
        build = self._build
        if build is not None:
            self._build = None
            dict.__setitem__(self, SLO, build(self))

    def __missing__(self, key: str) -> Any:
        if key == SLO and self._build is not None:
            self._materialize()
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key == SLO:
            self._materialize()
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or (key == SLO and self._build is not None)

    def __iter__(self):
        self._materialize()
        return dict.__iter__(self)

    def keys(self):
        self._materialize()
        return dict.keys(self)

    def items(self):
        self._materialize()
        return dict.items(self)

    def values(self):
        self._materialize()
        return dict.values(self)

    def __len__(self) -> int:
        return dict.__len__(self) + (self._build is not None)

    def __repr__(self) -> str:
        self._materialize()
        return dict.__repr__(self)

    def copy(self) -> dict:
        self._materialize()
        return dict(dict.items(self))

    def __reduce__(self):
        return (dict, (self.copy(),))


class Event:
    __slots__ = ("kind", "kwargs", "response_obj", "start_time", "end_time", "is_async", "record", "loop", "waiter")

    def __init__(
        self, kind: str, record: CallRecord, response_obj: Any, end_time: Any, waiter: OutcomeWaiter | None = None
    ) -> None:
        self.kind = kind
        self.loop = record.loop  # async hooks of async calls run on the caller's loop
        self.waiter = waiter
        if kind == SUCCESS or kind == FAILURE:
            self.kwargs = CallDetails(record.kwargs)
            self.kwargs._build = None
        elif kind == STREAM:
            # The call's details do not change between chunks: one snapshot serves every chunk
            # event of the stream (the peer hands the very same dict to each chunk's hook).
            shared = record.stream_kwargs
            if shared is None:
                shared = record.stream_kwargs = dict(record.kwargs)
            self.kwargs = shared
        else:
            self.kwargs = dict(record.kwargs)
        self.response_obj = response_obj
        self.start_time = record.start_time
        self.end_time = end_time
        self.is_async = record.is_async
        self.record = record

    def prepare(self) -> None:
        """Worker-side finishing touches that would otherwise cost the caller time."""
        if self.kind == SUCCESS or self.kind == FAILURE:
            self.record.finish(self)


class CallRecord:
    __slots__ = (
        "kwargs",
        "sinks",
        "state",
        "start_time",
        "is_async",
        "call",
        "wanted",
        "first_chunk_time",
        "response_headers",
        "attempts",
        "redact",
        "loop",
        "stream_kwargs",
    )

    def __init__(self, call: Call, sinks: tuple[Sink, ...], call_id: str | None = None) -> None:
        self.call = call
        self.sinks = sinks
        self.state = "new"
        self.is_async = call.is_async
        self.loop = _running_loop() if call.is_async else None
        self.stream_kwargs: dict | None = None
        self.start_time = datetime.datetime.now()
        self.first_chunk_time: datetime.datetime | None = None
        self.response_headers: dict = {}
        self.attempts = 0
        call_id = call_id or new_call_id()
        call_type = ("a" if call.is_async else "") + call.call_type
        if call.call_type == "completion" and call.is_async:
            call_type = "acompletion"
        # The peer logs api_base "" for mock calls (None for mock embeddings).
        mock = call.mock_response is not None
        api_base = (None if call.call_type == "embedding" else "") if mock else mask_url(call.api_base)
        litellm_params = _peer_litellm_params()
        litellm_params.update(
            # None when the caller passed none, as the peer logs it; a copy, so a caller reusing
            # its dict for the next call changes no event of this one
            metadata=dict(call.metadata) if type(call.metadata) is dict else call.metadata,
            api_base=api_base,
            custom_llm_provider=call.provider_name,
            litellm_call_id=call_id,
            acompletion=call.is_async,
            stream=call.stream,
            num_retries=call.num_retries,
            timeout=call.timeout if call.timeout is not None else 600.0,
            model=call.model,
        )
        if call.call_type == "text_completion" or call.text_via_chat:
            litellm_params["text_completion"] = True
        elif call.call_type == "embedding":
            litellm_params["aembedding"] = call.is_async
        if call.model_info is not None:  # a Router attempt: the deployment it went to
            litellm_params["model_info"] = call.model_info
        # The caller's params as sent, copied: the call may go on to change nothing, but the
        # caller may (DESIGN §3 snapshots); the peer also shows stream and extra_body here.
        optional_params = dict(call.params)
        if call.stream:
            optional_params["stream"] = True
        optional_params["extra_body"] = dict(call.extra_body) if call.extra_body else {}
        self.kwargs: dict[str, Any] = {
            "model": call.provider_model,
            "messages": _snapshot_messages(call),
            "optional_params": optional_params,
            "litellm_params": litellm_params,
            "start_time": self.start_time,
            "stream": call.stream,
            "user": call.params.get("user"),
            "call_type": call_type,
            "litellm_call_id": call_id,
            "litellm_trace_id": (call.metadata or {}).get("trace_id") or call_id,
            "custom_llm_provider": call.provider_name,
            "api_base": api_base,
            "log_event_type": None,
            "completion_start_time": None,
            "stream_options": call.params.get("stream_options"),
            "extra_body": optional_params["extra_body"],
            "model_id": None,
            "applied_guardrails": [],
            "standard_callback_dynamic_params": {},
        }
        if call.cache_plan is not None:
            self.kwargs["cache_key"] = call.cache_plan.key
        self.wanted, capturers = sink_profile(sinks, call.is_async)
        self.redact = redacting(call)
        for capture in capturers:  # tracing sinks take the caller's context now, in its thread
            self.kwargs["llmtap_otel_context"] = capture()

    @property
    def call_id(self) -> str:
        return self.kwargs["litellm_call_id"]

    def _emit(self, kind: str, response_obj: Any = None, end_time: Any = None, waiter: Any = None) -> bool:
        next_state = TRANSITIONS.get((self.state, kind))
        if next_state is None:
            refused(self.state, kind, self.call.model)
            return False
        self.state = next_state
        if kind != STREAM:
            self.kwargs["log_event_type"] = kind
        if kind in self.wanted:  # events no sink has a hook for are never built
            delivery.submit(Event(kind, self, response_obj, end_time, waiter), self.sinks)
        return True

    # -- the call's milestones -----------------------------------------------------------------

    def pre_call(self, body: dict, url: str, headers: dict) -> None:
        self.attempts += 1
        if self.attempts > 1 and self.call.quiet_retries:
            return  # a default retry, inside the one attempt the peer logs
        kwargs = self.kwargs
        call = self.call
        now = datetime.datetime.now()
        # A snapshot of what was sent: the body's top level is ours, but its lists are the
        # caller's, and the usual chat loop appends to them right after the call.
        body = _snapshot_body(body)
        kwargs["input"] = _exact_input(call, body)
        kwargs["api_key"] = call.api_key
        kwargs["additional_args"] = {
            "complete_input_dict": body,
            "api_base": mask_url(url),
            "headers": mask_headers(headers, call.provider.secret_headers if call.provider else ()),
            "attempt": self.attempts,
        }
        kwargs["api_call_start_time"] = now
        if self.attempts == 1:
            kwargs["first_api_call_start_time"] = now
        self._emit(PRE)

    def post_call(self, original_response: Any, headers: dict | None) -> None:
        """The provider answered (or failed to): its raw text, or the error's text."""
        kwargs = self.kwargs
        if headers is not None:
            self.response_headers = headers
            kwargs["response_headers"] = headers
        kwargs["original_response"] = original_response
        started = kwargs.get("api_call_start_time")
        if started is not None:
            kwargs["llm_api_duration_ms"] = (datetime.datetime.now() - started).total_seconds() * 1000
        self._emit(POST, None, None)  # the peer passes end_time=None to log_post_api_call

    def answered_silently(self) -> None:
        """The answer is here but the peer logs no post-call for it (mock streams)."""
        if self.state == "sent":
            self.state = "answered"

    def stream_chunk(self, chunk: Any) -> None:
        if self.first_chunk_time is None:
            self.first_chunk_time = datetime.datetime.now()
        if STREAM in self.wanted:
            self._emit(STREAM, chunk, datetime.datetime.now())

    def _route(self, exc: BaseException | None) -> None:
        """A Router attempt: say which attempt this was and whether it is the request's outcome."""
        attempt = self.call.router_attempt
        if attempt is not None and self.state != "done":
            try:
                self.kwargs["router"] = attempt.outcome(exc)
            except Exception:  # never let routing details break the event
                pass

    def success(self, response: Any, *, cache_hit: bool = False, stream_abandoned: bool = False) -> None:
        self._route(None)
        kwargs = self.kwargs
        end = datetime.datetime.now()
        kwargs["end_time"] = end
        kwargs["cache_hit"] = cache_hit
        kwargs["completion_start_time"] = self.first_chunk_time or end
        call = self.call
        if cache_hit:
            # What the peer shows on a hit: the input as given, no request details, and the
            # answer's text where the provider's raw text would be.
            kwargs["input"] = _given_input(call, kwargs)
            kwargs["api_key"] = call.api_key
            kwargs["additional_args"] = None
            kwargs["original_response"] = "" if call.stream else str(response)
            litellm_params = kwargs["litellm_params"]  # no earlier event of a hit shares it
            litellm_params.setdefault("model_info", {})
            if call.cache_plan is not None:
                litellm_params["preset_cache_key"] = call.cache_plan.key
        elif "input" not in kwargs:  # no request was logged (a mock embedding)
            kwargs["input"] = _given_input(call, kwargs)
        if self.call.stream:
            kwargs["complete_streaming_response"] = response
            if self.is_async:
                kwargs["async_complete_streaming_response"] = response
            if stream_abandoned:
                kwargs["stream_abandoned"] = True
        self._emit(SUCCESS, response, end)

    def failure(self, exc: BaseException) -> None:
        self._route(exc)
        kwargs = self.kwargs
        end = datetime.datetime.now()
        kwargs["end_time"] = end
        kwargs["exception"] = exc
        kwargs["cache_hit"] = False
        kwargs.setdefault("original_response", None)
        kwargs["response_cost"] = 0  # the peer: 0, not None
        started = kwargs.get("api_call_start_time")
        if started is not None and "llm_api_duration_ms" not in kwargs:
            kwargs["llm_api_duration_ms"] = (end - started).total_seconds() * 1000
        waiter = None
        if FAILURE in self.wanted and self.state != "done":
            # The caller's driver waits on this before raising (outcome.py): the peer's timing.
            waiter = OutcomeWaiter(len(self.sinks))
            attach(exc, waiter)
        self._emit(FAILURE, None, end, waiter)

    def finish(self, event: Event) -> None:
        """On the worker: cost and traceback text; the standard logging object on first read."""
        from .standard import build_standard_logging_object

        kwargs = event.kwargs
        if event.kind == SUCCESS:
            if "response_cost" not in kwargs:
                kwargs["response_cost"] = _cost(self, event.response_obj, kwargs)
            if kwargs.get("cache_hit"):
                from ..cost import response_cost

                kwargs["saved_cache_cost"] = response_cost(event.response_obj, self.call) or 0.0
        else:
            exc = kwargs.get("exception")
            kwargs["traceback_exception"] = "".join(
                traceback.format_exception(type(exc), exc, exc.__traceback__)
            )
        # A partial, not a closure over the event: no reference cycle back to these kwargs.
        kwargs._build = functools.partial(build_standard_logging_object, self, event.response_obj, event.end_time)


def _running_loop() -> Any:
    from asyncio import events

    return events._get_running_loop()


def new_call_id() -> str:
    """A random version-4 UUID string, without uuid4()'s urandom system call on every call."""
    bits = random.getrandbits(128) & ~(0xF000 << 64) | (0x4000 << 64)
    bits = bits & ~(0xC000 << 48) | (0x8000 << 48)
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _cost(record: CallRecord, response: Any, kwargs: dict) -> float | None:
    if kwargs.get("cache_hit"):
        return 0.0
    hidden = getattr(response, "_hidden_params", None)
    if hidden and "response_cost" in hidden:  # already priced when the answer was read
        return hidden["response_cost"]
    from ..cost import response_cost

    return response_cost(response, record.call)


def _exact_input(call: Call, body: dict) -> Any:
    if call.call_type == "text_completion":  # the peer shows the prompt as a user message
        return _as_messages(call)
    for key in ("messages", "prompt", "input", "contents"):
        if key in body:
            return body[key]
    return call.messages if call.messages is not None else call.prompt


def _as_messages(call: Call) -> Any:
    """Text and embedding calls as the peer logs them: one user message per prompt / item."""
    value = call.prompt if call.prompt is not None else call.input
    if isinstance(value, list):
        return [{"role": "user", "content": item} for item in value]
    return [{"role": "user", "content": value}]


def _snapshot_messages(call: Call) -> list:
    """The messages as they are now: the list and each message dict copied (two cheap shallow
    copies), so the usual chat loop appending to its list after the call changes no event."""
    messages = call.messages
    if messages is None:
        return _as_messages(call)
    return [dict(m) if type(m) is dict else m for m in messages]


def _snapshot_body(body: dict) -> dict:
    """The request body with its top-level lists and dicts copied (messages, tools, input)."""
    copy = dict(body)
    for key, value in body.items():
        if type(value) is list:
            copy[key] = [dict(v) if type(v) is dict else v for v in value]
        elif type(value) is dict:
            copy[key] = dict(value)
    return copy


def _given_input(call: Call, kwargs: dict) -> Any:
    if call.call_type == "embedding":
        return call.input
    return kwargs["messages"]


def _peer_litellm_params() -> dict[str, Any]:
    """The peer's own settings it lists in every call's litellm_params with a value (those it
    leaves None are not copied: handlers read them with .get()). Fresh dicts per call."""
    return {
        "force_timeout": 600,
        "verbose": False,
        "custom_prompt_dict": {},
        "litellm_request_debug": False,
        "model_alias_map": {},
        "use_litellm_proxy": False,
        "use_xai_oauth": False,
        "stream_response": {},
    }


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "api-key", "x-api-key"})
_SECRET_WORDS = ("key", "token", "secret", "signature", "credential", "password", "auth")


def mask_secret(value: str | None) -> str | None:
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:3]}...{value[-4:]}"


def mask_headers(headers: dict, secret: frozenset[str] | tuple = ()) -> dict:
    """Headers with credentials masked: the provider's declared ``secret_headers``, the generic
    ones, and any header whose name looks like it carries a secret."""
    masked = {}
    for name, value in headers.items():
        lower = str(name).lower()
        if lower in secret or _looks_secret(lower):
            if not isinstance(value, str):
                value = "*" * 8
            else:
                scheme, _, token = value.partition(" ")
                value = f"{scheme} {mask_secret(token)}" if token else mask_secret(value)
        masked[name] = value
    return masked


_secret_names: dict[str, bool] = {}


def _looks_secret(lower: str) -> bool:
    known = _secret_names.get(lower)
    if known is None:
        known = lower in _SECRET_HEADERS or any(word in lower for word in _SECRET_WORDS)
        if len(_secret_names) < 1024:
            _secret_names[lower] = known
    return known


def new_record(call: Call, sinks: tuple[Sink, ...]) -> CallRecord:
    return CallRecord(call, sinks, call.litellm_call_id)
