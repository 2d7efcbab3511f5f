"""Built-in sinks by name and by instance: JSON lines and Prometheus; redaction; no keys leak."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import llmtap
from llmtap.integrations.jsonl import JsonlLogger
from llmtap.integrations.prometheus import PrometheusLogger
from llmtap.testing import Fault, Reply

from .conftest import MESSAGES
from .redis_fixture import free_port

SECRET = "sk-test-key-123456"


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_by_name_writes_one_line_per_call(openai_env, tmp_path, monkeypatch) -> None:
    target = tmp_path / "calls.jsonl"
    monkeypatch.setenv("LLMTAP_JSONL_PATH", str(target))
    from llmtap.logging import sinks

    sinks._builtin_instances.pop("jsonl", None)
    llmtap.success_callback = ["jsonl"]
    llmtap.failure_callback = ["jsonl"]
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, metadata={"team": "search"})
    openai_env.push(Fault(429))
    with pytest.raises(llmtap.RateLimitError):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert llmtap.flush(5)
    sinks._builtin_instances.pop("jsonl", None)
    rows = lines(target)
    assert [r["status"] for r in rows] == ["success", "failure"]
    assert rows[0]["metadata"] == {"team": "search"} and rows[0]["total_tokens"] > 0
    assert rows[0]["messages"] == MESSAGES
    assert SECRET not in target.read_text()


def test_redaction_keeps_usage_and_cost_but_no_text(openai_env, tmp_path) -> None:
    target = tmp_path / "redacted.jsonl"
    llmtap.callbacks = [JsonlLogger(str(target))]
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, metadata={"redact": True, "team": "x"})
    llmtap.turn_off_message_logging = True
    try:
        llmtap.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "a secret plan"}], stream=True)
        list(llmtap.completion(model="gpt-4o-mini", messages=[{"role": "user", "content": "a secret plan"}], stream=True))
    finally:
        llmtap.turn_off_message_logging = False
    assert llmtap.flush(5)
    text = target.read_text()
    assert "Hi 👋" not in text and "secret plan" not in text and "Hello from the llmtap emulator" not in text
    rows = lines(target)
    assert all(r["messages_redacted"] for r in rows)
    assert rows[0]["metadata"]["team"] == "x" and rows[0]["response_cost"] > 0 and rows[0]["total_tokens"] > 0
    assert rows[0]["response"]["choices"][0]["message"]["content"] == "redacted-by-llmtap"


def test_jsonl_rotates_by_size(openai_env, tmp_path) -> None:
    target = tmp_path / "small.jsonl"
    llmtap.callbacks = [JsonlLogger(str(target), max_bytes=3000, backups=2)]
    for _ in range(12):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert llmtap.flush(5)
    files = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock"))
    assert files == ["small.jsonl", "small.jsonl.1", "small.jsonl.2"]
    assert all(p.stat().st_size <= 3000 for p in tmp_path.iterdir())
    for name in files:
        lines(tmp_path / name)  # every file holds whole JSON lines


WRITER = """
import sys, threading
from llmtap.integrations.jsonl import JsonlLogger
sink = JsonlLogger(sys.argv[1])
payload = {"id": "x" * 500, "status": "success"}
def work():
    for _ in range(200):
        sink._write(payload)
threads = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in threads]; [t.join() for t in threads]
"""


def test_jsonl_is_safe_from_threads_and_processes(tmp_path) -> None:
    target = tmp_path / "shared.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(target)]) for _ in range(3)]
    for proc in procs:
        assert proc.wait(60) == 0
    rows = lines(target)
    assert len(rows) == 3 * 4 * 200 and all(r["status"] == "success" for r in rows)


def scrape(port: int) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_prometheus_metrics_scraped_over_http(openai_env) -> None:
    from prometheus_client import CollectorRegistry

    sink = PrometheusLogger(registry=CollectorRegistry(), max_models=1)
    port = free_port()
    server = sink.serve(port)
    try:
        llmtap.callbacks = [sink]
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
        openai_env.push(Reply(content="a b c"))
        list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}))
        openai_env.push(Fault(503))
        with pytest.raises(llmtap.ServiceUnavailableError):
            llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
        llmtap.completion(model="openai/another-model", messages=MESSAGES, api_base=openai_env.openai_base)
        assert llmtap.flush(5)
        m = scrape(port)
    finally:
        server.shutdown()
    base = (("model", "gpt-4o-mini"), ("provider", "openai"))
    assert m[("llmtap_requests_total", (*base, ("status", "success")))] == 2
    assert m[("llmtap_requests_total", (*base, ("status", "failure")))] == 1
    assert m[("llmtap_failures_total", (("error_class", "ServiceUnavailableError"), *base))] == 1
    assert m[("llmtap_tokens_total", (*base, ("type", "prompt")))] > 0
    assert m[("llmtap_cost_usd_total", base)] > 0
    assert m[("llmtap_time_to_first_token_seconds_count", base)] == 1
    assert m[("llmtap_request_latency_seconds_count", base)] == 3
    assert m[("llmtap_requests_total", (("model", "other"), ("provider", "openai"), ("status", "success")))] == 1
    assert not any(SECRET in str(key) for key in m)


def test_unknown_builtin_name_lists_the_known_ones(openai_env) -> None:
    llmtap.callbacks = ["nope"]
    with pytest.raises(llmtap.BadRequestError, match="built-ins: jsonl, prometheus"):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)


def test_import_llmtap_does_not_import_prometheus() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import sys, llmtap; print('prometheus_client' in sys.modules)"],
        capture_output=True, text=True, env={**os.environ},
    )
    assert out.stdout.strip() == "False"
