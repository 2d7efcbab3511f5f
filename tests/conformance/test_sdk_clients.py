"""The emulator answers the current official SDKs (openai, anthropic) as the providers do.

The SDKs are pinned in peer-requirements.txt and run in the peer virtualenv, against an
emulator in this process over a real socket. Forced tool choices must come back as tool calls
whose arguments validate against the tool's JSON schema.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from llmtap.testing import Emulator

from .conftest import ROOT, peer_env

pytestmark = pytest.mark.conformance

KEY = "sk-sdk-conformance-123456"

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import anthropic, jsonschema, openai

    base = os.environ["EMULATOR"]
    key = os.environ["KEY"]
    out = {}
    weather = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["c", "f"]},
            "days": {"type": "integer", "minimum": 1},
            "hourly": {"type": "boolean"},
            "stops": {"type": "array", "items": {"type": "number"}},
        },
        "required": ["city", "unit", "days"],
        "additionalProperties": False,
    }
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": weather}},
             {"type": "function", "function": {"name": "noop", "parameters": {"type": "object", "properties": {}}}}]

    oa = openai.OpenAI(api_key=key, base_url=base + "/v1", max_retries=0)
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    r = oa.chat.completions.create(model="gpt-4o-mini", messages=msgs)
    out["openai_plain"] = r.choices[0].message.content
    text = "".join(c.choices[0].delta.content or "" for c in oa.chat.completions.create(model="gpt-4o-mini", messages=msgs, stream=True) if c.choices)
    out["openai_stream"] = text
    for label, choice in (("named", {"type": "function", "function": {"name": "get_weather"}}), ("required", "required")):
        r = oa.chat.completions.create(model="gpt-4o-mini", messages=msgs, tools=tools, tool_choice=choice)
        call = r.choices[0].message.tool_calls[0]
        jsonschema.validate(json.loads(call.function.arguments), weather)
        out["openai_" + label] = [call.function.name, r.choices[0].finish_reason]
    r = oa.chat.completions.create(model="gpt-4o-mini", messages=msgs, tools=tools)
    out["openai_auto"] = [r.choices[0].message.tool_calls, r.choices[0].message.content is not None]
    e = oa.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    out["openai_embeddings"] = [len(e.data), len(e.data[0].embedding) > 0]
    try:
        openai.OpenAI(api_key="sk-wrong", base_url=base + "/v1", max_retries=0).chat.completions.create(model="gpt-4o-mini", messages=msgs)
    except openai.AuthenticationError as exc:
        out["openai_bad_key"] = exc.status_code

    atools = [{"name": "get_weather", "input_schema": weather}, {"name": "noop", "input_schema": {"type": "object", "properties": {}}}]
    for label, client in (("x_api_key", anthropic.Anthropic(api_key=key, base_url=base, max_retries=0)),
                          ("bearer", anthropic.Anthropic(auth_token=key, base_url=base, max_retries=0))):
        m = client.messages.create(model="claude-3-5-haiku-latest", max_tokens=100, messages=msgs)
        out["anthropic_" + label] = [m.content[0].type, m.stop_reason]
    client = anthropic.Anthropic(api_key=key, base_url=base, max_retries=0)
    with client.messages.stream(model="claude-3-5-haiku-latest", max_tokens=100, messages=msgs) as stream:
        out["anthropic_stream"] = "".join(stream.text_stream)
    for label, choice in (("any", {"type": "any"}), ("tool", {"type": "tool", "name": "get_weather"})):
        m = client.messages.create(model="claude-3-5-haiku-latest", max_tokens=100, messages=msgs, tools=atools, tool_choice=choice)
        block = next(b for b in m.content if b.type == "tool_use")
        jsonschema.validate(block.input, weather)
        out["anthropic_" + label] = [block.name, m.stop_reason]
    try:
        anthropic.Anthropic(api_key="sk-wrong", base_url=base, max_retries=0).messages.create(model="claude-3-5-haiku-latest", max_tokens=10, messages=msgs)
    except anthropic.AuthenticationError as exc:
        out["anthropic_bad_key"] = exc.status_code
    json.dump(out, sys.stdout)
    """
)


def test_current_sdks_are_answered_like_the_providers(peer_python: Path) -> None:
    with Emulator(api_key=KEY) as emulator:
        done = subprocess.run(
            [str(peer_python), "-c", SCRIPT],
            capture_output=True, text=True, timeout=300, cwd=str(ROOT),
            env=peer_env(EMULATOR=emulator.url, KEY=KEY),
        )
        assert done.returncode == 0, done.stderr[-4000:]
        out = json.loads(done.stdout)
        sent = [r.headers for r in emulator.requests if r.path == "/v1/messages"]
    assert out["openai_plain"].startswith("Hello from the llmtap emulator")
    assert out["openai_stream"] == out["openai_plain"]
    assert out["openai_named"] == ["get_weather", "tool_calls"]
    assert out["openai_required"] == ["get_weather", "tool_calls"]
    assert out["openai_auto"] == [None, True]  # not forced: text, as before
    assert out["openai_embeddings"] == [2, True]
    assert out["openai_bad_key"] == 401
    assert out["anthropic_x_api_key"] == ["text", "end_turn"]
    assert out["anthropic_bearer"] == ["text", "end_turn"]
    assert out["anthropic_stream"].startswith("Hello from the llmtap emulator")
    assert out["anthropic_any"] == ["get_weather", "tool_use"]
    assert out["anthropic_tool"] == ["get_weather", "tool_use"]
    assert out["anthropic_bad_key"] == 401
    # the SDK really sent both ways of authenticating, and its own anthropic-version
    assert any("authorization" in h and "x-api-key" not in h for h in sent)
    assert all(h.get("anthropic-version") for h in sent)
