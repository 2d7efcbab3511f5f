"""Every text a secret could leak into: callback kwargs (each event), error text, spans."""

from __future__ import annotations

import json

from llmtap.integrations.custom_logger import CustomLogger


class Seen(CustomLogger):
    """The repr of every event's kwargs (failures with their exception and traceback text)."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def log_pre_api_call(self, model, messages, kwargs):
        self.texts.append(repr(kwargs))

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.texts.append(repr(kwargs))

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.texts.append(repr(kwargs) + str(kwargs.get("exception")) + str(kwargs.get("traceback_exception")))


def span_sink():
    """An OpenTelemetry sink that also records content, and where its spans end up."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from llmtap.integrations.opentelemetry import OpenTelemetryLogger

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    sink = OpenTelemetryLogger(tracer_provider=provider)
    sink.capture_content = True
    return sink, spans


def span_texts(spans) -> list[str]:
    return [json.dumps(s.to_json()) for s in spans.get_finished_spans()]
