"""langchain-litellm: ChatLiteLLM invoke / stream / bind_tools / ainvoke, and ChatLiteLLMRouter
over the Router of whichever litellm is installed (llmtap's under install_as_litellm)."""

from __future__ import annotations

import asyncio
import json

import litellm
from common import MODEL, body_facts
from langchain_litellm import ChatLiteLLM, ChatLiteLLMRouter

from llmtap.testing import Reply

QUESTION = "What is the capital of France?"


def get_weather(city: str) -> str:
    """Weather in a city.

    Args:
        city: the city's name.
    """
    return f"sunny in {city}"


def _chat():
    return ChatLiteLLM(model=MODEL, max_retries=0)


def invoke(emu):
    emu.push(Reply(content="Paris.", prompt_tokens=9, completion_tokens=2))
    out = _chat().invoke(QUESTION)
    usage = out.usage_metadata or {}
    return {"content": out.content, "tokens": [usage.get("input_tokens"), usage.get("output_tokens")], **body_facts(emu)}


def stream(emu):
    emu.push(Reply(content="The capital is Paris.", chunks=4, prompt_tokens=9, completion_tokens=5))
    text = "".join(chunk.content for chunk in _chat().stream(QUESTION))
    return {"text": text, **body_facts(emu)}


def tools(emu):
    emu.push(Reply(tool_calls=[{"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}]))
    out = _chat().bind_tools([get_weather]).invoke(QUESTION)
    return {"calls": [(c["name"], c["args"]) for c in out.tool_calls], **body_facts(emu)}


def ainvoke(emu):
    emu.push(Reply(content="Paris.", prompt_tokens=9, completion_tokens=2))
    out = asyncio.run(_chat().ainvoke(QUESTION))
    return {"content": out.content, **body_facts(emu)}


def _router_chat(emu):
    router = litellm.Router(model_list=[{
        "model_name": "fast",
        "litellm_params": {"model": MODEL, "api_base": emu.openai_base, "api_key": "sk-framework-test"},
    }])
    return ChatLiteLLMRouter(router=router, model_name="fast")


def router_invoke(emu):
    emu.push(Reply(content="Paris.", prompt_tokens=9, completion_tokens=2))
    out = _router_chat(emu).invoke(QUESTION)
    return {"content": out.content, **body_facts(emu)}


def router_stream(emu):
    emu.push(Reply(content="The capital is Paris.", chunks=4))
    text = "".join(chunk.content for chunk in _router_chat(emu).stream(QUESTION))
    return {"text": text, **body_facts(emu)}


def router_ainvoke(emu):
    emu.push(Reply(content="Paris."))
    out = asyncio.run(_router_chat(emu).ainvoke(QUESTION))
    return {"content": out.content, **body_facts(emu)}


SCENARIOS = {
    "invoke": invoke,
    "stream": stream,
    "tools": tools,
    "ainvoke": ainvoke,
    "router_invoke": router_invoke,
    "router_stream": router_stream,
    "router_ainvoke": router_ainvoke,
}
