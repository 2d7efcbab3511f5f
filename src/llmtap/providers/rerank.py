"""Rerank services: Cohere (``/v2/rerank``) and Jina AI (``/v1/rerank``).

``rerank`` sends a query and documents; the answer is the documents' indexes with relevance
scores, best first. Both speak nearly the same JSON; Jina reports token usage where Cohere
reports billed search units. In llmtap these providers serve ``rerank`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import APIResponseValidationError
from ..types.endpoints import RerankResponse
from ..wire import HttpRequest
from .base import Provider, decode_json, encode_json

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse


class CohereRerank(Provider):
    name = "cohere"
    key_env = ("COHERE_API_KEY", "CO_API_KEY")
    base_env = ("COHERE_API_BASE",)
    default_base = "https://api.cohere.com"
    path = "/v2/rerank"
    text_completion = "chat"
    secret_headers = frozenset({"authorization"})
    module_key = None
    bare_prefixes = ()
    otel_name = "cohere"
    call_types = frozenset({"rerank"})

    def build_body(self, call: Call) -> dict:
        query, documents = call.input if isinstance(call.input, tuple) else (None, None)
        body: dict[str, Any] = {"model": call.provider_model, "query": query, "documents": documents}
        body.update(call.params)
        if call.extra_body:
            body.update(call.extra_body)
        return body

    def build_request(self, call: Call, body: dict) -> HttpRequest:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if call.api_key:
            headers["Authorization"] = f"Bearer {call.api_key}"
        if call.extra_headers:
            headers.update(call.extra_headers)
        return HttpRequest("POST", call.api_base + self.path, headers, encode_json(body), call.timeout, False)

    def parse_response(self, call: Call, response: HttpResponse) -> Any:
        data = decode_json(self.name, call, response)
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list) or not all(
            isinstance(r, dict) and isinstance(r.get("index"), int) and isinstance(r.get("relevance_score"), (int, float))
            for r in results
        ):
            raise APIResponseValidationError(
                f"{self.name} answered without a list of results with index and relevance_score: {str(data)[:200]!r}",
                llm_provider=self.name,
                model=call.model,
                status_code=response.status,
            )
        return RerankResponse.from_openai(self.normalize(data, call))

    def normalize(self, data: dict, call: Call) -> dict:
        data.setdefault("id", None)
        return data


class JinaRerank(CohereRerank):
    name = "jina_ai"
    key_env = ("JINA_AI_API_KEY", "JINA_API_KEY")
    base_env = ("JINA_AI_API_BASE",)
    default_base = "https://api.jina.ai"
    path = "/v1/rerank"
    otel_name = "jina_ai"

    def normalize(self, data: dict, call: Call) -> dict:
        """Jina's usage becomes the peer's ``meta.tokens`` (as the peer reports it)."""
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        data.setdefault("id", None)
        data.setdefault("meta", {"tokens": {"input_tokens": usage.get("total_tokens"), "output_tokens": 0}})
        return data
