"""The names LiteLLM's users import from ``litellm.types.utils``, so those imports keep working
with ``llmtap`` in place of ``litellm`` (and, after ``install_as_litellm()``, as
``litellm.types.utils``). Any other public name of ``llmtap.types`` resolves here too."""

from __future__ import annotations

from typing import Any, TypedDict

from ..logging.standard import (
    StandardLoggingErrorInformation,
    StandardLoggingHiddenParams,
    StandardLoggingPayload,
)
from . import (
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    Choices,
    CompletionTokensDetailsWrapper,
    Delta,
    Embedding,
    EmbeddingResponse,
    Function,
    FunctionCall,
    ImageObject,
    ImageResponse,
    Message,
    ModelResponse,
    ModelResponseStream,
    PromptTokensDetailsWrapper,
    StreamingChoices,
    TextChoices,
    TextCompletionResponse,
    Usage,
)
from . import _Response as ModelResponseBase

# The peer re-exports OpenAI's classes under these names; the wrappers serve for both.
PromptTokensDetails = PromptTokensDetailsWrapper
CompletionTokensDetails = CompletionTokensDetailsWrapper


class CostPerToken(TypedDict):
    input_cost_per_token: float
    output_cost_per_token: float


class ModelInfo(TypedDict, total=False):
    """What ``get_model_info`` returns (the peer's keys; any may be None)."""

    key: str
    max_tokens: int | None
    max_input_tokens: int | None
    max_output_tokens: int | None
    input_cost_per_token: float
    output_cost_per_token: float
    cache_read_input_token_cost: float | None
    cache_creation_input_token_cost: float | None
    litellm_provider: str
    mode: str
    supports_function_calling: bool | None
    supports_parallel_function_calling: bool | None
    supports_vision: bool | None
    supports_response_schema: bool | None
    supports_reasoning: bool | None
    supports_prompt_caching: bool | None
    supports_system_messages: bool | None
    supports_tool_choice: bool | None
    supported_openai_params: list[str] | None


ModelInfoBase = ModelInfo


class ChatCompletionTokenLogprob(TypedDict, total=False):
    token: str
    bytes: list[int] | None
    logprob: float
    top_logprobs: list[dict]


class LlmProviders:
    """Provider names as the peer spells them (``LlmProviders.OPENAI.value == "openai"``)."""

    class _Name(str):
        @property
        def value(self) -> str:
            return str(self)

    OPENAI = _Name("openai")
    AZURE = _Name("azure")
    ANTHROPIC = _Name("anthropic")
    GEMINI = _Name("gemini")
    VERTEX_AI = _Name("vertex_ai")
    BEDROCK = _Name("bedrock")
    OLLAMA = _Name("ollama")
    OLLAMA_CHAT = _Name("ollama_chat")
    MISTRAL = _Name("mistral")
    GROQ = _Name("groq")
    DEEPSEEK = _Name("deepseek")
    OPENROUTER = _Name("openrouter")
    TOGETHER_AI = _Name("together_ai")
    FIREWORKS_AI = _Name("fireworks_ai")
    XAI = _Name("xai")
    LITELLM_PROXY = _Name("litellm_proxy")


def __getattr__(name: str) -> Any:
    from .. import types as _types

    try:
        return getattr(_types, name)
    except AttributeError:
        raise AttributeError(f"module 'llmtap.types.utils' has no attribute {name!r}") from None


__all__ = [
    "ChatCompletionDeltaToolCall", "ChatCompletionMessageToolCall", "ChatCompletionTokenLogprob",
    "Choices", "CompletionTokensDetails", "CompletionTokensDetailsWrapper", "CostPerToken", "Delta",
    "Embedding", "EmbeddingResponse", "Function", "FunctionCall", "ImageObject", "ImageResponse",
    "LlmProviders", "Message", "ModelInfo", "ModelInfoBase", "ModelResponse", "ModelResponseBase",
    "ModelResponseStream", "PromptTokensDetails", "PromptTokensDetailsWrapper",
    "StandardLoggingErrorInformation", "StandardLoggingHiddenParams", "StandardLoggingPayload",
    "StreamingChoices", "TextChoices", "TextCompletionResponse", "Usage",
]
