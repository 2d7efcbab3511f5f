"""Embeddings are cached per input item: a batch with some items seen before sends only the
new ones to the provider, and the answer is stitched back together in the original order."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .keys import hash_key

if TYPE_CHECKING:
    from ..call import Call

FORMAT = 1


def split_items(value: Any) -> tuple[list, bool]:
    """(the items, whether the input was a single item rather than a list of them)."""
    if isinstance(value, str) or (isinstance(value, list) and value and isinstance(value[0], int)):
        return [value], True
    return list(value), False


def item_key(call: Call, item: Any, namespace: str | None) -> str:
    material = {
        "call_type": "embedding",
        "provider": call.provider_name,
        "model": call.provider_model,
        "params": {k: v for k, v in call.params.items() if k != "user"},
        "input": item,
    }
    return hash_key(material, namespace)


def encode_item(embedding: Any) -> str:
    return json.dumps({"format": FORMAT, "embedding": embedding})


def decode_item(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
        return entry["embedding"] if entry.get("format") == FORMAT else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # corrupt: a miss, overwritten after the call


def assemble(call: Call, vectors: list, fresh: Any | None) -> dict:
    """The whole EmbeddingResponse (as OpenAI JSON) from cached vectors and the provider's answer."""
    usage = {"prompt_tokens": 0, "total_tokens": 0}
    if fresh is not None and fresh.usage is not None:
        usage = {"prompt_tokens": fresh.usage.prompt_tokens, "total_tokens": fresh.usage.total_tokens}
    return {
        "object": "list",
        "model": fresh.model if fresh is not None and fresh.model else call.provider_model,
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "usage": usage,
    }
