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
    assert rows[0]["response"]["choices"][0]["message"]["content"] == "redacted-by-litellm"


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
    server = sink.serve(0)
    port = server.server_port
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
    with pytest.raises(ValueError, match="built-ins: jsonl, otel, prometheus"):
        llmtap.callbacks = ["nope"]
    with pytest.raises(llmtap.BadRequestError, match="built-ins: jsonl, otel, prometheus"):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, callbacks=["nope-per-call"])


def test_import_llmtap_does_not_import_prometheus() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import sys, llmtap; print('prometheus_client' in sys.modules)"],
        capture_output=True, text=True, env={**os.environ},
    )
    assert out.stdout.strip() == "False"


# -- OpenTelemetry ---------------------------------------------------------------------------


@pytest.fixture
def otel():
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from llmtap.integrations.opentelemetry import OpenTelemetryLogger

    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    sink = OpenTelemetryLogger(tracer_provider=tracer_provider, meter_provider=meter_provider)
    llmtap.callbacks = [sink]
    return sink, spans, reader, tracer_provider


def metric_points(reader) -> dict:
    points = {}
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    points.setdefault(metric.name, []).append(point)
    return points


def test_otel_span_follows_the_genai_conventions_and_parents_to_the_callers_span(openai_env, otel) -> None:
    sink, spans, reader, tracer_provider = otel
    tracer = tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("handle-request") as parent:
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, temperature=0.3, max_tokens=40)
    assert llmtap.flush(5)
    llm_span = next(s for s in spans.get_finished_spans() if s.name == "chat gpt-4o-mini")
    assert llm_span.parent.span_id == parent.get_span_context().span_id
    assert llm_span.context.trace_id == parent.get_span_context().trace_id
    a = llm_span.attributes
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "gpt-4o-mini" and a["gen_ai.response.model"] == "gpt-4o-mini"
    assert a["gen_ai.request.temperature"] == 0.3 and a["gen_ai.request.max_tokens"] == 40
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["gen_ai.usage.input_tokens"] > 0 and a["gen_ai.usage.output_tokens"] > 0
    assert a["gen_ai.response.id"].startswith("chatcmpl-")
    assert a["server.address"] == "127.0.0.1"
    assert "gen_ai.input.messages" not in a  # content only when opted in
    points = metric_points(reader)
    usage = {p.attributes["gen_ai.token.type"]: p.sum for p in points["gen_ai.client.token.usage"]}
    assert usage["input"] == a["gen_ai.usage.input_tokens"] and usage["output"] == a["gen_ai.usage.output_tokens"]
    assert points["gen_ai.client.operation.duration"][0].count == 1


def test_otel_stream_error_and_content_opt_in(openai_env, otel) -> None:
    sink, spans, reader, _ = otel
    sink.capture_content = True
    openai_env.push(Reply(content="x y z", chunk_delay=0.02))
    list(llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    openai_env.push(Fault(429))
    with pytest.raises(llmtap.RateLimitError):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert llmtap.flush(5)
    stream_span, failed_span = spans.get_finished_spans()
    duration = (stream_span.end_time - stream_span.start_time) / 1e9
    assert duration >= 0.06  # timed to the stream's end, not its first byte
    assert 0 < stream_span.attributes["llmtap.time_to_first_chunk_s"] < duration
    assert "Hi 👋" in stream_span.attributes["gen_ai.input.messages"]
    assert "x y z" in stream_span.attributes["gen_ai.output.messages"]
    assert failed_span.attributes["error.type"] == "RateLimitError"
    assert failed_span.status.status_code.name == "ERROR"
    assert metric_points(reader)["gen_ai.client.operation.time_to_first_chunk"][0].count == 1


def test_otel_exports_over_otlp_http_to_a_receiver(openai_env) -> None:
    import http.server
    import threading

    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from llmtap.integrations.opentelemetry import OpenTelemetryLogger

    received: list = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, ExportTraceServiceRequest.FromString(body)))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"http://127.0.0.1:{server.server_address[1]}/v1/traces")))
        llmtap.callbacks = [OpenTelemetryLogger(tracer_provider=provider)]
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, api_key=SECRET)
        assert llmtap.flush(5)
        provider.force_flush()
        provider.shutdown()
    finally:
        server.shutdown()
    path, request = received[0]
    assert path == "/v1/traces"
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert span.name == "chat gpt-4o-mini"
    attributes = {kv.key: kv.value for kv in span.attributes}
    assert attributes["gen_ai.request.model"].string_value == "gpt-4o-mini"
    assert SECRET not in str(request)


def test_otel_by_name_uses_the_global_providers(openai_env) -> None:
    from llmtap.logging import sinks

    sinks._builtin_instances.pop("otel", None)
    llmtap.callbacks = ["otel"]
    llmtap.completion(model="gpt-4o-mini", messages=MESSAGES)
    assert llmtap.flush(5)
    assert type(sinks._builtin_instances["otel"]).__name__ == "OpenTelemetryLogger"
    sinks._builtin_instances.pop("otel", None)
