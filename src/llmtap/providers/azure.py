"""Azure OpenAI: OpenAI's wire format behind deployment URLs, an api-version, and either an
api-key header or a Microsoft Entra ID bearer token.

Entra ID tokens come from, in order: ``azure_ad_token`` (or ``AZURE_AD_TOKEN``); an
``azure_ad_token_provider`` callable, asked on every attempt (azure-identity's
``get_bearer_token_provider`` caches and refreshes on its side); a client secret or a username
and password (``client_id``/``client_secret``/``tenant_id``, or ``AZURE_CLIENT_ID``/
``AZURE_CLIENT_SECRET``/``AZURE_TENANT_ID``), exchanged by llmtap itself at the Entra token
endpoint; and, when azure-identity is installed, ``DefaultAzureCredential``. Fetched tokens are
cached and renewed five minutes before they expire. Tokens are never logged or shown.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from ..exceptions import AuthenticationError
from . import bearer
from .openai import OpenAI, path_for

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
    needs_key = False  # an Entra ID token may serve instead: ``configure`` says what is missing
    credential_params: ClassVar[frozenset[str]] = frozenset({
        "azure_ad_token", "azure_ad_token_provider", "client_id", "client_secret", "tenant_id",
        "azure_username", "azure_password", "azure_scope",
    })
    configures = True
    authorizes = True

    def url(self, call: Call) -> str:
        if call.call_type == "responses":  # Azure serves it on its v1 surface, the deployment named in the body
            return f"{call.api_base}/openai/v1/responses?api-version=preview"
        deployment = quote(call.provider_model, safe="")
        return (
            f"{call.api_base}/openai/deployments/{deployment}{path_for(call.call_type)}"
            f"?api-version={quote(call.api_version or self.default_version, safe='')}"
        )

    def auth_headers(self, call: Call) -> dict[str, str]:
        if call.api_key:
            return {"api-key": call.api_key}
        return {"Authorization": f"Bearer {call.auth}"} if call.auth else {}

    def configure(self, call: Call) -> None:
        """A call with neither a key nor any token source fails here, before any I/O."""
        if call.api_key or _source(call) is not None:
            return
        raise AuthenticationError(
            "missing credentials for azure: pass api_key=... or set AZURE_API_KEY; or use Entra ID: "
            "azure_ad_token=..., azure_ad_token_provider=..., client_id/client_secret/tenant_id (or "
            "AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID), or install azure-identity for "
            "DefaultAzureCredential",
            llm_provider=self.name,
            model=call.model,
        )

    def authorize(self, call: Call) -> Any:
        """This attempt's Entra ID token (none when an api-key is used)."""
        if call.api_key:
            return None
        kind, value = _source(call)
        if kind == "token":
            call.auth = value
        elif kind == "provider":
            call.auth = _from_provider(self, call, value)
        elif kind == "secret" or kind == "password":
            call.auth = yield from _from_entra(self, call, kind, value)
        else:
            call.auth = _from_default_credential(self, call, value)
        return None


DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default"
AUTHORITY = "https://login.microsoftonline.com"


def _setting(call: Call, name: str, env: str) -> Any:
    return call.credentials.get(name) or (os.environ.get(env) or "").strip() or None


def _source(call: Call) -> tuple[str, Any] | None:
    """Which Entra ID source this call uses (no I/O)."""
    settings = call.credentials
    token = _setting(call, "azure_ad_token", "AZURE_AD_TOKEN")
    if token:
        return "token", token.removeprefix("Bearer ").strip()
    provider = settings.get("azure_ad_token_provider")
    if provider is not None:
        if not callable(provider):
            raise AuthenticationError(
                f"azure_ad_token_provider must be a callable returning a token, got {type(provider).__name__}",
                llm_provider="azure", model=call.model,
            )
        return "provider", provider
    scope = settings.get("azure_scope") or DEFAULT_SCOPE
    client = _setting(call, "client_id", "AZURE_CLIENT_ID")
    tenant = _setting(call, "tenant_id", "AZURE_TENANT_ID")
    secret = _setting(call, "client_secret", "AZURE_CLIENT_SECRET")
    username = _setting(call, "azure_username", "AZURE_USERNAME")
    password = _setting(call, "azure_password", "AZURE_PASSWORD")
    if client and tenant and secret:
        return "secret", (tenant, client, secret, scope)
    if client and tenant and username and password:
        return "password", (tenant, client, username, password, scope)
    import importlib.util

    try:
        installed = importlib.util.find_spec("azure.identity") is not None
    except (ImportError, ValueError):
        installed = False
    return ("default", scope) if installed else None


def _from_provider(provider: Azure, call: Call, source: Any) -> str:
    try:
        token = source()
    except Exception as exc:
        raise AuthenticationError(f"azure_ad_token_provider raised {type(exc).__name__}", llm_provider=provider.name,
                                  model=call.model) from None
    token = getattr(token, "token", token)  # an AccessToken works too
    if not isinstance(token, str) or not token.strip():
        raise AuthenticationError(f"azure_ad_token_provider returned {type(token).__name__}, not a token string",
                                  llm_provider=provider.name, model=call.model)
    return token.strip()


def _from_entra(provider: Azure, call: Call, kind: str, value: tuple) -> Any:
    tenant, client = value[0], value[1]
    key = ("entra", kind, tenant, client, value[2], value[-1])
    found = bearer.cached(key)
    if found is not None:
        return found.value
    authority = (os.environ.get("AZURE_AUTHORITY_HOST") or AUTHORITY).rstrip("/")
    form = {"client_id": client, "scope": value[-1]}
    if kind == "secret":
        form.update(grant_type="client_credentials", client_secret=value[2])
    else:
        form.update(grant_type="password", username=value[2], password=value[3])
    url = f"{authority}/{quote(tenant, safe='')}/oauth2/v2.0/token"
    token = yield from bearer.fetch(bearer.form_request(url, form), provider.name, f"Entra ID token for client {client}")
    return bearer.store(key, token).value


_default_credential: Any = None


def _from_default_credential(provider: Azure, call: Call, scope: str) -> str:
    """azure-identity's DefaultAzureCredential (managed identity, workload identity, az login ...).

    It does its own (blocking) I/O, so its token is cached here and asked again only when it is
    about to expire."""
    global _default_credential
    found = bearer.cached(("default", scope))
    if found is not None:
        return found.value
    try:
        if _default_credential is None:
            from azure.identity import DefaultAzureCredential

            _default_credential = DefaultAzureCredential()
        access = _default_credential.get_token(scope)
    except Exception as exc:
        raise AuthenticationError(f"missing API key for azure (pass api_key=... or set AZURE_API_KEY or AZURE_OPENAI_API_KEY), "
                                  f"and DefaultAzureCredential could not get a token: {type(exc).__name__}",
                                  llm_provider=provider.name, model=call.model) from None
    return bearer.store(("default", scope), bearer.Token(access.token, float(access.expires_on))).value
