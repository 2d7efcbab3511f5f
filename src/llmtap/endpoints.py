"""The other endpoints people call through the peer, each through main.py's one pipeline.

``responses`` (OpenAI's Responses API, streamed too), ``image_generation``, ``transcription``,
``speech``, ``moderation`` and ``rerank`` are call types of the same generator flow as
``completion``: routing, key checks, retries, callbacks, cost and caching happen once, there.
This module only checks each endpoint's inputs (before anything is sent) and starts the call.
``batch_completion*`` and ``completion_with_retries`` are thin helpers over ``completion``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from . import main
from .exceptions import BadRequestError

DEFAULT_IMAGE_MODEL = "dall-e-2"
DEFAULT_MODERATION_MODEL = "omni-moderation-latest"


def _start(call_type: str, model: Any, kwargs: dict, is_async: bool, stream_ok: bool = False, **inputs: Any) -> Any:
    if not isinstance(model, str) or not model.strip():
        raise BadRequestError(f"{call_type} needs a model: pass model='provider/model-name'", model=None)
    if kwargs.get("mock_response") is not None:
        raise BadRequestError(f"mock_response is not supported for {call_type}", model=model)
    if kwargs.get("stream") and not stream_ok:
        raise BadRequestError(f"{call_type} cannot stream", model=model)
    if kwargs.get("stream"):
        kwargs["caching"] = False  # a stream's events are not cached; its whole answer is logged
    return main._start(call_type, model, kwargs, is_async, **inputs)  # refuses a provider that lacks it


def _run(call: Any) -> Any:
    return main._run_sync(main._flow(call), call.settings.sync_transport)


async def _arun(call: Any) -> Any:
    return await main._run_async(main._flow(call), call.settings.async_transport)


# -- Responses API -------------------------------------------------------------------------------


def _responses_input(value: Any, model: Any) -> Any:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return value
    raise BadRequestError(
        "input is required: pass a string or a non-empty list of input items (dicts), got "
        f"{type(value).__name__}",
        model=model if isinstance(model, str) else None,
    )


def _via_chat(model: Any, kwargs: dict) -> bool:
    """Whether this model's provider lacks the Responses API but has chat (then chat serves it)."""
    from .routing import resolve_provider

    try:
        provider = resolve_provider(model, kwargs.get("custom_llm_provider"))[0]
    except Exception:
        return False  # _start raises the routing error with its full message
    return "responses" not in provider.call_types and "completion" in provider.call_types


def responses(input: Any = None, model: str | None = None, **kwargs: Any) -> Any:  # noqa: A002
    """OpenAI's Responses API: a ResponsesAPIResponse, or with ``stream=True`` a stream of
    ResponsesAPIStreamEvent (the success event gets the completed response). Providers with
    chat only are served through chat (responses_via_chat.py)."""
    value = _responses_input(input, model)
    if _via_chat(model, kwargs):
        from . import responses_via_chat as bridge

        messages, chat_kwargs = bridge.chat_request(value, kwargs, model)
        answer = main.completion(model, messages, **chat_kwargs)
        return bridge.EventStream(answer, model) if chat_kwargs.get("stream") else bridge.to_response(answer)
    return _run(_start("responses", model, kwargs, False, True, input=value))


async def aresponses(input: Any = None, model: str | None = None, **kwargs: Any) -> Any:  # noqa: A002
    value = _responses_input(input, model)
    if _via_chat(model, kwargs):
        from . import responses_via_chat as bridge

        messages, chat_kwargs = bridge.chat_request(value, kwargs, model)
        answer = await main.acompletion(model, messages, **chat_kwargs)
        return bridge.EventStream(answer, model) if chat_kwargs.get("stream") else bridge.to_response(answer)
    return await _arun(_start("responses", model, kwargs, True, True, input=value))


# -- images ------------------------------------------------------------------------------------


def _image_prompt(prompt: Any, model: Any) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequestError("prompt is required: pass the image description as a string", model=model)
    return prompt


def image_generation(prompt: str | None = None, model: str | None = None, **kwargs: Any) -> Any:
    """Images from a text prompt: an ImageResponse (``data[i].url`` or ``.b64_json``)."""
    model = model or DEFAULT_IMAGE_MODEL
    return _run(_start("image_generation", model, kwargs, False, prompt=_image_prompt(prompt, model)))


