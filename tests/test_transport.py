"""The transport seam: proxies from the environment, NO_PROXY, and pooled connections."""

from __future__ import annotations

import asyncio

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

