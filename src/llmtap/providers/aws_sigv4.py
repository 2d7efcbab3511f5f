"""AWS Signature Version 4, as pure functions: a request and credentials in, headers out.

Our own signer rather than botocore's: botocore takes ~250 ms (``botocore.auth``) to ~900 ms
(``botocore.session``) to import on this machine, for what is a few HMACs. The emulator verifies
signatures with ``signature_for`` too, and a test checks this signer against botocore's on the
same request, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret_key).encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def canonical_request(method: str, url: str, headers: dict[str, str], signed: list[str], body: bytes) -> str:
    parts = urlsplit(url)
    # Every service but S3 signs the path percent-encoded once more (":" in a model id → %253A).
    path = quote(parts.path or "/", safe="/~")
    pairs = []
    for item in parts.query.split("&") if parts.query else ():
        name, _, value = item.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    query = "&".join(f"{n}={v}" for n, v in sorted(pairs))
    lowered = {name.lower(): " ".join(str(value).split()) for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in signed)
    return "\n".join(
        (method.upper(), path, query, canonical_headers, ";".join(signed), hashlib.sha256(body or b"").hexdigest())
    )


def signature_for(
    method: str, url: str, headers: dict[str, str], signed: list[str], body: bytes,
    secret_key: str, amz_date: str, region: str, service: str,
) -> str:
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    request = canonical_request(method, url, headers, signed, body)
    to_sign = f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(request.encode()).hexdigest()}"
    return hmac.new(signing_key(secret_key, amz_date[:8], region, service), to_sign.encode(), hashlib.sha256).hexdigest()


def sign(
    method: str, url: str, headers: dict[str, str], body: bytes | None, *, access_key: str, secret_key: str,
    session_token: str | None, region: str, service: str, now: datetime.datetime | None = None,
) -> dict[str, str]:
    """The headers to send: ``headers`` plus host, x-amz-date, the session token and Authorization.

    Signs host, x-amz-*, content-type and every header given except user-agent-like ones a
    proxy may rewrite."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    out = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "x-amz-date", "x-amz-security-token")}
    out["host"] = urlsplit(url).netloc.rpartition("@")[2]  # never user:password@ from the URL
    out["x-amz-date"] = amz_date
    if session_token:
        out["x-amz-security-token"] = session_token
    signed = sorted({name.lower() for name in out} - _UNSIGNED)
    signature = signature_for(method, url, out, signed, body or b"", secret_key, amz_date, region, service)
    out["Authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{amz_date[:8]}/{region}/{service}/aws4_request, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    return out


_UNSIGNED = frozenset({"user-agent", "expect", "x-amzn-trace-id", "connection", "accept-encoding"})


def parse_authorization(value: str) -> dict[str, str] | None:
    """``Credential``, ``SignedHeaders`` and ``Signature`` of an Authorization header (or None)."""
    if not value.startswith(ALGORITHM + " "):
        return None
    fields = {}
    for item in value[len(ALGORITHM) + 1 :].split(","):
        name, _, field = item.strip().partition("=")
        fields[name] = field
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        return None
    return fields
