"""completion, acompletion, text_completion, embedding, aembedding: one pipeline for all
(and for the other endpoints' call types, started in endpoints.py).

A call is one generator, ``_flow``: it yields an ``HttpRequest`` when it needs an answer, and a
``Sleep`` or a cache operation when it needs to wait or look something up, and is sent the
results back. ``_run_sync`` drives it with a sync transport and blocking cache clients,
``_run_async`` with an async transport and asyncio cache clients (the transports the call's
settings name; by default real sockets through urllib3 and aiohttp). Routing, caching, retries, hooks, error mapping and
parsing exist once, in the generator; the drivers only move bytes and wait.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator
from typing import Any

from . import answers
from . import settings as _settings
from .call import Call, prepare
from .cost import response_cost
from .exceptions import BadRequestError, OpenAIError, Timeout
from .logging import sinks as _sinks
from .logging.delivery import await_failure_hooks, wait_for_failure_hooks
from .logging.record import new_record
from .params import mask_url
from .streaming import CustomStreamWrapper, transport_error
from .transport import default_async_transport, default_transport
from .wire import HttpRequest, HttpResponse, TransportError

Flow = Generator[Any, Any, Any]


class Sleep:
    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def run(self) -> None:
        time.sleep(self.seconds)

    async def arun(self) -> None:
        import asyncio

        await asyncio.sleep(self.seconds)


class CacheGet:
    __slots__ = ("plan",)

    def __init__(self, plan: Any) -> None:
        self.plan = plan

    def run(self) -> Any:
        return self.plan.get()

    async def arun(self) -> Any:
        return await self.plan.aget()


class CacheSet:
    __slots__ = ("plan", "value")

    def __init__(self, plan: Any, value: str) -> None:
        self.plan = plan
        self.value = value

    def run(self) -> None:
        self.plan.set(self.value)

    async def arun(self) -> None:
        await self.plan.aset(self.value)


def _flow(call: Call) -> Flow:
    record = call.record
    try:
        if call.mock_timeout:
            # The peer's mock_timeout: wait out the timeout, then time out; nothing is ever sent
            # (with no timeout= there is nothing to wait out: it times out at once).
            if call.timeout is not None:
                yield Sleep(call.timeout)
            raise Timeout("This is a mock timeout error", llm_provider=call.provider_name, model=call.model)
        plan = call.cache_plan
        mock = call.mock_response is not None
        if plan is not None and call.call_type == "embedding" and not mock:
            return (yield from _embedding_cache_flow(call, plan))
        # As the peer: the cache is read before a mock answer is made, and mock answers are
        # stored, so a test's second identical call is a hit with the first answer's id.
        if plan is not None and plan.read:
            from .caching import decode_entry

            cached = decode_entry(call, (yield CacheGet(plan)))
            if cached is not None:
                return _cached_answer(call, cached)
        if mock:
            result = yield from _mock_flow(call)
            if plan is not None and plan.write and not call.stream:
                from .caching import encode_entry

                yield CacheSet(plan, encode_entry(call, result))
            return result
        return (yield from _provider_flow(call, plan))
    except BaseException as exc:
        # Cancellation and Ctrl-C end the call too: they are its failure (GeneratorExit is not).
        if record is not None and not isinstance(exc, GeneratorExit):
            record.failure(exc)
        raise


def _provider_flow(call: Call, plan: Any, log_success: bool = True) -> Flow:
    """Send the call to its provider (with retries), read the answer, cache it."""
    record = call.record
    provider = call.provider
    body = provider.build_body(call)
    attempt = 0
    while True:
        if provider.authorizes:  # credentials or tokens for this attempt (may fetch, e.g. STS)
            yield from provider.authorize(call)
        # Built afresh for every attempt: a signed request (AWS SigV4) needs a new date and signature.
        request = provider.build_request(call, body)
        _check_headers(request.headers, call)
        if record is not None:
            record.pre_call(body, request.url, request.headers)
        try:
            response = yield request
            error = provider.error_from_response(call, response) if response.status >= 400 else None
        except TransportError as exc:
            error = transport_error(exc, call)
        if error is None:
            break
        if attempt < call.num_retries and call.retry_rules.should_retry(error):
            attempt += 1
            yield Sleep(call.retry_rules.delay(attempt, error))
            continue
        error.num_retries = attempt
        if record is not None and _peer_logs_post_on_error(call):
            record.post_call(str(error), None)
        raise error
    result = _answer(call, response, log_success=log_success)
    if plan is not None and plan.write and not call.stream:
        from .caching import encode_entry

        entry = encode_entry(call, result)
        if entry is not None:
            yield CacheSet(plan, entry)
    return result


def _peer_logs_post_on_error(call: Call) -> bool:
    """The peer logs post-call, with the error's text, before the failure of a provider error
    (handlers written for it count on that) — except on its non-streaming async chat and
    sync text-completion paths."""
    if call.stream:
        return True
    if call.call_type == "completion":
        return not call.is_async
    if call.call_type == "text_completion":
        return call.is_async
    return True


def _embedding_cache_flow(call: Call, plan: Any) -> Flow:
    """Per-item embedding cache: look each input up, send only the misses, stitch the answer."""
    from .caching import CachePlan
    from .caching import embeddings as E
    from .types import EmbeddingResponse

    items, single = E.split_items(call.input)
    namespace = (call.cache_options or {}).get("namespace") or call.cache.namespace
    keys = [E.item_key(call, item, namespace) for item in items]
    vectors: list = [None] * len(items)
    if plan.read:
        for i, key in enumerate(keys):
            vectors[i] = E.decode_item((yield CacheGet(CachePlan(plan.backend, key, True, False, plan.ttl))))
    missing = [i for i, vector in enumerate(vectors) if vector is None]
    if not missing:
        result = EmbeddingResponse.from_openai(E.assemble(call, vectors, None))
        result._hidden_params.update(cache_hit=True, custom_llm_provider=call.provider_name)
        if call.record is not None:
            call.record.success(result, cache_hit=True)
        return result
    call.input = items[missing[0]] if single else [items[i] for i in missing]
    fresh = yield from _provider_flow(call, None, log_success=False)
    for i, vector in zip(missing, E.by_index(call, fresh, len(missing)), strict=True):
        vectors[i] = vector
        if plan.write:
            yield CacheSet(CachePlan(plan.backend, keys[i], False, True, plan.ttl), E.encode_item(vectors[i]))
    result = fresh
    if len(missing) < len(items):
        result = EmbeddingResponse.from_openai(E.assemble(call, vectors, fresh))
        result._hidden_params.update(fresh._hidden_params, cached_items=len(items) - len(missing))
    if call.record is not None:
        call.record.success(result)
    return result


def _answer(call: Call, response: HttpResponse, provider: Any = None, log_success: bool = True) -> Any:
    record = call.record
    provider = provider or call.provider
    if call.stream:
        if record is not None:
            if call.mock_response is None:
                record.post_call("", response.headers)
            else:
                record.answered_silently()  # the peer logs no post-call for mock streams
        return CustomStreamWrapper(call, response, provider.stream_parser(call))
    if record is not None and not (call.mock_response is not None and call.call_type == "embedding"):
        if call.call_type == "speech":  # audio: callbacks get its size and type, not the bytes
            original = f"<{len(response.body)} bytes of {response.headers.get('content-type', 'audio')}>"
        else:
            original = response.body.decode("utf-8", "replace")
        record.post_call(original, response.headers)
    if call.mock_response is not None:  # the caller's own mock: passed on as given, as the peer does
        result = provider.parse_response(call, response)
    else:
        result = answers.parse(call, provider.parse_response, response)
    hidden = result._hidden_params
    hidden["custom_llm_provider"] = call.provider_name
    hidden["api_base"] = mask_url(call.api_base)
    hidden["additional_headers"] = response.headers
    hidden["response_cost"] = response_cost(result, call)
    if record is not None and log_success:
        record.success(result)
    return result


def _cached_answer(call: Call, cached: dict) -> Any:
    """A cache hit: no request, no pre/post events; one success marked ``cache_hit``."""
    from .mock import stream_from_response
    from .providers import get_provider
    from .providers.openai import response_type

    if call.stream:
        chunks = stream_from_response(cached)
        source = _async_bytes(chunks) if call.is_async else iter(chunks)
        response = HttpResponse(200, {"content-type": "text/event-stream"}, chunks=source)
        return CustomStreamWrapper(call, response, get_provider("openai").stream_parser(call), cache_hit=True)
    result = response_type(call.call_type).from_openai(cached)
    result._hidden_params.update(cache_hit=True, custom_llm_provider=call.provider_name, cache_key=call.cache_plan.key)
    if call.record is not None:
        call.record.success(result, cache_hit=True)
    return result


def _mock_flow(call: Call) -> Flow:
    """``mock_response``: the same parsing, hooks and stream handling, with no network at all.

    The provider still builds its body (callbacks see what would have been sent); the mock
    answer is OpenAI-shaped, so OpenAI's parser reads it whatever the provider."""
    from .mock import mock_body
    from .providers import get_provider

    openai = get_provider("openai")
    if call.provider is None:
        call.provider = openai
    body = call.provider.build_body(call)
    record = call.record
    if record is not None and call.call_type == "embedding":
        record = None  # the peer logs only the outcome of a mock embedding
    if record is not None:
        record.pre_call(body, "mock://", {})
    mock = call.mock_response
    if isinstance(mock, str):
        from .mock import magic_error

        error = magic_error(call, mock)
        if error is not None:
            raise error
    if isinstance(mock, BaseException):
        if isinstance(mock, OpenAIError):
            mock.llm_provider = mock.llm_provider or call.provider_name
            mock.model = mock.model or call.model
        raise mock
    if isinstance(mock, type) and issubclass(mock, BaseException):
        raise mock(f"mock_response raised {mock.__name__}")
    payload, chunks = mock_body(call, mock)
    if call.stream:
        source = _async_bytes(chunks) if call.is_async else iter(chunks)
        response = HttpResponse(200, {"content-type": "text/event-stream"}, chunks=source)
    else:
        response = HttpResponse(200, {"content-type": "application/json"}, payload)
    if False:  # keeps this a generator, like every flow
        yield
    return _answer(call, response, openai)


