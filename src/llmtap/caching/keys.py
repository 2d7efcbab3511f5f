"""The cache key: a stable hash of the model and of everything that changes the answer.

Included: the call type, the provider, the model, the messages (or prompt, or input), every
provider parameter except ``user`` and the stream switches, and ``extra_body``. Never included:
the API key, the base URL, metadata, timeouts, retries, headers. JSON with sorted keys, then
SHA-256, so the same call gives the same key in every process and on every machine::

    sha256(json.dumps({"call_type", "provider", "model", "messages"|"prompt"|"input",
                       "params", "extra_body"}, sort_keys=True))
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..call import Call

_NOT_IN_KEY = frozenset({"user", "stream", "stream_options"})


def cache_key(call: Call, namespace: str | None = None) -> str:
    material: dict[str, Any] = {
        "call_type": call.call_type,
        "provider": call.provider_name,
        "model": call.provider_model,
        "params": {k: v for k, v in call.params.items() if k not in _NOT_IN_KEY},
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
