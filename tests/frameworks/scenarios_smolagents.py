"""smolagents: LiteLLMModel.generate / generate_stream, tool calling, JSON, rate-limit retries."""

from __future__ import annotations

import json

from common import MODEL, body_facts
from smolagents import LiteLLMModel, tool

from llmtap.testing import Fault, Reply

MESSAGES = [{"role": "user", "content": [{"type": "text", "text": "What is the capital of France?"}]}]


@tool
def get_weather(city: str) -> str:
    """Weather in a city.

    Args:
        city: the city's name.
    """
    return f"sunny in {city}"


def _model():
    model = LiteLLMModel(model_id=MODEL)
    model.retryer.wait_seconds = 0.01
    return model


def chat(emu):
    emu.push(Reply(content="Paris.", prompt_tokens=9, completion_tokens=2))
    out = _model().generate(MESSAGES)
    usage = out.token_usage
    return {"content": out.content, "role": str(out.role), "tokens": [usage.input_tokens, usage.output_tokens], **body_facts(emu)}


def stream(emu):
    emu.push(Reply(content="The capital is Paris.", chunks=4, prompt_tokens=9, completion_tokens=5))
    deltas = list(_model().generate_stream(MESSAGES))
    text = "".join(d.content or "" for d in deltas)
    usage = [(d.token_usage.input_tokens, d.token_usage.output_tokens) for d in deltas if d.token_usage]
    return {"text": text, "usage": usage, **body_facts(emu)}


def tools(emu):
    emu.push(Reply(tool_calls=[{"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}]))
    out = _model().generate(MESSAGES, tools_to_call_from=[get_weather])
    calls = [(c.function.name, c.function.arguments) for c in out.tool_calls]
    return {"calls": calls, **body_facts(emu)}


def json_output(emu):
    emu.push(Reply(content=json.dumps({"city": "Paris"})))
    out = _model().generate(MESSAGES, response_format={"type": "json_object"})
    return {"parsed": json.loads(out.content), **body_facts(emu)}


def retries(emu):
    # Three 429s: the peer's default client retries (2) absorb them, smolagents' own retry
    # then succeeds; without those defaults smolagents would give up after its 3 attempts.
    emu.push(*[Fault.rate_limit(retry_after=0.01)] * 3, Reply(content="Paris."))
    out = _model().generate(MESSAGES)
    return {"content": out.content}


def agent(emu):
    from smolagents import ToolCallingAgent

    emu.push(
        Reply(tool_calls=[{"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}]),
        Reply(tool_calls=[{"name": "final_answer", "arguments": json.dumps({"answer": "sunny"})}]),
    )
    agent = ToolCallingAgent(tools=[get_weather], model=_model(), max_steps=3, verbosity_level=0)
    return {"answer": agent.run("Weather in Paris?")}


SCENARIOS = {
    "chat": chat,
    "stream": stream,
    "tools": tools,
    "json": json_output,
    "retries": retries,
    "agent": agent,
    "router": lambda emu: router(emu),
}


def router(emu):
    """LiteLLMRouterModel: a model group of two deployments behind the (llmtap or peer) Router."""
    from smolagents import LiteLLMRouterModel

    deployment = {"model": MODEL, "api_base": emu.openai_base, "api_key": "sk-framework-test"}
    model = LiteLLMRouterModel(
        model_id="group-1",
        model_list=[
            {"model_name": "group-1", "litellm_params": dict(deployment)},
            {"model_name": "group-1", "litellm_params": dict(deployment)},
        ],
        client_kwargs={"routing_strategy": "simple-shuffle"},
    )
    emu.push(Reply(content="Paris.", prompt_tokens=9, completion_tokens=2))
    out = model.generate(MESSAGES)
    emu.push(Reply(content="Sunny.", tool_calls=[{"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}]))
    called = model.generate(MESSAGES, tools_to_call_from=[get_weather])
    return {
        "content": out.content,
        "tool": [c.function.name for c in called.tool_calls or []],
        **body_facts(emu),
    }
