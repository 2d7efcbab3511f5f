"""The base class of every handler. Override only the hooks you need; all are optional.

See llmtap/logging/hooks.py for when each hook fires and docs/callbacks.md for what ``kwargs``
holds. Hooks run on llmtap's delivery worker, never on the caller's path.
"""

from __future__ import annotations

from typing import Any


class CustomLogger:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_pre_api_call(self, model, messages, kwargs):  # noqa: ANN001
        pass

    def log_post_api_call(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        pass

    def log_stream_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        pass

    def log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        pass

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        pass

    async def async_log_pre_api_call(self, model, messages, kwargs):  # noqa: ANN001
        pass

    async def async_log_stream_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        pass

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        pass

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
        pass
