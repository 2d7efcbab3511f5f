"""Helpers the scenario modules share."""

from __future__ import annotations

import json

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
MODEL = "openai/gpt-4o-mini"


def last_body(emu) -> dict:
    return json.loads(emu.requests[-1].body)


def body_facts(emu) -> dict:
    """What the framework asked of the provider, in terms both modes must agree on."""
    body = last_body(emu)
    fmt = body.get("response_format")
    return {
        "stream": bool(body.get("stream")),
        "tools": sorted(t["function"]["name"] for t in body.get("tools") or []),
        "response_format": fmt.get("type") if isinstance(fmt, dict) else None,
        "roles": [m["role"] for m in body.get("messages", [])],
    }
