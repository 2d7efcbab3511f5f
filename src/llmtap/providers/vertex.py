"""Google Vertex AI: Gemini (``vertex_ai/gemini-...``) and Anthropic (``vertex_ai/claude-...``).

The transforms are Gemini's and Anthropic's own; Vertex changes only where the request goes and
how it is authenticated. Gemini: ``…/publishers/google/models/{model}:generateContent`` (or
``:streamGenerateContent?alt=sse``). Claude: ``…/publishers/anthropic/models/{model}:rawPredict``
(or ``:streamRawPredict``), with the model in the URL instead of the body and
``anthropic_version: "vertex-2023-10-16"``. Every attempt carries a Google access token (see
``google_credentials``), cached and renewed before it expires.

Project: ``vertex_project`` (or ``VERTEXAI_PROJECT``/``VERTEX_PROJECT``/``GOOGLE_CLOUD_PROJECT``, or
the credentials file's). Location: ``vertex_location`` (or ``VERTEXAI_LOCATION``/``VERTEX_LOCATION``),
default us-central1. With ``api_key`` (Vertex's express mode) Gemini models need no project and
no Google credentials: the key goes in ``x-goog-api-key``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from ..exceptions import BadRequestError
from ..wire import HttpRequest
from . import google_credentials
from .anthropic import Anthropic, AnthropicStreamParser
from .base import Provider, StreamParser, encode_json
from .gemini import Gemini, GeminiStreamParser

if TYPE_CHECKING:
    from ..call import Call
    from ..wire import HttpResponse

VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"
DEFAULT_LOCATION = "us-central1"


class VertexAI(Provider):
    name = "vertex_ai"
    key_env = ()
    base_env = ("VERTEXAI_API_BASE", "VERTEX_AI_API_BASE")
    default_base = "https://us-central1-aiplatform.googleapis.com"  # configure() picks the call's location
    needs_key = False
    takes_global_key = False
    text_completion = "chat"
    secret_headers = frozenset({"authorization", "x-goog-api-key"})
    module_key = None
    bare_prefixes = ()
    otel_name = "gcp.vertex_ai"
    credential_params: ClassVar[frozenset[str]] = frozenset({
        "vertex_project", "vertex_location", "vertex_ai_project", "vertex_ai_location", "vertex_credentials",
    })
    configures = True
    authorizes = True

    def __init__(self, registered_as: str | None = None) -> None:
        self._gemini = Gemini()
        self._anthropic = Anthropic()

    def _family(self, model: str) -> Provider:
        return self._anthropic if model.startswith("claude") else self._gemini

    def params_for(self, model: str, call_type: str) -> frozenset[str] | None:
        return self._family(model).params_for(model, call_type)

    def configure(self, call: Call) -> None:
        settings = call.credentials
        if call.api_key:  # express mode: an API key, no project, Gemini models only
            if call.provider_model.startswith("claude"):
                raise BadRequestError("Claude on Vertex AI needs a project and Google credentials, not an api_key",
                                      model=call.model, llm_provider=self.name)
            if call.api_base == self.default_base:
                call.api_base = "https://aiplatform.googleapis.com"
            return
        info, source = google_credentials.load_info(settings.get("vertex_credentials"))
        settings["_info"], settings["_source"] = info, source
        project = (
            settings.get("vertex_project") or settings.get("vertex_ai_project")
            or _env("VERTEXAI_PROJECT", "VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT")
            or google_credentials.project_of(info)
        )
        if not project:
            raise BadRequestError(
                "missing Google Cloud project for vertex_ai: pass vertex_project=... or set VERTEXAI_PROJECT",
                model=call.model, llm_provider=self.name,
            )
        location = (
            settings.get("vertex_location") or settings.get("vertex_ai_location")
            or _env("VERTEXAI_LOCATION", "VERTEX_LOCATION") or DEFAULT_LOCATION
        )
        settings["_project"], settings["_location"] = project, location
        if call.api_base == self.default_base:  # no base given: the location's own
            call.api_base = "https://aiplatform.googleapis.com" if location == "global" else f"https://{location}-aiplatform.googleapis.com"

    def authorize(self, call: Call) -> Any:
        settings = call.credentials
        if call.api_key:
            return None
        call.auth = yield from google_credentials.token(settings["_info"], settings["_source"])

    def build_body(self, call: Call) -> dict:
        if call.provider_model.startswith("claude"):
            body = self._anthropic.build_body(call)
            body.pop("model", None)
            body["anthropic_version"] = VERTEX_ANTHROPIC_VERSION
            return body
        return self._gemini.build_body(call)

    def build_request(self, call: Call, body: dict) -> HttpRequest:
        settings = call.credentials
        model = quote(call.provider_model, safe="@")
        if call.provider_model.startswith("claude"):
            publisher, action = "anthropic", ("streamRawPredict" if call.stream else "rawPredict")
        else:
            publisher, action = "google", ("streamGenerateContent?alt=sse" if call.stream else "generateContent")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if call.api_key:
            url = f"{call.api_base}/v1/publishers/{publisher}/models/{model}:{action}"
            headers["x-goog-api-key"] = call.api_key
        else:
            url = (
                f"{call.api_base}/v1/projects/{quote(settings['_project'], safe='')}/locations/"
                f"{quote(settings['_location'], safe='')}/publishers/{publisher}/models/{model}:{action}"
            )
        if call.auth:
            headers["Authorization"] = f"Bearer {call.auth}"
        if call.extra_headers:
            headers.update(call.extra_headers)
        return HttpRequest("POST", url, headers, encode_json(body), call.timeout, call.stream)

    def parse_response(self, call: Call, response: HttpResponse) -> Any:
        return self._family(call.provider_model).parse_response(call, response)

    def stream_parser(self, call: Call) -> StreamParser:
        if call.provider_model.startswith("claude"):
            return AnthropicStreamParser(self, call)
        return GeminiStreamParser(self, call)


def _env(*names: str) -> str | None:
    for name in names:
        value = (os.environ.get(name) or "").strip()
        if value:
            return value
    return None
