"""``litellm._logging``: the loggers and debug switches frameworks reach for.

``verbose_logger`` and friends are plain ``logging`` loggers; ``_turn_on_debug()`` is what
``litellm._turn_on_debug()`` does for its users: DEBUG level, printed to stderr.
"""

from __future__ import annotations

import logging
import sys

verbose_logger = logging.getLogger("llmtap")
verbose_router_logger = logging.getLogger("llmtap.router")
verbose_proxy_logger = logging.getLogger("llmtap.proxy")
_ALL = (verbose_logger, verbose_router_logger, verbose_proxy_logger)
_handler: logging.Handler | None = None


def _turn_on_debug() -> None:
    global _handler
    llmtap = sys.modules[__package__]

    llmtap.set_verbose = True
    if _handler is None:
        _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s:%(levelname)s: %(message)s"))
        verbose_logger.addHandler(_handler)
    for logger in _ALL:
        logger.setLevel(logging.DEBUG)


def _disable_debugging() -> None:
    llmtap = sys.modules[__package__]

    llmtap.set_verbose = False
    for logger in _ALL:
        logger.setLevel(logging.WARNING)


def _turn_on_json() -> None:
    """The peer switches its log lines to JSON; llmtap's are plain text, so this only turns on
    INFO for its loggers (documented in docs/differences.md)."""
    for logger in _ALL:
        logger.setLevel(logging.INFO)


def print_verbose(message: str) -> None:
    verbose_logger.debug(message)
