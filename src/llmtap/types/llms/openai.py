"""``litellm.types.llms.openai``: the OpenAI request shapes frameworks annotate with (TypedDicts,
so they cost nothing and accept the plain dicts callers already pass)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class FunctionDefinition(TypedDict, total=False):
    name: str
    description: str
    parameters: dict[str, Any]
    strict: bool


ChatCompletionToolParamFunctionChunk = FunctionDefinition


class ChatCompletionToolParam(TypedDict, total=False):
    type: Literal["function"] | str
    function: FunctionDefinition
    cache_control: dict


class ChatCompletionToolChoiceFunctionParam(TypedDict):
    name: str


class ChatCompletionToolChoiceObjectParam(TypedDict):
    type: Literal["function"]
    function: ChatCompletionToolChoiceFunctionParam


ChatCompletionToolChoiceStringValues = Literal["none", "auto", "required"]
ChatCompletionToolChoiceValues = ChatCompletionToolChoiceStringValues | ChatCompletionToolChoiceObjectParam


class ChatCompletionTextObject(TypedDict, total=False):
    type: Literal["text"]
    text: str
    cache_control: dict


class ChatCompletionImageUrlObject(TypedDict, total=False):
    url: str
    detail: str
    format: str


class ChatCompletionImageObject(TypedDict, total=False):
    type: Literal["image_url"]
    image_url: ChatCompletionImageUrlObject | str


class ChatCompletionToolCallFunctionChunk(TypedDict, total=False):
    name: str | None
    arguments: str


class ChatCompletionAssistantToolCall(TypedDict, total=False):
    id: str | None
    type: Literal["function"]
    function: ChatCompletionToolCallFunctionChunk


ChatCompletionToolCallChunk = ChatCompletionAssistantToolCall


class ChatCompletionSystemMessage(TypedDict, total=False):
    role: Literal["system"]
    content: str | list
    name: str


class ChatCompletionUserMessage(TypedDict, total=False):
    role: Literal["user"]
    content: str | list


class ChatCompletionAssistantMessage(TypedDict, total=False):
    role: Literal["assistant"]
    content: str | list | None
    name: str | None
    tool_calls: list[ChatCompletionAssistantToolCall] | None
    function_call: dict | None
    reasoning_content: str | None
    thinking_blocks: list | None


class ChatCompletionToolMessage(TypedDict, total=False):
    role: Literal["tool"]
    content: str | list
    tool_call_id: str


class ChatCompletionFunctionMessage(TypedDict, total=False):
    role: Literal["function"]
    content: str | list | None
    name: str
    tool_call_id: str | None


class ChatCompletionDeveloperMessage(TypedDict, total=False):
    role: Literal["developer"]
    content: str | list
    name: str


AllMessageValues = (
    ChatCompletionUserMessage
    | ChatCompletionAssistantMessage
    | ChatCompletionToolMessage
    | ChatCompletionSystemMessage
    | ChatCompletionFunctionMessage
    | ChatCompletionDeveloperMessage
)


class ChatCompletionThinkingBlock(TypedDict, total=False):
    type: Literal["thinking"]
    thinking: str
    signature: str
    cache_control: dict | None


class ChatCompletionRedactedThinkingBlock(TypedDict, total=False):
    type: Literal["redacted_thinking"]
    data: str
    cache_control: dict | None


class ChatCompletionUsageBlock(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


OpenAIChatCompletionFinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]
