"""The module-level settings a call runs under, read once, as the call starts.

Users set them on the package (``llmtap.callbacks = [...]``, ``llmtap.num_retries = 2``), as
LiteLLM's users do. ``snapshot()`` copies them into a ``Settings`` at the start of each call,
so a setting changed mid-call (or by another thread) never gives one call two answers, and no
inner module needs to import the package and read its globals. The package is found in
``sys.modules`` when a call starts, never imported from here, so there is no import cycle.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from .retry import DEFAULT_RULES, RetryRules


@dataclass(slots=True)
class Settings:
    """A snapshot; never changed once taken (not frozen only because frozen ones build slower)."""

    callbacks: tuple = ()
    input_callback: tuple = ()
    success_callback: tuple = ()
    failure_callback: tuple = ()
    drop_params: bool = False
    num_retries: int | None = None
    request_timeout: float | None = None
    cache: Any = None
    retry_rules: RetryRules = DEFAULT_RULES
    turn_off_message_logging: bool = False
    api_key: str | None = None
    api_base: str | None = None
    sync_transport: Any = None  # a sync transport (transport.py), None: the shared default
    async_transport: Any = None
    package: Any = None  # for provider-declared keys (``llmtap.<module_key>``), read at resolution

    def module_key(self, name: str | None) -> str | None:
        """``llmtap.<name>``, the key a provider's class says users may set in code."""
        return getattr(self.package, name, None) if name else None


def snapshot() -> Settings:
    """The package's settings as they stand now."""
    package = sys.modules["llmtap"]
    return Settings(
        callbacks=tuple(package.callbacks or ()),
        input_callback=tuple(package.input_callback or ()),
        success_callback=tuple(package.success_callback or ()),
        failure_callback=tuple(package.failure_callback or ()),
        drop_params=bool(package.drop_params),
        num_retries=package.num_retries,
        request_timeout=package.request_timeout,
        cache=package.cache,
        retry_rules=_rules(package.retry_rules),
        turn_off_message_logging=bool(package.turn_off_message_logging),
        api_key=package.api_key,
        api_base=package.api_base,
        sync_transport=package.sync_transport,
        async_transport=package.async_transport,
        package=package,
    )


def _rules(rules: Any) -> RetryRules:
    if rules is None:
        return DEFAULT_RULES
    if type(rules) is not RetryRules and not (hasattr(rules, "should_retry") and hasattr(rules, "delay")):
        raise TypeError(f"llmtap.retry_rules must be a llmtap.retry.RetryRules, got {rules!r:.80}")
    return rules
