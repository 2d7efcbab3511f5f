"""The model list: each entry a deployment (one endpoint + key) inside a named group.

An entry is ``{"model_name": group, "litellm_params": {call params}, "model_info": {...}}``,
the peer's shape. Call params are any ``llmtap.completion`` parameters; the router-only ones
(``rpm``, ``tpm``, ``weight``, ``order``, ...) are taken out here and never sent. Strings of the
form ``os.environ/NAME`` are read from the environment on each attempt, so rotating a key in the
environment needs no new Router; a missing variable is named in the error, its value never is.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from .errors import RouterConfigError

ENV_PREFIX = "os.environ/"

# litellm_params keys that configure routing and must never reach the provider.
ROUTER_ONLY = frozenset(
    {
        "rpm",
        "tpm",
        "weight",
        "order",
        "max_parallel_requests",
        "tags",
        "num_retries",
        "max_retries",
        "model_info",
        "litellm_credential_name",
        "use_in_pass_through",
        "base_model",
        "stream_timeout",
        "cooldown_time",
    }
)


@dataclass(slots=True, eq=False)
class Deployment:
    id: str
    group: str
    model: str  # litellm_params["model"]
    params: dict[str, Any]  # call params, env references unresolved
    env_refs: tuple[str, ...]  # keys of params whose value is "os.environ/NAME"
    model_info: dict[str, Any]
    entry: dict[str, Any]  # the entry as get_model_list shows it
    rpm: int | None = None
    tpm: int | None = None
    weight: float | None = None
    num_retries: int | None = None
    max_input_tokens: int | None = None
    cost_per_token: float | None = None  # input + output, for cost-based routing
    shuffle_weight: float | None = None  # simple-shuffle: weight, else rpm, else tpm (per group)
    order: int | None = None  # priority: lower orders are used while any of them is available
    cooldown_time: float | None = None  # this deployment's own cooldown (0: never cooled)
    extra: dict[str, Any] = field(default_factory=dict)

    def call_params(self) -> dict[str, Any]:
        """The params for one attempt, with ``os.environ/`` references read now."""
        if not self.env_refs:
            return dict(self.params)
        params = dict(self.params)
        for key in self.env_refs:
            name = params[key][len(ENV_PREFIX) :]
            value = os.environ.get(name)
            if value is None:
                raise RouterConfigError(
                    f"deployment {self.id} ({self.group}): litellm_params[{key!r}] refers to the "
                    f"environment variable {name}, which is not set"
                )
            params[key] = value
        return params


def parse_model_list(model_list: Any) -> list[Deployment]:
    if model_list is None:
        return []
    if not isinstance(model_list, (list, tuple)):
        raise RouterConfigError(f"model_list must be a list of dicts, got {type(model_list).__name__}")
    deployments = [parse_entry(entry, index) for index, entry in enumerate(model_list)]
    set_shuffle_weights(deployments)
    seen: dict[str, int] = {}
    for index, deployment in enumerate(deployments):
        if deployment.id in seen and not _given_id(model_list[index]):
            # Two identical entries (the peer accepts them: e.g. one endpoint listed twice to
            # weigh it): the generated id gets a suffix, the same in every process.
            n = 2
            while f"{deployment.id}-{n}" in seen:
                n += 1
            deployment = _with_id(deployment, f"{deployment.id}-{n}")
            deployments[index] = deployment
        if deployment.id in seen:
            raise RouterConfigError(
                f"model_list[{index}] has the same model_info.id as model_list[{seen[deployment.id]}] "
                f"({deployment.id!r}); ids must be unique"
            )
        seen[deployment.id] = index
    return deployments


def _given_id(entry: Any) -> bool:
    info = entry.get("model_info") if isinstance(entry, dict) else None
    return isinstance(info, dict) and info.get("id") is not None


def _with_id(deployment: Deployment, new_id: str) -> Deployment:
    deployment.model_info["id"] = new_id
    return dataclasses.replace(deployment, id=new_id)


def set_shuffle_weights(deployments: list[Deployment]) -> None:
    """The peer's rule, per group: weight if any deployment sets one, else rpm, else tpm."""
    groups: dict[str, list[Deployment]] = {}
    for deployment in deployments:
        groups.setdefault(deployment.group, []).append(deployment)
    for members in groups.values():
        for attribute in ("weight", "rpm", "tpm"):
            if any(getattr(d, attribute) for d in members):
                for d in members:
                    d.shuffle_weight = float(getattr(d, attribute) or 0.0)
                break


