"""Caching: local, disk and a real Redis; hits seen by callbacks; faults never fail a call."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

import llmtap
from llmtap.caching import cache_key
from llmtap.call import prepare
from llmtap.integrations.custom_logger import CustomLogger

from .conftest import MESSAGES
from .redis_fixture import start_redis
from .test_seed_examples import run_example


@pytest.fixture(scope="module")
def redis_server():
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def local_cache():
    llmtap.cache = llmtap.Cache(type="local")
    yield llmtap.cache
    llmtap.cache = None


class Events(CustomLogger):
    def __init__(self) -> None:
        self.events: list[tuple[str, bool | None, float | None]] = []

    def log_pre_api_call(self, model, messages, kwargs):
        self.events.append(("pre", None, None))

    def log_post_api_call(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("post", None, None))

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("success", kwargs["cache_hit"], kwargs["response_cost"]))

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.log_success_event(kwargs, response_obj, start_time, end_time)


def ask(mode: str = "sync", **kwargs):
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault("messages", MESSAGES)
    if mode == "sync":
        result = llmtap.completion(**kwargs)
        return list(result) if kwargs.get("stream") else result

    async def run():
        result = await llmtap.acompletion(**kwargs)
        return [c async for c in result] if kwargs.get("stream") else result

    return asyncio.run(run())


def text(result) -> str:
    if isinstance(result, list):
        return "".join(c.choices[0].delta.content or "" for c in result if c.choices)
    return result.choices[0].message.content


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_local_hit_skips_the_provider_and_logs_a_cache_hit(openai_env, local_cache, mode) -> None:
    handler = Events()
    llmtap.callbacks = [handler]
    first = ask(mode)
    second = ask(mode)
    assert llmtap.flush(5)
    assert text(first) == text(second)
    assert second._hidden_params["cache_hit"] is True
    assert len(openai_env.requests) == 1
    assert [e[0] for e in handler.events] == ["pre", "post", "success", "success"]
    assert handler.events[2][1] is False and handler.events[2][2] > 0
    assert handler.events[3][1:] == (True, 0.0)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_stream_is_cached_and_replayed_as_chunks(openai_env, local_cache, mode) -> None:
    first = ask(mode, stream=True)
    second = ask(mode, stream=True)
    assert len(openai_env.requests) == 1
    assert len(second) > 3 and all(isinstance(c, llmtap.ModelResponseStream) for c in second)
    assert text(first) == text(second)
    non_stream = ask(mode)  # the same question without streaming is the same cache entry
    assert non_stream.choices[0].message.content == text(first)
    assert len(openai_env.requests) == 1


def test_cache_controls(openai_env, local_cache) -> None:
    ask()
    ask(caching=False)
    assert len(openai_env.requests) == 2
    ask(cache={"no-cache": True})
    assert len(openai_env.requests) == 3
    ask(messages=[{"role": "user", "content": "new"}], cache={"no-store": True})
    ask(messages=[{"role": "user", "content": "new"}])
    assert len(openai_env.requests) == 5
    ask(messages=[{"role": "user", "content": "short"}], cache={"ttl": 0.2})
    ask(messages=[{"role": "user", "content": "short"}])
    assert len(openai_env.requests) == 6
    time.sleep(0.3)
    ask(messages=[{"role": "user", "content": "short"}])
    assert len(openai_env.requests) == 7
    ask(cache={"namespace": "team-a"})
    assert len(openai_env.requests) == 8


def test_default_off_mode_needs_caching_true(openai_env) -> None:
    llmtap.cache = llmtap.Cache(mode="default_off")
    try:
        ask()
        ask()
        assert len(openai_env.requests) == 2
        ask(caching=True)
        ask(caching=True)
        assert len(openai_env.requests) == 3
    finally:
        llmtap.disable_cache()


def test_key_ignores_metadata_and_key_but_not_sampling() -> None:
    def key(**kwargs):
        kwargs.setdefault("api_key", "k1")
        call = prepare("completion", "gpt-4o-mini", kwargs, False)
        call.messages = MESSAGES
        return cache_key(call)

    base = key()
    assert key(metadata={"a": 1}) == base
    assert key(api_key="another-key") == base
    assert key(timeout=3, num_retries=2) == base
    assert key(user="someone") != base  # a different end user may get a different answer
    assert key(api_base="http://elsewhere/v1") != base  # another deployment
    assert key(temperature=0.5) != base
    assert key(tools=[{"type": "function", "function": {"name": "f"}}]) != base
    assert key(response_format={"type": "json_object"}) != base
    assert len(base) == 64


def test_embeddings_are_cached(openai_env, local_cache) -> None:
    a = llmtap.embedding(model="text-embedding-3-small", input=["x", "y"])
    b = llmtap.embedding(model="text-embedding-3-small", input=["x", "y"])
    assert a.data[1].embedding == b.data[1].embedding and len(openai_env.requests) == 1


def test_corrupt_entry_is_ignored_and_overwritten(openai_env, local_cache, caplog) -> None:
    ask()
    (key,) = list(local_cache.backend._items)
    local_cache.backend.set(key, "{not json", None)
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        r = ask()
    assert r.choices[0].message.content and len(openai_env.requests) == 2
    assert "corrupt cache entry" in caplog.text
    assert json.loads(local_cache.backend.get(key))["format"] == 1
    ask()
    assert len(openai_env.requests) == 2


# -- Redis -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_redis_hit_sync_and_async(openai_env, redis_server, mode) -> None:
    llmtap.cache = llmtap.Cache(type="redis", host=redis_server.host, port=redis_server.port, password=redis_server.password, namespace=f"t-{mode}-{time.time()}")
    try:
        first = ask(mode, stream=True)
        second = ask(mode)
        assert text(first) == text(second) and len(openai_env.requests) == 1
    finally:
        llmtap.cache = None


def test_redis_url_and_ttl(openai_env, redis_server) -> None:
    llmtap.cache = llmtap.Cache(type="redis", url=redis_server.url, ttl=0.3, namespace=f"ttl-{time.time()}")
    try:
        ask()
        ask()
        assert len(openai_env.requests) == 1
        time.sleep(0.5)
        ask()
        assert len(openai_env.requests) == 2
    finally:
        llmtap.cache = None


def test_redis_killed_mid_run_never_fails_a_call(openai_env, caplog) -> None:
    server = start_redis()
    llmtap.cache = llmtap.Cache(type="redis", host=server.host, port=server.port, password=server.password)
    try:
        ask()
        ask()
        assert len(openai_env.requests) == 1
        server.stop()
        with caplog.at_level(logging.WARNING, logger="llmtap"):
            started = time.monotonic()
            for _ in range(3):
                assert ask().choices[0].message.content
            asyncio.run(llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES))
            assert time.monotonic() - started < 3
        assert len(openai_env.requests) == 5
        assert sum("Redis cache unavailable" in r.getMessage() for r in caplog.records) == 1
    finally:
        server.stop()
        llmtap.cache = None


def test_redis_with_wrong_password_falls_back(openai_env, redis_server) -> None:
    llmtap.cache = llmtap.Cache(type="redis", host=redis_server.host, port=redis_server.port, password="wrong")
    try:
        assert ask().choices[0].message.content
    finally:
        llmtap.cache = None


def test_seed_cache_example_gives_exactly_four_events(emulator, redis_server) -> None:
    lines = run_example(
        "cache_hits.py",
        emulator,
        {
            "REDIS_HOST": redis_server.host,
            "REDIS_PORT": str(redis_server.port),
            "REDIS_PASSWORD": redis_server.password,
            "AZURE_API_KEY": "azure-seed",
            "AZURE_API_BASE": emulator.azure_base,
            "AZURE_API_VERSION": "2024-10-21",
        },
    )
    assert lines[:2] == ["On Success", "Value of Cache hit: False"]
    assert "pre-cache hit: ['pre_api_call', 'post_api_call', 'async_success']" in lines[2]
    assert lines[3:5] == ["On Success", "Value of Cache hit: True"]
    assert lines[5].endswith("['pre_api_call', 'post_api_call', 'async_success', 'async_success']")
    assert len(emulator.requests) == 1


# -- disk --------------------------------------------------------------------------------------

DISK_SCRIPT = """
import sys, llmtap
llmtap.cache = llmtap.Cache(type="disk", disk_cache_dir=sys.argv[1])
r = llmtap.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "shared"}],
                      api_base=sys.argv[2], api_key="k")
