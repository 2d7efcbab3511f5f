"""Azure OpenAI: OpenAI's wire format behind deployment URLs, an api-version and an api-key header."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from .openai import _PATHS, OpenAI

if TYPE_CHECKING:
    from ..call import Call


class Azure(OpenAI):
    name = "azure"
    key_env = ("AZURE_API_KEY", "AZURE_OPENAI_API_KEY")
    base_env = ("AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT")
    version_env = ("AZURE_API_VERSION", "OPENAI_API_VERSION")
    default_base = None
    default_version = "2024-10-21"
    text_completion = "native"
    secret_headers = frozenset({"api-key", "authorization"})
    module_key = "azure_key"
    bare_prefixes = ()
    otel_name = "azure.ai.openai"
    key_optional_at_custom_base = False

    def url(self, call: Call) -> str:
        deployment = quote(call.provider_model, safe="")
        return (
            f"{call.api_base}/openai/deployments/{deployment}{_PATHS[call.call_type]}"
            f"?api-version={quote(call.api_version or self.default_version, safe='')}"
        )

    def auth_headers(self, call: Call) -> dict[str, str]:
        return {"api-key": call.api_key} if call.api_key else {}
