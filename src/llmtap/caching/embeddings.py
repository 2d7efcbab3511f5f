"""Embeddings are cached per input item: a batch with some items seen before sends only the
new ones to the provider, and the answer is stitched back together in the original order."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .keys import deployment, hash_key

if TYPE_CHECKING:
    from ..call import Call

FORMAT = 1


def split_items(value: Any) -> tuple[list, bool]:
    """(the items, whether the input was a single item rather than a list of them)."""
    if isinstance(value, str) or (isinstance(value, list) and value and isinstance(value[0], int)):
        return [value], True
    return list(value), False


def item_key(call: Call, item: Any, namespace: str | None) -> str:
    """One input item's key: the same parts as a whole call's key (caching/keys.py)."""
    material = {
        "call_type": "embedding",
        "provider": call.provider_name,
        "model": call.provider_model,
        "params": dict(call.params),
        "input": item,
        **deployment(call),
    }
    if call.extra_body:
        material["extra_body"] = call.extra_body
    return hash_key(material, namespace)


def encode_item(embedding: Any) -> str:
    return json.dumps({"format": FORMAT, "embedding": embedding})


def decode_item(raw: Any) -> Any:
    """The cached vector, or None for a miss: a corrupt entry or one of the wrong shape is a
    miss, overwritten after the call."""
    if raw is None:
        return None
    from ..answers import check_vector

    try:
        entry = json.loads(raw)
        if not isinstance(entry, dict) or entry.get("format") != FORMAT:
            return None
        vector = entry["embedding"]
        check_vector(vector)
        return vector
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def by_index(call: Call, fresh: Any, wanted: int) -> list:
    """The provider's vectors in input order, placed by each item's ``index`` (a provider may
    answer in any order); an answer that does not cover exactly the items sent is refused."""
    from ..answers import invalid

    vectors: list = [None] * wanted
    for position, item in enumerate(fresh.data):
        index = item.get("index", position)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < wanted or vectors[index] is not None:
            raise invalid(call, f"data[{position}].index {index!r} does not name one of the {wanted} inputs sent")
        vectors[index] = item.get("embedding")
    if any(vector is None for vector in vectors):
        raise invalid(call, f"the answer holds {len(fresh.data)} embeddings for {wanted} inputs")
    return vectors


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
