"""Each worked example of the seed, run as a script in a fresh process against the emulator.

The scripts never call flush(): every line a callback prints must still appear, which is the
"nothing lost when the script (or its asyncio.run loop) ends right after the call" promise.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "seed_examples"


def run_example(name: str, emulator, extra_env: dict | None = None) -> list[str]:
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-seed-test",
        "OPENAI_BASE_URL": emulator.openai_base,
        "ANTHROPIC_API_KEY": "sk-ant-seed-test",
        "ANTHROPIC_BASE_URL": emulator.anthropic_base,
        "PYTHONPATH": str(HERE / "fake_services"),
        "PYTHONIOENCODING": "utf-8",
        **(extra_env or {}),
    }
    done = subprocess.run(
        [sys.executable, str(HERE / name)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout.splitlines()


def test_custom_handler_sync_and_async_streams(emulator) -> None:
    lines = run_example("custom_handler_streaming.py", emulator)
    assert lines == [
        "Pre-API Call",
        "Post-API Call",
        "On Success",
        "Pre-API Call",
        "Post-API Call",
        "On Async Success",
    ]
    assert len(emulator.requests) == 2
    assert all(r.json["stream"] is True for r in emulator.requests)


def test_function_success_callback(emulator) -> None:
    # The callback prints from llmtap's delivery thread while the script prints the response,
    # so lines may interleave (as with LiteLLM's threaded callbacks): look for the text.
    text = "\n".join(run_example("function_callback.py", emulator))
    assert text.count("LITELLM: in custom callback function") == 1
    assert "'log_event_type': 'successful_api_call'" in text
    # Each print() writes its arguments one by one, so only check pieces that are written whole.
    assert "completion_response" in text and "start_time" in text and "end_time" in text
    assert text.count("ModelResponse(id=") >= 2  # the callback's and the script's
    assert len(re.findall(r"20\d\d-\d\d-\d\d \d\d:\d\d:\d\d", text)) >= 2  # start and end times
    assert text.count("Hello from the llmtap emulator") >= 2  # the callback's copies and the script's


def test_async_custom_handler(emulator) -> None:
    assert run_example("async_handler.py", emulator) == ["On Async Success"]


def test_async_function_callback(emulator) -> None:
    assert run_example("async_function_callback.py", emulator) == ["On Async Success!"]


def test_metadata_round_trip(emulator) -> None:
    assert run_example("metadata.py", emulator) == ["{'hello': 'world'}"]
    assert "metadata" not in emulator.last_request.json


def test_cost_tracking(emulator) -> None:
    text = "\n".join(run_example("cost_tracking.py", emulator))
    assert "regular response_cost" in text
    # The callback's print may interleave with the script's: find the number on its own.
    costs = [float(x) for x in re.findall(r"(?<![\w.])\d\.\d+e-\d+|(?<![\w.])0\.\d+", text)]
    assert len(costs) == 1 and 0 < costs[0] < 0.001, text
    assert emulator.last_request.json["model"] == "gpt-3.5-turbo"


def test_complete_streaming_response_for_claude_instant_1(emulator) -> None:
    lines = run_example("claude_instant_streaming.py", emulator)
    assert len(lines) == 1
    assert lines[0].startswith("Complete Streaming Response: ModelResponse(")
    assert "Hello from the llmtap emulator. You said: Hi 👋 - i'm claude" in lines[0]
    request = emulator.last_request
    assert request.path == "/v1/complete" and request.json["stream"] is True


def test_transformed_input_for_claude_2_is_exactly_the_seeds(emulator) -> None:
    text = "\n".join(run_example("transformed_input.py", emulator))
    expected = {"model": "claude-2", "prompt": "\n\nHuman: Hi 👋 - i'm openai\n\nAssistant: ", "max_tokens_to_sample": 256}
    assert ("params to model " + repr(expected)) in text
    assert emulator.last_request.json == expected
    assert emulator.last_request.headers["x-api-key"] == "sk-ant-seed-test"
    assert "ModelResponse(" in text


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "1")
        self.end_headers()
        self.wfile.write(b"1")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def collector():
    _Collector.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_callback_sends_to_an_outside_service(emulator, collector) -> None:
    url = f"http://127.0.0.1:{collector.server_address[1]}/track"
    run_example("mixpanel_callback.py", emulator, {"MIXPANEL_COLLECTOR_URL": url})
    assert len(_Collector.received) == 1
    event = _Collector.received[0]
    assert event["event"] == "LLM Response"
    assert "Hello from the llmtap emulator" in event["properties"]["llm_response"]
