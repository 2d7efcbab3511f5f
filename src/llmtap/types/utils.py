"""The names LiteLLM's users import from ``litellm.types.utils``, so those imports keep working
with ``llmtap`` in place of ``litellm``."""

from ..logging.standard import (
    StandardLoggingErrorInformation,
    StandardLoggingHiddenParams,
    StandardLoggingPayload,
)
from . import (
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    Choices,
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
    StreamingChoices,
    TextChoices,
    TextCompletionResponse,
    Usage,
)

__all__ = [
    "ChatCompletionDeltaToolCall", "ChatCompletionMessageToolCall", "Choices", "Delta", "Embedding",
    "EmbeddingResponse", "Function", "FunctionCall", "ImageObject", "ImageResponse", "Message",
    "ModelResponse", "ModelResponseStream", "StandardLoggingErrorInformation",
    "StandardLoggingHiddenParams", "StandardLoggingPayload", "StreamingChoices", "TextChoices",
    "TextCompletionResponse", "Usage",
]
