"""The parameters a call accepts, their types, and which of them go on the wire.

Checked before anything is sent, so a wrong type fails with a message naming the parameter
instead of a provider's 400 after a round trip.
"""

from __future__ import annotations

from typing import Any

from .exceptions import BadRequestError

_NUMBER = (int, float)

# Sent to the provider (OpenAI names; each provider maps or refuses them).
CHAT_PARAMS: dict[str, tuple[type, ...]] = {
    "temperature": _NUMBER,
    "top_p": _NUMBER,
    "n": (int,),
    "stop": (str, list),
    "max_tokens": (int,),
    "max_completion_tokens": (int,),
    "presence_penalty": _NUMBER,
    "frequency_penalty": _NUMBER,
    "logit_bias": (dict,),
    "logprobs": (bool,),
    "top_logprobs": (int,),
    "seed": (int,),
    "user": (str,),
    "tools": (list,),
    "tool_choice": (str, dict),
    "parallel_tool_calls": (bool,),
    "response_format": (dict,),
    "stream_options": (dict,),
    "functions": (list,),
    "function_call": (str, dict),
    "reasoning_effort": (str,),
    "modalities": (list,),
    "audio": (dict,),
    "prediction": (dict,),
    "service_tier": (str,),
    "store": (bool,),
    "web_search_options": (dict,),
}

TEXT_PARAMS: dict[str, tuple[type, ...]] = {
    "temperature": _NUMBER,
    "top_p": _NUMBER,
    "n": (int,),
    "stop": (str, list),
    "max_tokens": (int,),
    "presence_penalty": _NUMBER,
    "frequency_penalty": _NUMBER,
    "logit_bias": (dict,),
    "logprobs": (int,),
    "seed": (int,),
    "user": (str,),
    "echo": (bool,),
    "suffix": (str,),
    "best_of": (int,),
    "stream_options": (dict,),
}

EMBEDDING_PARAMS: dict[str, tuple[type, ...]] = {
    "dimensions": (int,),
    "encoding_format": (str,),
    "user": (str,),
}

WIRE_PARAMS = {"completion": CHAT_PARAMS, "text_completion": TEXT_PARAMS, "embedding": EMBEDDING_PARAMS}

# The library's own parameters: never sent as body fields.
LIBRARY_PARAMS: dict[str, tuple[type, ...]] = {
    "stream": (bool,),
    "timeout": (int, float),
    "request_timeout": (int, float),
    "api_key": (str,),
    "api_base": (str,),
    "base_url": (str,),
    "api_version": (str,),
    "organization": (str,),
    "num_retries": (int,),
    "max_retries": (int,),
    "metadata": (dict,),
    "extra_headers": (dict,),
    "headers": (dict,),
    "extra_body": (dict,),
    "custom_llm_provider": (str,),
    "drop_params": (bool,),
    "caching": (bool,),
    "cache": (dict,),
    "callbacks": (list,),
    "litellm_call_id": (str,),
    "litellm_logging_obj": (object,),
    "model_list": (list,),
    "input_cost_per_token": _NUMBER,
    "turn_off_message_logging": (bool,),
    "output_cost_per_token": _NUMBER,
    # set by the Router on each attempt (llmtap/router): the deployment and the attempt's hook
    "model_info": (dict,),
    "router_attempt": (object,),
}


# Credentials and cloud settings the peer takes as call parameters. They select how a call
# authenticates and where it goes; they are never sent as body fields and never logged. A
# provider that does not use one refuses it (or drops it with drop_params=True).
CREDENTIAL_PARAMS: dict[str, tuple[type, ...]] = {
    **{name: (str,) for name in (
        "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region_name",
        "aws_profile_name", "aws_role_name", "aws_session_name", "aws_sts_endpoint",
        "aws_bedrock_runtime_endpoint", "aws_web_identity_token",
        "azure_ad_token", "azure_username", "azure_password", "client_id", "client_secret",
        "tenant_id", "azure_scope",
        "vertex_project", "vertex_location", "vertex_ai_project", "vertex_ai_location",
    )},
    "azure_ad_token_provider": (object,),
    "vertex_credentials": (str, dict),
}
SECRET_PARAMS = frozenset({
    "aws_secret_access_key", "aws_session_token", "aws_web_identity_token", "azure_ad_token",
    "azure_password", "client_secret", "vertex_credentials",
})


def check_type(name: str, value: Any, types: tuple[type, ...], model: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) and bool not in types:
        ok = False  # True is an int in Python, but never a valid temperature or max_tokens
    else:
        ok = isinstance(value, types)
    if not ok:
        expected = " or ".join(_type_name(t) for t in types)
        raise BadRequestError(
            f"parameter {name!r} must be {expected}, got {type(value).__name__}: {value!r:.80}",
            model=model,
            llm_provider=None,
        )


def _type_name(t: type) -> str:
    return {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a dict", bool: "a boolean"}.get(
        t, t.__name__
    )


def check_messages(messages: Any, model: str) -> list[dict]:
    """Messages must be a non-empty list of dicts with a role (and content, unless tool calls)."""
    if messages is None or (isinstance(messages, list) and not messages):
        raise BadRequestError("messages is required: pass a non-empty list of messages", model=model)
    if not isinstance(messages, list):
        raise BadRequestError(
            f"messages must be a list of dicts, got {type(messages).__name__}", model=model
        )
    for index, message in enumerate(messages):
        if hasattr(message, "model_dump") and not isinstance(message, dict):
            message = message.model_dump()
            messages[index] = message
        if not isinstance(message, dict):
            raise BadRequestError(
                f"messages[{index}] must be a dict with 'role' and 'content', got "
                f"{type(message).__name__}: {message!r:.80}",
                model=model,
            )
        role = message.get("role")
        if not isinstance(role, str) or not role:
            raise BadRequestError(f"messages[{index}] has no 'role'", model=model)
        if role not in _ROLES:
            raise BadRequestError(
                f"messages[{index}] has an unknown role {role!r}; expected one of {sorted(_ROLES)}",
                model=model,
            )
        if "content" not in message and not message.get("tool_calls") and not message.get("function_call"):
            raise BadRequestError(f"messages[{index}] ({role}) has no 'content'", model=model)
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise BadRequestError(
                f"messages[{index}].content must be a string or a list of content parts, got "
                f"{type(content).__name__}",
                model=model,
            )
    return messages


_ROLES = frozenset({"system", "user", "assistant", "tool", "function", "developer"})
