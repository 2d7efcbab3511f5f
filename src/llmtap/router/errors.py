"""The Router's own errors. Provider errors pass through unchanged (llmtap.exceptions)."""

from __future__ import annotations

from collections.abc import Sequence


class RouterConfigError(ValueError):
    """The Router was given a model list or setting it cannot use; raised by the constructor."""


class RouterRateLimitError(ValueError):
    """No deployment of the group can take the request now: all cooling down or at their limits.

    A ValueError, as the peer's is, so ``except ValueError`` written for LiteLLM keeps working.
    """

    def __init__(
        self,
        model: str,
        cooldown_time: float,
        enable_pre_call_checks: bool = False,
        cooldown_list: Sequence[str] = (),
        model_ids: Sequence[str] = (),
        reason: str | None = None,
    ) -> None:
        self.model = model
        self.cooldown_time = cooldown_time
        self.enable_pre_call_checks = enable_pre_call_checks
        self.cooldown_list = list(cooldown_list)
        self.all_deployments_in_cooldown = bool(model_ids) and set(model_ids) <= set(cooldown_list)
        self.type = "all_deployments_in_cooldown" if self.all_deployments_in_cooldown else "rate_limit_error"
        self.status_code = 429
        self.llm_provider = None
        why = " All deployments for selected model are in cooldown." if self.all_deployments_in_cooldown else ""
        if reason:
            why += f" {reason}"
        self.message = (
            f"No deployments available for selected model, Try again in {cooldown_time:g} seconds.{why} "
            f"Passed model={model}. pre-call-checks={enable_pre_call_checks}, cooldown_list={self.cooldown_list}"
        )
        super().__init__(self.message)
