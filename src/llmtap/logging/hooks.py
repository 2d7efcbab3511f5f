"""Every hook a handler can define, when it fires, and what it is given.

| event (kwargs["log_event_type"]) | CustomLogger hook (sync / async)                       | list             |
|----------------------------------|--------------------------------------------------------|------------------|
| pre_api_call                     | log_pre_api_call / async_log_pre_api_call              | input_callback   |
|   before each request is sent; (model, messages, kwargs); never on a cache hit                       |
| post_api_call                    | log_post_api_call                                      |                  |
|   the provider answered; (kwargs, None, start_time, end_time); never on a cache hit                  |
| stream_event                     | log_stream_event / async_log_stream_event              |                  |
|   each streamed chunk; (kwargs, chunk, start_time, end_time)                                         |
| successful_api_call              | log_success_event / async_log_success_event            | success_callback |
|   once per call, streams after their last chunk; (kwargs, response, start_time, end_time)            |
| failed_api_call                  | log_failure_event / async_log_failure_event            | failure_callback |
|   once per failed call; (kwargs, None, start_time, end_time)                                         |

A sync call runs a handler's sync hook, an async call its async hook; when a handler defines
only the other variant, that one runs instead, so no event is silently skipped.
"""

from __future__ import annotations

import logging

PRE = "pre_api_call"
POST = "post_api_call"
STREAM = "stream_event"
SUCCESS = "successful_api_call"
FAILURE = "failed_api_call"

# event → (sync hook, async hook) on CustomLogger
LOGGER_HOOKS: dict[str, tuple[str, str | None]] = {
    PRE: ("log_pre_api_call", "async_log_pre_api_call"),
    POST: ("log_post_api_call", None),
    STREAM: ("log_stream_event", "async_log_stream_event"),
    SUCCESS: ("log_success_event", "async_log_success_event"),
    FAILURE: ("log_failure_event", "async_log_failure_event"),
}

# module-level list → the event its functions receive
FUNCTION_LISTS: dict[str, str] = {
    "input_callback": PRE,
    "success_callback": SUCCESS,
    "failure_callback": FAILURE,
}

# The lifecycle of one call: (state, event) → next state. Anything else is refused, which is
# what makes "exactly one success or failure per call" hold by construction.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("new", PRE): "sent",
    ("sent", PRE): "sent",  # a retry sends again
    ("sent", POST): "answered",
    ("answered", STREAM): "answered",
    ("answered", SUCCESS): "done",
    ("answered", FAILURE): "done",
    ("sent", FAILURE): "done",
    ("new", SUCCESS): "done",  # cache hit or mock: no request was sent
    ("new", FAILURE): "done",
}


def refused(state: str, event: str, model: str | None) -> None:
    """An event that does not fit the call's state is refused; say so (it points at a bug)."""
    logging.getLogger("llmtap").debug(
        "llmtap: refused the %s event of a %s call in state %r (one outcome per call)", event, model, state
    )