async def _async_bytes(chunks: list[bytes]) -> Any:
    for chunk in chunks:
        yield chunk


def _run_sync(flow: Flow, transport: Any = None) -> Any:
    """Run a call's flow to its end: requests go to ``transport.handle_request``."""
    if transport is None:
        transport = default_transport()
    send = getattr(transport, "handle_request", None)
    if send is None:
        flow.close()
        raise TypeError(f"llmtap.sync_transport must have a handle_request(request) method, got {transport!r:.80}")
    try:
        step = next(flow)
        while True:
            try:
                result = send(step) if type(step) is HttpRequest else step.run()
            except TransportError as exc:
                step = flow.throw(exc)
                continue
            except BaseException as exc:  # KeyboardInterrupt mid-request: the flow logs it
                flow.throw(exc)
                raise
            step = flow.send(result)
    except StopIteration as done:
        return done.value
    except Exception as exc:
        wait_for_failure_hooks(exc)  # the peer's timing: failure hooks have run by now
        raise


async def _run_async(flow: Flow, transport: Any = None) -> Any:
    """Run a call's flow to its end: requests go to ``transport.handle_async_request``."""
    if transport is None:
        transport = default_async_transport()
    send = getattr(transport, "handle_async_request", None)
    if send is None:
        flow.close()
        raise TypeError(f"llmtap.async_transport must have a handle_async_request(request) method, got {transport!r:.80}")
    try:
        step = next(flow)
        while True:
            try:
                result = await (send(step) if type(step) is HttpRequest else step.arun())
            except TransportError as exc:
                step = flow.throw(exc)
                continue
            except BaseException as exc:  # cancelled mid-request: the flow logs it
                flow.throw(exc)
                raise
            step = flow.send(result)
    except StopIteration as done:
        return done.value
    except Exception as exc:
        await await_failure_hooks(exc)
        raise


