"""The cache key: a stable hash of the model and of everything that changes the answer.

Included: the call type, the provider, the model, the messages (or prompt, or input), every
provider parameter except the stream switches (``user`` included: providers may answer per
user), ``extra_body``, and what selects a different deployment or answer: the base URL, the API
version and the request headers the caller added (``anthropic-beta`` turns features on), except
headers that only authenticate or trace a request. Never included: the API key, metadata,
timeouts, retries. JSON with sorted keys, then SHA-256, so the same call gives the same key in
every process and on every machine::

    sha256(json.dumps({"call_type", "provider", "model", "messages"|"prompt"|"input",
                       "params", "extra_body", "api_base", "api_version", "headers"},
                      sort_keys=True))
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..call import Call

_NOT_IN_KEY = frozenset({"stream", "stream_options"})
# Header names holding any of these only authenticate, trace or identify one request: they
# never change the answer, and per-request values in them would make every key unique.
_HEADERS_NOT_IN_KEY = (
    "authorization", "api-key", "apikey", "x-api-key", "token", "cookie", "secret", "password",
    "trace", "request-id", "correlation", "idempotency", "user-agent", "x-stainless",
)


def deployment(call: Call) -> dict[str, Any]:
    """What, besides the model and the input, picks the server and the answer: part of every key.

    A Router attempt is keyed by its model group instead: the group's deployments serve one
    model, so an answer from any of them answers the group (as the peer's Router caches)."""
    group = getattr(call.router_attempt, "group", None)
    if group is not None:
        return {"provider": "router", "model": group}
    material: dict[str, Any] = {}
    if call.api_base:
        material["api_base"] = call.api_base.rstrip("/")
    if call.api_version:
        material["api_version"] = call.api_version
    if call.extra_headers:
        headers = {
            str(name).lower(): str(value)
            for name, value in call.extra_headers.items()
            if not any(part in str(name).lower() for part in _HEADERS_NOT_IN_KEY)
        }
        if headers:
            material["headers"] = headers
    return material


def cache_key(call: Call, namespace: str | None = None) -> str:
    material: dict[str, Any] = {
        "call_type": call.call_type,
        "provider": call.provider_name,
        "model": call.provider_model,
        "params": {k: v for k, v in call.params.items() if k not in _NOT_IN_KEY},
        **deployment(call),
    }
    if call.messages is not None:
        material["messages"] = call.messages
    if call.prompt is not None:
        material["prompt"] = call.prompt
    if call.input is not None:
        material["input"] = call.input
    if call.extra_body:
        material["extra_body"] = call.extra_body
    return hash_key(material, namespace)


def hash_key(material: dict, namespace: str | None = None) -> str:
    """The key for some material: SHA-256 of its canonical JSON, after the namespace if any."""
    text = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{namespace}:{digest}" if namespace else digest