print(r.choices[0].message.content, r._hidden_params.get("cache_hit", False))
"""


def test_disk_cache_is_shared_by_processes_and_survives_restarts(emulator, tmp_path: Path) -> None:
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", DISK_SCRIPT, str(tmp_path), emulator.openai_base],
            capture_output=True, text=True, timeout=30,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.strip())
    assert outputs[0].endswith("False") and outputs[1].endswith("True")
    assert outputs[0].rsplit(" ", 1)[0] == outputs[1].rsplit(" ", 1)[0]
    assert len(emulator.requests) == 1


def test_disk_cache_concurrent_writers(emulator, tmp_path: Path) -> None:
    script = DISK_SCRIPT.replace('"shared"', 'sys.argv[3]')
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), emulator.openai_base, f"q{i % 3}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(6)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    asked = [r for r in emulator.requests if (r.json or {}).get("messages", [{}])[0].get("content", "") in ("q0", "q1", "q2")]
    assert 3 <= len(asked) <= 6  # each question at least once; later writers may hit the cache


def test_embeddings_are_cached_per_input_item(openai_env, local_cache) -> None:
    handler = Events()
    llmtap.callbacks = [handler]
    a = llmtap.embedding(model="text-embedding-3-small", input=["x", "y"])
    b = llmtap.embedding(model="text-embedding-3-small", input=["y", "z", "x"])
    assert openai_env.last_request.json["input"] == ["z"]  # only the new item is sent
    assert [d.index for d in b.data] == [0, 1, 2]
    assert b.data[0].embedding == a.data[1].embedding and b.data[2].embedding == a.data[0].embedding
    z = llmtap.embedding(model="text-embedding-3-small", input="z", caching=False)
    assert b.data[1].embedding == z.data[0].embedding
    c = llmtap.embedding(model="text-embedding-3-small", input="x")
    assert c.data[0].embedding == a.data[0].embedding
    assert len(openai_env.requests) == 3
    assert llmtap.flush(5)
    assert [e[:2] for e in handler.events if e[0] == "success"] == [
        ("success", False), ("success", False), ("success", False), ("success", True)
    ]


def test_redis_answering_garbage_is_a_miss(openai_env, redis_server) -> None:
    import redis

    llmtap.cache = llmtap.Cache(type="redis", host=redis_server.host, port=redis_server.port, password=redis_server.password)
    try:
        ask(messages=[{"role": "user", "content": "garbage test"}])
        client = redis.Redis(host=redis_server.host, port=redis_server.port, password=redis_server.password)
        for key in client.keys("*"):
            client.set(key, b"\xff\xfe not json at all")
        r = ask(messages=[{"role": "user", "content": "garbage test"}])
        assert r.choices[0].message.content.endswith("garbage test")
        assert len(openai_env.requests) == 2
    finally:
        llmtap.cache = None


def test_a_redis_that_never_answers_costs_one_short_timeout(openai_env, caplog) -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # connections complete, but nothing is ever read or answered
    try:
        llmtap.cache = llmtap.Cache(type="redis", host="127.0.0.1", port=silent.getsockname()[1], socket_timeout=0.3)
        with caplog.at_level(logging.WARNING, logger="llmtap"):
            started = time.monotonic()
            for _ in range(3):
                assert ask().choices[0].message.content
            elapsed = time.monotonic() - started
        assert elapsed < 1.5  # one 0.3 s timeout, then Redis is skipped during the cooldown
        assert len(openai_env.requests) == 3
        assert sum("Redis cache unavailable" in r.getMessage() for r in caplog.records) == 1
    finally:
        llmtap.cache = None
        silent.close()
