"""Handlers: the CustomLogger base class and the built-in sinks, each imported when first named."""

from __future__ import annotations

# name in a callback list → "module:class"; filled in as built-in sinks land.
BUILTIN: dict[str, str] = {
    "jsonl": "llmtap.integrations.jsonl:JsonlLogger",
    "otel": "llmtap.integrations.opentelemetry:OpenTelemetryLogger",
    "prometheus": "llmtap.integrations.prometheus:PrometheusLogger",
}
