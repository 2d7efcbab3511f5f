"""``"otel"``: one span per call and the GenAI client metrics, per OpenTelemetry's GenAI
semantic conventions.

The span is a CLIENT span named "{operation} {model}", a child of whatever span was current
when the call was made (captured in the caller's thread; the span itself is recorded later, on
the delivery worker, with the call's real start and end times). Streams are timed to their
last chunk, with the time to the first chunk as an attribute and a metric. Prompts and
completions are recorded only when you opt in (``capture_content=True`` or
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``), and never when the call's messages
are redacted. opentelemetry-api is imported only when this sink is created
(``pip install 'llmtap[otel]'``; bring your own SDK and exporters).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

from .custom_logger import CustomLogger

OPERATIONS = {"completion": "chat", "acompletion": "chat", "text_completion": "text_completion",
              "atext_completion": "text_completion", "embedding": "embeddings", "aembedding": "embeddings"}
REQUEST_ATTRIBUTES = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "max_tokens": "gen_ai.request.max_tokens",
    "max_completion_tokens": "gen_ai.request.max_tokens",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "seed": "gen_ai.request.seed",
    "n": "gen_ai.request.choice.count",
}
CONTEXT_KEY = "llmtap_otel_context"
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)


class OpenTelemetryLogger(CustomLogger):
    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None, capture_content: bool | None = None) -> None:
        try:
            from opentelemetry import metrics, trace
        except ImportError as exc:
            raise ImportError("the otel sink needs opentelemetry-api: pip install 'llmtap[otel]'") from exc
        from .. import __version__

        self._trace = trace
        self.tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("llmtap", __version__)
        meter = (meter_provider or metrics.get_meter_provider()).get_meter("llmtap", __version__)
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration", unit="s", description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk", unit="s", description="Time to the first streamed chunk",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        if capture_content is None:
            capture_content = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").lower() == "true"
        self.capture_content = capture_content

    def capture_call_context(self) -> Any:
        """Called in the caller's thread as the call starts: the span to parent ours to."""
        from opentelemetry import context

        return context.get_current()

    def log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._record(kwargs, response_obj)

    log_failure_event = log_success_event

    def _record(self, kwargs: dict, response: Any) -> None:
        slo = kwargs["standard_logging_object"]
        operation = OPERATIONS.get(slo["call_type"], "chat")
        provider = _otel_name(slo["custom_llm_provider"])
        request_model = kwargs.get("model") or slo["model"]
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": provider,
            "gen_ai.system": provider,
            "gen_ai.request.model": request_model,
        }
        if slo["api_base"]:
            parts = urlsplit(slo["api_base"])
            if parts.hostname:
                attributes["server.address"] = parts.hostname
                attributes["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
        for name, value in (kwargs.get("optional_params") or {}).items():
            if name in REQUEST_ATTRIBUTES and value is not None:
                attributes[REQUEST_ATTRIBUTES[name]] = value
        stop = (kwargs.get("optional_params") or {}).get("stop")
        if stop:
            attributes["gen_ai.request.stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        metric_attributes = dict(attributes)
        del metric_attributes["gen_ai.system"]
        failed = slo["status"] == "failure"
        if response is not None:
            attributes["gen_ai.response.id"] = getattr(response, "id", None) or ""
            response_model = getattr(response, "model", None)
            if response_model:
                attributes["gen_ai.response.model"] = response_model
                metric_attributes["gen_ai.response.model"] = response_model
            reasons = [c.finish_reason for c in getattr(response, "choices", None) or () if getattr(c, "finish_reason", None)]
            if reasons:
                attributes["gen_ai.response.finish_reasons"] = reasons
            attributes["gen_ai.usage.input_tokens"] = slo["prompt_tokens"]
            if operation != "embeddings":
                attributes["gen_ai.usage.output_tokens"] = slo["completion_tokens"]
        if slo["cache_hit"]:
            attributes["llmtap.cache_hit"] = True
        if slo["response_cost"] is not None:
            attributes["llmtap.response_cost_usd"] = slo["response_cost"]
        ttft = None
        if slo["stream"] and not failed:
            ttft = max(0.0, slo["completionStartTime"] - slo["startTime"])
            attributes["llmtap.time_to_first_chunk_s"] = ttft
        if self.capture_content and not slo.get("messages_redacted"):
            attributes["gen_ai.input.messages"] = json.dumps(slo["messages"], ensure_ascii=False, default=str)
            if slo["response"] is not None:
                attributes["gen_ai.output.messages"] = json.dumps(
                    [c.get("message") or c.get("text") for c in slo["response"].get("choices", [])], ensure_ascii=False, default=str
                )
        error_type = None
        if failed:
            error_type = (slo.get("error_information") or {}).get("error_class") or "Exception"
            attributes["error.type"] = error_type
            metric_attributes["error.type"] = error_type
        start_ns = int(slo["startTime"] * 1e9)
        end_ns = int(slo["endTime"] * 1e9)
        span = self.tracer.start_span(
            f"{operation} {request_model}",
            context=kwargs.get(CONTEXT_KEY),
            kind=self._trace.SpanKind.CLIENT,
            attributes=attributes,
            start_time=start_ns,
        )
        if failed:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, slo["error_str"] or error_type))
        span.end(end_time=end_ns)
        self.duration.record(slo["response_time"], metric_attributes)
        if not failed:
            self.token_usage.record(slo["prompt_tokens"], {**metric_attributes, "gen_ai.token.type": "input"})
            if operation != "embeddings":
                self.token_usage.record(slo["completion_tokens"], {**metric_attributes, "gen_ai.token.type": "output"})
            if ttft is not None:
                self.first_chunk.record(ttft, metric_attributes)


def _otel_name(provider: str | None) -> str | None:
    """gen_ai.provider.name: what the provider's class declares (its own name if unknown)."""
    from ..providers import get_provider

    try:
        return get_provider(provider).otel_name
    except Exception:
        return provider
