"""Callback names as strings (#14 item 8): built-ins work; a peer-only name fails once, where it
is set (assignment) or at the first call that sees it (append, per-call list) — never every call."""

from __future__ import annotations

import subprocess
import sys

import pytest

import llmtap
from llmtap.logging import sinks

MESSAGES = [{"role": "user", "content": "x"}]


@pytest.fixture(autouse=True)
def _clean():
    saved = {name: list(getattr(llmtap, name)) for name in ("callbacks", "success_callback", "failure_callback", "input_callback")}
    sinks._reported.clear()
    yield
    for name, value in saved.items():
        setattr(llmtap, name, value)
    sinks._reported.clear()


def _call() -> str:
    return llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="ok").choices[0].message.content


@pytest.mark.parametrize("list_name", ["callbacks", "success_callback", "failure_callback", "input_callback"])
@pytest.mark.parametrize("name", ["langfuse", "langsmith", "datadog", "helicone", "s3", "sentry", "made-up"])
def test_assignment_of_an_unshipped_name_fails_there_naming_the_built_ins(list_name: str, name: str) -> None:
    before = getattr(llmtap, list_name)
    with pytest.raises(ValueError, match=rf"llmtap\.{list_name}: .*{name!r}.*built-ins: jsonl, otel, prometheus"):
        setattr(llmtap, list_name, ["jsonl", name])
    assert getattr(llmtap, list_name) is before  # the bad list was not taken
    assert _call() == "ok"


def test_built_in_names_are_accepted_and_work(tmp_path, monkeypatch) -> None:
    llmtap.callbacks = ["prometheus"]
    llmtap.success_callback = ("otel",)
    llmtap.callbacks = []
    llmtap.success_callback = []
    assert _call() == "ok"


def test_appended_name_fails_the_first_call_only() -> None:
    llmtap.callbacks = []
    llmtap.callbacks.append("langfuse")
    with pytest.raises(llmtap.BadRequestError, match="'langfuse' is a LiteLLM integration llmtap does not ship") as info:
        _call()
    assert "jsonl, otel, prometheus" in str(info.value)
    for _ in range(3):
        assert _call() == "ok"


def test_per_call_name_fails_once_per_name() -> None:
    with pytest.raises(llmtap.BadRequestError, match="'posthog'"):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="ok", callbacks=["posthog"])
    answer = llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="ok", callbacks=["posthog"])
    assert answer.choices[0].message.content == "ok"
    with pytest.raises(llmtap.BadRequestError, match="'slack'"):
        llmtap.completion(model="gpt-4o-mini", messages=MESSAGES, mock_response="ok", callbacks=["slack"])


async def test_async_calls_report_the_same_way() -> None:
    llmtap.success_callback.append("wandb")
    with pytest.raises(llmtap.BadRequestError, match="'wandb'"):
        await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, mock_response="ok")
    answer = await llmtap.acompletion(model="gpt-4o-mini", messages=MESSAGES, mock_response="ok")
    assert answer.choices[0].message.content == "ok"


def test_other_settings_assign_and_read_as_before() -> None:
    llmtap.num_retries = 3
    assert llmtap.num_retries == 3
    llmtap.num_retries = None
    llmtap.callbacks = "not a list"  # not a list: left to the call's own checks, as before
    llmtap.callbacks = []
    assert type(sys.modules["llmtap"]).__name__ == "_SettingsModule"


def test_setting_reads_stay_plain_module_reads() -> None:
    script = (
        "import sys, timeit, llmtap\n"
        "read = lambda: min(timeit.repeat('m.num_retries', globals={'m': llmtap}, number=200000, repeat=5))\n"
        "with_check = read()\n"
        "sys.modules['llmtap'].__class__ = type(sys)\n"
        "print(with_check / read())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert float(done.stdout) < 2, done.stderr  # measured ~1.0 (62 ns both); loose for a loaded CI


def test_in_place_add_is_reported_once_at_the_assignment() -> None:
    llmtap.callbacks = []
    with pytest.raises(ValueError, match="'datadog'"):
        llmtap.callbacks += ["datadog"]
    assert _call() == "ok"  # already reported: the call does not fail again
