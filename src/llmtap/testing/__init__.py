"""The provider emulator: a real HTTP server that speaks the providers' wire formats, offline.

Use it in your own tests exactly as llmtap's tests do::

    from llmtap.testing import Emulator, Fault, Reply

    with Emulator() as emu:
        emu.push(Fault.rate_limit(retry_after=0.1), Reply(content="hi"))
        llmtap.completion(model="gpt-4o-mini", messages=[...], api_base=emu.openai_base,
                          api_key="test", num_retries=1)
        assert len(emu.requests) == 2

OpenAI (``emu.openai_base``), Azure OpenAI (``emu.azure_base``), Anthropic
(``emu.anthropic_base``), Gemini, Ollama, AWS Bedrock (``emu.bedrock_base``: every request's
SigV4 signature is verified; see ``aws_routes`` for the test credentials and the STS, container
and instance-metadata routes) and Vertex AI (``emu.vertex_base``: bearer tokens from the token
routes in ``token_routes``, which also serve Microsoft Entra ID for Azure) are served. In pytest, ``pytest_plugins =
["llmtap.testing.pytest_plugin"]`` gives an ``emulator`` fixture.
"""

from .emulator import Emulator, RecordedRequest, serve
from .script import Fault, Reply

__all__ = ["Emulator", "Fault", "RecordedRequest", "Reply", "serve"]
