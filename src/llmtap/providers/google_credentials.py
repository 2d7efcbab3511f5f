"""Google access tokens for Vertex AI: service-account files, user ADC files, the metadata server.

Our own OAuth flows rather than google-auth: importing ``google.oauth2.service_account`` (which
pulls in ``cryptography``) takes ~800 ms on this machine, for one RS256 signature an hour. A
service account's JWT is signed here with the standard library (``pow`` with the key's CRT
parts: a few milliseconds) and exchanged at the file's ``token_uri``. Credential types we do not
speak (``external_account``, ``impersonated_service_account``) go to google-auth when it is
installed (``pip install 'llmtap[vertex]'``).

Where credentials come from, in order: ``vertex_credentials`` (a path, a JSON string or a
dict), ``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's application-default file, then the metadata
server (GCE, Cloud Run, GKE). Tokens are cached per source and renewed five minutes early.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from typing import Any

from ..exceptions import AuthenticationError
from ..wire import HttpRequest
from . import bearer

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
TOKEN_URI = "https://oauth2.googleapis.com/token"
METADATA_HOST = "metadata.google.internal"


def _fail(message: str) -> AuthenticationError:
    return AuthenticationError(message, llm_provider="vertex_ai")


def load_info(explicit: Any) -> tuple[dict | None, str]:
    """(credentials JSON, where it came from), or (None, "metadata") for the metadata server."""
    if isinstance(explicit, dict):
        return explicit, "vertex_credentials"
    if isinstance(explicit, str) and explicit.strip():
        text = explicit.strip()
        if text.startswith("{"):
            return _parse(text, "vertex_credentials"), "vertex_credentials"
        return _read(text, "vertex_credentials"), "vertex_credentials"
    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if path:
        return _read(path, "GOOGLE_APPLICATION_CREDENTIALS"), "GOOGLE_APPLICATION_CREDENTIALS"
    config = os.environ.get("CLOUDSDK_CONFIG") or os.path.join(os.path.expanduser("~"), ".config", "gcloud")
    adc = os.path.join(config, "application_default_credentials.json")
    if os.path.isfile(adc):
        return _read(adc, "gcloud application-default credentials"), "gcloud"
    return None, "metadata"


def _read(path: str, what: str) -> dict:
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as fh:
            return _parse(fh.read(), what)
    except OSError as exc:
        raise _fail(f"cannot read the Google credentials file named by {what}: {exc.strerror}") from None


def _parse(text: str, what: str) -> dict:
    try:
        info = json.loads(text)
    except ValueError:
        info = None
    if not isinstance(info, dict) or not isinstance(info.get("type"), str):
        raise _fail(f"the Google credentials from {what} are not a credentials JSON object with a 'type'")
    return info


def project_of(info: dict | None) -> str | None:
    if not info:
        return None
    return info.get("project_id") or info.get("quota_project_id")


def token(info: dict | None, source: str) -> Any:
    """An access token (a generator: ``value = yield from token(...)``)."""
    if info is None:
        return (yield from _metadata())
    kind = info.get("type")
    if kind == "service_account":
        return (yield from _service_account(info))
    if kind == "authorized_user":
        return (yield from _authorized_user(info))
    return _google_auth(info, kind)


def _service_account(info: dict) -> Any:
    email = info.get("client_email")
    key_pem = info.get("private_key")
    uri = info.get("token_uri") or TOKEN_URI
    if not email or not key_pem:
        raise _fail("the service-account file has no client_email or private_key")
    cache_key = ("google-sa", email, info.get("private_key_id"), uri)
    found = bearer.cached(cache_key)
    if found is not None:
        return found.value
    now = int(time.time())
    claims = {"iss": email, "scope": SCOPE, "aud": uri, "iat": now, "exp": now + 3600}
    assertion = sign_jwt(claims, key_pem, info.get("private_key_id"))
    request = bearer.form_request(uri, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
    fetched = yield from bearer.fetch(request, "vertex_ai", f"Google token for {email}")
    return bearer.store(cache_key, fetched).value


def _authorized_user(info: dict) -> Any:
    needed = ("client_id", "client_secret", "refresh_token")
    if not all(info.get(name) for name in needed):
        raise _fail("the authorized_user credentials need client_id, client_secret and refresh_token")
    uri = info.get("token_uri") or TOKEN_URI
    cache_key = ("google-user", info["client_id"], info["refresh_token"], uri)
    found = bearer.cached(cache_key)
    if found is not None:
        return found.value
    form = {"grant_type": "refresh_token", **{name: info[name] for name in needed}}
    fetched = yield from bearer.fetch(bearer.form_request(uri, form), "vertex_ai", "Google token for the gcloud user")
    return bearer.store(cache_key, fetched).value


def _metadata() -> Any:
    host = os.environ.get("GCE_METADATA_HOST") or os.environ.get("GCE_METADATA_ROOT") or METADATA_HOST
    base = host if host.startswith("http") else f"http://{host}"
    cache_key = ("google-metadata", base)
    found = bearer.cached(cache_key)
    if found is not None:
        return found.value
    url = f"{base.rstrip('/')}/computeMetadata/v1/instance/service-accounts/default/token"
    request = HttpRequest("GET", url, {"Metadata-Flavor": "Google"}, None, 3.0, False)
    try:
        fetched = yield from bearer.fetch(request, "vertex_ai", "Google metadata server")
    except AuthenticationError:
        raise _fail(
            "no Google credentials found: pass vertex_credentials (a service-account file), set "
            "GOOGLE_APPLICATION_CREDENTIALS, run `gcloud auth application-default login`, or run on Google Cloud"
        ) from None
    return bearer.store(cache_key, fetched).value


def _google_auth(info: dict, kind: Any) -> str:
    """Credential types llmtap does not speak, through google-auth (blocking; cached here)."""
    cache_key = ("google-auth", json.dumps(info, sort_keys=True))
    found = bearer.cached(cache_key)
    if found is not None:
        return found.value
    try:
        import google.auth
        import google.auth.transport.urllib3
        import urllib3
    except ImportError:
        raise _fail(f"Google credentials of type {kind!r} need google-auth: pip install 'llmtap[vertex]'") from None
    try:
        creds, _ = google.auth.load_credentials_from_dict(info, scopes=[SCOPE])
        creds.refresh(google.auth.transport.urllib3.Request(urllib3.PoolManager()))
    except Exception as exc:
        raise _fail(f"google-auth could not get a token for {kind!r} credentials: {type(exc).__name__}") from None
    expiry = creds.expiry.replace(tzinfo=__import__("datetime").timezone.utc).timestamp() if creds.expiry else None
    return bearer.store(cache_key, bearer.Token(creds.token, expiry)).value


# -- RS256 with the standard library -----------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_jwt(claims: dict, key_pem: str, key_id: str | None = None) -> str:
    header = {"alg": "RS256", "typ": "JWT"}
    if key_id:
        header["kid"] = key_id
    signing_input = _b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64url(
        json.dumps(claims, separators=(",", ":")).encode())
    return signing_input + "." + _b64url(rsa_sign(signing_input.encode(), key_pem))


_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def rsa_sign(message: bytes, key_pem: str) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 (what RS256 is)."""
    n, _e, d, p, q, dp, dq, qinv = _private_key(key_pem)
    size = (n.bit_length() + 7) // 8
    digest = _SHA256_PREFIX + hashlib.sha256(message).digest()
    if size < len(digest) + 11:
        raise _fail("the service-account private key is too short for RS256")
    encoded = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
    m = int.from_bytes(encoded, "big")
    if p and q:  # the Chinese remainder theorem: ~3x faster than pow(m, d, n)
        s1 = pow(m, dp, p)
        s2 = pow(m, dq, q)
        s = s2 + q * ((qinv * (s1 - s2)) % p)
    else:
        s = pow(m, d, n)
    return s.to_bytes(size, "big")


def _private_key(pem: str) -> tuple[int, ...]:
    try:
        lines = [line.strip() for line in pem.strip().splitlines()]
        body = base64.b64decode("".join(line for line in lines if line and not line.startswith("-----")))
        tag, value, _ = _der(body, 0)
        items = _sequence(value)
        if len(items) == 3 and items[2][0] == 0x04:  # PKCS#8 PrivateKeyInfo → the RSAPrivateKey inside
            _, value, _ = _der(items[2][1], 0)
            items = _sequence(value)
        numbers = [int.from_bytes(v, "big") for t, v in items if t == 0x02]
        if len(numbers) < 9:
            raise ValueError("not an RSA private key")
        return tuple(numbers[1:9])
    except (ValueError, IndexError, TypeError, AttributeError):
        raise _fail("the service-account private_key is not a PEM RSA private key") from None


def _der(data: bytes, at: int) -> tuple[int, bytes, int]:
    tag = data[at]
    length = data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    value = data[at : at + length]
    if len(value) != length:
        raise ValueError("truncated DER")
    return tag, value, at + length


def _sequence(data: bytes) -> list[tuple[int, bytes]]:
    items, at = [], 0
    while at < len(data):
        tag, value, at = _der(data, at)
        items.append((tag, value))
    return items
