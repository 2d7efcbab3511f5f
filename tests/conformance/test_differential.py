"""The differential suite: the same scenarios through the real peer and through llmtap.

Both run in subprocesses of the pinned peer virtualenv against one emulator (real sockets); the
runner records every hook call and every returned object, and the two records must agree except
for the deliberate differences listed in differential.ALLOWED (and docs/differences.md).
"""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from llmtap.testing import Emulator

from .conftest import HERE, ROOT, peer_env
from .differential import ALLOWED, NORMALIZED, PENDING, allowed, diff_reports

pytestmark = pytest.mark.conformance

KEY = "sk-conformance-123456"


def scenarios() -> list[str]:
    """sync/async × plain/stream × ok/HTTP error/transport error × no cache/miss+hit ×
    completion/text/embedding × real/mock (combinations that cannot exist left out)."""
    names = []
    for call, mode in itertools.product(("completion", "text", "embedding"), ("sync", "async", "sync_stream", "async_stream")):
        if call == "embedding" and mode.endswith("stream"):
            continue  # embeddings do not stream
        for outcome, cache, source in (
            ("ok", "nocache", "real"),
            ("ok", "miss_hit", "real"),
            ("http_error", "nocache", "real"),
            ("transport_error", "nocache", "real"),
            ("ok", "nocache", "mock"),
            ("ok", "miss_hit", "mock"),
            ("http_error", "nocache", "mock"),  # a mock_response magic string that raises
        ):
            if call == "embedding" and outcome == "http_error" and source == "mock":
                continue  # the peer has no error magic strings for embeddings
            names.append(f"{call}-{mode}-{outcome}-{cache}-{source}")
    return names


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # closed again: connections are refused


def _run(python: Path, lib: str, names: list[str], env: dict) -> dict:
    done = subprocess.run(
        [str(python), str(HERE / "runner.py"), lib, *names],
        capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=600,
    )
    if done.returncode != 0:
        raise AssertionError(f"runner under {lib} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def reports(peer_python: Path) -> tuple[dict, dict]:
    names = scenarios()
    with Emulator(api_key=KEY) as emulator:
        env = peer_env(CONFORMANCE_BASE=emulator.url, CONFORMANCE_KEY=KEY, CONFORMANCE_DEAD=_dead_url())
        batches = [names[i::3] for i in range(3)]
        jobs = [(lib, batch) for lib in ("litellm", "llmtap") for batch in batches]
        with ThreadPoolExecutor(3) as pool:
            parts = list(pool.map(lambda job: (job[0], _run(peer_python, job[0], job[1], env)), jobs))
    peer: dict = {}
    ours: dict = {}
    for lib, part in parts:
        (peer if lib == "litellm" else ours).update(part)
    return peer, ours


def test_scenarios_cover_the_matrix() -> None:
    names = scenarios()
    parts = [set(name.split("-")[i] for name in names) for i in range(5)]
    assert parts[0] == {"completion", "text", "embedding"}
    assert parts[1] == {"sync", "async", "sync_stream", "async_stream"}
    assert parts[2] == {"ok", "http_error", "transport_error"}
    assert parts[3] == {"nocache", "miss_hit"}
    assert parts[4] == {"real", "mock"}


def test_llmtap_matches_the_peer(reports: tuple[dict, dict]) -> None:
    peer, ours = reports
    lines = diff_reports(peer, ours)
    unexplained = [line for line in lines if allowed(line) is None]
    assert not unexplained, f"{len(unexplained)} differences from the peer:\n" + "\n".join(unexplained[:200])


def test_every_scenario_recorded_events(reports: tuple[dict, dict]) -> None:
    """The harness itself works under both libraries, and llmtap logged every call's outcome
    (the peer loses some; those show up as differences)."""
    peer, ours = reports
    assert set(peer) == set(ours) == set(scenarios())
    for lib, report in (("peer", peer), ("llmtap", ours)):
        for name, scenario in report.items():
            assert "harness_error" not in scenario, (lib, name, scenario.get("harness_error"))
    for name, scenario in ours.items():
        hooks = {e["hook"] for e in scenario["events"]}
        assert hooks & {"log_success_event", "async_log_success_event", "log_failure_event", "async_log_failure_event"}, name


def test_allow_list_is_documented() -> None:
    doc = (ROOT / "docs" / "differences.md").read_text()
    for entry in ALLOWED + NORMALIZED:
        assert entry.pattern in doc, f"allow-list entry {entry.pattern!r} is not in docs/differences.md"
    for entry in PENDING:
        assert "TODO" in entry.reason, entry
