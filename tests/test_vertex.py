"""Google Vertex AI against the emulator: Gemini and Claude on Vertex, streams, tools, errors,
tokens from a service-account file (our own RS256 JWT), gcloud's ADC file and the metadata server."""

from __future__ import annotations

import asyncio
import json

import pytest

import llmtap
from llmtap.providers import bearer, google_credentials
from llmtap.testing import Fault, Reply
from llmtap.testing.token_routes import TEST_CLIENT_SECRET, TEST_REFRESH_TOKEN

from .secret_outputs import Seen, span_sink, span_texts

USER = [{"role": "user", "content": "Hi there"}]
_ENV = ("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "GCE_METADATA_HOST", "GCE_METADATA_ROOT", "VERTEXAI_PROJECT",
        "VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT", "VERTEXAI_LOCATION", "VERTEX_LOCATION", "VERTEXAI_API_BASE")


@pytest.fixture(scope="module")
def key_pair():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return key, pem


@pytest.fixture
def vertex(emulator, monkeypatch, tmp_path, key_pair):
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))  # no gcloud ADC file unless a test writes one
    monkeypatch.setenv("VERTEXAI_API_BASE", emulator.vertex_base)
    key, pem = key_pair
    numbers = key.public_key().public_numbers()
    emulator.tokens.add_service_account("llmtap-test@proj-1.iam.gserviceaccount.com", numbers.n, numbers.e)
    info = {"type": "service_account", "project_id": "proj-1", "private_key_id": "k1", "private_key": pem,
            "client_email": "llmtap-test@proj-1.iam.gserviceaccount.com", "token_uri": emulator.url + "/token"}
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    bearer.clear_cache()
    emulator.sa_info = info
    yield emulator
    bearer.clear_cache()


def test_gemini_on_vertex(vertex) -> None:
    r = llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=[{"role": "system", "content": "Be brief."}, *USER],
                          vertex_location="europe-west4", temperature=0.1)
    token_request, request = vertex.requests
    assert token_request.path == "/token"
    assert request.path == "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent"
    assert request.headers["authorization"].startswith("Bearer google-sa.")
    assert request.json["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert request.json["generationConfig"] == {"temperature": 0.1}
    assert "vertex_location" not in request.json
    assert r.choices[0].message.content == "Hello from the llmtap emulator. You said: Hi there"
    assert r._hidden_params["response_cost"] > 0
    llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER, vertex_project="other-proj")
    assert vertex.tokens.log == ["google-sa"]  # the token is cached
    assert vertex.last_request.path.startswith("/v1/projects/other-proj/locations/us-central1/")


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("model", ["gemini-2.5-flash", "claude-3-5-haiku@20241022"])
def test_streams_and_tools(vertex, mode, model) -> None:
    vertex.push(Reply(content="one two three", chunks=3), Reply(tool_calls=[{"name": "f", "arguments": '{"a": 1}'}]))

    def run(**extra):
        kwargs = dict(model=f"vertex_ai/{model}", messages=USER, stream=True, **extra)
        if mode == "sync":
            return list(llmtap.completion(**kwargs))

        async def go():
            return [c async for c in await llmtap.acompletion(**kwargs)]

        return asyncio.run(go())

    chunks = run()
    action = "streamRawPredict" if model.startswith("claude") else "streamGenerateContent"
    assert vertex.last_request.path.endswith(f"/models/{model}:{action}")
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"
    chunks = run(tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])
    calls = [c.choices[0].delta.tool_calls[0] for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert calls[0].function.name == "f"
    assert json.loads("".join(c.function.arguments for c in calls)) == {"a": 1}


def test_claude_on_vertex_body_and_answer(vertex) -> None:
    r = llmtap.completion(model="vertex_ai/claude-3-5-haiku@20241022", messages=[{"role": "system", "content": "Terse."}, *USER],
                          max_tokens=20)
    request = vertex.last_request
    assert request.path == "/v1/projects/proj-1/locations/us-central1/publishers/anthropic/models/claude-3-5-haiku@20241022:rawPredict"
    assert request.json["anthropic_version"] == "vertex-2023-10-16" and "model" not in request.json
    assert request.json["system"] == "Terse." and request.json["max_tokens"] == 20
    assert r.choices[0].message.content.endswith("Hi there")
    assert r._hidden_params["response_cost"] > 0


def test_errors_map_and_retries_carry_fresh_tokens(vertex) -> None:
    vertex.push(Fault(429), Fault(400, "Request contains an invalid argument."))
    with pytest.raises(llmtap.RateLimitError):
        llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER)
    with pytest.raises(llmtap.BadRequestError):
        llmtap.completion(model="vertex_ai/claude-3-5-haiku@20241022", messages=USER)
    # Tokens that live less than the refresh margin are renewed for every attempt.
    bearer.clear_cache()
    vertex.clear()
    vertex.tokens.lifetime = 60
    vertex.push(Fault(503), Reply(content="ok"))
    assert llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER, num_retries=1).choices[0].message.content == "ok"
    tokens = [q.headers["authorization"] for q in vertex.requests if q.path.startswith("/v1/")]
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    # A token the emulator never issued is refused with Google's 401.
    with pytest.raises(llmtap.AuthenticationError):
        llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER, extra_headers={"Authorization": "Bearer forged"})