async def aimage_generation(prompt: str | None = None, model: str | None = None, **kwargs: Any) -> Any:
    model = model or DEFAULT_IMAGE_MODEL
    return await _arun(_start("image_generation", model, kwargs, True, prompt=_image_prompt(prompt, model)))


# -- audio -------------------------------------------------------------------------------------


def _audio_file(file: Any, model: Any) -> dict:
    """The upload as (filename, bytes, content type): from bytes, a (name, bytes[, type]) tuple,
    an open binary file, or a path."""
    import mimetypes

    name, data, content_type = "audio", None, None
    if isinstance(file, (bytes, bytearray, memoryview)):
        data = bytes(file)
    elif isinstance(file, tuple) and len(file) in (2, 3) and isinstance(file[1], (bytes, bytearray)):
        name, data = str(file[0]), bytes(file[1])
        content_type = file[2] if len(file) == 3 else None
    elif hasattr(file, "read"):
        data = file.read()
        name = os.path.basename(str(getattr(file, "name", "audio")))
    elif isinstance(file, (str, os.PathLike)) and os.path.isfile(file):
        with open(file, "rb") as handle:
            data = handle.read()
        name = os.path.basename(os.fspath(file))
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise BadRequestError(
            "file is required: pass audio as bytes, an open binary file, a (filename, bytes) tuple or a path "
            f"to an existing file (got {type(file).__name__})",
            model=model,
        )
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return {"file": (name, bytes(data), content_type)}


def _upload_summary(files: dict) -> dict:
    """What stands for the audio in the cache key and in callbacks: its name, size and digest."""
    import hashlib

    name, data, content_type = files["file"]
    return {"file": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "content_type": content_type}


def transcription(model: str | None = None, file: Any = None, **kwargs: Any) -> Any:
    """Speech to text: a TranscriptionResponse (``.text``; more fields with verbose_json)."""
    files = _audio_file(file, model)
    return _run(_start("transcription", model, kwargs, False, files=files, input=_upload_summary(files)))


async def atranscription(model: str | None = None, file: Any = None, **kwargs: Any) -> Any:
    files = _audio_file(file, model)
    return await _arun(_start("transcription", model, kwargs, True, files=files, input=_upload_summary(files)))


def _speech_input(input: Any, voice: Any, model: Any, kwargs: dict) -> str:  # noqa: A002
    if not isinstance(input, str) or not input:
        raise BadRequestError("input is required: pass the text to speak as a string", model=model)
    if voice is None:
        raise BadRequestError("voice is required, e.g. voice='alloy'", model=model)
    kwargs["voice"] = voice
    return input


def speech(model: str | None = None, input: str | None = None, voice: Any = None, **kwargs: Any) -> Any:  # noqa: A002
    """Text to speech: HttpxBinaryResponseContent (``.content``, ``.stream_to_file(path)``)."""
    text = _speech_input(input, voice, model, kwargs)
    return _run(_start("speech", model, kwargs, False, input=text))


async def aspeech(model: str | None = None, input: str | None = None, voice: Any = None, **kwargs: Any) -> Any:  # noqa: A002
    text = _speech_input(input, voice, model, kwargs)
    return await _arun(_start("speech", model, kwargs, True, input=text))


# -- moderation --------------------------------------------------------------------------------


def _moderation_input(value: Any, model: Any) -> Any:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list) and value and all(isinstance(item, (str, dict)) for item in value):
        return value
    raise BadRequestError("input is required: pass a string or a list of strings or content parts", model=model)


def moderation(input: Any = None, model: str | None = None, **kwargs: Any) -> Any:  # noqa: A002
    """OpenAI's moderation: a ModerationResponse (``results[0].flagged``, ``.categories``...)."""
    model = model or DEFAULT_MODERATION_MODEL
    return _run(_start("moderation", model, kwargs, False, input=_moderation_input(input, model)))


async def amoderation(input: Any = None, model: str | None = None, **kwargs: Any) -> Any:  # noqa: A002
    model = model or DEFAULT_MODERATION_MODEL
    return await _arun(_start("moderation", model, kwargs, True, input=_moderation_input(input, model)))


# -- rerank ------------------------------------------------------------------------------------


