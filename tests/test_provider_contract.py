"""Every fact about a provider lives in its class: the registry checks the contract, and a new
provider (built in, registered in code, or from another package's entry point) needs nothing else."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import llmtap
from llmtap import call as call_module
from llmtap.integrations.custom_logger import CustomLogger
from llmtap.providers import get_provider, names, register_provider, unregister_provider
from llmtap.providers.base import REQUIRED_FACTS, missing_facts
from llmtap.providers.openai import OpenAI
from llmtap.routing import resolve_provider

from .conftest import MESSAGES

SECRET = "sk-SECRET-value-0123456789"


@pytest.mark.parametrize("name", names())
def test_every_registered_provider_declares_every_fact(name: str) -> None:
    provider = get_provider(name)
    assert missing_facts(provider) == []
    for fact in REQUIRED_FACTS:
        assert hasattr(provider, fact)


@pytest.mark.parametrize("name", names())
def test_every_header_carrying_the_key_is_declared_secret(name: str) -> None:
    """The key a provider sends is in a header it declares secret, so callbacks see it masked."""
    served = get_provider(name).call_types
    call = call_module.prepare(
        "completion" if "completion" in served else sorted(served)[0], f"{name}/some-model",
        {"api_key": SECRET, "api_base": "http://127.0.0.1:9"}, False,
    )
    call.messages = MESSAGES
    provider = call.provider
    request = provider.build_request(call, provider.build_body(call))
    carrying = {header.lower() for header, value in request.headers.items() if SECRET in value}
    assert carrying <= provider.secret_headers, f"{name} sends its key in undeclared headers {carrying}"
    assert SECRET not in request.url or name == "gemini"


class _Acme(OpenAI):
    """A new chat-only service whose second credential travels in its own header."""

    name = "acme"
    text_completion = "chat"
    secret_headers = frozenset({"authorization", "x-acme-session"})
    module_key = "acme_key"
    bare_prefixes = ("acme-",)
    otel_name = "acme"
    key_optional_at_custom_base = False

    def auth_headers(self, call):
        return {"Authorization": f"Bearer {call.api_key}", "X-Acme-Session": "sess-" + SECRET}


@pytest.fixture
def acme():
    register_provider("acme", _Acme)
    yield
    unregister_provider("acme")
    if hasattr(llmtap, "acme_key"):
        del llmtap.acme_key


def test_a_new_chat_only_provider_is_served_by_its_class_alone(acme, emulator) -> None:
    seen = []

    class Spy(CustomLogger):
        def log_pre_api_call(self, model, messages, kwargs):
            seen.append(kwargs["additional_args"]["headers"])

    llmtap.callbacks = [Spy()]
    llmtap.acme_key = "acme-key-from-code-123456"  # its module_key, read like llmtap.openai_key
    r = llmtap.text_completion(model="acme-large", prompt="Hi", api_base=emulator.openai_base)
    llmtap.flush()
    assert emulator.last_request.path == "/v1/chat/completions"  # chat-only: through chat
    assert emulator.last_request.headers["authorization"] == "Bearer acme-key-from-code-123456"
    assert r.choices[0].text
    assert SECRET not in str(seen) and "acme-key-from-code-123456" not in str(seen)
    assert seen[0]["X-Acme-Session"] != "sess-" + SECRET


def test_bare_names_come_from_the_classes(acme) -> None:
    assert resolve_provider("gpt-4o-mini")[0].name == "openai"
    assert resolve_provider("claude-3-5-haiku-latest")[0].name == "anthropic"
    assert resolve_provider("claude-2.1")[0].name == "anthropic_text"
    assert resolve_provider("anthropic/claude-instant-1.2")[0].name == "anthropic_text"
    assert resolve_provider("acme-large")[0].name == "acme"
    with pytest.raises(llmtap.BadRequestError, match="cannot tell which provider"):
        resolve_provider("mystery-model")


def test_a_provider_missing_a_fact_is_refused_by_name() -> None:
    class Forgetful(OpenAI):
        name = "forgetful"
        text_completion = "sometimes"

    class NoFacts:
        def __init__(self, registered_as):
            self.name = registered_as

    register_provider("forgetful", Forgetful)
    register_provider("nofacts", NoFacts)
    try:
        with pytest.raises(TypeError, match="forgetful.*text_completion"):
            get_provider("forgetful")
        with pytest.raises(TypeError, match="secret_headers.*module_key.*bare_prefixes.*otel_name"):
            get_provider("nofacts")
        with pytest.raises(ValueError, match="without '/'"):
            register_provider("a/b", Forgetful)
    finally:
        unregister_provider("forgetful")
        unregister_provider("nofacts")


def test_a_provider_from_another_package_via_entry_point(tmp_path) -> None:
    """A third party ships a provider in its own distribution; llmtap finds it by entry point."""
    (tmp_path / "acme_llm.py").write_text(textwrap.dedent('''
        from llmtap.providers.openai import OpenAI

        class Acme(OpenAI):
            name = "acme_ep"
            text_completion = "native"
            secret_headers = frozenset({"authorization"})
            module_key = None
            bare_prefixes = ("acme-ep-",)
            otel_name = "acme"
            default_base = "https://api.acme.invalid/v1"
            key_env = ("ACME_API_KEY",)
    '''))
    info = tmp_path / "acme_llm-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-llm\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[llmtap.providers]\nacme_ep = acme_llm:Acme\nbroken = acme_llm:Missing\n")
    script = textwrap.dedent('''
        import sys
        sys.path.insert(0, sys.argv[1])
        from llmtap.routing import resolve_provider
        from llmtap.providers import names
        print(resolve_provider("acme_ep/m")[0].default_base)
        print(resolve_provider("acme-ep-small")[0].name)
        print(resolve_provider("gpt-4o")[0].name)
        print("acme_ep" in names())
    ''')
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["https://api.acme.invalid/v1", "acme_ep", "openai", "True"]
    assert "provider 'broken' cannot be loaded" in done.stderr  # logged, not fatal


def test_masking_covers_declared_generic_and_secret_looking_headers() -> None:
    from llmtap.logging.record import mask_headers

    masked = mask_headers(
        {"Authorization": "Bearer sk-abcdefghijklmnop", "X-Amz-Security-Token": "FQoGZXIvYXdzEXAMPLE",
         "X-Custom": "tok-abcdefghijkl", "X-Api-Key": 12345678901, "Accept": "application/json"},
        frozenset({"x-custom"}),
    )
    assert masked["Authorization"].startswith("Bearer ") and "abcdefghijklmnop" not in masked["Authorization"]
    assert masked["X-Amz-Security-Token"] != "FQoGZXIvYXdzEXAMPLE"  # looks like a token: masked undeclared
    assert masked["X-Custom"] != "tok-abcdefghijkl"  # declared by the provider
    assert masked["X-Api-Key"] == "********"  # not even a string: masked, no crash
    assert masked["Accept"] == "application/json"
