"""The Router: many deployments behind one model name (``llmtap.Router``, the peer's API).

Modules: deployments (the model list), strategies (who gets the next request), health
(cooldowns, retry policy), state (memory) and redis_state (shared by processes), streams,
hedging, steps (the flow's drivers) and router (the Router itself).
"""

from .errors import RouterConfigError, RouterRateLimitError
from .health import AllowedFailsPolicy, RetryPolicy
from .router import Router

__all__ = ["AllowedFailsPolicy", "RetryPolicy", "Router", "RouterConfigError", "RouterRateLimitError"]
