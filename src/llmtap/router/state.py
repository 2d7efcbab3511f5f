"""Per-deployment health and usage: the state every routing decision reads.

Two backends keep the same state with the same rules: ``MemoryState`` (one process) and
``RedisState`` (every process that points at the same Redis; redis_state.py). Each operation
is one atomic step — in Redis one Lua script — so concurrent routers never read-modify-write:

- ``snapshot(ids)``: for each deployment, whether it can take traffic, its requests and tokens
  in the last window, its requests in flight and its recent latencies.
- ``reserve(id, rpm, tpm, tokens)``: take a slot under the deployment's limits (and, after a
  cooldown, the one half-open probe), or say why not.
- ``succeeded`` / ``failed`` / ``released``: report how the attempt ended; ``failed`` decides
  the cooldown.

Cooldown is a circuit breaker: after it ends the deployment is *half-open* — one request (the
probe) may use it; success closes the circuit, failure opens it again for another cooldown.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from typing import NamedTuple

WINDOW = 60.0  # seconds: rpm and tpm are counted over the last minute, sliding
LATENCY_SAMPLES = 20
PROBE_TTL = 60.0  # a probe that never reports frees the deployment after this long

OK = ""  # reserve(): granted
COOLING = "cooldown"
PROBING = "probe in flight"
RPM = "rpm limit"
TPM = "tpm limit"


class Stats(NamedTuple):
    available: bool  # not cooling down, and not half-open with its probe in flight
    cooling: bool
    rpm: int  # requests sent in the last WINDOW seconds
    tpm: int  # tokens used in the last WINDOW seconds
    busy: int  # requests in flight
    latencies: tuple[float, ...]  # most recent first


class _Deployment:
    __slots__ = ("sent", "tokens", "token_sum", "busy", "latencies", "fails", "cool_until", "half_open", "probe_until")

    def __init__(self) -> None:
        self.sent: deque[float] = deque()
        self.tokens: deque[tuple[float, int]] = deque()
        self.token_sum = 0  # the sum of ``tokens``, kept as entries come and go
        self.busy = 0
        self.latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        self.fails: deque[float] = deque()
        self.cool_until = 0.0
        self.half_open = False
        self.probe_until = 0.0


class MemoryState:
    """State for one process. Thread-safe; the async methods are the sync ones (no I/O)."""

    shared = False

    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._lock = threading.Lock()
        self._deployments: dict[str, _Deployment] = {}
        _LIVE.add(self)

    def _after_fork(self) -> None:
        # A fork taken while another thread held the lock would leave the child's copy locked.
        self._lock = threading.Lock()
        for entry in self._deployments.values():
            entry.busy = 0  # the parent's requests in flight are not the child's

    def _get(self, deployment_id: str) -> _Deployment:
        entry = self._deployments.get(deployment_id)
        if entry is None:
            entry = self._deployments[deployment_id] = _Deployment()
        return entry

    def _trim(self, entry: _Deployment, now: float) -> None:
        edge = now - self.window
        sent = entry.sent
        while sent and sent[0] <= edge:
            sent.popleft()
        tokens = entry.tokens
        while tokens and tokens[0][0] <= edge:
            entry.token_sum -= tokens.popleft()[1]

    def snapshot(self, ids: list[str]) -> list[Stats]:
        now = time.time()
        out = []
        with self._lock:
            for deployment_id in ids:
                entry = self._deployments.get(deployment_id)
                if entry is None:
                    out.append(_FRESH)
                    continue
                self._trim(entry, now)
                cooling = entry.cool_until > now
                available = not cooling and not (entry.half_open and entry.probe_until > now)
                out.append(
                    Stats(
                        available,
                        cooling,
                        len(entry.sent),
                        entry.token_sum,
                        entry.busy,
                        tuple(reversed(entry.latencies)),
                    )
                )
        return out

    def reserve(self, deployment_id: str, rpm: int | None, tpm: int | None, tokens: int) -> str:
        now = time.time()
        with self._lock:
            entry = self._get(deployment_id)
            if entry.cool_until > now:
                return COOLING
            probe = entry.half_open
            if probe and entry.probe_until > now:
                return PROBING
            self._trim(entry, now)
            if rpm is not None and len(entry.sent) >= rpm:
                return RPM
            if tpm is not None and entry.token_sum + tokens > tpm:
                return TPM
            entry.sent.append(now)
            entry.busy += 1
            if probe:
                entry.probe_until = now + PROBE_TTL
            return OK

    def reserve_first(
        self, limits: list[tuple[str, int | None, int | None, int]], busy: bool = True
    ) -> tuple[int, list[str], bool]:
        """Reserve the first of (id, rpm, tpm, tokens) that can take the request: (its index or
        -1, the reason each one before it could not, whether it is a half-open probe). Memory
        state always counts requests in flight."""
        reasons = []
        for index, (deployment_id, rpm, tpm, tokens) in enumerate(limits):
            entry = self._deployments.get(deployment_id)
            probe = entry is not None and entry.half_open
            reason = self.reserve(deployment_id, rpm, tpm, tokens)
            if not reason:
                return index, reasons, probe
            reasons.append(reason)
        return -1, reasons, False

    def succeeded(self, deployment_id: str, tokens: int, latency: float | None) -> None:
        now = time.time()
        with self._lock:
            entry = self._get(deployment_id)
            entry.busy = max(0, entry.busy - 1)
            if tokens:
                entry.tokens.append((now, tokens))
                entry.token_sum += tokens
            if latency is not None:
                entry.latencies.append(latency)
            entry.half_open = False
            entry.probe_until = 0.0

    def add_tokens(self, deployment_id: str, tokens: int) -> None:
        if tokens:
            with self._lock:
                entry = self._get(deployment_id)
                entry.tokens.append((time.time(), tokens))
                entry.token_sum += tokens

    def failed(
        self, deployment_id: str, counts: bool, immediate: bool, allowed_fails: int, cooldown: float
    ) -> bool:
        """Report a failed attempt; True if the deployment is now cooling down."""
        now = time.time()
        with self._lock:
            entry = self._get(deployment_id)
            entry.busy = max(0, entry.busy - 1)
            probing = entry.half_open and entry.probe_until > 0
            entry.probe_until = 0.0
            if not counts or cooldown <= 0:
                return False
            fails = entry.fails
            edge = now - self.window
            while fails and fails[0] <= edge:
                fails.popleft()
            fails.append(now)
            if immediate or probing or len(fails) > allowed_fails:
                fails.clear()
                entry.cool_until = now + cooldown
                entry.half_open = True
                return True
            return False

    def released(self, deployment_id: str) -> None:
        """An attempt that ended with no verdict on the deployment (cancelled)."""
        with self._lock:
            entry = self._get(deployment_id)
            entry.busy = max(0, entry.busy - 1)
            if entry.half_open:
                entry.probe_until = 0.0

    def cooldowns(self, ids: list[str]) -> list[str]:
        return [i for i, stats in zip(ids, self.snapshot(ids), strict=True) if stats.cooling]

    def clear(self) -> None:
        with self._lock:
            self._deployments.clear()

    async def asnapshot(self, ids: list[str]) -> list[Stats]:
        return self.snapshot(ids)

    async def areserve(self, deployment_id: str, rpm: int | None, tpm: int | None, tokens: int) -> str:
        return self.reserve(deployment_id, rpm, tpm, tokens)

    async def areserve_first(
        self, limits: list[tuple[str, int | None, int | None, int]], busy: bool = True
    ) -> tuple[int, list[str], bool]:
        return self.reserve_first(limits, busy)

    async def asucceeded(self, deployment_id: str, tokens: int, latency: float | None) -> None:
        self.succeeded(deployment_id, tokens, latency)

    async def aadd_tokens(self, deployment_id: str, tokens: int) -> None:
        self.add_tokens(deployment_id, tokens)

    async def afailed(
        self, deployment_id: str, counts: bool, immediate: bool, allowed_fails: int, cooldown: float
    ) -> bool:
        return self.failed(deployment_id, counts, immediate, allowed_fails, cooldown)

    async def areleased(self, deployment_id: str) -> None:
        self.released(deployment_id)


_FRESH = Stats(True, False, 0, 0, 0, ())
_LIVE: weakref.WeakSet[MemoryState] = weakref.WeakSet()


def _reinit_after_fork() -> None:
    for state in list(_LIVE):
        state._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)
