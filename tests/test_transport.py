"""The transport seam: proxies from the environment, NO_PROXY, and pooled connections."""

from __future__ import annotations

import asyncio

import pytest

import llmtap
from llmtap import transport

from .conftest import MESSAGES


def test_http_proxy_from_environment_sync_and_async(emulator, monkeypatch) -> None:
    # The emulator doubles as a forward proxy: it serves the absolute-URI request it is sent.
    monkeypatch.setenv("HTTP_PROXY", emulator.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    base = "http://llm.example.invalid/v1"
    r = llmtap.completion(model="openai/m", messages=MESSAGES, api_base=base, api_key="k")
    assert r.choices[0].message.content
    assert emulator.last_request.headers["host"] == "llm.example.invalid"
    asyncio.run(llmtap.acompletion(model="openai/m", messages=MESSAGES, api_base=base, api_key="k"))
    assert len(emulator.requests) == 2
    assert emulator.requests[1].headers["host"] == "llm.example.invalid"


def test_no_proxy_bypasses_the_proxy(emulator, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would refuse the connection
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    own, aown = transport.Urllib3Transport(), transport.AiohttpTransport()  # no proxy answers cached yet
    llmtap.sync_transport, llmtap.async_transport = own, aown
    r = llmtap.completion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k")
    assert r.choices[0].message.content
    r = asyncio.run(llmtap.acompletion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k"))
    assert r.choices[0].message.content
    own.close()


def test_sync_calls_reuse_one_pooled_connection(emulator) -> None:
    own = llmtap.sync_transport = transport.Urllib3Transport()
    llmtap.completion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k")
    target, _ = own.target(emulator.openai_base + "/chat/completions")
    opened, sent = target.num_connections, target.num_requests
    for _ in range(20):
        llmtap.completion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k")
    assert target.num_connections == opened  # keep-alive: no new connection for 20 calls
    assert target.num_requests == sent + 20
    own.close()


class Recording:
    """A transport of our own: it wraps the real one (real sockets) and keeps what went through."""

    def __init__(self) -> None:
        self.inner = transport.Urllib3Transport()
        self.ainner = transport.AiohttpTransport()
        self.sent: list[transport.HttpRequest] = []

    def handle_request(self, request):
        self.sent.append(request)
        return self.inner.handle_request(request)

    async def handle_async_request(self, request):
        self.sent.append(request)
        return await self.ainner.handle_async_request(request)


def test_calls_go_through_the_transport_the_settings_name(emulator) -> None:
    """The seam the Router and a gateway use: no module-global pools, no private state."""
    mine = Recording()
    llmtap.sync_transport = llmtap.async_transport = mine
    llmtap.completion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k")
    asyncio.run(llmtap.acompletion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k"))
    chunks = list(
        llmtap.completion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k", stream=True)
    )
    assert chunks
    assert [r.url for r in mine.sent] == [emulator.openai_base + "/chat/completions"] * 3
    assert len(emulator.requests) == 3
    mine.inner.close()


def test_the_transport_is_read_once_when_the_call_starts(emulator) -> None:
    """A setting changed while a stream is open does not move the rest of that call."""
    first, second = Recording(), Recording()
    llmtap.sync_transport = first
    stream = llmtap.completion(
        model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k", stream=True, num_retries=0
    )
    llmtap.sync_transport = second
    assert list(stream)
    assert len(first.sent) == 1 and second.sent == []
    first.inner.close()



def test_transport_errors_never_show_url_credentials(monkeypatch) -> None:
    from llmtap.wire import TransportError, safe_origin

    assert safe_origin("http://user:s3cret@host:8080/v1/chat?x=1") == "http://host:8080"
    error = TransportError("connect", "LocationParseError: Failed to parse: http://user:s3cret@[bad/v1")
    assert "s3cret" not in str(error) and "//***@[bad" in str(error)
    # a real refused connection to a URL with credentials
    with pytest.raises(llmtap.APIConnectionError) as caught:
        llmtap.completion(model="openai/m", messages=MESSAGES, api_base="http://user:s3cret@127.0.0.1:9/v1", api_key="k")
    assert "s3cret" not in str(caught.value)


def test_a_transport_without_the_method_is_a_clear_error() -> None:
    llmtap.sync_transport = object()
    with pytest.raises(TypeError, match="sync_transport must have a handle_request"):
        llmtap.completion(model="openai/m", messages=MESSAGES, api_base="http://127.0.0.1:9/v1", api_key="k")
    llmtap.async_transport = "nope"
    with pytest.raises(TypeError, match="async_transport must have a handle_async_request"):
        asyncio.run(llmtap.acompletion(model="openai/m", messages=MESSAGES, api_base="http://127.0.0.1:9/v1", api_key="k"))


def test_retry_rules_of_the_wrong_type_are_a_clear_error() -> None:
    llmtap.retry_rules = 3
    with pytest.raises(TypeError, match="retry_rules must be"):
        llmtap.completion(model="openai/m", messages=MESSAGES, api_base="http://127.0.0.1:9/v1", api_key="k")


def test_a_forked_child_uses_its_own_pools(emulator) -> None:
    import os

    llmtap.completion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k")
    parent = transport.default_transport()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a call works, on a transport that is not the parent's
        try:
            r = llmtap.completion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k")
            ok = r.choices[0].message.content and transport.default_transport() is not parent
            os.write(write, b"ok" if ok else b"no")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 2) == b"ok"
    os.close(read)
