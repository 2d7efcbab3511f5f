"""api_base values that urllib itself chokes on: an llmtap error, before sending, never a secret."""

from __future__ import annotations

import pytest

import llmtap

from .conftest import MESSAGES


@pytest.mark.parametrize(
    "base",
    ["http://user:hunter2pass@[bad", "http://user:hunter2pass@127.0.0.1:99999/v1", "http://user:hunter2pass@/v1"],
)
@pytest.mark.parametrize("mode", ["sync", "async", "stream"])
async def test_an_unparseable_api_base_is_a_bad_request_without_its_password(emulator, base, mode) -> None:
    kwargs = dict(model="openai/gpt-4o-mini", messages=MESSAGES, api_base=base, api_key="sk-test")
    with pytest.raises(llmtap.BadRequestError, match="api_base must be an http") as caught:
        if mode == "async":
            await llmtap.acompletion(**kwargs)
        else:
            response = llmtap.completion(**kwargs, stream=mode == "stream")
            if mode == "stream":
                list(response)
    assert "hunter2pass" not in str(caught.value)
    assert not emulator.requests