def parse_entry(entry: Any, index: int = 0) -> Deployment:
    where = f"model_list[{index}]"
    if hasattr(entry, "model_dump") and not isinstance(entry, dict):
        entry = entry.model_dump(exclude_none=True)
    if not isinstance(entry, dict):
        raise RouterConfigError(f"{where} must be a dict, got {type(entry).__name__}")
    group = entry.get("model_name")
    if not isinstance(group, str) or not group:
        raise RouterConfigError(f"{where} needs a 'model_name' (the group name callers use), got {group!r:.60}")
    raw = entry.get("litellm_params")
    if hasattr(raw, "model_dump") and not isinstance(raw, dict):
        raw = raw.model_dump(exclude_none=True)
    if not isinstance(raw, dict):
        raise RouterConfigError(f"{where} ({group}) needs 'litellm_params', a dict of call params")
    model = raw.get("model")
    if not isinstance(model, str) or not model:
        raise RouterConfigError(f"{where} ({group}): litellm_params needs a 'model' string, got {model!r:.60}")
    info = entry.get("model_info") or {}
    if not isinstance(info, dict):
        raise RouterConfigError(f"{where} ({group}): model_info must be a dict")
    info = dict(info)
    params = {k: v for k, v in raw.items() if k not in ROUTER_ONLY and k != "model"}
    env_refs = tuple(k for k, v in params.items() if isinstance(v, str) and v.startswith(ENV_PREFIX))
    deployment_id = info.get("id")
    if deployment_id is None:
        deployment_id = _stable_id(group, raw)
    deployment_id = str(deployment_id)
    info["id"] = deployment_id

    def number(name: str, kind: type) -> Any:
        for source in (raw, entry, info):
            value = source.get(name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise RouterConfigError(f"{where} ({group}): {name} must be a non-negative number, got {value!r}")
                return kind(value)
        return None

    shown = {**entry, "litellm_params": dict(raw), "model_info": info}
    deployment = Deployment(
        id=deployment_id,
        group=group,
        model=model,
        params=params,
        env_refs=env_refs,
        model_info=info,
        entry=shown,
        rpm=number("rpm", int),
        tpm=number("tpm", int),
        weight=number("weight", float),
        num_retries=number("num_retries", int),
        order=number("order", int),
        cooldown_time=number("cooldown_time", float),
    )
    deployment.max_input_tokens, deployment.cost_per_token = _table_facts(model, raw, info)
    return deployment


def _stable_id(group: str, params: dict) -> str:
    """The same entry gets the same id in every process, so shared (Redis) state lines up."""
    text = json.dumps({"model_name": group, "litellm_params": params}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _table_facts(model: str, raw: dict, info: dict) -> tuple[int | None, float | None]:
    """(max input tokens, input + output price per token) from model_info, else the price table."""
    from ..cost import _lookup

    base = info.get("base_model") or raw.get("base_model") or model
    found = _lookup(base)
    table = found[1] if found else {}
    max_input = info.get("max_input_tokens") or table.get("max_input_tokens") or table.get("max_tokens")
    price_in = _first(raw, info, table, key="input_cost_per_token")
    price_out = _first(raw, info, table, key="output_cost_per_token")
    cost = None if price_in is None and price_out is None else float(price_in or 0) + float(price_out or 0)
    return (int(max_input) if isinstance(max_input, (int, float)) else None), cost


def _first(*sources: dict, key: str) -> Any:
    for source in sources:
        value = source.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    return None