def _rerank_input(query: Any, documents: Any, model: Any) -> tuple[str, list]:
    if not isinstance(query, str) or not query.strip():
        raise BadRequestError("query is required: pass the search query as a string", model=model)
    if not isinstance(documents, list) or not documents or not all(isinstance(d, (str, dict)) for d in documents):
        raise BadRequestError("documents is required: pass a non-empty list of strings (or dicts)", model=model)
    return query, documents


def rerank(model: str | None = None, query: str | None = None, documents: list | None = None, **kwargs: Any) -> Any:
    """Documents ordered by relevance to a query: a RerankResponse (``results[i].index``,
    ``.relevance_score``), from Cohere or Jina AI."""
    value = _rerank_input(query, documents, model)
    return _run(_start("rerank", model, kwargs, False, input=value))


async def arerank(model: str | None = None, query: str | None = None, documents: list | None = None, **kwargs: Any) -> Any:
    value = _rerank_input(query, documents, model)
    return await _arun(_start("rerank", model, kwargs, True, input=value))


# -- batches and retries -------------------------------------------------------------------------


def batch_completion(model: str, messages: list | None = None, max_workers: int | None = 100, **kwargs: Any) -> list:
    """One completion per message list, concurrently; a call that failed gives its exception in
    its place (as the peer does), so one bad prompt does not lose the others' answers."""
    from concurrent.futures import ThreadPoolExecutor

    if not isinstance(messages, list) or not all(isinstance(m, list) for m in messages):
        raise BadRequestError("batch_completion takes messages as a list of message lists", model=model)
    if not messages:
        return []
    workers = max(1, min(int(max_workers or 100), len(messages)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llmtap-batch") as pool:
        futures = [pool.submit(main.completion, model, list(m), **kwargs) for m in messages]
        results: list = []
        for future in futures:
            try:
                results.append(future.result())
            except Exception as exc:
                results.append(exc)
    return results


def _models(kwargs: dict) -> list[str]:
    kwargs.pop("model", None)
    models = kwargs.pop("models", None)
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, (list, tuple)) or not all(isinstance(m, str) for m in models):
        raise BadRequestError("pass models=[...]: a list of model names", model=None)
    return list(models)


def batch_completion_models(*args: Any, **kwargs: Any) -> Any:
    """The same request to several models at once; the first answer that arrives wins (None if
    every model failed). The others' calls finish in the background and log as usual."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    models = _models(kwargs)
    if not models:
        return None
    pool = ThreadPoolExecutor(max_workers=len(models), thread_name_prefix="llmtap-race")
    try:
        pending = {pool.submit(main.completion, *args, model=m, **kwargs) for m in models}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                if future.exception() is None and future.result() is not None:
                    return future.result()
        return None
    finally:
        pool.shutdown(wait=False)


def batch_completion_models_all_responses(*args: Any, **kwargs: Any) -> list:
    """The same request to several models at once: every answer that arrived (failures dropped)."""
    from concurrent.futures import ThreadPoolExecutor

    models = _models(kwargs)
    if not models:
        return []
    with ThreadPoolExecutor(max_workers=len(models), thread_name_prefix="llmtap-batch") as pool:
        futures = [pool.submit(main.completion, *args, model=m, **kwargs) for m in models]
        answers = []
        for future in futures:
            try:
                answers.append(future.result())
            except Exception:
                continue
    return [a for a in answers if a is not None]


def _retry_kwargs(kwargs: dict) -> tuple[Callable[..., Any] | None, dict]:
    attempts = kwargs.pop("num_retries", 3)
    kwargs.pop("retry_strategy", None)  # the pipeline's backoff (retry.py) serves both strategies
    original = kwargs.pop("original_function", None)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
        raise BadRequestError(f"num_retries must be an integer >= 1 (attempts in all), got {attempts!r}", model=None)
    kwargs["num_retries"] = attempts - 1
    return original, kwargs


def completion_with_retries(*args: Any, **kwargs: Any) -> Any:
    """``completion`` with ``num_retries`` attempts in all (default 3), through the pipeline's own
    retries: one call, one success or failure event, retryable errors only (listed in
    docs/differences.md)."""
    original, kwargs = _retry_kwargs(kwargs)
    return (original or main.completion)(*args, **kwargs)


async def acompletion_with_retries(*args: Any, **kwargs: Any) -> Any:
    original, kwargs = _retry_kwargs(kwargs)
    return await (original or main.acompletion)(*args, **kwargs)
