"""Run conformance scenarios under one library and print what its callbacks saw, as JSON.

Usage: ``python runner.py <litellm|llmtap> <scenario> [<scenario> ...]`` with the emulator's
address in ``CONFORMANCE_BASE`` and the key it accepts in ``CONFORMANCE_KEY``. The same script
runs under the peer (LiteLLM) and under llmtap; test_differential.py diffs the two outputs.

What is recorded per scenario: every hook call (which hook, how many positional arguments and
which keywords, the types of what it was given, the call's kwargs keys and their value types,
a few values the peer's users rely on, whether it ran on the caller's thread / event loop, and
whether the call had returned or raised by then), the hooks that had run when the call returned
or raised, and the shape of the returned object (and of each streamed chunk).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import sys
import threading
import time
import traceback

LIB = sys.argv[1]
if LIB == "litellm":
    import litellm as lib
    from litellm.integrations.custom_logger import CustomLogger
else:
    import llmtap as lib
    from llmtap.integrations.custom_logger import CustomLogger

BASE = os.environ["CONFORMANCE_BASE"]  # the emulator's root URL
KEY = os.environ["CONFORMANCE_KEY"]
DEAD = os.environ["CONFORMANCE_DEAD"]  # a URL nothing listens on
OPENAI = BASE + "/v1"
MESSAGES = [{"role": "user", "content": "Hi 👋 - i'm openai"}]

NEXT_CALL = "-- next call --"  # marks where a scenario's second call starts
STATE: dict = {"phase": "idle", "events": [], "thread": None, "loop": None}


# -- describing values ----------------------------------------------------------------------------


def tname(value: object) -> str:
    return type(value).__name__


def shape(value: object, depth: int = 0) -> object:
    """A type skeleton: dict keys → shapes, lists → their first item's shape, else the type name."""
    if depth > 6:
        return tname(value)
    if hasattr(value, "model_dump") and not isinstance(value, type):
        try:
            value = value.model_dump()
        except Exception:  # noqa: BLE001 - a dump that fails is itself worth recording
            return f"{tname(value)}(model_dump raised)"
    if isinstance(value, dict):
        return {str(k): shape(v, depth + 1) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [shape(value[0], depth + 1)] if value else []
    return tname(value)


def plain(value: object) -> object:
    return json.loads(json.dumps(value, default=lambda v: f"<{tname(v)}>"))


def cost_class(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return "zero" if value == 0 else "positive" if value > 0 else "negative"
    return tname(value)


def kwargs_profile(kwargs: dict) -> dict:
    """The call's kwargs: every key with its value's type, nested dicts one level down, and the
    values handlers commonly branch on."""
    profile: dict = {"keys": {str(k): tname(v) for k, v in kwargs.items()}}
    for nested in ("litellm_params", "additional_args", "optional_params"):
        value = kwargs.get(nested)
        if isinstance(value, dict):
            profile[nested] = {str(k): tname(v) for k, v in value.items()}
    litellm_params = kwargs.get("litellm_params") or {}
    values = {
        "log_event_type": kwargs.get("log_event_type"),
        "cache_hit": kwargs.get("cache_hit"),
        "response_cost": cost_class(kwargs.get("response_cost")),
        "stream": kwargs.get("stream"),
        "model": kwargs.get("model"),
        "messages": plain(kwargs.get("messages")),
        "input": plain(kwargs.get("input")),
        "api_key_is_none": kwargs.get("api_key") is None if "api_key" in kwargs else "absent",
        "original_response": _text_class(kwargs.get("original_response")) if "original_response" in kwargs else "absent",
        "metadata": _metadata(litellm_params.get("metadata")) if isinstance(litellm_params, dict) else None,
        "metadata_keys": sorted(litellm_params.get("metadata") or ()) if isinstance(litellm_params, dict) else None,
        "litellm_params.api_base": _base_class(litellm_params.get("api_base")) if isinstance(litellm_params, dict) else None,
        "exception": tname(kwargs["exception"]) if "exception" in kwargs else "absent",
    }
    profile["values"] = values
    return profile


def _metadata(value: object) -> object:
    """The caller's metadata as logged; the peer's own additions are listed in metadata_keys."""
    if isinstance(value, dict):
        return plain({k: v for k, v in value.items() if k not in ("hidden_params", "llm_api_timing_windows")})
    return plain(value)


def _text_class(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, str):
        return "empty" if not value else "text"
    return tname(value)


def _base_class(value: object) -> object:
    if value is None or value == "":
        return value
    return "url" if isinstance(value, str) else tname(value)


# -- the recorder ----------------------------------------------------------------------------------

_SIGNATURES = {
    "pre": ("model", "messages", "kwargs"),
    "event": ("kwargs", "response_obj", "start_time", "end_time"),
}


def record(hook: str, args: tuple, kw: dict, signature: str = "event") -> None:
    names = _SIGNATURES[signature]
    bound = dict(zip(names, args, strict=False))
    bound.update(kw)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    entry: dict = {
        "hook": hook,
        "positional": len(args),
        "keywords": sorted(kw),
        "thread": "caller" if threading.get_ident() == STATE["thread"] else "other",
        "loop": "none" if loop is None else ("caller" if loop is STATE["loop"] else "other"),
        "call": STATE["phase"],
    }
    kwargs = bound.get("kwargs")
    if signature == "event":
        entry["response_obj"] = tname(bound.get("response_obj"))
        entry["start_time"] = tname(bound.get("start_time"))
        entry["end_time"] = tname(bound.get("end_time"))
    else:
        entry["model"] = tname(bound.get("model"))
        entry["messages"] = tname(bound.get("messages"))
    if isinstance(kwargs, dict):
        entry["kwargs"] = kwargs_profile(kwargs)
    else:
        entry["kwargs"] = tname(kwargs)
    STATE["events"].append(entry)


class Recorder(CustomLogger):
    def log_pre_api_call(self, *args, **kw):
        record("log_pre_api_call", args, kw, "pre")

    async def async_log_pre_api_call(self, *args, **kw):
        record("async_log_pre_api_call", args, kw, "pre")

    def log_post_api_call(self, *args, **kw):
        record("log_post_api_call", args, kw)

    def log_stream_event(self, *args, **kw):
        record("log_stream_event", args, kw)

    async def async_log_stream_event(self, *args, **kw):
        record("async_log_stream_event", args, kw)

    def log_success_event(self, *args, **kw):
        record("log_success_event", args, kw)

    def log_failure_event(self, *args, **kw):
        record("log_failure_event", args, kw)

    async def async_log_success_event(self, *args, **kw):
        record("async_log_success_event", args, kw)

    async def async_log_failure_event(self, *args, **kw):
        record("async_log_failure_event", args, kw)


def fn_input(*args, **kw):
    record("input_callback", args, kw, "pre" if len(args) + len(kw) == 3 else "event")


def fn_success(*args, **kw):
    record("success_callback", args, kw)


def fn_failure(*args, **kw):
    record("failure_callback", args, kw)


async def afn_success(*args, **kw):
    record("async_success_callback", args, kw)


# -- scenarios -------------------------------------------------------------------------------------
#
# A scenario name is "<call>-<mode>-<outcome>-<cache>-<source>" (see ALL below):
#   call: completion | text | embedding;  mode: sync | async | sync_stream | async_stream
#   outcome: ok | http_error | transport_error;  cache: nocache | miss_hit;  source: real | mock


def call_kwargs(call: str, outcome: str, source: str, stream: bool) -> tuple[object, dict]:
    # Real calls pass metadata (its round trip is compared); mock calls pass none (the peer
    # then logs metadata None).
    kwargs: dict = {} if source == "mock" else {"metadata": {"scenario": "conformance"}}
    if call == "completion":
        fn = "completion"
        kwargs.update(model="gpt-4o-mini", messages=MESSAGES)
    elif call == "text":
        fn = "text_completion"
        kwargs.update(model="gpt-3.5-turbo-instruct", prompt="Say hi")
    else:
        fn = "embedding"
        kwargs.update(model="text-embedding-3-small", input=["hello", "world"])
    if stream:
        kwargs["stream"] = True
    if source == "mock":
        if outcome == "ok":
            kwargs["mock_response"] = [[0.1, 0.2, 0.3]] if call == "embedding" else "Hello from the mock"
        else:
            kwargs["mock_response"] = "litellm.RateLimitError"
        return fn, kwargs
    kwargs["api_key"] = KEY if outcome != "http_error" else "sk-wrong-key-000000"
    kwargs["api_base"] = OPENAI if outcome != "transport_error" else DEAD
    return fn, kwargs


def describe_result(result: object, stream: bool) -> dict:
    return {"type": tname(result), "shape": shape(result)}


def consume_sync(stream: object) -> dict:
    chunks = []
    for chunk in stream:
        chunks.append(chunk)
    return _describe_chunks(stream, chunks)


async def consume_async(stream: object) -> dict:
    chunks = []
    async for chunk in stream:
        chunks.append(chunk)
    return _describe_chunks(stream, chunks)


def _describe_chunks(stream: object, chunks: list) -> dict:
    shapes: list = []
    for chunk in chunks:
        s = shape(chunk)
        if not shapes or shapes[-1][0] != s:
            shapes.append([s, 1])
        else:
            shapes[-1][1] += 1
    empty_choices = sum(1 for c in chunks if not getattr(c, "choices", None))
    return {"type": tname(stream), "chunks": [[s, "n" if n > 1 else 1] for s, n in shapes], "empty_choice_chunks": empty_choices}


def hooks_so_far() -> list:
    return sorted({e["hook"] for e in STATE["events"]} - {NEXT_CALL})


def attempt_sync(fn: str, kwargs: dict) -> dict:
    STATE["phase"] = "running"
    try:
        result = getattr(lib, fn)(**kwargs)
        if kwargs.get("stream"):
            STATE["phase"] = "streaming"
            out = consume_sync(result)
        else:
            out = describe_result(result, False)
        out["outcome"] = "returned"
        out["id"] = getattr(result, "id", None) if not kwargs.get("stream") else None
    except Exception as exc:  # noqa: BLE001
        out = {"outcome": "raised", "type": tname(exc), "status_code": getattr(exc, "status_code", None), "message": str(exc)[:300]}
    STATE["phase"] = out["outcome"]
    out["hooks_at_return"] = hooks_so_far()
    return out


async def attempt_async(fn: str, kwargs: dict) -> dict:
    STATE["phase"] = "running"
    try:
        result = await getattr(lib, "a" + fn)(**kwargs)
        if kwargs.get("stream"):
            STATE["phase"] = "streaming"
            out = await consume_async(result)
        else:
            out = describe_result(result, False)
        out["outcome"] = "returned"
        out["id"] = getattr(result, "id", None) if not kwargs.get("stream") else None
    except Exception as exc:  # noqa: BLE001
        out = {"outcome": "raised", "type": tname(exc), "status_code": getattr(exc, "status_code", None), "message": str(exc)[:300]}
    STATE["phase"] = out["outcome"]
    out["hooks_at_return"] = hooks_so_far()
    return out


def settle(expected_outcomes: int, is_async: bool) -> None:
    """Wait until every call's outcome event arrived (and a little longer, to see duplicates)."""
    if LIB == "llmtap":
        lib.flush(timeout=10)
    deadline = time.monotonic() + 5
    outcome_hooks = ("log_success_event", "async_log_success_event", "log_failure_event", "async_log_failure_event")
    while time.monotonic() < deadline:
        seen = sum(1 for e in STATE["events"] if e["hook"] in outcome_hooks)
        if seen >= expected_outcomes:
            break
        time.sleep(0.01)
    time.sleep(0.15)
    if LIB == "llmtap":
        lib.flush(timeout=10)


async def asettle(expected_outcomes: int) -> None:
    deadline = time.monotonic() + 5
    outcome_hooks = ("log_success_event", "async_log_success_event", "log_failure_event", "async_log_failure_event")
    while time.monotonic() < deadline:
        seen = sum(1 for e in STATE["events"] if e["hook"] in outcome_hooks)
        if seen >= expected_outcomes:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.15)


def run(name: str) -> dict:
    call, mode, outcome, cache, source = name.split("-")
    is_async = mode.startswith("async")
    stream = mode.endswith("stream")
    fn, kwargs = call_kwargs(call, outcome, source, stream)
    STATE["events"] = []
    STATE["thread"] = threading.get_ident()
    lib.callbacks = [Recorder()]
    lib.input_callback = [fn_input]
    lib.success_callback = [fn_success] + ([afn_success] if is_async else [])
    lib.failure_callback = [fn_failure]
    lib.cache = lib.Cache() if cache == "miss_hit" else None
    if cache == "miss_hit":
        kwargs["caching"] = True
    calls = 2 if cache == "miss_hit" else 1
    results = []
    if is_async:

        async def main() -> None:
            STATE["loop"] = asyncio.get_running_loop()
            for i in range(calls):
                if i:
                    STATE["events"].append({"hook": NEXT_CALL})
                results.append(await attempt_async(fn, dict(kwargs)))
                await asettle(len(results))
            STATE["phase"] = "after"

        asyncio.run(main())
        STATE["loop"] = None
    else:
        for i in range(calls):
            if i:
                STATE["events"].append({"hook": NEXT_CALL})
            results.append(attempt_sync(fn, dict(kwargs)))
            settle(len(results), False)
        STATE["phase"] = "after"
    settle(calls, is_async)
    if calls == 2 and results[0].get("id") is not None:
        results[1]["same_id_as_first"] = results[1].get("id") == results[0].get("id")
    for r in results:
        r.pop("id", None)
    events = STATE["events"]
    lib.callbacks, lib.input_callback, lib.success_callback, lib.failure_callback = [], [], [], []
    lib.cache = None
    return {"results": results, "events": _collapse_streams(events)}


def _collapse_streams(events: list) -> list:
    out: list = []
    for event in events:
        if out and event["hook"].endswith("log_stream_event") and out[-1]["hook"] == event["hook"]:
            out[-1]["count"] = "n"
            continue
        out.append(event)
    return out


def main() -> None:
    if LIB == "litellm":
        lib.suppress_debug_info = True
        lib.num_retries = 0
    report = {}
    for name in sys.argv[2:]:
        try:
            report[name] = run(name)
        except Exception:  # noqa: BLE001 - the harness itself failed on this scenario
            report[name] = {"harness_error": traceback.format_exc()}
    json.dump(report, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    datetime.datetime.now()  # (imported for handlers' isinstance checks in scenarios)
    main()
