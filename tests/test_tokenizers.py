"""token_counter / encode / decode: tiktoken's counts from llmtap's shipped encoding data, offline."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import pytest

import llmtap
from llmtap import tokenizers
from llmtap.tokens import decode, encode, format_tools

CORPUS = [
    "hello world",
    "Hello, world! How's it going? I'd've thought 1234567 + 89 = 1234656.",
    "  leading spaces\n\n\ttabs and\r\nnewlines   ",
    "naïve café — 東京 🚀 emoji 👋🏽 and Ελληνικά",
    "<|endoftext|> special-token text is plain text here",
    "def f(x):\n    return {'a': [1, 2, 3]}  # code\n",
    "",
]

_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


def test_shipped_encodings_are_tiktokens_own(tmp_path) -> None:
    """tiktoken, given our decompressed files in its cache (it checks its pinned SHA-256 itself),
    builds its own encodings; ours must tokenize every text identically."""
    for name, url in _URLS.items():
        (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(tokenizers.rank_file_bytes(name))
    script = textwrap.dedent(
        """
        import json, sys, tiktoken
        corpus = json.loads(sys.argv[1])
        print(json.dumps({n: [tiktoken.get_encoding(n).encode(t, disallowed_special=()) for t in corpus]
                          for n in ("cl100k_base", "o200k_base")}))
        """
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script, json.dumps(CORPUS)], env=env, check=True,
                         capture_output=True, text=True).stdout
    theirs = json.loads(out)
    for name in _URLS:
        ours = tokenizers.encoding(name)
        assert [ours.encode_ordinary(t) for t in CORPUS] == theirs[name], name


def test_nothing_is_downloaded(tmp_path) -> None:
    """An empty tiktoken cache and no network at all: counting still works."""
    script = textwrap.dedent(
        """
        import socket
        def refuse(*a, **k):
            raise OSError("network used")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        import llmtap
        assert llmtap.token_counter(model="gpt-4o", text="hello world") == 2
        assert llmtap.token_counter(model="gpt-4", text="hello world") == 2
        print("ok")
        """
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
    assert list(tmp_path.iterdir()) == []  # and nothing was written to tiktoken's cache


def test_import_llmtap_loads_no_tokenizer() -> None:
    code = "import sys, llmtap; assert 'tiktoken' not in sys.modules and 'tokenizers' not in sys.modules; print('ok')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "ok"


def test_model_picks_its_encoding() -> None:
    text = "naïve café — 東京 🚀"
    o200k, cl100k = tokenizers.encoding("o200k_base"), tokenizers.encoding("cl100k_base")
    for model in ("gpt-4o", "gpt-4o-mini", "openai/gpt-4.1", "o3-mini", "gpt-5", "azure/gpt-4o"):
        assert llmtap.token_counter(model=model, text=text) == len(o200k.encode_ordinary(text)), model
    for model in ("gpt-4", "gpt-3.5-turbo", "text-embedding-3-small", "claude-3-5-haiku-20241022", "", None):
        assert llmtap.token_counter(model=model, text=text) == len(cl100k.encode_ordinary(text)), model
    assert len(o200k.encode_ordinary(text)) != len(cl100k.encode_ordinary(text))


def test_message_accounting() -> None:
    count = lambda t: len(tokenizers.encoding("o200k_base").encode_ordinary(t))  # noqa: E731
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather in Paris?", "name": "bob"},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "18C"},
        {"role": "user", "content": [{"type": "text", "text": "and this?"},
                                     {"type": "image_url", "image_url": {"url": "https://example.invalid/x.png"}}]},
    ]
    expected = 3 + 5 * 3
    expected += count("system") + count("You are terse.")
    expected += count("user") + count("Weather in Paris?") + count("bob") + 1
    expected += count("assistant") + count('{"city":"Paris"}')
    expected += count("tool") + count("c1") + count("18C")
    expected += count("user") + count("and this?") + 85
    assert llmtap.token_counter(model="gpt-4o", messages=messages) == expected
    assert llmtap.token_counter(model="gpt-4o", messages=messages, count_response_tokens=True) == expected - 3
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
              "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City"},
                                                               "unit": {"type": "string", "enum": ["C", "F"]}},
                             "required": ["city"]}}}]
    rendered = format_tools(tools)
    assert rendered == (
        "namespace functions {\n\n// Weather now\ntype get_weather = (_: {\n// City\ncity: string,\n"
        'unit?: "C" | "F",\n}) => any;\n\n} // namespace functions'
    )
    with_tools = llmtap.token_counter(model="gpt-4o", messages=messages, tools=tools)
    assert with_tools == expected + count(rendered) + 9 - 4  # a system message takes 4 off
    forced = {"type": "function", "function": {"name": "get_weather"}}
    assert llmtap.token_counter(model="gpt-4o", messages=messages, tools=tools, tool_choice=forced) == (
        with_tools + 7 + count("get_weather")
    )


def test_encode_decode_round_trip() -> None:
    for text in CORPUS:
        ids = encode(model="gpt-4o", text=text)
        assert decode(model="gpt-4o", tokens=ids) == text
    assert llmtap.encode is encode and llmtap.decode is decode
    assert encode(model="gpt-4", text="hello world") == [15339, 1917]


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="not both"):
        llmtap.token_counter(text="a", messages=[])
    with pytest.raises(ValueError, match="text or messages"):
        llmtap.token_counter(model="gpt-4o")
    with pytest.raises(ValueError, match="text must be"):
        llmtap.token_counter(model="gpt-4o", text=42)
    with pytest.raises(ValueError, match="messages must be dicts"):
        llmtap.token_counter(model="gpt-4o", messages=["hi"])
    with pytest.raises(ValueError, match="non-negative integers"):
        decode(model="gpt-4o", tokens=["a"])
    with pytest.raises(ValueError, match="custom_tokenizer"):
        llmtap.token_counter(text="x", custom_tokenizer="bpe")
    assert llmtap.token_counter(model="gpt-4o", messages=[{"role": "user", "content": [object()]}],
                                default_token_count=7) == 3 + 1 + 3 + 7


def test_damaged_data_is_refused(monkeypatch) -> None:
    monkeypatch.setitem(tokenizers.ENCODINGS["cl100k_base"], "sha256", "0" * 64)
    with pytest.raises(tokenizers.TokenizerDataError, match="pinned hash"):
        tokenizers.rank_file_bytes("cl100k_base")


def test_without_tiktoken_the_estimate_stays() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["tiktoken"] = None  # as if the extra were not installed
        import llmtap
        assert llmtap.token_counter(model="gpt-4o", text="x" * 400) == 100
        assert llmtap.token_counter(messages=[{"role": "user", "content": "abcdefgh"}]) == 3 + 3 + 2
        try:
            llmtap.encode(model="gpt-4o", text="hi")
        except ImportError as exc:
            assert "llmtap[tokenizers]" in str(exc)
        else:
            raise AssertionError("encode without tiktoken")
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def _word_level_json() -> str:
    vocab = {"[UNK]": 0, "hello": 1, "world": 2, "big": 3}
    return json.dumps({
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
        "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None, "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    })


def test_custom_hugging_face_tokenizers(tmp_path) -> None:
    tok = llmtap.create_tokenizer(_word_level_json())
    assert tok["type"] == "huggingface_tokenizer"
    assert llmtap.token_counter(custom_tokenizer=tok, text="hello big world") == 3
    assert encode(text="hello world", custom_tokenizer=tok) == [1, 2]
    assert llmtap.token_counter(custom_tokenizer=tok, messages=[{"role": "user", "content": "hello"}]) == 3 + 1 + 1 + 3
    (tmp_path / "tokenizer.json").write_text(_word_level_json())
    local = llmtap.create_pretrained_tokenizer(str(tmp_path))
    assert encode(text="world hello", custom_tokenizer=local) == [2, 1]
