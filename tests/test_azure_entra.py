"""Azure OpenAI with Microsoft Entra ID instead of an api-key: a given token, a token provider,
client secrets exchanged at the (emulated) Entra endpoint, DefaultAzureCredential."""

from __future__ import annotations

import asyncio
import itertools

import pytest

import llmtap
from llmtap.providers import azure as azure_provider
from llmtap.providers import bearer
from llmtap.testing import Fault, Reply
from llmtap.testing.token_routes import MSI_HEADER, MSI_PATH, TEST_CLIENT_SECRET

from .secret_outputs import Seen, span_sink, span_texts

USER = [{"role": "user", "content": "Hi"}]
_ENV = ("AZURE_AD_TOKEN", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_USERNAME",
        "AZURE_PASSWORD", "AZURE_AUTHORITY_HOST", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_CERTIFICATE_PATH")


@pytest.fixture
def entra(emulator, monkeypatch):
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_API_BASE", emulator.azure_base)
    monkeypatch.setattr(azure_provider, "_default_credential", None)
    bearer.clear_cache()
    yield emulator
    bearer.clear_cache()


def test_azure_ad_token_is_the_bearer_and_never_shown(entra, tmp_path) -> None:
    from llmtap.integrations.jsonl import JsonlLogger

    token = "eyJ0eXAiOiJKV1Qi.entra-token-for-test.signature-part"
    entra.tokens.accept_token(token)
    seen = Seen()
    otel, spans = span_sink()
    llmtap.callbacks = [seen, JsonlLogger(str(tmp_path / "calls.jsonl")), otel]
    r = llmtap.completion(model="azure/my-gpt4o", messages=USER, azure_ad_token=token)
    assert r.choices[0].message.content
    request = entra.last_request
    assert request.headers["authorization"] == f"Bearer {token}" and "api-key" not in request.headers
    assert "azure_ad_token" not in request.json
    with pytest.raises(llmtap.AuthenticationError) as caught:
        llmtap.completion(model="azure/my-gpt4o", messages=USER, azure_ad_token=token + "-forged")
    llmtap.flush()
    assert len(span_texts(spans)) == 2
    for text in [*seen.texts, (tmp_path / "calls.jsonl").read_text(), str(caught.value), repr(caught.value.__dict__), *span_texts(spans)]:
        assert token not in text
    assert len(seen.texts) == 4


def test_token_provider_is_asked_on_every_attempt(entra) -> None:
    issued = []

    def provider() -> str:
        value = f"provider-token-{len(issued)}"
        entra.tokens.accept_token(value)
        issued.append(value)
        return value

    entra.push(Fault(500), Reply(content="ok"))
    r = llmtap.completion(model="azure/dep", messages=USER, azure_ad_token_provider=provider, num_retries=1)
    assert r.choices[0].message.content == "ok"
    assert [q.headers["authorization"] for q in entra.requests] == ["Bearer provider-token-0", "Bearer provider-token-1"]

    def broken() -> str:
        raise RuntimeError("secret-in-provider-message")

    with pytest.raises(llmtap.AuthenticationError, match="azure_ad_token_provider raised RuntimeError") as caught:
        llmtap.completion(model="azure/dep", messages=USER, azure_ad_token_provider=broken)
    assert "secret-in-provider-message" not in str(caught.value)
    with pytest.raises(llmtap.AuthenticationError, match="must be a callable"):
        llmtap.completion(model="azure/dep", messages=USER, azure_ad_token_provider="not callable")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_client_secret_from_environment_is_exchanged_cached_and_refreshed(entra, monkeypatch, mode) -> None:
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", entra.url)
    monkeypatch.setenv("AZURE_CLIENT_ID", "app-id")
    monkeypatch.setenv("AZURE_TENANT_ID", "tenant-1")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", TEST_CLIENT_SECRET)

    def call(**kwargs):
        if mode == "sync":
            return llmtap.completion(model="azure/dep", messages=USER, **kwargs)
        return asyncio.run(llmtap.acompletion(model="azure/dep", messages=USER, **kwargs))

    call()
    call()
    assert entra.tokens.log == ["entra"]  # fetched once, then cached
    token_request = entra.requests[0]
    assert token_request.path == "/tenant-1/oauth2/v2.0/token"
    assert b"scope=https%3A%2F%2Fcognitiveservices.azure.com%2F.default" in token_request.body
    # A token about to expire (inside the five-minute margin) is renewed before use.
    bearer.clear_cache()
    entra.tokens.lifetime = 60
    call()
    call()
    assert entra.tokens.log == ["entra", "entra", "entra"]
    bearers = [q.headers["authorization"] for q in entra.requests if "deployments" in q.path]
    assert len(set(bearers[2:])) == 2
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong")
    bearer.clear_cache()
    with pytest.raises(llmtap.AuthenticationError, match="Entra ID token for client app-id: the token endpoint answered 401"):
        call()


def test_default_azure_credential_through_managed_identity(entra, monkeypatch) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", entra.url + MSI_PATH)
    monkeypatch.setenv("IDENTITY_HEADER", MSI_HEADER)
    llmtap.completion(model="azure/dep", messages=USER)
    llmtap.completion(model="azure/dep", messages=USER)
    assert entra.tokens.log == ["msi"]
    assert entra.last_request.headers["authorization"].startswith("Bearer msi.")


def test_no_key_and_no_entra_source_fails_before_sending(entra, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "azure.identity", None)  # as if azure-identity were not installed
    with pytest.raises(llmtap.AuthenticationError, match="missing credentials for azure"):
        llmtap.completion(model="azure/dep", messages=USER)
    assert entra.requests == []
    # an api-key still wins over every Entra source
    llmtap.completion(model="azure/dep", messages=USER, api_key="k", azure_ad_token_provider=lambda: next(itertools.count()))
    assert entra.last_request.headers["api-key"] == "k" and "authorization" not in entra.last_request.headers
