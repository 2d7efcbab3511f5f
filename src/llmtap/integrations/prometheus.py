"""``"prometheus"``: request, failure, latency, time-to-first-token, token and cost metrics.

Labelled by provider and model, with the model label set bounded (``max_models``; the rest are
counted as "other") so a stream of distinct model names cannot blow up the registry. Metrics go
to the registry you pass (default: prometheus_client's global one); ``serve(port)`` exposes them
on a small HTTP endpoint. prometheus_client is imported only when this sink is created
(``pip install 'llmtap[prometheus]'``).
"""

from __future__ import annotations

import threading
from typing import Any

from .custom_logger import CustomLogger

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


class PrometheusLogger(CustomLogger):
    def __init__(self, registry: Any = None, namespace: str = "llmtap", max_models: int = 100) -> None:
        try:
            import prometheus_client as prom
        except ImportError as exc:
            raise ImportError("the prometheus sink needs prometheus_client: pip install 'llmtap[prometheus]'") from exc
        self.registry = registry if registry is not None else prom.REGISTRY
        self.max_models = max_models
        self._models: set[str] = set()
        self._lock = threading.Lock()
        labels = ("provider", "model")
        options = {"namespace": namespace, "registry": self.registry}
        self.requests = prom.Counter("requests", "LLM calls, by outcome", (*labels, "status"), **options)
        self.failures = prom.Counter("failures", "Failed LLM calls, by error class", (*labels, "error_class"), **options)
        self.latency = prom.Histogram("request_latency_seconds", "Call latency", labels, buckets=LATENCY_BUCKETS, **options)
        self.ttft = prom.Histogram(
            "time_to_first_token_seconds", "Streams: time to the first chunk", labels, buckets=LATENCY_BUCKETS, **options
        )
        self.tokens = prom.Counter("tokens", "Tokens used", (*labels, "type"), **options)
        self.cost = prom.Counter("cost_usd", "Spend in USD", labels, **options)
        self.cache_hits = prom.Counter("cache_hits", "Calls answered from the cache", labels, **options)

    def serve(self, port: int, addr: str = "127.0.0.1") -> Any:
        """Expose this sink's registry at http://addr:port/metrics; returns the server
        (``server.server_port`` is the port, useful with ``port=0``)."""
        import prometheus_client as prom

        server, _ = prom.start_http_server(port, addr=addr, registry=self.registry)
        return server

    def _model(self, model: str) -> str:
        with self._lock:
            if model in self._models:
                return model
            if len(self._models) < self.max_models:
                self._models.add(model)
                return model
        return "other"

    def log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._record(kwargs["standard_logging_object"])

    log_failure_event = log_success_event

    def _record(self, slo: dict) -> None:
        provider = slo["custom_llm_provider"] or "unknown"
        model = self._model(slo["model"] or "unknown")
        self.requests.labels(provider, model, slo["status"]).inc()
        self.latency.labels(provider, model).observe(slo["response_time"])
        if slo["status"] == "failure":
            error_class = (slo.get("error_information") or {}).get("error_class") or "Exception"
            self.failures.labels(provider, model, error_class).inc()
            return
        if slo["stream"]:
            self.ttft.labels(provider, model).observe(max(0.0, slo["completionStartTime"] - slo["startTime"]))
        if slo["cache_hit"]:
            self.cache_hits.labels(provider, model).inc()
        self.tokens.labels(provider, model, "prompt").inc(slo["prompt_tokens"])
        self.tokens.labels(provider, model, "completion").inc(slo["completion_tokens"])
        if slo["response_cost"]:
            self.cost.labels(provider, model).inc(slo["response_cost"])
