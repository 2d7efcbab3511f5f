"""DSPy: dspy.LM through its chat, JSON and native-tool adapters, streaming, async, retries."""

from __future__ import annotations

import asyncio
import json

import dspy
from common import MODEL, body_facts

from llmtap.testing import Fault, Reply

CHAT_ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"


def _lm(**kwargs):
    return dspy.LM(MODEL, cache=False, **kwargs)


def chat(emu):
    emu.push(Reply(content=CHAT_ANSWER))
    with dspy.context(lm=_lm(), adapter=dspy.ChatAdapter()):
        pred = dspy.Predict("question -> answer")(question="What is the capital of France?")
    return {"answer": pred.answer, **body_facts(emu)}


def json_adapter(emu):
    emu.push(Reply(content=json.dumps({"answer": "Paris"})))
    with dspy.context(lm=_lm(), adapter=dspy.JSONAdapter()):
        pred = dspy.Predict("question -> answer")(question="What is the capital of France?")
    return {"answer": pred.answer, **body_facts(emu)}


def async_call(emu):
    emu.push(Reply(content=CHAT_ANSWER))

    async def go():
        with dspy.context(lm=_lm(), adapter=dspy.ChatAdapter()):
            return await dspy.Predict("question -> answer").acall(question="What is the capital of France?")

    return {"answer": asyncio.run(go()).answer, **body_facts(emu)}


def stream(emu):
    emu.push(Reply(content=CHAT_ANSWER, chunks=6))
    predict = dspy.streamify(
        dspy.Predict("question -> answer"),
        stream_listeners=[dspy.streaming.StreamListener(signature_field_name="answer")],
    )

    async def go():
        pieces, final = [], None
        with dspy.context(lm=_lm(), adapter=dspy.ChatAdapter()):
            async for item in predict(question="What is the capital of France?"):
                if isinstance(item, dspy.streaming.StreamResponse):
                    pieces.append(item.chunk)
                elif isinstance(item, dspy.Prediction):
                    final = item
        return pieces, final

    pieces, final = asyncio.run(go())
    return {"streamed": "".join(pieces).strip(), "answer": final.answer, **body_facts(emu)}


def tools(emu):
    def get_weather(city: str) -> str:
        """Weather in a city."""
        return f"sunny in {city}"

    class Ask(dspy.Signature):
        question: str = dspy.InputField()
        tools: list[dspy.Tool] = dspy.InputField()
        calls: dspy.ToolCalls = dspy.OutputField()

    emu.push(Reply(tool_calls=[{"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}]))
    with dspy.context(lm=_lm(), adapter=dspy.ChatAdapter(use_native_function_calling=True)):
        pred = dspy.Predict(Ask)(question="Weather in Paris?", tools=[dspy.Tool(get_weather)])
    calls = [(c.name, c.args) for c in pred.calls.tool_calls]
    return {"calls": calls, **body_facts(emu)}


def retries(emu):
    emu.push(Fault(503), Reply(content=CHAT_ANSWER))
    with dspy.context(lm=_lm(num_retries=2), adapter=dspy.ChatAdapter()):
        pred = dspy.Predict("question -> answer")(question="What is the capital of France?")
    return {"answer": pred.answer}


def usage(emu):
    emu.push(Reply(content=CHAT_ANSWER, prompt_tokens=11, completion_tokens=7))
    dspy.settings.configure(track_usage=True)
    try:
        with dspy.context(lm=_lm(), adapter=dspy.ChatAdapter()):
            pred = dspy.Predict("question -> answer")(question="What is the capital of France?")
    finally:
        dspy.settings.configure(track_usage=False)
    usage = pred.get_lm_usage()[MODEL]
    return {k: usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}


def history(emu):
    emu.push(Reply(content=CHAT_ANSWER))
    lm = _lm()
    with dspy.context(lm=lm, adapter=dspy.ChatAdapter()):
        dspy.Predict("question -> answer")(question="What is the capital of France?")
    entry = lm.history[-1]
    return {"outputs": entry["outputs"], "model": entry["model"], "has_cost": "cost" in entry}


SCENARIOS = {
    "chat": chat,
    "json": json_adapter,
    "async": async_call,
    "stream": stream,
    "tools": tools,
    "retries": retries,
    "usage": usage,
    "history": history,
}