# -- the public functions ---------------------------------------------------------------------


def _start(call_type: str, model: str, kwargs: dict, is_async: bool, **inputs: Any) -> Call:
    per_call = kwargs.pop("callbacks", None)
    settings = _settings.snapshot()
    call = prepare(call_type, model, kwargs, is_async, settings)
    for name, value in inputs.items():
        setattr(call, name, value)
    if call.text_via_chat:
        prompt = call.prompt
        if isinstance(prompt, list) and len(prompt) > 1:
            raise BadRequestError(
                f"{call.model} has no text-completion endpoint, so it takes one prompt, not {len(prompt)}",
                model=model,
            )
        text = prompt[0] if isinstance(prompt, list) else prompt
        call.messages = [{"role": "user", "content": text if isinstance(text, str) else str(text)}]
    if call.cache is not None:
        call.cache_plan = call.cache.plan(call)
    sinks = _sinks.collect(settings, per_call)
    if sinks:
        call.record = new_record(call, sinks)
    return call


def completion(model: str, messages: list | None = None, **kwargs: Any) -> Any:
    """A chat completion: a ModelResponse, or with ``stream=True`` a CustomStreamWrapper."""
    call = _start("completion", model, kwargs, False, messages=_messages(messages, model))
    return _run_sync(_flow(call), call.settings.sync_transport)


