"""The Router: many deployments behind one model name, on llmtap's one call pipeline.

A routed request is a generator (``_flow``) that picks a deployment, makes an attempt — an
ordinary ``llmtap.completion`` (or ``acompletion``, ...) call with that deployment's params —
and on failure retries, cools the deployment down or falls back to another group. The sync and
async entry points differ only in the driver (steps.py).

Callbacks: every attempt is a normal llmtap call, so it logs its own pre/post and success or
failure events, as the peer's do. Each event's kwargs carry the route: ``litellm_params`` has
``metadata`` (``model_group``, ``deployment``, ``model_info``, ``attempted_retries``, ...) and
``model_info`` (the deployment's ``id``), and ``kwargs["router"]`` says which attempt this was
and whether its outcome is the request's: ``final`` is True on exactly one success or failure
event per router request (the others are attempts that were retried, fallen back from, or lost
a hedge race). When the request fails without an attempt to report it (every deployment
cooling down or at its limit), the Router logs that one final failure itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import llmtap

from .. import exceptions as E
from .. import main
from ..logging.record import new_call_id
from . import health
from .deployments import Deployment, parse_model_list
from .errors import RouterConfigError, RouterRateLimitError
from .state import _FRESH as _NO_STATS
from .state import COOLING, PROBING, MemoryState
from .steps import Sleep, StateOp, adrive, drive
from .strategies import STATS_FREE, get_strategy
from .streams import RouterStream, apeek, peek

logger = logging.getLogger("llmtap")

# call type → (sync function, async function, name of the input argument)
_CALLS = {
    "completion": ("completion", "acompletion", "messages"),
    "text_completion": ("text_completion", "atext_completion", "prompt"),
    "embedding": ("embedding", "aembedding", "input"),
}

# Request kwargs the Router consumes; never passed to the attempt.
_ROUTER_KWARGS = (
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "disable_fallbacks",
    "num_retries",
    "max_retries",
    "mock_testing_fallbacks",
    "mock_testing_context_fallbacks",
    "mock_testing_content_policy_fallbacks",
    "specific_deployment",
    "hedge",
    "model_group_retry_policy",
)

# The peer's constructor parameters that configure features llmtap's Router does not have.
# Accepted so peer code runs; a non-default value logs one warning.
_PEER_ONLY = frozenset(
    {
        "assistants_config",
        "search_tools",
        "guardrail_list",
        "caching_groups",
        "client_ttl",
        "polling_interval",
        "default_priority",
        "default_max_parallel_requests",
        "set_verbose",
        "debug_level",
        "enable_tag_filtering",
        "tag_filtering_match_any",
        "tag_routing_prefix",
        "plugins",
        "optional_pre_call_checks",
        "routing_groups",
        "provider_budget_config",
        "alerting_config",
        "router_general_settings",
        "deployment_affinity_ttl_seconds",
        "model_group_affinity_config",
        "ignore_invalid_deployments",
        "enable_health_check_routing",
        "health_check_staleness_threshold",
        "health_check_ignore_transient_errors",
        "background_health_check_model_groups",
        "enable_weighted_failover",
        "fallback_access_check",
        "fallback_budget_check",
        "auto_router_capability_limit",
    }
)

_NO_ORDER = 1 << 30
DEFAULT_COOLDOWN = 5.0
DEFAULT_ALLOWED_FAILS = 3
DEFAULT_NUM_RETRIES = 2
DEFAULT_MAX_FALLBACKS = 5


@dataclass(slots=True)
class Decision:
    action: str  # "retry", "fallback" or "raise"
    group: str | None = None
    delay: float = 0.0
    overrides: dict | None = None  # a client-side fallback's own params (e.g. other messages)


_RAISE = Decision("raise")


class _Request:
    """One router request as it proceeds through attempts."""

    __slots__ = (
        "_id",
        "call_type",
        "requested",
        "group",
        "is_async",
        "stream",
        "kwargs",
        "inputs",
        "metadata",
        "attempts",
        "retries_in_group",
        "fallback_queue",
        "fallback_index",
        "excluded",
        "available",
        "history",
        "final_reported",
        "winner",
        "num_retries",
        "taken",
        "disable_fallbacks",
        "mock_failure",
        "retry_policy_groups",
        "_tokens",
        "hedge",
        "stats",
        "report_success",
    )

    def __init__(self, call_type: str, requested: str, group: str, is_async: bool, inputs: Any, kwargs: dict) -> None:
        self._id: str | None = None
        self.call_type = call_type
        self.requested = requested
        self.group = group
        self.is_async = is_async
        self.inputs = inputs
        self.stream = bool(kwargs.get("stream"))
        metadata = kwargs.pop("metadata", None)
        self.metadata = dict(metadata) if isinstance(metadata, dict) else {}
        self.kwargs = kwargs
        self.attempts = 0
        self.retries_in_group = 0
        self.fallback_queue: list[str] | None = None
        self.fallback_index = 0
        self.excluded: set[str] = set()
        self.available: set[str] = set()
        self.history: list[dict] = []
        self.final_reported = False
        self.winner: Any = None
        self.stats: dict = {}
        self.report_success = True
        self._tokens: int | None = None

    @property
    def id(self) -> str:  # only callbacks read it: made on first use
        if self._id is None:
            self._id = new_call_id()
        return self._id

    def prompt_tokens(self) -> int:
        if self._tokens is None:
            from ..tokens import token_counter

            try:
                if self.call_type == "completion":
                    self._tokens = token_counter(messages=self.inputs)
                else:
                    self._tokens = token_counter(text=self.inputs if isinstance(self.inputs, str) else str(self.inputs))
            except Exception:  # an estimate only; never fail a request over it
                self._tokens = 0
        return self._tokens


class _Attempt:
    """One try at one deployment: an ordinary llmtap call, driven by the router's flow."""

    __slots__ = (
        "router", "req", "dep", "group", "number", "kwargs", "decision", "delivered", "started", "role", "partner", "finished"
    )

    def __init__(self, router: Router, req: _Request, dep: Deployment, group: str, role: str | None = None) -> None:
        req.attempts += 1
        self.router = router
        self.req = req
        self.dep = dep
        self.group = group
        self.number = req.attempts
        self.decision: Decision | None = None
        self.delivered = False
        self.started = 0.0
        self.role = role  # hedging: "primary" / "hedge"
        self.partner: _Attempt | None = None  # hedging: the other attempt of the race
        self.finished = False
        self.kwargs = router._attempt_kwargs(req, dep, group, self)

    # -- the call ---------------------------------------------------------------------------

    def run(self) -> Any:
        names = _CALLS[self.req.call_type]
        self.started = time.monotonic()
        result = getattr(llmtap, names[0])(**self.kwargs)
        if self.req.stream:
            result = self._stream(result, peek(result))
        return result

    async def arun(self) -> Any:
        names = _CALLS[self.req.call_type]
        self.started = time.monotonic()
        try:
            result = await getattr(llmtap, names[1])(**self.kwargs)
            if self.req.stream:
                result = self._stream(result, await apeek(result))
            return result
        finally:
            self.finished = True

    def _stream(self, inner: Any, buffered: Any) -> RouterStream:
        state, dep_id = self.router._state, self.dep.id

        def on_end(tokens: int) -> None:
            state.add_tokens(dep_id, tokens)

        async def aon_end(tokens: int) -> None:
            await state.aadd_tokens(dep_id, tokens)

        self.delivered = True
        return RouterStream(inner, buffered, self.req.prompt_tokens(), on_end, aon_end)

    # -- what callbacks see -------------------------------------------------------------------

    def outcome(self, exc: BaseException | None) -> dict:
        """Called by the attempt's call record just before its success or failure event."""
        req = self.req
        if self.role is not None:  # a hedge race
            if req.winner is not None and req.winner is not self:
                info = self.describe(False, None, won=False)
                if exc is not None:
                    from .hedging import prompt_cost

                    info["estimated_cost"] = prompt_cost(self)
                return info
            if exc is not None and self.partner is not None and not self.partner.finished:
                return self.describe(False, "hedge", won=False)
        if exc is None:
            won = req.winner is None or req.winner is self
            if req.winner is None:
                req.winner = self
            final, next_step = won, None
            if won:
                req.final_reported = True
        else:
            if self.decision is None:
                self.decision = self.router._decide(req, self.group, self.dep, exc, self)
            next_step = None if self.decision.action == "raise" else self.decision.action
            final = next_step is None
            if final:
                req.final_reported = True
        return self.describe(final, next_step, won=exc is None and final)

    def describe(self, final: bool, next_step: str | None, won: bool | None = None) -> dict:
        req = self.req
        info = {
            "request_id": req.id,
            "model_group": req.group,
            "deployment_group": self.group,
            "model_id": self.dep.id,
            "attempt": self.number,
            "retries": req.retries_in_group,
            "fallbacks": req.fallback_index,
            "final": final,
            "next": next_step,
            "previous": list(req.history),
        }
        if self.role is not None:
            info["hedge"] = self.role
            info["won"] = won
        return info


