"""Handlers: the CustomLogger base class and the built-in sinks, each imported when first named."""

from __future__ import annotations

# name in a callback list → "module:class"; filled in as built-in sinks land.
BUILTIN: dict[str, str] = {
    "jsonl": "llmtap.integrations.jsonl:JsonlLogger",
    "otel": "llmtap.integrations.opentelemetry:OpenTelemetryLogger",
    "prometheus": "llmtap.integrations.prometheus:PrometheusLogger",
}


# LiteLLM integrations users name in callback lists that llmtap does not ship: named in the error
# so the user knows the name was understood, just not provided.
PEER_ONLY = frozenset({
    "langfuse", "langfuse_otel", "langsmith", "datadog", "datadog_llm_observability", "lunary",
    "helicone", "mlflow", "arize", "arize_phoenix", "braintrust", "wandb", "weave", "s3", "gcs_bucket",
    "supabase", "sentry", "posthog", "slack", "logfire", "opik", "humanloop", "galileo", "athina",
    "greenscale", "openmeter", "traceloop", "literalai", "promptlayer", "dynamodb", "azure_storage",
    "generic", "lago", "aim", "argilla", "langtrace", "agentops", "dynamic_rate_limiter",
})


def unknown_callback_message(name: object) -> str:
    """The one message for a callback name llmtap cannot honour, at assignment or at a call."""
    known = ", ".join(sorted(BUILTIN))
    if isinstance(name, str) and name in PEER_ONLY:
        why = f"callback {name!r} is a LiteLLM integration llmtap does not ship"
    else:
        why = f"unknown callback {name!r}: not a built-in integration"
    return f"{why} (built-ins: {known}). Pass a CustomLogger instance or a function instead."
