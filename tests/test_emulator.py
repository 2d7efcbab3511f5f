"""The emulator over plain http.client: routes, auth, scripting, faults, keep-alive, threads."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from llmtap.testing import Emulator, Fault, Reply


def post(emulator, path, body, headers=None, conn=None):
    conn = conn or http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    payload = json.dumps(body).encode() if not isinstance(body, bytes) else body
    conn.request("POST", path, payload, {"Content-Type": "application/json", "Authorization": "Bearer k", **(headers or {})})
    response = conn.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "ping"}]}


def test_chat_answer_and_recording(emulator) -> None:
    status, headers, body = post(emulator, "/v1/chat/completions", CHAT)
    data = json.loads(body)
    assert status == 200 and data["object"] == "chat.completion"
    assert data["choices"][0]["message"]["content"] == "Hello from the llmtap emulator. You said: ping"
    assert emulator.last_request.json == CHAT and emulator.last_request.headers["authorization"] == "Bearer k"


def test_missing_and_wrong_keys() -> None:
    with Emulator(api_key="right") as emu:
        status, _, body = post(emu, "/v1/chat/completions", CHAT, {"Authorization": ""})
        assert status == 401
        status, _, body = post(emu, "/v1/chat/completions", CHAT, {"Authorization": "Bearer wrong"})
        assert status == 401 and json.loads(body)["error"]["code"] == "invalid_api_key"
        status, _, _ = post(emu, "/v1/chat/completions", CHAT, {"Authorization": "Bearer right"})
        assert status == 200


def test_validation_errors(emulator) -> None:
    assert post(emulator, "/v1/chat/completions", b"{not json")[0] == 400
    assert post(emulator, "/v1/chat/completions", {"model": "m", "messages": []})[0] == 400
    assert post(emulator, "/v1/nowhere", CHAT)[0] == 404


def test_azure_routes_need_api_version(emulator) -> None:
    status, _, _ = post(emulator, "/openai/deployments/dep/chat/completions", CHAT, {"api-key": "k"})
    assert status == 404
    status, _, body = post(emulator, "/openai/deployments/dep/chat/completions?api-version=2024-10-21", CHAT, {"api-key": "k"})
    assert status == 200 and json.loads(body)["model"] == "dep"
    assert emulator.last_request.deployment == "dep"


def test_scripted_items_are_consumed_in_order(emulator) -> None:
    emulator.push(Fault.rate_limit(retry_after=2), Reply(content="second"))
    status, headers, _ = post(emulator, "/v1/chat/completions", CHAT)
    assert status == 429 and headers["retry-after"] == "2"
    assert json.loads(post(emulator, "/v1/chat/completions", CHAT)[2])["choices"][0]["message"]["content"] == "second"
    assert json.loads(post(emulator, "/v1/chat/completions", CHAT)[2])["choices"][0]["message"]["content"].startswith("Hello")


def test_header_scripting_for_other_processes(emulator) -> None:
    assert post(emulator, "/v1/chat/completions", CHAT, {"x-emulator-fault": "503"})[0] == 503
    _, _, body = post(emulator, "/v1/chat/completions", {**CHAT, "stream": True}, {"x-emulator-chunks": "20"})
    events = [line for line in body.decode().split("\n\n") if line.startswith("data: {")]
    assert len(events) == 1 + 20 + 1  # role, 20 content chunks, finish


def test_stream_ends_with_done_and_usage(emulator) -> None:
    _, headers, body = post(emulator, "/v1/chat/completions", {**CHAT, "stream": True, "stream_options": {"include_usage": True}})
    assert headers["content-type"].startswith("text/event-stream")
    events = [e for e in body.decode().split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    last = json.loads(events[-2][6:])
    assert last["choices"] == [] and last["usage"]["total_tokens"] > 0


def test_cut_stream_abort_breaks_the_body(emulator) -> None:
    emulator.push(Fault(cut_after=1, cut_mode="abort"))
    with pytest.raises(http.client.IncompleteRead):
        post(emulator, "/v1/chat/completions", {**CHAT, "stream": True})


def test_cut_stream_eof_has_no_done(emulator) -> None:
    emulator.push(Fault(cut_after=1, cut_mode="eof"))
    _, _, body = post(emulator, "/v1/chat/completions", {**CHAT, "stream": True})
    assert b"[DONE]" not in body and b'"finish_reason": "stop"' not in body


def test_keep_alive_serves_many_requests_on_one_connection(emulator) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    for _ in range(50):
        assert post(emulator, "/v1/chat/completions", CHAT, conn=conn)[0] == 200
    conn.close()


def test_embeddings_and_models(emulator) -> None:
    _, _, body = post(emulator, "/v1/embeddings", {"model": "e", "input": ["a", "b"], "dimensions": 3})
    data = json.loads(body)
    assert [len(d["embedding"]) for d in data["data"]] == [3, 3]
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    conn.request("GET", "/v1/models", headers={"Authorization": "Bearer k"})
    assert json.loads(conn.getresponse().read())["object"] == "list"


def test_fifty_threads_at_once(emulator) -> None:
    statuses: list[int] = []

    def hit() -> None:
        statuses.append(post(emulator, "/v1/chat/completions", CHAT)[0])

    threads = [threading.Thread(target=hit) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 50 and len(emulator.requests) == 50
