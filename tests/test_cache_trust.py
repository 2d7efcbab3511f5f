"""The cache can only save a call, never fail or falsify one (issue #13 items 17, 18, 20, 21, 22)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import stat
from pathlib import Path

import pytest

import llmtap
from llmtap.caching import cache_key
from llmtap.call import prepare
from llmtap.testing import Fault

from .conftest import MESSAGES


def ask(mode: str = "sync", **kwargs):
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault("messages", MESSAGES)
    if mode == "sync":
        return llmtap.completion(**kwargs)
    return asyncio.run(llmtap.acompletion(**kwargs))


# -- 17: owner-only files ------------------------------------------------------------------------


def test_disk_cache_directory_and_files_are_owner_only(openai_env, tmp_path: Path) -> None:
    directory = tmp_path / "fresh" / "llmtap-cache"
    old = os.umask(0o022)  # the usual umask: without care, everything would be world-readable
    try:
        llmtap.cache = llmtap.Cache(type="disk", disk_cache_dir=str(directory))
        ask()
        ask()
    finally:
        os.umask(old)
    assert len(openai_env.requests) == 1
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = list(directory.iterdir())
    assert {f.name for f in files} >= {"cache.sqlite3"}
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, (f.name, oct(f.stat().st_mode))


def test_disk_cache_tightens_a_file_an_older_version_left_open(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    llmtap.Cache(type="disk", disk_cache_dir=str(tmp_path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- 18: a cache error never fails a call whose provider answered -------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_locked_disk_cache_costs_one_warning_never_the_answer(openai_env, tmp_path: Path, caplog, mode) -> None:
    llmtap.cache = llmtap.Cache(type="disk", disk_cache_dir=str(tmp_path), timeout=0.05)
    # Another process holds the write lock for longer than the cache waits: writes report "locked".
    holder = sqlite3.connect(tmp_path / "cache.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO entries VALUES ('x', 'y', NULL, 0)")
    try:
        with caplog.at_level(logging.WARNING, logger="llmtap"):
            first = ask(mode)
            second = ask(mode, stream=True)
            chunks = list(second) if mode == "sync" else None
        assert first.choices[0].message.content.startswith("Hello from the llmtap emulator")
        if chunks is not None:
            assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        warnings = [r for r in caplog.records if "cache" in r.getMessage() and r.levelno == logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert "locked" in warnings[0].getMessage()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(openai_env.requests) == 2
    caplog.clear()
    ask(mode)  # unlocked: written now...
    ask(mode)  # ...and read back
    assert len(openai_env.requests) == 3
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == "llmtap"]


class Broken:
    """A backend whose every operation raises: the call must not notice."""

    def get(self, key):
        raise OSError("disk on fire")

    set = delete = get

    async def aget(self, key):
        raise OSError("disk on fire")

    async def aset(self, key, value, ttl):
        raise OSError("disk on fire")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_raising_backend_never_fails_a_call(openai_env, mode) -> None:
    llmtap.cache = llmtap.Cache(type="local")
    llmtap.cache.backend = Broken()
    events = []
    llmtap.failure_callback = [lambda kwargs, *a: events.append("failure")]
    assert ask(mode).choices[0].message.content
    assert llmtap.embedding(model="text-embedding-3-small", input=["a", "b"]).data[1].embedding
    if mode == "sync":
        assert list(ask(mode, stream=True))
    else:

        async def stream():
            return [c async for c in await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, stream=True)]

        assert asyncio.run(stream())
    assert llmtap.flush(5) and events == []


# -- 20: embeddings mapped by index --------------------------------------------------------------


def test_per_item_embedding_cache_maps_vectors_by_index(openai_env) -> None:
    llmtap.cache = llmtap.Cache(type="local")
    llmtap.embedding(model="text-embedding-3-small", input=["seen"])
    truth = {t: llmtap.embedding(model="text-embedding-3-small", input=t, caching=False).data[0].embedding for t in "xy"}
    # The provider answers the two new items in reverse order, each tagged with its index.
    reordered = {
        "object": "list", "model": "text-embedding-3-small",
        "data": [
            {"object": "embedding", "index": 1, "embedding": truth["y"]},
            {"object": "embedding", "index": 0, "embedding": truth["x"]},
        ],
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }
    openai_env.push(Fault(200, body=json.dumps(reordered).encode(), content_type="application/json"))
    mixed = llmtap.embedding(model="text-embedding-3-small", input=["x", "seen", "y"])
    assert openai_env.last_request.json["input"] == ["x", "y"]
    assert mixed.data[0].embedding == truth["x"] and mixed.data[2].embedding == truth["y"]
    # ...and the cache learned each vector under its own item.
    again = llmtap.embedding(model="text-embedding-3-small", input=["y", "x"])
    assert again.data[0].embedding == truth["y"] and again.data[1].embedding == truth["x"]


def test_embedding_answer_missing_an_item_is_refused(openai_env) -> None:
    llmtap.cache = llmtap.Cache(type="local")
    short = {"object": "list", "model": "m", "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}], "usage": {}}
    openai_env.push(Fault(200, body=json.dumps(short).encode(), content_type="application/json"))
    with pytest.raises(llmtap.APIResponseValidationError, match="1 embeddings for 2 inputs"):
        llmtap.embedding(model="text-embedding-3-small", input=["p", "q"])


# -- 21: entries of the wrong shape are misses ---------------------------------------------------

HOSTILE = [
    "null", "[]", "5", '"text"', '{"format": 1}', '{"format": 1, "call_type": "completion", "response": null}',
    '{"format": 1, "call_type": "completion", "response": {"choices": null}}',
    '{"format": 1, "call_type": "completion", "response": {"choices": "abc"}}',
    '{"format": 1, "call_type": "completion", "response": {"choices": [5]}}',
    '{"format": 1, "call_type": "completion", "response": {"choices": [{"message": "hi"}]}}',
    '{"format": 1, "call_type": "completion", "response": {"choices": [{"message": {"content": 7}}]}}',
    '{"format": 1, "call_type": "completion", "response": {"choices": [{"message": {"tool_calls": "x"}}]}}',
    '{"format": 1, "call_type": "completion", "response": {"choices": [{"message": {"tool_calls": [{"function": 3}]}}]}}',
    '{"format": 1, "call_type": "completion", "response": {"choices": [{"message": {"content": "x"}}], "usage": "many"}}',
    '{"format": 1, "call_type": "completion", "response": {"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": "9"}}}',
    '[' * 100_000,
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("entry", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_entry_is_ignored_and_overwritten(openai_env, entry, stream) -> None:
    llmtap.cache = llmtap.Cache(type="local")
    call = prepare("completion", "gpt-4o-mini", {}, False)
    call.messages = MESSAGES
    call.api_key, call.api_base = "sk-test-key-123456", openai_env.openai_base
    llmtap.cache.backend.set(cache_key(call), entry, None)
    result = ask(stream=stream)
    text = "".join(c.choices[0].delta.content or "" for c in result if c.choices) if stream else result.choices[0].message.content
    assert text.startswith("Hello from the llmtap emulator")
    assert len(openai_env.requests) == 1
    assert json.loads(llmtap.cache.backend.get(cache_key(call)))["format"] == 1


@pytest.mark.parametrize("entry", ['{"format": 1, "embedding": "x"}', '{"format": 1, "embedding": {"a": 1}}', '{"format": 1, "embedding": [true, null]}', "7"])
def test_a_hostile_embedding_entry_is_a_miss(openai_env, entry) -> None:
    llmtap.cache = llmtap.Cache(type="local")
    first = llmtap.embedding(model="text-embedding-3-small", input=["k"])
    (key,) = list(llmtap.cache.backend._items)
    llmtap.cache.backend.set(key, entry, None)
    second = llmtap.embedding(model="text-embedding-3-small", input=["k"])
    assert second.data[0].embedding == first.data[0].embedding and len(openai_env.requests) == 2


# -- 22: the key names the deployment ------------------------------------------------------------


def test_key_includes_deployment_user_and_answer_changing_headers() -> None:
    def key(model: str = "gpt-4o-mini", **kwargs):
        kwargs.setdefault("api_key", "k1")
        call = prepare("completion", model, kwargs, False)
        call.messages = MESSAGES
        return cache_key(call)

    base = key()
    assert key(api_base="http://other.example/v1") != base
    assert key(user="alice") != key(user="bob") != base
    assert key("azure/d", api_base="http://a", api_version="2024-10-21") != key("azure/d", api_base="http://a", api_version="2025-01-01")
    assert key(extra_headers={"anthropic-beta": "x"}) != base
    assert key(extra_headers={"anthropic-beta": "x"}) != key(extra_headers={"anthropic-beta": "y"})
    # Headers that only authenticate or trace a request do not split the cache.
    assert key(extra_headers={"X-Request-Id": "1", "Authorization": "Bearer a", "traceparent": "00-1"}) == base
    assert key(api_key="another-key", metadata={"a": 1}, timeout=3) == base


def test_two_deployments_never_share_an_answer(openai_env, emulator) -> None:
    from llmtap.testing import Reply

    llmtap.cache = llmtap.Cache(type="local")
    emulator.push(Reply(content="from deployment A"), Reply(content="from deployment B"))
    a = llmtap.completion(model="azure/dep", messages=MESSAGES, api_key="k", api_base=emulator.url, api_version="2024-10-21")
    b = llmtap.completion(model="azure/dep", messages=MESSAGES, api_key="k", api_base=emulator.url + "/", api_version="2025-01-01")
    assert (a.choices[0].message.content, b.choices[0].message.content) == ("from deployment A", "from deployment B")
    emb = [llmtap.embedding(model="text-embedding-3-small", input="e", user=u).data[0] for u in ("u1", "u2")]
    assert emb[0].embedding == emb[1].embedding
    assert len(emulator.requests) == 4
