"""The parameters a call accepts, their types, and which of them go on the wire.

Checked before anything is sent, so a wrong type fails with a message naming the parameter
instead of a provider's 400 after a round trip.
"""

from __future__ import annotations

import functools
import math
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .exceptions import AuthenticationError, BadRequestError

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

# The other endpoints (endpoints.py), with OpenAI's names.
RESPONSES_PARAMS: dict[str, tuple[type, ...]] = {
    "instructions": (str,),
    "max_output_tokens": (int,),
    "max_tool_calls": (int,),
    "temperature": _NUMBER,
    "top_p": _NUMBER,
    "top_logprobs": (int,),
    "tools": (list,),
    "tool_choice": (str, dict),
    "parallel_tool_calls": (bool,),
    "previous_response_id": (str,),
    "conversation": (str, dict),
    "reasoning": (dict,),
    "text": (dict,),
    "truncation": (str,),
    "include": (list,),
    "store": (bool,),
    "background": (bool,),
    "prompt": (dict,),
    "prompt_cache_key": (str,),
    "safety_identifier": (str,),
    "service_tier": (str,),
    "stream_options": (dict,),
    "user": (str,),
}
IMAGE_PARAMS: dict[str, tuple[type, ...]] = {
    "n": (int,),
    "size": (str,),
    "quality": (str,),
    "style": (str,),
    "response_format": (str,),
    "background": (str,),
    "moderation": (str,),
    "output_format": (str,),
    "output_compression": (int,),
    "user": (str,),
}
TRANSCRIPTION_PARAMS: dict[str, tuple[type, ...]] = {
    "language": (str,),
    "prompt": (str,),
    "response_format": (str,),
    "temperature": _NUMBER,
    "timestamp_granularities": (list,),
    "include": (list,),
    "chunking_strategy": (str, dict),
}
SPEECH_PARAMS: dict[str, tuple[type, ...]] = {
    "voice": (str, dict),
    "response_format": (str,),
    "speed": _NUMBER,
    "instructions": (str,),
    "stream_format": (str,),
}
MODERATION_PARAMS: dict[str, tuple[type, ...]] = {}
RERANK_PARAMS: dict[str, tuple[type, ...]] = {
    "top_n": (int,),
    "return_documents": (bool,),
    "rank_fields": (list,),
    "max_chunks_per_doc": (int,),
    "max_tokens_per_doc": (int,),
}

WIRE_PARAMS = {
    "completion": CHAT_PARAMS,
    "text_completion": TEXT_PARAMS,
    "embedding": EMBEDDING_PARAMS,
    "responses": RESPONSES_PARAMS,
    "image_generation": IMAGE_PARAMS,
    "transcription": TRANSCRIPTION_PARAMS,
    "speech": SPEECH_PARAMS,
    "moderation": MODERATION_PARAMS,
    "rerank": RERANK_PARAMS,
}

