"""Shared fixtures: one emulator for the run (reset per test), clean settings, instant backoff."""

from __future__ import annotations

import pytest

import llmtap
from llmtap.providers.openai import OpenAI
from llmtap.retry import RetryRules

PEER_DEFAULT_RETRIES = OpenAI.default_retries  # before any test turns it off

pytest_plugins = ["llmtap.testing.pytest_plugin"]

_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "OPENAI_API_VERSION",
    "AZURE_API_KEY",
    "AZURE_API_BASE",
    "AZURE_API_VERSION",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
)


FAST_RETRIES = RetryRules(initial_backoff=0.001, max_backoff=0.002)


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch):
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(llmtap, "retry_rules", FAST_RETRIES)
    # Tests count requests exactly: no retries unless a test asks for them (the default, the
    # peer's, is 2 for OpenAI-shaped providers; tests/test_dropin.py checks it).
    monkeypatch.setattr(OpenAI, "default_retries", 0)
    yield
    assert llmtap.flush(timeout=10), "callback deliveries still pending after the test"
    llmtap.callbacks = []
    llmtap.input_callback = []
    llmtap.success_callback = []
    llmtap.failure_callback = []
    llmtap.drop_params = False
    llmtap.num_retries = None
    llmtap.request_timeout = None
    llmtap.cache = None
    llmtap.turn_off_message_logging = False
    llmtap.api_key = llmtap.api_base = llmtap.openai_key = llmtap.azure_key = None
    llmtap.anthropic_key = llmtap.gemini_key = None
    llmtap.sync_transport = llmtap.async_transport = None


@pytest.fixture
def openai_env(emulator, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-123456")
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.openai_base)
    return emulator


@pytest.fixture
def azure_env(emulator, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AZURE_API_KEY", "azure-test-key-123456")
    monkeypatch.setenv("AZURE_API_BASE", emulator.azure_base)
    monkeypatch.setenv("AZURE_API_VERSION", "2024-10-21")
    return emulator


MESSAGES = [{"role": "user", "content": "Hi 👋 - i'm openai"}]


# Several emulator instances, one per deployment, for the Router's tests (test_router*.py).
@pytest.fixture(scope="session")
def emulator_pool():
    from llmtap.testing import Emulator

    servers = [Emulator().start() for _ in range(4)]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def emus(emulator_pool):
    for server in emulator_pool:
        server.clear()
    return emulator_pool
