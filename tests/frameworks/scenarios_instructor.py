"""instructor: structured output through ``instructor.from_litellm`` (tools and JSON modes)."""

from __future__ import annotations

import asyncio
import json

import instructor
import litellm
from common import QUESTION, body_facts
from pydantic import BaseModel

from llmtap.testing import Fault, Reply


class City(BaseModel):
    name: str
    population: int


GOOD = {"name": "Paris", "population": 2100000}


def _tool(args) -> Reply:
    return Reply(tool_calls=[{"name": "City", "arguments": json.dumps(args)}])


def tools(emu):
    emu.push(_tool(GOOD))
    client = instructor.from_litellm(litellm.completion)
    city = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, response_model=City)
    return {"city": city.model_dump(), **body_facts(emu)}


def json_mode(emu):
    emu.push(Reply(content=json.dumps(GOOD)))
    client = instructor.from_litellm(litellm.completion, mode=instructor.Mode.JSON)
    city = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, response_model=City)
    return {"city": city.model_dump(), **body_facts(emu)}


def async_tools(emu):
    emu.push(_tool(GOOD))
    client = instructor.from_litellm(litellm.acompletion)

    async def go():
        return await client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, response_model=City)

    return {"city": asyncio.run(go()).model_dump(), **body_facts(emu)}


def validation_retry(emu):
    # instructor re-asks when the answer does not validate: two requests, the second one valid.
    emu.push(_tool({"name": "Paris", "population": "many"}), _tool(GOOD))
    client = instructor.from_litellm(litellm.completion)
    city = client.chat.completions.create(
        model="gpt-4o-mini", messages=QUESTION, response_model=City, max_retries=2
    )
    return {"city": city.model_dump(), **body_facts(emu)}


def completion_response(emu):
    emu.push(_tool(GOOD))
    client = instructor.from_litellm(litellm.completion)
    city, raw = client.chat.completions.create_with_completion(
        model="gpt-4o-mini", messages=QUESTION, response_model=City
    )
    return {
        "city": city.model_dump(),
        "finish_reason": raw.choices[0].finish_reason,
        "usage_keys": sorted(k for k in ("prompt_tokens", "completion_tokens", "total_tokens") if getattr(raw.usage, k)),
    }


def provider_error(emu):
    emu.push(Fault(401))
    client = instructor.from_litellm(litellm.completion)
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, response_model=City, max_retries=1)
    except Exception as exc:  # noqa: BLE001
        return {"raised": type(exc).__name__, "cause": type(exc.__cause__ or exc).__name__}
    return {"raised": None}


SCENARIOS = {
    "tools": tools,
    "json": json_mode,
    "async": async_tools,
    "retries": validation_retry,
    "raw_completion": completion_response,
    "error": provider_error,
}