# The library's own parameters: never sent as body fields.
LIBRARY_PARAMS: dict[str, tuple[type, ...]] = {
    "stream": (bool,),
    "timeout": (int, float),
    "stream_timeout": (int, float),
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


# Every other name the peer consumes as its own parameter (LiteLLM 1.106.2's
# all_litellm_params, and its mock_* names): accepted, kept with the call's library params,
# and never sent to a provider. Those llmtap acts on (ttl, mock_timeout, ...) are read from
# there; the rest only keep a call written for the peer from leaking them onto the wire.
PEER_OWNED_PARAMS = frozenset(
    """
    acompletion adaptive_router_config adaptive_router_default_model aembedding
    aimg_generation allm_passthrough_route allow_client_keepalive_override
    allowed_model_region allowed_openai_params annotation_cost_per_page
    annotation_cost_per_page_batches anthropic_disable_workload_identity_federation
    anthropic_federation_rule_id anthropic_federation_workspace_id anthropic_identity_source
    anthropic_identity_token anthropic_identity_token_file anthropic_issuer_audience
    anthropic_issuer_signing_key_ref anthropic_issuer_subject anthropic_issuer_ttl_seconds
    anthropic_issuer_url anthropic_keycloak_auth_method anthropic_keycloak_client_id
    anthropic_keycloak_client_secret_ref anthropic_keycloak_scope
    anthropic_keycloak_token_url anthropic_organization_id anthropic_service_account_id
    arize_api_key arize_error_sampling_rate arize_otlp_protocol arize_space_id
    arize_space_key arize_success_sampling_rate assistant_continue_message async_call
    atext_completion attempted_targets auto_router_config auto_router_config_path
    auto_router_default_model auto_router_embedding_model auto_router_max_input_chars
    auto_router_model_compression auto_router_routing_compression aws_batch_role_arn azure
    base_model bedrock_tags bos_token budget_duration cache_creation_input_audio_token_cost
    cache_creation_input_token_cost cache_creation_input_token_cost_above_100k_tokens
    cache_creation_input_token_cost_above_100k_tokens_batches
    cache_creation_input_token_cost_above_1hr
    cache_creation_input_token_cost_above_1hr_above_100k_tokens
    cache_creation_input_token_cost_above_200k_tokens
    cache_creation_input_token_cost_above_200k_tokens_batches
    cache_creation_input_token_cost_above_272k_tokens
    cache_creation_input_token_cost_above_272k_tokens_batches
    cache_creation_input_token_cost_above_272k_tokens_flex
    cache_creation_input_token_cost_above_272k_tokens_priority
    cache_creation_input_token_cost_above_272k_tokens_ultrafast
    cache_creation_input_token_cost_batches cache_creation_input_token_cost_flex
    cache_creation_input_token_cost_priority cache_creation_input_token_cost_ultrafast
    cache_key cache_read_input_audio_token_cost cache_read_input_image_token_cost
    cache_read_input_token_cost cache_read_input_token_cost_above_100k_tokens
    cache_read_input_token_cost_above_100k_tokens_batches
    cache_read_input_token_cost_above_200k_tokens
    cache_read_input_token_cost_above_200k_tokens_batches
    cache_read_input_token_cost_above_200k_tokens_priority
    cache_read_input_token_cost_above_272k_tokens
    cache_read_input_token_cost_above_272k_tokens_batches
    cache_read_input_token_cost_above_272k_tokens_flex
    cache_read_input_token_cost_above_272k_tokens_priority
    cache_read_input_token_cost_above_272k_tokens_ultrafast
    cache_read_input_token_cost_above_512k_tokens cache_read_input_token_cost_balanced
    cache_read_input_token_cost_batches cache_read_input_token_cost_flex
    cache_read_input_token_cost_priority cache_read_input_token_cost_ultrafast
    caching_groups citation_cost_per_token client client_side_timeout complete_response
    completion_call_id complexity_router_config complexity_router_default_model
    configurable_clientside_auth_params context_window_fallback_dict cooldown_time
    cost_per_query cost_per_second custom_prompt_dict data_residency dd_agent_host
    dd_agent_port dd_api_key dd_site default_api_key_rpm_limit default_api_key_tpm_limit
    disable_add_transform_inline_image_block enable_json_schema_validation
    enable_prompt_caching enable_tag_filtering ensure_alternating_roles eos_token
    fallback_depth fallbacks fastest_response final_prompt_value fireworks_forward_user_id
    force_timeout gcs_bucket_name gcs_path_service_account
    google_maps_grounding_cost_per_query guardrails hf_model_name humanloop_api_key id
    input_cost_per_audio_per_second input_cost_per_audio_per_second_above_128k_tokens
    input_cost_per_audio_token input_cost_per_audio_token_batches input_cost_per_character
    input_cost_per_character_above_128k_tokens input_cost_per_image
    input_cost_per_image_above_128k_tokens input_cost_per_image_token
    input_cost_per_image_token_batches input_cost_per_pixel input_cost_per_query
    input_cost_per_second input_cost_per_token_above_100k_tokens
    input_cost_per_token_above_100k_tokens_batches input_cost_per_token_above_128k_tokens
    input_cost_per_token_above_200k_tokens input_cost_per_token_above_200k_tokens_batches
    input_cost_per_token_above_200k_tokens_priority input_cost_per_token_above_272k_tokens
    input_cost_per_token_above_272k_tokens_batches
    input_cost_per_token_above_272k_tokens_flex
    input_cost_per_token_above_272k_tokens_priority
    input_cost_per_token_above_272k_tokens_ultrafast input_cost_per_token_above_512k_tokens
    input_cost_per_token_balanced input_cost_per_token_batches
    input_cost_per_token_cache_hit input_cost_per_token_flex input_cost_per_token_priority
    input_cost_per_token_ultrafast input_cost_per_video_per_second
    input_cost_per_video_per_second_above_128k_tokens
    input_cost_per_video_per_second_above_15s_interval
    input_cost_per_video_per_second_above_8s_interval input_cost_per_video_token
    input_cost_per_video_token_batches itpm keepalive_seconds langfuse_environment
    langfuse_host langfuse_prompt_version langfuse_public_key langfuse_secret
    langfuse_secret_key langfuse_span_scope langsmith_api_key langsmith_base_url
    langsmith_project langsmith_sampling_rate langsmith_tenant_id litellm_credential_name
    litellm_disabled_callbacks litellm_metadata litellm_request_debug litellm_session_id
    litellm_system_prompt litellm_trace_id litellm_trusted_callback_vars
    log_client_error_tracebacks logger_fn max_agentic_loops max_budget max_fallbacks
    max_file_size_mb max_parallel_requests merge_reasoning_content_in_choices mock_delay
    mock_timeout mock_tool_calls model_alias_map model_config model_file_id_mapping
    newrelic_api_key newrelic_region no-log ocr_cost_per_credit ocr_cost_per_page
    ocr_cost_per_page_batches openai_identity_provider_id openai_identity_token_file
    openai_service_account_id order otpm output_cost_per_audio_per_second
    output_cost_per_audio_token output_cost_per_character
    output_cost_per_character_above_128k_tokens output_cost_per_image
    output_cost_per_image_1024 output_cost_per_image_1536 output_cost_per_image_512
    output_cost_per_image_token output_cost_per_image_token_batches output_cost_per_pixel
    output_cost_per_reasoning_token output_cost_per_reasoning_token_flex
    output_cost_per_reasoning_token_priority output_cost_per_second
    output_cost_per_second_1080p output_cost_per_second_2k output_cost_per_second_480p
    output_cost_per_second_4k output_cost_per_second_720p output_cost_per_second_768p
    output_cost_per_token_above_100k_tokens output_cost_per_token_above_100k_tokens_batches
    output_cost_per_token_above_128k_tokens output_cost_per_token_above_200k_tokens
    output_cost_per_token_above_200k_tokens_batches
    output_cost_per_token_above_200k_tokens_priority output_cost_per_token_above_272k_tokens
    output_cost_per_token_above_272k_tokens_batches
    output_cost_per_token_above_272k_tokens_flex
    output_cost_per_token_above_272k_tokens_priority
    output_cost_per_token_above_272k_tokens_ultrafast
    output_cost_per_token_above_512k_tokens output_cost_per_token_balanced
    output_cost_per_token_batches output_cost_per_token_flex output_cost_per_token_priority
    output_cost_per_token_ultrafast output_cost_per_video_per_second
    output_cost_per_video_token output_vector_size posthog_api_key posthog_api_url
    preset_cache_key prompt_environment prompt_id prompt_label prompt_variables
    prompt_version provider_affinity_header provider_specific_header proxy_server_request
    quality_router_config quality_router_default_model region_name
    regional_endpoint_uplift_multiplier regional_processing_uplift_multiplier_eu
    regional_processing_uplift_multiplier_us retry_policy retry_strategy roles
    routing_strategy rpm rust s3_access_key_id s3_bucket_name s3_bucket_owner
    s3_encryption_key_id s3_endpoint_url s3_output_bucket_name s3_region_name
    s3_secret_access_key search_context_cost_per_query search_tool_name secret_fields
    shared_session signoz_ingestion_endpoint signoz_ingestion_key silent_model ssl_verify
    stream_chunk_size stream_response stream_timeout_by_service_tier
    supports_system_message tag_regex tags text_completion tiered_pricing
    timeout_by_service_tier tpm ttl use_chat_completions_api use_client use_in_pass_through
    use_litellm_proxy use_xai_oauth user_continue_message verbose wandb_api_key
    weave_project_id weight
    """.split()
)


# Credentials and cloud settings the peer takes as call parameters. They select how a call
# authenticates and where it goes; they are never sent as body fields and never logged. A
# provider that does not use one refuses it (or drops it with drop_params=True).
CREDENTIAL_PARAMS: dict[str, tuple[type, ...]] = {
    **{name: (str,) for name in (
        "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region_name",
        "aws_profile_name", "aws_role_name", "aws_session_name", "aws_sts_endpoint",
        "aws_bedrock_runtime_endpoint", "aws_web_identity_token", "aws_external_id",
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


def response_format_from_class(cls: type, model: str) -> dict:
    """``response_format=<pydantic class>`` as the peer sends it: a strict json_schema."""
    schema_of = getattr(cls, "model_json_schema", None)
    if not callable(schema_of):
        raise BadRequestError(
            f"response_format must be a dict or a pydantic model class, got the class {cls.__name__}",
            model=model,
        )
    return {
        "type": "json_schema",
        "json_schema": {"name": cls.__name__, "schema": _strict_schema(schema_of()), "strict": True},
    }


def _strict_schema(node: Any) -> Any:
    """OpenAI's strict mode: every object closed, every property required, no defaults."""
    if isinstance(node, list):
        return [_strict_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict_schema(value) for key, value in node.items() if key != "default"}
    if out.get("type") == "object" or "properties" in out:
        out["additionalProperties"] = False
        out["required"] = list(out.get("properties", {}))
    return out


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
    check_content(messages, model)
    return messages


_ROLES = frozenset({"system", "user", "assistant", "tool", "function", "developer"})


MAX_DEPTH = 100  # deeper nesting in a message is a mistake (or an attack), never a real prompt


def check_numbers(wire: dict, model: str) -> None:
    """NaN or infinity is not JSON: refuse it here rather than send ``NaN`` a server rejects."""
    for name, value in wire.items():
        if type(value) is float and (value != value or value in (math.inf, -math.inf)):
            raise BadRequestError(f"parameter {name!r} must be a finite number, got {value!r}", model=model)


def check_content(messages: Any, model: str) -> None:
    """Malformed content parts and absurd nesting, refused before any provider transforms them."""
    if not isinstance(messages, list):
        return
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        _check_depth(message, model, index)
        content = message.get("content")
        if isinstance(content, list):
            for position, part in enumerate(content):
                _check_part(part, model, f"messages[{index}].content[{position}]")


def _check_depth(value: Any, model: str, index: int) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequestError(f"messages[{index}] is nested more than {MAX_DEPTH} levels deep", model=model)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values() if isinstance(child, (dict, list)))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))


def _check_part(part: Any, model: str, where: str) -> None:
    if isinstance(part, str):
        return  # the peer accepts a bare string as a text part
    if not isinstance(part, dict):
        raise BadRequestError(f"{where} must be a dict content part, got {type(part).__name__}", model=model)
    kind = part.get("type")
    if not isinstance(kind, str):
        raise BadRequestError(f"{where} has no 'type' (a string such as 'text' or 'image_url')", model=model)
    if kind == "text" and not isinstance(part.get("text"), str):
        raise BadRequestError(f"{where} is a text part whose 'text' is not a string", model=model)
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if not isinstance(url, str) or not url:
            raise BadRequestError(f"{where} is an image_url part without a url", model=model)


def check_api_key(key: Any, provider: str, model: str) -> Any:
    """A key read from a file or env var often ends in a newline: strip it. A key that still holds
    a line break, control or non-latin-1 character cannot be a header value: refuse it by name,
    never printing it."""
    if not isinstance(key, str):
        return key
    key = key.strip()
    if any(ord(char) < 32 or ord(char) == 127 for char in key):
        raise AuthenticationError(
            f"the API key for {provider} contains a line break or control character", llm_provider=provider, model=model
        )
    if any(ord(char) > 255 for char in key):
        raise AuthenticationError(
            f"the API key for {provider} contains characters an HTTP header cannot carry (non-latin-1)",
            llm_provider=provider,
            model=model,
        )
    return key


@functools.lru_cache(maxsize=256)
def check_api_base(base: str, model: str) -> None:
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:  # "[bad" (an unclosed IPv6 bracket), port 99999: never the raw error
        host = base.rpartition("@")[2] if "@" in base else base
        raise BadRequestError(f"api_base must be an http(s) URL, got {host[:60]!r}", model=model) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in base:
        shown = mask_url(base) if parts.scheme in ("http", "https") else f"{base[:40]!r}"
        raise BadRequestError(f"api_base must be an http(s) URL, got {shown}", model=model)


@functools.lru_cache(maxsize=256)
def mask_url(url: str | None) -> str | None:
    """A URL with any ``user:password@`` replaced, for every place a URL is logged or shown."""
    if not url or "@" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"****:****@{host}"))
