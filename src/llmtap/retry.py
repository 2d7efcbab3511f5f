"""When to try a failed request again, and how long to wait first: pure, so only drivers sleep.

The pipeline asks the ``RetryRules`` two questions after a failed attempt: ``should_retry(error)``
and ``delay(attempt, error)``. The rules in force are ``llmtap.retry_rules`` as it stood when
the call started; tests pass fast ones instead of patching constants. The
reason for each decision is logged at debug level on the ``llmtap`` logger, so "why did it
(not) retry?" has an answer without a debugger.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from .exceptions import APIConnectionError, APIError, APIStatusError

logger = logging.getLogger("llmtap")

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


@dataclass(frozen=True, slots=True)
class RetryRules:
    """Which failures are worth another attempt, and the wait before it.

    The server's own ask (Retry-After, retry-after-ms, an HTTP date) wins when it is sane
    (at most ``max_retry_after`` seconds); otherwise the wait doubles from ``initial_backoff``
    up to ``max_backoff``, less up to a quarter of jitter so clients that failed together do
    not come back together."""

    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    retryable_status: frozenset[int] = RETRYABLE_STATUS

    def should_retry(self, error: BaseException) -> bool:
        retry, reason = self._decide(error)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("llmtap: %s %s: %s", "retrying" if retry else "not retrying", type(error).__name__, reason)
        return retry

    def _decide(self, error: BaseException) -> tuple[bool, str]:
        if isinstance(error, APIConnectionError):
            return True, "no usable answer (connection, timeout or cut read)"
        if isinstance(error, (APIStatusError, APIError)):  # APIError: any other status
            should = error.headers.get("x-should-retry")
            if should in ("true", "false"):
                return should == "true", f"the server said x-should-retry: {should}"
            if error.status_code in self.retryable_status:
                return True, f"status {error.status_code} is transient"
            return False, f"status {error.status_code} will not change on retry"
        return False, "not a provider or connection error"

    def delay(self, attempt: int, error: BaseException | None = None) -> float:
        """Seconds before retry number ``attempt`` (1-based)."""
        asked = getattr(error, "retry_after", None)
        if asked is not None and 0 <= asked <= self.max_retry_after:
            return asked
        backoff = min(self.initial_backoff * 2 ** (attempt - 1), self.max_backoff)
        return backoff * (1 - 0.25 * random.random())


DEFAULT_RULES = RetryRules()