async def acompletion(model: str, messages: list | None = None, **kwargs: Any) -> Any:
    """``completion`` for asyncio: the same pipeline, driven over aiohttp."""
    call = _start("completion", model, kwargs, True, messages=_messages(messages, model))
    return await _run_async(_flow(call), call.settings.async_transport)


def text_completion(model: str, prompt: Any = None, **kwargs: Any) -> Any:
    """A legacy text completion: a TextCompletionResponse (through chat for chat-only models)."""
    call = _start("text_completion", model, kwargs, False, prompt=_prompt(prompt, model))
    return _as_text(call, _run_sync(_flow(call), call.settings.sync_transport))


async def atext_completion(model: str, prompt: Any = None, **kwargs: Any) -> Any:
    call = _start("text_completion", model, kwargs, True, prompt=_prompt(prompt, model))
    return _as_text(call, await _run_async(_flow(call), call.settings.async_transport))


def _as_text(call: Call, result: Any) -> Any:
    if not call.text_via_chat:
        return result
    from .text_via_chat import chat_to_text

    return chat_to_text(result)


def embedding(model: str, input: Any = None, **kwargs: Any) -> Any:  # noqa: A002
    """Embeddings for a string or a list of strings (or token lists): an EmbeddingResponse."""
    call = _start("embedding", model, kwargs, False, input=_embedding_input(input, model))
    return _run_sync(_flow(call), call.settings.sync_transport)


async def aembedding(model: str, input: Any = None, **kwargs: Any) -> Any:  # noqa: A002
    call = _start("embedding", model, kwargs, True, input=_embedding_input(input, model))
    return await _run_async(_flow(call), call.settings.async_transport)


def _messages(messages: Any, model: str) -> list:
    from .params import check_messages

    return check_messages(messages, model)


def _prompt(prompt: Any, model: str) -> Any:
    if prompt is None or prompt == "" or prompt == []:
        raise BadRequestError("prompt is required: pass a string or a list of strings", model=model)
    if not isinstance(prompt, (str, list)):
        raise BadRequestError(f"prompt must be a string or a list, got {type(prompt).__name__}", model=model)
    return prompt


def _embedding_input(value: Any, model: str) -> Any:
    if value is None or value == "" or value == []:
        raise BadRequestError("input is required: pass a string or a list of strings", model=model)
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, (str, int, list)) for item in value):
        return value
    raise BadRequestError(
        f"input must be a string, a list of strings or a list of token lists, got {json.dumps(value, default=str)[:80]}",
        model=model,
    )


def _check_headers(headers: dict, call: Call) -> None:
    """A header value no HTTP client can send (a line break, a control or non-latin-1 character,
    e.g. in ``extra_headers``) is refused by name here: the clients' own errors quote the value,
    which is often a key. Both paths refuse it alike (aiohttp would send UTF-8, urllib3 would not)."""
    for name, value in headers.items():
        if not isinstance(value, str) or (value.isascii() and value.isprintable()):
            continue
        if any(ord(char) < 32 or 127 <= ord(char) < 160 or ord(char) > 255 for char in value):
            raise BadRequestError(
                f"header {name!r} holds a line break, control or non-latin-1 character and cannot be sent",
                model=call.model,
                llm_provider=call.provider_name,
            )
