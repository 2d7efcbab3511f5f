"""``import llmtap`` stays light: no HTTP client, SDK, web framework or telemetry, no network."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import socket, sys
def refuse(*args, **kwargs):
    raise AssertionError("import llmtap touched the network")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import llmtap
heavy = ["aiohttp", "urllib3", "redis", "openai", "anthropic", "pydantic", "httpx", "requests",
         "opentelemetry", "prometheus_client", "fastapi", "starlette", "asyncio", "ssl",
         "botocore", "boto3", "google.auth", "google.oauth2", "azure.identity", "azure.core", "cryptography"]
print(",".join(name for name in heavy if name in sys.modules))
"""


def test_import_pulls_nothing_heavy_and_no_network() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_aiohttp_loads_on_first_async_call_only() -> None:
    script = (
        "import sys, asyncio, llmtap\n"
        "llmtap.completion(model='gpt-4o-mini', messages=[{'role':'user','content':'x'}], mock_response='y')\n"
        "assert 'aiohttp' not in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "ok", done.stderr
