"""``llmtap demo``: what llmtap does, shown offline against the built-in provider emulator."""

from __future__ import annotations

import asyncio
import os
import time

import llmtap
from llmtap.integrations.custom_logger import CustomLogger


class PrintEvents(CustomLogger):
    """A small handler: one line per event, with cost and latency on success."""

    def log_pre_api_call(self, model, messages, kwargs):
        _say(f"  [callback] pre   {model}  attempt {kwargs['additional_args']['attempt']}")

    def log_post_api_call(self, kwargs, response_obj, start_time, end_time):
        _say(f"  [callback] post  {kwargs['model']}")

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        cost = kwargs.get("response_cost")
        price = "no price" if cost is None else f"${cost:.8f}"
        usage = response_obj.usage
        _say(
            f"  [callback] success {kwargs['model']}  {usage.total_tokens} tokens  "
            f"{price}  {(end_time - start_time).total_seconds() * 1000:.1f} ms"
            + ("  (stream)" if kwargs["stream"] else "")
        )

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        _say(f"  [callback] failure {kwargs['model']}  {type(kwargs['exception']).__name__}")

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.log_success_event(kwargs, response_obj, start_time, end_time)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.log_failure_event(kwargs, response_obj, start_time, end_time)


def _say(text: str) -> None:
    print(text, flush=True)


def _heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def run() -> int:
    from llmtap.testing import Emulator, Fault

    with Emulator() as emulator:
        os.environ["OPENAI_API_KEY"] = "sk-demo-key"
        os.environ["OPENAI_BASE_URL"] = emulator.openai_base
        llmtap.callbacks = [PrintEvents()]
        messages = [{"role": "user", "content": "Hi 👋 - i'm openai"}]
        print(f"llmtap {llmtap.__version__} demo — provider emulator at {emulator.url}")

        _heading("1. A plain call")
        response = llmtap.completion(model="gpt-4o-mini", messages=messages)
        llmtap.flush()
        _say(f"  answer: {response.choices[0].message.content}")

        _heading("2. A stream, printed as it arrives")
        stream = llmtap.completion(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "tell me a short story"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        llmtap.flush()  # let the pre/post lines print before the answer does
        print("  answer: ", end="", flush=True)
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                print(chunk.choices[0].delta.content, end="", flush=True)
                time.sleep(0.02)
        print()
        llmtap.flush()

        _heading("3. Eight async calls at once (Azure OpenAI deployment)")

        async def batch() -> list:
            calls = [
                llmtap.acompletion(
                    model="azure/gpt-4o-mini",
                    api_base=emulator.azure_base,
                    api_key="azure-demo-key",
                    api_version="2024-10-21",
                    messages=[{"role": "user", "content": f"question {i}"}],
                )
                for i in range(8)
            ]
            return await asyncio.gather(*calls)

        started = time.perf_counter()
        answers = asyncio.run(batch())
        elapsed = (time.perf_counter() - started) * 1000
        llmtap.flush()
        _say(f"  {len(answers)} answers in {elapsed:.0f} ms; first: {answers[0].choices[0].message.content}")

        _heading("4. A flaky provider: two 503s, then an answer (num_retries=3)")
        emulator.clear()
        emulator.push(Fault(503, retry_after=0.2), Fault(503, retry_after=0.2))
        response = llmtap.completion(model="gpt-4o-mini", messages=messages, num_retries=3)
        llmtap.flush()
        _say(f"  the emulator saw {len(emulator.requests)} requests; answer: {response.choices[0].message.content}")

        _heading("5. A failure that no retry can fix: a wrong key")
        strict = Emulator(api_key="sk-the-right-key").start()
        try:
            llmtap.completion(model="gpt-4o-mini", messages=messages, api_base=strict.openai_base, api_key="sk-wrong")
        except llmtap.AuthenticationError as exc:
            llmtap.flush()
            _say(f"  caught {type(exc).__name__} (status {exc.status_code}): {exc.message}")
        finally:
            strict.stop()

        _heading("6. Bad input is refused before anything is sent")
        try:
            llmtap.completion(model="gpt-4o-mini", messages=[{"content": "no role"}])
        except llmtap.BadRequestError as exc:
            _say(f"  caught {type(exc).__name__}: {exc.message}")

        stats = llmtap.callback_stats()
        _heading(f"Callbacks delivered: {stats['delivered']}, failed: {stats['failed']}, pending: {stats['pending']}")
        llmtap.callbacks = []
    return 0