class _RouterOnlyOutcome:
    """The record hook for the failure the Router logs itself (no attempt to report it)."""

    __slots__ = ("info",)

    def __init__(self, info: dict) -> None:
        self.info = info

    def outcome(self, exc: BaseException | None) -> dict:
        return self.info


class Router:
    """Load balancing, retries, cooldowns and fallbacks over a list of deployments.

    The constructor takes the peer's parameters (``model_list``, ``routing_strategy``,
    ``num_retries``, ``fallbacks``, ``redis_host``/``redis_url``, ...). With Redis, cooldowns,
    usage counters, in-flight counts and latencies are shared by every process using it.
    """

    def __init__(
        self,
        model_list: list | None = None,
        *,
        redis_url: str | None = None,
        redis_host: str | None = None,
        redis_port: int | str | None = None,
        redis_password: str | None = None,
        redis_db: int | None = None,
        cache_responses: bool = False,
        cache_kwargs: dict | None = None,
        num_retries: int | None = None,
        max_fallbacks: int | None = None,
        timeout: float | None = None,
        stream_timeout: float | None = None,
        default_litellm_params: dict | None = None,
        default_fallbacks: list | None = None,
        fallbacks: list | None = None,
        context_window_fallbacks: list | None = None,
        content_policy_fallbacks: list | None = None,
        model_group_alias: dict | None = None,
        enable_pre_call_checks: bool = False,
        retry_after: float = 0,
        retry_policy: Any = None,
        model_group_retry_policy: dict | None = None,
        allowed_fails: int | None = None,
        allowed_fails_policy: Any = None,
        cooldown_time: float | None = None,
        disable_cooldowns: bool | None = None,
        routing_strategy: Any = "simple-shuffle",
        routing_strategy_args: dict | None = None,
        hedge_requests: bool = False,
        hedge_args: dict | None = None,
        state_namespace: str = "llmtap:router",
        **peer_only: Any,
    ) -> None:
        unknown = set(peer_only) - _PEER_ONLY
        if unknown:
            raise RouterConfigError(f"Router() got unknown parameter(s) {sorted(unknown)}")
        used = sorted(k for k, v in peer_only.items() if v not in (None, False, [], {}, (), "INFO", 3600, ""))
        if used:
            logger.warning("llmtap Router: %s have no effect in llmtap (peer-only features)", ", ".join(used))
        self._deployments: list[Deployment] = []
        self._groups: dict[str, list[Deployment]] = {}
        self._by_id: dict[str, Deployment] = {}
        self.set_model_list(model_list or [])
        self.model_group_alias = dict(model_group_alias or {})
        self.routing_strategy = getattr(routing_strategy, "value", routing_strategy)
        self._strategy = get_strategy(routing_strategy)
        self._stats_free = self._strategy in STATS_FREE
        self.routing_strategy_args = dict(routing_strategy_args or {})
        self.num_retries = _non_negative("num_retries", num_retries, llmtap.num_retries, DEFAULT_NUM_RETRIES)
        self.max_fallbacks = _non_negative("max_fallbacks", max_fallbacks, None, DEFAULT_MAX_FALLBACKS)
        self.allowed_fails = _non_negative("allowed_fails", allowed_fails, None, DEFAULT_ALLOWED_FAILS)
        if cooldown_time is not None and (not isinstance(cooldown_time, (int, float)) or cooldown_time < 0):
            raise RouterConfigError(f"cooldown_time must be a non-negative number of seconds, got {cooldown_time!r}")
        self.cooldown_time = float(cooldown_time) if cooldown_time is not None else DEFAULT_COOLDOWN
        self.disable_cooldowns = bool(disable_cooldowns)
        self.retry_after = float(retry_after or 0)
        self.retry_policy = health.as_policy(retry_policy, health.RetryPolicy)
        self.model_group_retry_policy = {
            group: health.as_policy(policy, health.RetryPolicy) for group, policy in (model_group_retry_policy or {}).items()
        }
        self.allowed_fails_policy = health.as_policy(allowed_fails_policy, health.AllowedFailsPolicy)
        self.timeout = timeout
        self.stream_timeout = stream_timeout
        self.default_litellm_params = dict(default_litellm_params or {})
        self.fallbacks = _check_fallbacks("fallbacks", fallbacks)
        if default_fallbacks:
            if not isinstance(default_fallbacks, list) or not all(isinstance(g, str) for g in default_fallbacks):
                raise RouterConfigError("default_fallbacks must be a list of model group names")
            self.fallbacks = [*self.fallbacks, {"*": list(default_fallbacks)}]
        self.default_fallbacks = list(default_fallbacks or [])
        self.context_window_fallbacks = _check_fallbacks("context_window_fallbacks", context_window_fallbacks)
        self.content_policy_fallbacks = _check_fallbacks("content_policy_fallbacks", content_policy_fallbacks)
        self.enable_pre_call_checks = bool(enable_pre_call_checks)
        self.cache_responses = bool(cache_responses)
        if self.cache_responses and llmtap.cache is None:
            # the peer's behaviour: a Router that caches responses sets up the global cache,
            # in its Redis when it has one, unless the application already set one
            from ..caching import Cache

            if redis_url is not None or (redis_host is not None and redis_port is not None):
                llmtap.cache = Cache("redis", redis_host, redis_port, redis_password, url=redis_url)
            else:
                llmtap.cache = Cache("local")
        self.hedge_requests = bool(hedge_requests)
        self.hedge_args = dict(hedge_args or {})
        self._redis_settings = None
        if redis_url is not None or (redis_host is not None and redis_port is not None):
            from .redis_state import RedisState

            options = dict(cache_kwargs or {})
            self._state: Any = RedisState(
                url=redis_url,
                host=redis_host,
                port=redis_port,
                password=redis_password,
                db=redis_db,
                namespace=state_namespace,
                **options,
            )
        else:
            self._state = MemoryState()

    # -- the model list ---------------------------------------------------------------------

    def set_model_list(self, model_list: list) -> None:
        deployments = parse_model_list(model_list)
        groups: dict[str, list[Deployment]] = {}
        for deployment in deployments:
            groups.setdefault(deployment.group, []).append(deployment)
        self._deployments = deployments
        self._groups = groups
        self._by_id = {d.id: d for d in deployments}
        self._has_order = any(d.order is not None for d in deployments)

    def add_deployment(self, deployment: dict) -> None:
        self.set_model_list([*self.model_list, deployment])

    @property
    def model_list(self) -> list[dict]:
        return [d.entry for d in self._deployments]

    @property
    def model_names(self) -> list[str]:
        return list(self._groups)

    def get_model_list(self, model_name: str | None = None) -> list[dict]:
        """The deployments (``model_list`` entries, each with its ``model_info.id``)."""
        if model_name is None:
            return self.model_list
        group = self._resolve_group(model_name, strict=False)
        return [d.entry for d in self._groups.get(group or "", ())]

    def get_model_names(self) -> list[str]:
        return self.model_names

    def get_model_ids(self, model_name: str | None = None) -> list[str]:
        return [d.id for d in self._deployments if model_name is None or d.group == model_name]

    def get_deployment(self, model_id: str) -> dict | None:
        deployment = self._by_id.get(model_id)
        return deployment.entry if deployment is not None else None

    def cooldown_list(self, model_name: str | None = None) -> list[str]:
        """Ids of the deployments cooling down now (in this router's state: shared with Redis)."""
        ids = self.get_model_ids(model_name)
        return [i for i, s in zip(ids, self._state.snapshot(ids), strict=True) if s.cooling]

    def reset_state(self) -> None:
        """Forget cooldowns, usage and latencies (tests, or after fixing a deployment)."""
        self._state.clear()

    # -- entry points -----------------------------------------------------------------------

    def completion(self, model: str, messages: list | None = None, **kwargs: Any) -> Any:
        return drive(self._flow(self._start("completion", model, messages, kwargs, False)))

    async def acompletion(self, model: str, messages: list | None = None, **kwargs: Any) -> Any:
        return await adrive(self._flow(self._start("completion", model, messages, kwargs, True)))

    def text_completion(self, model: str, prompt: Any = None, **kwargs: Any) -> Any:
        return drive(self._flow(self._start("text_completion", model, prompt, kwargs, False)))

    async def atext_completion(self, model: str, prompt: Any = None, **kwargs: Any) -> Any:
        return await adrive(self._flow(self._start("text_completion", model, prompt, kwargs, True)))

    def embedding(self, model: str, input: Any = None, **kwargs: Any) -> Any:  # noqa: A002
        return drive(self._flow(self._start("embedding", model, input, kwargs, False)))

    async def aembedding(self, model: str, input: Any = None, **kwargs: Any) -> Any:  # noqa: A002
        return await adrive(self._flow(self._start("embedding", model, input, kwargs, True)))

    # -- one request --------------------------------------------------------------------------

    def _resolve_group(self, model: Any, strict: bool = True) -> str | None:
        if isinstance(model, str):
            if model in self._groups:
                return model
            alias = self.model_group_alias.get(model)
            if isinstance(alias, dict):
                alias = alias.get("model")
            if isinstance(alias, str) and alias in self._groups:
                return alias
        if not strict:
            return None
        raise E.BadRequestError(
            f"the Router has no model group named {model!r:.80}; its groups are {sorted(self._groups)}",
            model=str(model)[:80],
        )

    def _start(self, call_type: str, model: str, inputs: Any, kwargs: dict, is_async: bool) -> _Request:
        if isinstance(model, str) and model in self._by_id and model not in self._groups:
            group = model  # a deployment id: that deployment only
        else:
            group = self._resolve_group(model)
        if call_type == "completion":
            inputs = main._messages(inputs, model)
        elif call_type == "text_completion":
            inputs = main._prompt(inputs, model)
        else:
            inputs = main._embedding_input(inputs, model)
        metadata = kwargs.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise E.BadRequestError(f"parameter 'metadata' must be a dict, got {type(metadata).__name__}", model=model)
        req = _Request(call_type, model, group, is_async, inputs, kwargs)
        req.num_retries = None
        req.taken = taken = {name: kwargs.pop(name) for name in _ROUTER_KWARGS if name in kwargs} if kwargs else {}
        req.disable_fallbacks = False
        req.mock_failure = None
        req.retry_policy_groups = None
        req.hedge = self.hedge_requests and is_async and not req.stream
        if taken:  # the request's own routing params (rare): checked now, before any network call
            self._request_params(req, taken, model, group, is_async)
        return req

    def _request_params(self, req: _Request, taken: dict, model: str, group: str, is_async: bool) -> None:
        retries = taken.get("num_retries", taken.get("max_retries"))
        if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 0):
            raise E.BadRequestError(f"num_retries must be a non-negative integer, got {retries!r}", model=model)
        req.num_retries = retries
        for name in ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks"):
            if taken.get(name) is not None:
                _request_fallbacks(taken[name], [], group)  # raises on a malformed list
        req.disable_fallbacks = bool(taken.get("disable_fallbacks"))
        if taken.get("mock_testing_fallbacks"):
            req.mock_failure = E.InternalServerError(f"mock_testing_fallbacks: a failure of model={group}", model=group)
        elif taken.get("mock_testing_context_fallbacks"):
            req.mock_failure = E.ContextWindowExceededError(
                f"mock_testing_context_fallbacks: context window exceeded for model={group}", model=group
            )
        elif taken.get("mock_testing_content_policy_fallbacks"):
            req.mock_failure = E.ContentPolicyViolationError(
                f"mock_testing_content_policy_fallbacks: content policy violation for model={group}", model=group
            )
        req.retry_policy_groups = taken.get("model_group_retry_policy")
        hedge = taken.get("hedge")
        req.hedge = bool(self.hedge_requests if hedge is None else hedge) and is_async and not req.stream

    def _deployments_for(self, group: str) -> list[Deployment]:
        deployments = self._groups.get(group)
        if deployments is None:
            deployment = self._by_id.get(group)
            return [deployment] if deployment is not None else []
        return deployments

    def _flow(self, req: _Request) -> Any:
        group = req.group
        last_error: BaseException | None = None
        while True:
            try:
                if req.mock_failure is not None and group == req.group and req.fallback_index == 0:
                    raise req.mock_failure
                dep = yield from self._pick(req, group)
            except (RouterRateLimitError, health.API_ERRORS) as exc:
                decision = self._decide(req, group, None, exc)
                if decision.action == "fallback":
                    req.history.append({"model_group": group, "model_id": None, "error": type(exc).__name__})
                    group = self._follow(req, decision)
                    continue
                if last_error is not None and exc.__cause__ is None:
                    exc.__cause__ = last_error
                self._report_unlogged_failure(req, group, exc)
                raise
            try:
                attempt = _Attempt(self, req, dep, group)
            except Exception:  # its params could not be built (an unset os.environ/ variable)
                self._state.released(dep.id)
                raise
            step = self._hedge(req, attempt, group) if req.hedge else attempt
            try:
                result = yield step
            except BaseException as exc:
                if step is not attempt:
                    attempt = step.result_attempt
                    dep = attempt.dep
                decision = attempt.decision or self._decide(req, group, dep, exc, attempt)
                attempt.decision = decision
                last_error = exc
                yield from self._report_failure(req, group, dep, exc)
                req.history.append({"model_group": group, "model_id": dep.id, "error": type(exc).__name__})
                if decision.action == "retry":
                    req.retries_in_group += 1
                    if decision.delay > 0:
                        yield Sleep(decision.delay)
                    continue
                if decision.action == "fallback":
                    group = self._follow(req, decision)
                    continue
                if not req.final_reported and isinstance(exc, Exception):
                    # the attempt failed before its call had a record (e.g. no API key): the
                    # request's one outcome is logged here instead
                    self._report_unlogged_failure(req, group, exc)
                raise
            if step is not attempt:
                attempt = step.result_attempt
                dep = attempt.dep
            latency = time.monotonic() - attempt.started
            tokens = 0 if req.stream else _total_tokens(result)
            if self._state.shared:
                if req.report_success:
                    yield self._op("succeeded", dep.id, tokens, latency)
            else:
                self._state.succeeded(dep.id, tokens, latency)
            hidden = getattr(result, "_hidden_params", None)
            if isinstance(hidden, dict):  # the peer's names: which deployment answered
                hidden["model_id"] = dep.id
                hidden["model_group"] = group
            return result

    def _hedge(self, req: _Request, attempt: _Attempt, group: str) -> Any:
        from .hedging import Hedge, hedge_delay

        stats = req.stats.get(attempt.dep.id)
        delay = hedge_delay(stats.latencies, self.hedge_args) if stats is not None else None
        if delay is None or len(self._deployments_for(group)) < 2:
            return attempt
        return Hedge(self, req, attempt, group, delay)

    def _op(self, name: str, *args: Any) -> Any:
        return StateOp(self._state, name, *args)

    def _pick(self, req: _Request, group: str, exclude: set[str] | None = None) -> Any:
        deployments = self._deployments_for(group)
        if not deployments:
            raise E.BadRequestError(f"the Router has no model group named {group!r:.80} (a fallback target)", model=group)
        excluded = req.excluded | exclude if exclude else req.excluded
        if excluded:
            deployments = [d for d in deployments if d.id not in excluded]
        if self.enable_pre_call_checks and req.call_type == "completion" and deployments:
            deployments = self._fit_context(req, group, deployments)
        ids = [d.id for d in deployments]
        shared = self._state.shared  # memory state needs no I/O: called directly, not yielded
        if self._stats_free and not req.hedge and not self._has_order and deployments:
            return (yield from self._pick_in_one_trip(req, group, deployments, shared))
        req.report_success = True
        stats = (yield self._op("snapshot", ids)) if shared else self._state.snapshot(ids)
        candidates = [(d, s) for d, s in zip(deployments, stats, strict=True) if s.available]
        req.available = {d.id for d, _ in candidates}
        req.stats = {d.id: s for d, s in candidates}
        cooling = [d.id for d, s in zip(deployments, stats, strict=True) if s.cooling]
        if not candidates:
            raise RouterRateLimitError(
                group, self.cooldown_time, self.enable_pre_call_checks, cooling, ids,
                reason=None if cooling or not ids else "The deployments' half-open probes are in flight.",
            )
        if self._has_order:
            first = min(d.order if d.order is not None else _NO_ORDER for d, _ in candidates)
            candidates = [(d, s) for d, s in candidates if (d.order if d.order is not None else _NO_ORDER) == first]
        ordered = self._strategy(candidates, self.routing_strategy_args)
        if req.history:  # a retry: siblings that have not failed this request go first
            failed = {h["model_id"] for h in req.history}
            ordered = [d for d in ordered if d.id not in failed] + [d for d in ordered if d.id in failed]
        reasons = []
        for dep in ordered:
            tokens = req.prompt_tokens() if dep.tpm is not None else 0
            if shared:
                reason = yield self._op("reserve", dep.id, dep.rpm, dep.tpm, tokens)
            else:
                reason = self._state.reserve(dep.id, dep.rpm, dep.tpm, tokens)
            if not reason:
                return dep
            reasons.append(f"{dep.id}: {reason}")
        raise RouterRateLimitError(
            group, self.cooldown_time, self.enable_pre_call_checks, cooling, ids, reason="; ".join(reasons)
        )

    def _pick_in_one_trip(self, req: _Request, group: str, deployments: list[Deployment], shared: bool) -> Any:
        """Strategies that need no usage figures (shuffle, cost) order the deployments first;
        one script then takes the first that can take the request: one Redis round trip."""
        ordered = self._strategy([(d, _NO_STATS) for d in deployments], self.routing_strategy_args)
        if req.history:
            failed = {h["model_id"] for h in req.history}
            ordered = [d for d in ordered if d.id not in failed] + [d for d in ordered if d.id in failed]
        limits = [(d.id, d.rpm, d.tpm, req.prompt_tokens() if d.tpm is not None else 0) for d in ordered]
        if shared:
            index, reasons, probe = yield self._op("reserve_first", limits, False)
        else:
            index, reasons, probe = self._state.reserve_first(limits)
        unavailable = {d.id for d, r in zip(ordered, reasons, strict=False) if r in (COOLING, PROBING)}
        req.available = {d.id for d in deployments} - unavailable
        if index >= 0:
            dep = ordered[index]
            # Nothing reads this success back (no in-flight count, tokens or latency for this
            # strategy, no probe to close): the round trip that would report it is skipped.
            req.report_success = probe or dep.tpm is not None
            return dep
        cooling = [d.id for d, r in zip(ordered, reasons, strict=False) if r == COOLING]
        raise RouterRateLimitError(
            group, self.cooldown_time, self.enable_pre_call_checks, cooling, [d.id for d in deployments],
            reason="; ".join(f"{d.id}: {r}" for d, r in zip(ordered, reasons, strict=False) if r != COOLING) or None,
        )

    def _fit_context(self, req: _Request, group: str, deployments: list[Deployment]) -> list[Deployment]:
        tokens = req.prompt_tokens()
        fitting = [d for d in deployments if d.max_input_tokens is None or tokens <= d.max_input_tokens]
        if fitting:
            return fitting
        windows = sorted({d.max_input_tokens for d in deployments if d.max_input_tokens})
        raise E.ContextWindowExceededError(
            f"the prompt is about {tokens} tokens; every deployment of {group} takes at most "
            f"{windows[-1] if windows else '?'} (pre-call check)",
            model=group,
        )

    # -- decisions ----------------------------------------------------------------------------

    def _retries(self, req: _Request, dep: Deployment | None, group: str, exc: BaseException) -> tuple[int, bool]:
        groups = req.retry_policy_groups or self.model_group_retry_policy
        policy = health.as_policy(groups.get(group), health.RetryPolicy) if groups and group in groups else self.retry_policy
        from_policy = health.retries_from_policy(policy, exc)
        if from_policy is not None:
            return from_policy, True
        if req.num_retries is not None:
            return req.num_retries, False
        if dep is not None and dep.num_retries is not None:
            return dep.num_retries, False
        return self.num_retries, False

    def _decide(
        self, req: _Request, group: str, dep: Deployment | None, exc: BaseException, attempt: _Attempt | None = None
    ) -> Decision:
        """What to do after a failure: retry in the group, fall back to another group, or raise.

        Pure (no I/O), so it can run inside the attempt's failure event, which then tells
        callbacks whether this failure is the request's outcome."""
        if not isinstance(exc, Exception) or isinstance(exc, RouterConfigError):
            return _RAISE
        if _refused_input(exc):
            return _RAISE  # llmtap refused the caller's input before sending: it fails everywhere
        if attempt is not None and attempt.delivered:
            return _RAISE  # a stream already gave the caller output
        if dep is not None:
            retries, forced = self._retries(req, dep, group, exc)
            if req.retries_in_group < retries and (forced or health.retryable(exc)):
                others = req.available - req.excluded - {dep.id}
                if health.deployment_specific(exc):
                    if others or forced:
                        return Decision("retry")
                else:
                    delay = 0.0 if others else self._retry_delay(exc, req.retries_in_group + 1)
                    return Decision("retry", delay=delay)
        if req.disable_fallbacks:
            return _RAISE
        queue = req.fallback_queue
        if queue is None:
            queue = self._fallback_queue(req, exc)
            req.fallback_queue = queue
        if req.fallback_index < min(len(queue), self.max_fallbacks):
            item = queue[req.fallback_index]
            if isinstance(item, dict):
                return Decision("fallback", group=item["model"], overrides={k: v for k, v in item.items() if k != "model"})
            return Decision("fallback", group=item)
        return _RAISE

    def _fallback_queue(self, req: _Request, exc: BaseException) -> list:
        queue: list = []
        taken, group = req.taken, req.group
        if isinstance(exc, E.ContextWindowExceededError):
            queue = _request_fallbacks(taken.get("context_window_fallbacks"), self.context_window_fallbacks, group)
        elif isinstance(exc, E.ContentPolicyViolationError):
            queue = _request_fallbacks(taken.get("content_policy_fallbacks"), self.content_policy_fallbacks, group)
        if not queue:
            queue = _request_fallbacks(taken.get("fallbacks"), self.fallbacks, group)
        known = []
        for item in queue:
            name = item["model"] if isinstance(item, dict) else item
            if name == req.group:
                continue
            if name not in self._groups and name not in self._by_id:
                logger.warning("llmtap Router: fallback group %r is not in the model list; skipped", name[:80])
                continue
            known.append(item)
        return known

    def _follow(self, req: _Request, decision: Decision) -> str:
        """Move the request to its next fallback group; returns the group."""
        req.fallback_index += 1
        req.retries_in_group = 0
        if decision.overrides:
            overrides = dict(decision.overrides)
            if "messages" in overrides and req.call_type == "completion":
                from .. import main

                req.inputs = main._messages(overrides.pop("messages"), decision.group)
            req.kwargs.update(overrides)
        return decision.group

    def _retry_delay(self, exc: BaseException, attempt: int) -> float:
        return max(self.retry_after, llmtap.retry_rules.delay(attempt, exc))

    # -- after an attempt ---------------------------------------------------------------------

    def _report_failure(self, req: _Request, group: str, dep: Deployment, exc: BaseException) -> Any:
        if not isinstance(exc, Exception):  # cancelled or interrupted: no verdict on the deployment
            try:  # not yielded: a cancelled task must not wait on anything (one short Redis call)
                self._state.released(dep.id)
            except Exception:
                pass
            return
        if health.deployment_specific(exc):
            req.excluded.add(dep.id)
        cooldown = self._cooldown(dep, exc)
        counts = cooldown.counts and not self.disable_cooldowns and len(self._deployments_for(dep.group)) > 1
        cooled = yield self._op("failed", dep.id, counts, cooldown.immediate, cooldown.allowed_fails, cooldown.seconds)
        if cooled:
            logger.info("llmtap Router: deployment %s of %s cooling down for %gs after %s", dep.id, dep.group, cooldown.seconds, type(exc).__name__)

    def _cooldown(self, dep: Deployment, exc: BaseException) -> health.Cooldown:
        seconds = dep.cooldown_time if dep.cooldown_time is not None else self.cooldown_time
        return health.cooldown_for(exc, seconds, self.allowed_fails, self.allowed_fails_policy)

    def _report_unlogged_failure(self, req: _Request, group: str, exc: BaseException) -> None:
        """The request failed and no attempt's failure event said so: log the one outcome."""
        if req.final_reported:
            return
        req.final_reported = True
        from ..call import prepare
        from ..logging import sinks as _sinks
        from ..logging.record import new_record

        per_call = req.kwargs.get("callbacks")
        sinks = _sinks.collect(llmtap, per_call)
        if not sinks:
            return
        info = {
            "request_id": req.id,
            "model_group": req.group,
            "deployment_group": group,
            "model_id": None,
            "attempt": None,
            "retries": req.retries_in_group,
            "fallbacks": req.fallback_index,
            "final": True,
            "next": None,
            "previous": list(req.history),
        }
        metadata = {**req.metadata, "model_group": group}
        try:
            call = prepare(
                req.call_type,
                group,
                {"metadata": metadata, "mock_response": exc, "router_attempt": _RouterOnlyOutcome(info), "stream": req.stream},
                req.is_async,
            )
            setattr(call, _CALLS[req.call_type][2], req.inputs)
            new_record(call, sinks).failure(exc)
        except Exception:  # logging must never change the error the caller gets
            logger.debug("llmtap Router: could not log the request's failure", exc_info=True)

    # -- the attempt's call params ----------------------------------------------------------

    def _attempt_kwargs(self, req: _Request, dep: Deployment, group: str, attempt: _Attempt) -> dict:
        params = dep.call_params()
        kwargs = {**self.default_litellm_params, **params} if self.default_litellm_params else params
        for name, value in req.kwargs.items():  # the request's own params win, unless None
            if value is not None or name not in kwargs:
                kwargs[name] = value
        kwargs["model"] = dep.model
        kwargs[_CALLS[req.call_type][2]] = req.inputs
        if "timeout" not in kwargs:
            stream_timeout = dep.entry["litellm_params"].get("stream_timeout") or self.stream_timeout
            timeout = stream_timeout if req.stream and stream_timeout else self.timeout
            if timeout is not None:
                kwargs["timeout"] = timeout
        kwargs["num_retries"] = 0  # the Router retries, across deployments
        kwargs.pop("max_retries", None)
        if self.cache_responses and "caching" not in kwargs:
            kwargs["caching"] = True
        kwargs["metadata"] = {
            **req.metadata,
            "model_group": group,
            "model_group_alias": req.requested if req.requested != group else None,
            "deployment": dep.model,
            "model_info": dep.model_info,
            "api_base": params.get("api_base"),
            "deployment_model_name": dep.group,
            "attempted_retries": req.retries_in_group,
            "attempted_fallbacks": req.fallback_index,
            "router_attempt": attempt.number,
        }
        kwargs["model_info"] = dep.model_info
        kwargs["router_attempt"] = attempt
        return kwargs


