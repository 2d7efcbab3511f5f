"""The Router's own errors. Provider errors pass through unchanged (llmtap.exceptions), and so
does ``RouterRateLimitError``, which lives there with the rest of the public tree."""

from __future__ import annotations

from ..exceptions import RouterRateLimitError

__all__ = ["RouterConfigError", "RouterRateLimitError"]


class RouterConfigError(ValueError):
    """The Router was given a model list or setting it cannot use; raised by the constructor."""