def test_signature_matches_cryptography(key_pair) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key, pem = key_pair
    message = b"header.claims"
    assert google_credentials.rsa_sign(message, pem) == key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(llmtap.AuthenticationError, match="not a PEM RSA private key"):
        google_credentials.rsa_sign(message, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")


def test_credentials_from_each_source(vertex, monkeypatch, tmp_path) -> None:
    info = vertex.sa_info
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    # vertex_credentials as a dict, a JSON string and a path
    for given in (info, json.dumps(info), str(tmp_path / "sa.json")):
        bearer.clear_cache()
        llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER, vertex_credentials=given)
    assert vertex.tokens.log == ["google-sa"] * 3
    # gcloud's application-default file (an authorized user), project from the environment
    (tmp_path / "gcloud").mkdir()
    (tmp_path / "gcloud" / "application_default_credentials.json").write_text(json.dumps({
        "type": "authorized_user", "client_id": "cid", "client_secret": TEST_CLIENT_SECRET,
        "refresh_token": TEST_REFRESH_TOKEN, "token_uri": vertex.url + "/token"}))
    monkeypatch.setenv("VERTEXAI_PROJECT", "from-env")
    llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER)
    assert vertex.tokens.log[-1] == "google-user" and "/projects/from-env/" in vertex.last_request.path
    # the metadata server
    (tmp_path / "gcloud" / "application_default_credentials.json").unlink()
    monkeypatch.setenv("GCE_METADATA_HOST", vertex.url.removeprefix("http://"))
    llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER)
    assert vertex.tokens.log[-1] == "gce-metadata"


def test_bad_credentials_fail_clearly(vertex, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    with pytest.raises(llmtap.BadRequestError, match="missing Google Cloud project"):
        llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER)
    assert vertex.requests == []
    monkeypatch.setenv("VERTEXAI_PROJECT", "p")
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # nothing listens: not on Google Cloud
    with pytest.raises(llmtap.AuthenticationError, match="no Google credentials found"):
        llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER)
    with pytest.raises(llmtap.AuthenticationError, match="not a credentials JSON"):
        llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER, vertex_credentials="{not json")
    wrong = dict(vertex.sa_info, client_email="stranger@proj-1.iam.gserviceaccount.com")
    with pytest.raises(llmtap.AuthenticationError, match="answered 400 Invalid JWT Signature"):
        llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER, vertex_credentials=wrong)


def test_no_private_key_or_token_in_any_output(vertex, tmp_path) -> None:
    from llmtap.integrations.jsonl import JsonlLogger

    seen = Seen()
    otel, spans = span_sink()
    llmtap.callbacks = [seen, JsonlLogger(str(tmp_path / "calls.jsonl")), otel]
    llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER, vertex_credentials=vertex.sa_info)
    vertex.push(Fault(500))
    with pytest.raises(llmtap.InternalServerError) as caught:
        llmtap.completion(model="vertex_ai/claude-3-5-haiku@20241022", messages=USER, vertex_credentials=vertex.sa_info)
    list(llmtap.completion(model="vertex_ai/gemini-2.0-flash", messages=USER, stream=True))
    llmtap.flush()
    tokens = list(vertex.tokens.issued)
    key_body = vertex.sa_info["private_key"].splitlines()[5]
    texts = [*seen.texts, (tmp_path / "calls.jsonl").read_text(), str(caught.value), repr(caught.value.__dict__)]
    texts += span_texts(spans)
    assert len(seen.texts) == 6 and len(span_texts(spans)) == 3
    for text in texts:
        assert key_body not in text
        assert not any(token in text for token in tokens)


def test_express_mode_api_key(vertex) -> None:
    r = llmtap.completion(model="vertex_ai/gemini-2.5-flash", messages=USER, api_key="vertex-express-key")
    request = vertex.last_request
    assert request.path == "/v1/publishers/google/models/gemini-2.5-flash:generateContent"
    assert request.headers["x-goog-api-key"] == "vertex-express-key" and "authorization" not in request.headers
    assert vertex.tokens.log == [] and r.choices[0].message.content
    with pytest.raises(llmtap.BadRequestError, match="Claude on Vertex AI needs a project"):
        llmtap.completion(model="vertex_ai/claude-3-5-haiku@20241022", messages=USER, api_key="k")


def test_default_endpoint_follows_the_location(vertex, monkeypatch) -> None:
    from llmtap import call as call_module

    monkeypatch.delenv("VERTEXAI_API_BASE")
    base = call_module.prepare("completion", "vertex_ai/gemini-2.0-flash", {"vertex_location": "asia-east1"}, False).api_base
    assert base == "https://asia-east1-aiplatform.googleapis.com"
    base = call_module.prepare("completion", "vertex_ai/gemini-2.0-flash", {"vertex_location": "global"}, False).api_base
    assert base == "https://aiplatform.googleapis.com"
