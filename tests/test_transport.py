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
    transport._proxies.clear()
    r = llmtap.completion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k")
    assert r.choices[0].message.content
    transport._proxies.clear()


def test_sync_calls_reuse_one_pooled_connection(emulator) -> None:
    llmtap.completion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k")
    target, _ = transport._sync_target(emulator.openai_base + "/chat/completions")
    opened, sent = target.num_connections, target.num_requests
    for _ in range(20):
        llmtap.completion(model="openai/m", messages=MESSAGES, api_base=emulator.openai_base, api_key="k")
    assert target.num_connections == opened  # keep-alive: no new connection for 20 calls
    assert target.num_requests == sent + 20