# -- helpers ------------------------------------------------------------------------------------


def _refused_input(exc: BaseException) -> bool:
    """A parameter llmtap itself refused (bad type or value), not a provider's 400: the same
    request would be refused for every deployment, so no retry and no fallback."""
    return (
        type(exc) is E.BadRequestError
        and not getattr(exc, "llm_provider", None)
        and getattr(exc, "status_code", 400) == 400
        and not getattr(exc, "body", None)
    )


def _total_tokens(result: Any) -> int:
    usage = getattr(result, "usage", None)
    total = getattr(usage, "total_tokens", None) if usage is not None else None
    return int(total) if isinstance(total, (int, float)) else 0


def _non_negative(name: str, value: Any, setting: Any, default: int) -> int:
    if value is None:
        value = setting if setting is not None else default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RouterConfigError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _check_fallbacks(name: str, value: Any) -> list[dict[str, list[str]]]:
    """``[{"group": ["fallback-group", ...]}, ...]``; a single string target is accepted too."""
    if not value:
        return []
    if not isinstance(value, list):
        raise RouterConfigError(f"{name} must be a list of {{model_group: [fallback groups]}} dicts")
    checked = []
    for entry in value:
        if not isinstance(entry, dict):
            raise RouterConfigError(f"{name} entries must be dicts like {{'gpt-4': ['gpt-3.5-turbo']}}, got {entry!r:.80}")
        for group, targets in entry.items():
            if isinstance(targets, str):
                targets = [targets]
            if not isinstance(group, str) or not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
                raise RouterConfigError(f"{name}: {group!r:.40} must map to a list of model group names")
            checked.append({group: list(targets)})
    return checked


def _lookup_fallbacks(fallbacks: list[dict[str, list[str]]], group: str) -> list[str]:
    generic: list[str] = []
    for entry in fallbacks:
        if group in entry:
            return entry[group]
        if "*" in entry and not generic:
            generic = entry["*"]
    return generic


def _client_side(item: Any) -> bool:
    return isinstance(item, str) or (isinstance(item, dict) and isinstance(item.get("model"), str))


def _request_fallbacks(value: Any, configured: list, group: str) -> list:
    """Per-request fallbacks override the Router's for this request: a list of groups, of
    ``{"model": group, **params}`` (that fallback's own params, e.g. other messages), or the
    constructor's ``{group: [groups]}`` form."""
    if value is None:
        return _lookup_fallbacks(configured, group)
    if isinstance(value, list) and all(_client_side(v) for v in value):
        return list(value)
    return _lookup_fallbacks(_check_fallbacks("fallbacks", value), group)
