"""OpenAI's tokenizers, offline: tiktoken (the optional ``llmtap[tokenizers]`` extra) with its
encoding data shipped inside llmtap, so counting never downloads anything.

tiktoken's own ``get_encoding`` fetches each encoding's rank file from OpenAI on first use
(cached under ``TIKTOKEN_CACHE_DIR``); on a machine without that host it fails. llmtap ships the
two rank files current models use (cl100k_base, o200k_base; xz-compressed, checked against
the SHA-256 tiktoken itself pins) in data/tokenizers/ and builds ``tiktoken.Encoding`` from
them directly, without touching ``TIKTOKEN_CACHE_DIR`` or any other process-wide setting.
Nothing loads until the first count; without tiktoken, ``encoding()`` returns None and
``token_counter`` falls back to its estimate.
"""

from __future__ import annotations

import threading
from typing import Any

# Each encoding's split pattern and special tokens, as tiktoken defines them (tiktoken_ext/
# openai_public.py), and the SHA-256 of its rank file, as tiktoken pins it.
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
ENCODINGS: dict[str, dict[str, Any]] = {
    "cl100k_base": {
        "pat_str": _CL100K_PATTERN,
        "special_tokens": {
            "<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276,
        },
        "sha256": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    },
    "o200k_base": {
        "pat_str": _O200K_PATTERN,
        "special_tokens": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
        "sha256": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    },
}
DEFAULT = "cl100k_base"

_lock = threading.Lock()
_loaded: dict[str, Any] = {}
_absent = False


class TokenizerDataError(RuntimeError):
    """A shipped encoding file is missing or does not match tiktoken's pinned hash."""


def rank_file_bytes(name: str) -> bytes:
    """The original ``<name>.tiktoken`` rank file, decompressed and verified."""
    import hashlib
    import lzma
    from importlib import resources

    spec = ENCODINGS[name]
    try:
        packed = resources.files("llmtap").joinpath(f"data/tokenizers/{name}.tiktoken.xz").read_bytes()
        data = lzma.decompress(packed)
    except (OSError, lzma.LZMAError) as exc:
        raise TokenizerDataError(f"llmtap's {name} tokenizer data is missing or damaged: {exc}") from None
    if hashlib.sha256(data).hexdigest() != spec["sha256"]:
        raise TokenizerDataError(f"llmtap's {name} tokenizer data does not match tiktoken's pinned hash")
    return data


def _ranks(data: bytes) -> dict[bytes, int]:
    import base64

    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def encoding(name: str = DEFAULT) -> Any:
    """The ``tiktoken.Encoding`` called ``name``, built once from the shipped data; None when
    tiktoken is not installed."""
    global _absent
    found = _loaded.get(name)
    if found is not None or _absent:
        return found
    with _lock:
        found = _loaded.get(name)
        if found is not None:
            return found
        try:
            import tiktoken
        except ImportError:
            _absent = True
            return None
        spec = ENCODINGS[name]
        found = tiktoken.Encoding(
            name=name,
            pat_str=spec["pat_str"],
            mergeable_ranks=_ranks(rank_file_bytes(name)),
            special_tokens=spec["special_tokens"],
        )
        _loaded[name] = found
        return found


def encoding_name_for_model(model: str | None) -> str:
    """o200k_base for the GPT-4o generation and later (4.1, 4.5, o-series, GPT-5), cl100k_base
    for the rest: GPT-4, GPT-3.5, the embedding models, and every non-OpenAI model (whose own
    tokenizer llmtap does not ship; the count is then an approximation, as in the peer)."""
    if not model:
        return DEFAULT
    name = model.rsplit("/", 1)[-1].lower()
    if name.startswith("ft:"):
        name = name[3:]
    if "gpt-4o" in name or name.startswith(("gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o",
                                             "gpt-oss", "codex-", "computer-use", "gpt-realtime", "gpt-audio")):
        return "o200k_base"
    return DEFAULT
