"""llmtap: one Python API for every LLM provider, with callbacks you can trust on every call.

Speaks LiteLLM's SDK surface, so ``import llmtap as litellm`` runs code written for it. Module
attributes below are the settings users assign (``llmtap.callbacks = [...]``); they are read
at the start of each call. Importing llmtap imports no HTTP client, no provider SDK and touches
no network: those load on first use.
"""

from __future__ import annotations

import sys
from typing import Any

__version__ = "0.1.0"

from .capabilities import (
    ModelNotMappedError,
    get_llm_provider,
    get_max_tokens,
    get_model_info,
    get_supported_openai_params,
    get_valid_models,
    supports_audio_input,
    supports_audio_output,
    supports_function_calling,
    supports_parallel_function_calling,
    supports_pdf_input,
    supports_prompt_caching,
    supports_reasoning,
    supports_response_schema,
    supports_system_messages,
    supports_tool_choice,
    supports_vision,
    supports_web_search,
    validate_environment,
)
from .chunk_builder import stream_chunk_builder
from .cost import completion_cost, cost_per_token, register_model
from .endpoints import (
    acompletion_with_retries,
    aimage_generation,
    amoderation,
    arerank,
    aresponses,
    aspeech,
    atranscription,
    batch_completion,
    batch_completion_models,
    batch_completion_models_all_responses,
    completion_with_retries,
    image_generation,
    moderation,
    rerank,
    responses,
    speech,
    transcription,
)
from .exceptions import (
    AnthropicError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AzureOpenAIError,
    BadGatewayError,
    BadRequestError,
    BudgetExceededError,
    ConflictError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    ImageFetchError,
    InternalServerError,
    InvalidRequestError,
    JSONSchemaValidationError,
    LiteLLMUnknownProvider,
    NotFoundError,
    OpenAIError,
    OpenAILikeError,
    PermissionDeniedError,
    RateLimitError,
    RejectedRequestError,
    RouterRateLimitError,
    ServiceUnavailableError,
    Timeout,
    UnprocessableEntityError,
    UnsupportedParamsError,
)
from .logging.delivery import delivery as _delivery
from .main import (
    acompletion,
    aembedding,
    atext_completion,
    completion,
    embedding,
    text_completion,
)
from .retry import DEFAULT_RULES as _DEFAULT_RETRY_RULES
from .streaming import CustomStreamWrapper
from .tokens import (
    create_pretrained_tokenizer,
    create_tokenizer,
    decode,
    encode,
    token_counter,
)
from .types import (
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
from .types.endpoints import (
    HttpxBinaryResponseContent,
    ModerationResponse,
    RerankResponse,
    ResponseAPIUsage,
    ResponsesAPIResponse,
    ResponsesAPIStreamEvent,
    TranscriptionResponse,
)
from .types.llms.openai import ChatCompletionToolParam

# -- settings (LiteLLM's names), read once at the start of each call (settings.py) ---------------
callbacks: list = []
input_callback: list = []
success_callback: list = []
failure_callback: list = []
drop_params: bool = False
num_retries: int | None = None
retry_rules: Any = _DEFAULT_RETRY_RULES  # when and how long to wait before retrying (retry.py)
# where requests go: objects with handle_request / handle_async_request (transport.py);
# None: real sockets through the shared urllib3 and aiohttp pools
sync_transport: Any = None
async_transport: Any = None
request_timeout: float | None = None
cache: Any = None
set_verbose: bool = False
suppress_debug_info: bool = False
turn_off_message_logging: bool = False
# keys and base used when a call names none (before the environment variables)
api_key: str | None = None
api_base: str | None = None
openai_key: str | None = None
azure_key: str | None = None
anthropic_key: str | None = None
gemini_key: str | None = None


def enable_cache(type: str = "local", **options: Any) -> None:  # noqa: A002
    """Set ``llmtap.cache`` to a new ``Cache(type, **options)``."""
    global cache
    from .caching import Cache

    cache = Cache(type, **options)


def disable_cache() -> None:
    global cache
    cache = None


def flush(timeout: float | None = None) -> bool:
    """Wait until every callback event submitted so far has been delivered.

    Returns False if ``timeout`` seconds passed first. At exit llmtap flushes on its own, with a
    bounded wait, so events of calls that returned are not lost when the script ends.
    """
    return _delivery.flush(timeout)


def callback_stats() -> dict[str, Any]:
    """Counters of callback deliveries: delivered, failed, pending, and sinks moved to their
    own thread because they blocked."""
    return _delivery.stats()


def __getattr__(name: str) -> Any:
    # Loaded on first use, so importing llmtap stays as cheap as importing urllib3.
    if name == "Cache":
        from .caching import Cache

        return Cache
    if name == "Router":
        from . import router

        return getattr(router, name)
    if name == "model_cost":
        from .cost import model_cost

        return model_cost()
    if name == "model_list":
        from .capabilities import model_list

        return model_list()
    if name in ("ModelInfo", "CostPerToken", "ModelResponseBase", "PromptTokensDetails", "CompletionTokensDetails", "LlmProviders"):
        from .types import utils as _type_names  # the peer exports these at top level too

        return getattr(_type_names, name)
    raise AttributeError(f"module 'llmtap' has no attribute {name!r}")


def install_as_litellm() -> None:
    """Make ``import litellm`` (and ``litellm.<submodule>``) give llmtap; see llmtap/dropin.py."""
    from .dropin import install_as_litellm as install

    install()


class _SettingsModule(type(sys)):
    """``llmtap`` itself, checking callback lists as they are assigned.

    ``llmtap.callbacks = ["langfuse"]`` names an integration llmtap does not ship; raising right
    there points at the line that is wrong, instead of failing (or warning) on every call later.
    Only writes pass through here: reads of ``llmtap.<setting>`` stay plain module attribute reads
    (the per-call settings snapshot reads ~20 of them). What an assignment cannot see —
    ``llmtap.callbacks.append("langfuse")``, or ``callbacks=[...]`` on one call — fails at the
    first call with the same message, once per name (logging/sinks.py ``builtin``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _CALLBACK_LISTS and isinstance(value, (list, tuple)):
            from .integrations import BUILTIN, unknown_callback_message

            for item in value:
                if isinstance(item, str) and item not in BUILTIN:
                    if value is getattr(self, name, None):  # ``+=`` already changed the list:
                        from .logging.sinks import _reported  # this error is its one report

                        _reported.add(item)
                    raise ValueError(f"llmtap.{name}: " + unknown_callback_message(item))
        super().__setattr__(name, value)


_CALLBACK_LISTS = frozenset({"callbacks", "input_callback", "success_callback", "failure_callback"})
sys.modules[__name__].__class__ = _SettingsModule
