"""Routing strategies: given the deployments that can take a request and their state, the
order to try them in. Pure functions; the first deployment whose limits admit the request wins.

Names are the peer's ``routing_strategy`` values.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from .deployments import Deployment
from .errors import RouterConfigError
from .state import Stats

Candidates = list[tuple[Deployment, Stats]]
Strategy = Callable[[Candidates, dict[str, Any]], list[Deployment]]


def simple_shuffle(candidates: Candidates, args: dict[str, Any]) -> list[Deployment]:
    """Random, weighted by ``weight``, else ``rpm``, else ``tpm`` when the group sets them
    (``Deployment.shuffle_weight``, worked out once per group when the model list is set)."""
    n = len(candidates)
    if n == 1:
        return [candidates[0][0]]
    deployments = [d for d, _ in candidates]
    if deployments[0].shuffle_weight is None:
        first = random.randrange(n)  # only the first is usually needed: no full shuffle
        return deployments[first:] + deployments[:first]
    return _weighted_order(deployments, [d.shuffle_weight or 0.0 for d in deployments])


def _weighted_order(deployments: list[Deployment], weights: list[float]) -> list[Deployment]:
    # Weighted sampling without replacement (Efraimidis-Spirakis): sort by u ** (1 / w).
    keyed = []
    for deployment, weight in zip(deployments, weights, strict=True):
        key = random.random() ** (1.0 / weight) if weight > 0 else -random.random()
        keyed.append((key, deployment))
    keyed.sort(key=lambda pair: pair[0], reverse=True)
    return [d for _, d in keyed]


def least_busy(candidates: Candidates, args: dict[str, Any]) -> list[Deployment]:
    """Fewest requests in flight (across processes with Redis); ties broken at random."""
    return [d for _, _, d in sorted((s.busy, random.random(), d) for d, s in candidates)]


def lowest_latency(candidates: Candidates, args: dict[str, Any]) -> list[Deployment]:
    """Lowest median of recent latencies (time to first chunk for streams; the median, so one
    slow answer does not shut a deployment out). Deployments with no
    samples yet go first, so each is measured; ``lowest_latency_buffer`` (e.g. 0.1) spreads
    traffic at random over every deployment within that fraction of the fastest."""
    buffer = float(args.get("lowest_latency_buffer", 0) or 0)
    samples = int(args.get("max_latency_list_size", 10) or 10)
    scored = []
    for deployment, stats in candidates:
        recent = sorted(stats.latencies[:samples])
        scored.append((recent[len(recent) // 2] if recent else 0.0, random.random(), deployment))
    scored.sort(key=lambda item: (item[0], item[1]))
    if buffer > 0 and scored:
        edge = scored[0][0] * (1 + buffer)
        near = [item for item in scored if item[0] <= edge]
        random.shuffle(near)
        scored = near + [item for item in scored if item[0] > edge]
    return [d for _, _, d in scored]


def lowest_usage(candidates: Candidates, args: dict[str, Any]) -> list[Deployment]:
    """Fewest tokens used in the last minute, then fewest requests; ties at random."""
    return [d for *_, d in sorted((s.tpm, s.rpm, random.random(), d) for d, s in candidates)]


def lowest_cost(candidates: Candidates, args: dict[str, Any]) -> list[Deployment]:
    """Cheapest per token (input + output price from litellm_params, model_info or the price
    table); deployments with no known price go last."""
    inf = float("inf")
    ranked = sorted(
        (d.cost_per_token if d.cost_per_token is not None else inf, random.random(), d) for d, _ in candidates
    )
    return [d for *_, d in ranked]


STRATEGIES: dict[str, Strategy] = {
    "simple-shuffle": simple_shuffle,
    "least-busy": least_busy,
    "latency-based-routing": lowest_latency,
    "usage-based-routing": lowest_usage,
    "usage-based-routing-v2": lowest_usage,
    "cost-based-routing": lowest_cost,
}


# Strategies that order deployments without their usage figures (a Redis pick is one round trip).
STATS_FREE = frozenset({simple_shuffle, lowest_cost})


def get_strategy(name: Any) -> Strategy:
    if hasattr(name, "value"):  # the peer's RoutingStrategy enum
        name = name.value
    strategy = STRATEGIES.get(name)
    if strategy is None:
        raise RouterConfigError(f"routing_strategy must be one of {sorted(STRATEGIES)}, got {name!r}")
    return strategy
