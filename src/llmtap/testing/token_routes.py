"""Token endpoints and bearer-authenticated routes: Microsoft Entra ID, Azure managed identity,
Google OAuth (service-account JWTs, refresh tokens), the GCE metadata server, and Vertex AI.

Tokens the emulator issues are remembered with their expiry; Vertex AI routes (and Azure routes
called with a bearer token) accept only those, or ones registered with ``accept_token``. A
service-account JWT is accepted only if it verifies against a public key registered with
``add_service_account`` (tests make a key pair with ``cryptography`` and write the key file).

Point clients here with ``AZURE_AUTHORITY_HOST=emu.url`` (Entra), ``IDENTITY_ENDPOINT=emu.url +
MSI_PATH`` with ``IDENTITY_HEADER=MSI_HEADER`` (managed identity), ``token_uri = emu.url +
"/token"`` in a credentials file, ``GCE_METADATA_HOST=emu.url`` (metadata server), and
``api_base=emu.url`` for Vertex AI.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from . import anthropic_routes, gemini_routes
from .common import route
from .http import Request, Response, StreamResponse

TEST_CLIENT_SECRET = "llmtap-test-client-secret"
TEST_PASSWORD = "llmtap-test-password"
TEST_REFRESH_TOKEN = "llmtap-test-refresh-token"
MSI_PATH = "/msi/token"
MSI_HEADER = "llmtap-identity-header"
DEFAULT_LIFETIME = 3600

ENTRA = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")
VERTEX = re.compile(
    r"^/v1/(?:projects/([^/]+)/locations/([^/]+)/)?publishers/(google|anthropic)/models/([^/:]+):"
    r"(generateContent|streamGenerateContent|rawPredict|streamRawPredict)$"
)
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


class TokenState:
    def __init__(self) -> None:
        self.issued: dict[str, float] = {}  # token → expiry
        self.log: list[str] = []  # who was issued a token, in order ("entra", "msi", "google-sa", ...)
        self.lifetime = DEFAULT_LIFETIME
        self.service_accounts: dict[str, tuple[int, int]] = {}  # client_email → (n, e)
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self.lifetime = DEFAULT_LIFETIME

    def issue(self, how: str) -> tuple[str, int]:
        value = f"{how}.{secrets.token_urlsafe(32)}"
        with self._lock:
            self.issued[value] = time.time() + self.lifetime
            self.log.append(how)
        return value, self.lifetime

    def accept_token(self, value: str, lifetime: float = DEFAULT_LIFETIME) -> None:
        with self._lock:
            self.issued[value] = time.time() + lifetime

    def add_service_account(self, email: str, n: int, e: int) -> None:
        with self._lock:
            self.service_accounts[email] = (n, e)

    def valid(self, value: str | None) -> bool:
        expiry = self.issued.get(value or "")
        return expiry is not None and expiry > time.time()


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[7:].strip() if value.lower().startswith("bearer ") else None


def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode("utf-8", "replace")))


def handle(state: TokenState, request: Request, next_item: Any) -> Response | StreamResponse | None:
    path = request.path
    if request.method == "POST":
        entra = ENTRA.match(path)
        if entra:
            return _entra(state, request)
        if path == "/token":
            return _google_token(state, request)
        vertex = VERTEX.match(path)
        if vertex:
            return _vertex(state, request, next_item, vertex)
    if request.method == "GET":
        if path == MSI_PATH:
            if request.headers.get("x-identity-header") != MSI_HEADER:
                return Response.json({"error": "invalid_request", "error_description": "bad X-IDENTITY-HEADER"}, 400)
            token, life = state.issue("msi")
            return Response.json({"access_token": token, "expires_on": str(int(time.time()) + life),
                                  "resource": request.query.get("resource", ""), "token_type": "Bearer"})
        if path == "/computeMetadata/v1/instance/service-accounts/default/token":
            if request.headers.get("metadata-flavor") != "Google":
                return Response(403, b"Missing Metadata-Flavor:Google header.", {"content-type": "text/plain"})
            token, life = state.issue("gce-metadata")
            return Response.json({"access_token": token, "expires_in": life, "token_type": "Bearer"})
    return None


def _entra(state: TokenState, request: Request) -> Response:
    form = _form(request)
    grant = form.get("grant_type")
    if not form.get("client_id") or not form.get("scope"):
        return Response.json({"error": "invalid_request", "error_description": "AADSTS900144: client_id and scope are required"}, 400)
    if grant == "client_credentials" and form.get("client_secret") != TEST_CLIENT_SECRET:
        return Response.json({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}, 401)
    if grant == "password" and form.get("password") != TEST_PASSWORD:
        return Response.json({"error": "invalid_grant", "error_description": "AADSTS50126: Invalid username or password."}, 400)
    if grant not in ("client_credentials", "password"):
        return Response.json({"error": "unsupported_grant_type"}, 400)
    token, life = state.issue("entra")
    return Response.json({"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": token})


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _google_token(state: TokenState, request: Request) -> Response:
    form = _form(request)
    grant = form.get("grant_type")
    if grant == "refresh_token":
        if form.get("refresh_token") != TEST_REFRESH_TOKEN or form.get("client_secret") != TEST_CLIENT_SECRET:
            return Response.json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
        token, life = state.issue("google-user")
        return Response.json({"access_token": token, "expires_in": life, "token_type": "Bearer"})
    if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return Response.json({"error": "unsupported_grant_type"}, 400)
    try:
        head, body, signature = form.get("assertion", "").split(".")
        header, claims = json.loads(_b64(head)), json.loads(_b64(body))
        key = state.service_accounts.get(claims.get("iss"))
        ok = header.get("alg") == "RS256" and key is not None and _verify(f"{head}.{body}".encode(), _b64(signature), *key)
    except (ValueError, TypeError):
        ok, claims = False, {}
    if not ok:
        return Response.json({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, 400)
    if not (claims.get("iat", 0) - 300 <= time.time() <= claims.get("exp", 0)) or "cloud-platform" not in claims.get("scope", ""):
        return Response.json({"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."}, 400)
    token, life = state.issue("google-sa")
    return Response.json({"access_token": token, "expires_in": life, "token_type": "Bearer"})


def _verify(message: bytes, signature: bytes, n: int, e: int) -> bool:
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    digest = _SHA256_PREFIX + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
    return pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big") == expected


def _vertex(state: TokenState, request: Request, next_item: Any, match: re.Match) -> Response | StreamResponse:
    express = match.group(1) is None  # an API key instead of a project and a token
    if express and match.group(3) == "google" and request.headers.get("x-goog-api-key"):
        pass
    elif express or not state.valid(_bearer(request)):
        return Response.json({"error": {"code": 401, "message": "Request had invalid authentication credentials. Expected OAuth 2 "
                                        "access token, login cookie or other valid authentication credential.", "status": "UNAUTHENTICATED"}}, 401)
    publisher, model, action = match.group(3), match.group(4), match.group(5)
    body = request.json
    if not isinstance(body, dict):
        return gemini_routes.error_response(400, "Invalid JSON payload received.")
    if publisher == "google":
        if action not in ("generateContent", "streamGenerateContent"):
            return gemini_routes.error_response(400, f"{action} is not served for Gemini models")
        return gemini_routes.answer(request, next_item(request), model, action == "streamGenerateContent")
    if action not in ("rawPredict", "streamRawPredict"):
        return gemini_routes.error_response(400, f"{action} is not served for Anthropic models")
    if body.get("anthropic_version") != "vertex-2023-10-16" or "model" in body:
        return anthropic_routes.error_response(400, "invalid_request_error",
                                               "anthropic_version: vertex-2023-10-16 is required and model must not be in the body")
    if bool(body.get("stream")) != (action == "streamRawPredict"):
        return anthropic_routes.error_response(400, "invalid_request_error", "stream must match the rawPredict/streamRawPredict route")
    item = next_item(request)
    return anthropic_routes.messages(dataclasses.replace(request, json={**body, "model": model}), item)


def check_azure_bearer(state: TokenState, request: Request) -> Response | None:
    """Azure routes called with a bearer token (Entra ID) instead of an api-key."""
    if request.headers.get("api-key") or _bearer(request) is None:
        return None
    if state.valid(_bearer(request)):
        return None
    return Response.json({"error": {"code": "401", "message": "Unauthorized. Access token is missing, invalid, audience is incorrect "
                                    "(https://cognitiveservices.azure.com), or have expired."}}, 401)


# Token endpoints (Entra, managed identity, Google OAuth, the GCE metadata server) and Vertex AI;
# ``handle`` declines what is not one of them.
ROUTES = (
    route("*", r"^(/[^/]+/oauth2/v2\.0/token|/token|/msi/token|/computeMetadata/|/v1/projects/|/v1/publishers/)",
          lambda emulator, request, _: handle(emulator.tokens, request, emulator.next_item)),
)
