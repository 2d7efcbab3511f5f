"""Router state in Redis: every process pointing at the same Redis routes as one router.

Each operation is one Lua script, run atomically by Redis with Redis's own clock (``TIME``), so
processes on different machines agree on windows and no read-modify-write race can let two
routers both take the last slot under an rpm limit. The rules are MemoryState's (state.py).

Keys, per deployment id, under ``namespace``: ``sent`` (sorted set: one member per request in
the last window), ``tok`` (hash: tokens per second), ``busy`` (requests in flight), ``lat``
(list: recent latencies), ``fails`` (sorted set: counted failures in the window), ``cool``
(exists while cooling down, expires on its own), ``half`` (half-open after a cooldown) and
``probe`` (the half-open probe in flight, with a lease).

Redis down, slow or answering garbage: the operation runs on a local MemoryState instead, one
warning is logged per outage, and Redis is tried again after ``retry_interval`` seconds.
"""

from __future__ import annotations

import logging
import time
import uuid
import weakref
from typing import Any

from .state import LATENCY_SAMPLES, PROBE_TTL, WINDOW, MemoryState, Stats

logger = logging.getLogger("llmtap")

_FIELDS = ("sent", "tok", "busy", "lat", "fails", "cool", "half", "probe")

_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function tokens_in_window(key, window)
  local edge = math.floor((now - window) / 1000)
  local total = 0
  local fields = redis.call('HGETALL', key)
  for j = 1, #fields, 2 do
    if tonumber(fields[j]) <= edge then
      redis.call('HDEL', key, fields[j])
    else
      total = total + tonumber(fields[j + 1])
    end
  end
  return total
end
local function floor_decr(key)
  local n = redis.call('DECR', key)
  if n < 0 then redis.call('SET', key, 0) end
end
"""

# KEYS: 8 per deployment (_FIELDS order); ARGV: window ms
_SNAPSHOT = _PRELUDE + """
local window = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS, 8 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local rpm = redis.call('ZCARD', KEYS[i])
  local tpm = tokens_in_window(KEYS[i + 1], window)
  local busy = tonumber(redis.call('GET', KEYS[i + 2]) or '0')
  local lat = redis.call('LRANGE', KEYS[i + 3], 0, -1)
  local cooling = redis.call('EXISTS', KEYS[i + 5])
  local probing = redis.call('EXISTS', KEYS[i + 6]) * redis.call('EXISTS', KEYS[i + 7])
  out[#out + 1] = {cooling, probing, rpm, tpm, busy, lat}
end
return out
"""

# KEYS: one deployment's 8; ARGV: window ms, rpm (-1: none), tpm (-1: none), tokens, probe ms, member
_RESERVE = _PRELUDE + """
local window = tonumber(ARGV[1])
local rpm, tpm, tokens = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[6]) == 1 then return 'cooldown' end
local half = redis.call('EXISTS', KEYS[7]) == 1
if half and redis.call('EXISTS', KEYS[8]) == 1 then return 'probe in flight' end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if rpm >= 0 and redis.call('ZCARD', KEYS[1]) >= rpm then return 'rpm limit' end
if tpm >= 0 and tokens_in_window(KEYS[2], window) + tokens > tpm then return 'tpm limit' end
redis.call('ZADD', KEYS[1], now, ARGV[6])
redis.call('PEXPIRE', KEYS[1], window + 1000)
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], 900)
if half then redis.call('SET', KEYS[8], '1', 'PX', tonumber(ARGV[5])) end
return ''
"""

# KEYS: 8 per deployment, in the order to try; ARGV: window ms, probe ms, member, then per
# busy (1: count it in flight), then per deployment rpm (-1: none), tpm (-1: none), tokens.
# Returns {index (0-based) or -1, reasons, 1 if the reservation is a half-open probe}.
_RESERVE_FIRST = _PRELUDE + """
local window, probe_ms, member, busy = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4] == '1'
local reasons = {}
for i = 1, #KEYS, 8 do
  local n = (i - 1) / 8
  local rpm, tpm, tokens = tonumber(ARGV[5 + 3 * n]), tonumber(ARGV[6 + 3 * n]), tonumber(ARGV[7 + 3 * n])
  local reason = ''
  local half = false
  if redis.call('EXISTS', KEYS[i + 5]) == 1 then
    reason = 'cooldown'
  else
    half = redis.call('EXISTS', KEYS[i + 6]) == 1
    if half and redis.call('EXISTS', KEYS[i + 7]) == 1 then reason = 'probe in flight' end
  end
  if reason == '' then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
    if rpm >= 0 and redis.call('ZCARD', KEYS[i]) >= rpm then
      reason = 'rpm limit'
    elseif tpm >= 0 and tokens_in_window(KEYS[i + 1], window) + tokens > tpm then
      reason = 'tpm limit'
    end
  end
  if reason == '' then
    redis.call('ZADD', KEYS[i], now, member)
    redis.call('PEXPIRE', KEYS[i], window + 1000)
    if busy then
      redis.call('INCR', KEYS[i + 2])
      redis.call('EXPIRE', KEYS[i + 2], 900)
    end
    if half then redis.call('SET', KEYS[i + 7], '1', 'PX', probe_ms) end
    return {n, reasons, half and 1 or 0}
  end
  reasons[#reasons + 1] = reason
end
return {-1, reasons, 0}
"""

# ARGV: window ms, tokens, latency ('' = none), samples
_SUCCEEDED = _PRELUDE + """
floor_decr(KEYS[3])
local tokens = tonumber(ARGV[2])
if tokens > 0 then
  redis.call('HINCRBY', KEYS[2], math.floor(now / 1000), tokens)
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[1]) + 2000)
end
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[4], ARGV[3])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[4]) - 1)
  redis.call('EXPIRE', KEYS[4], 3600)
end
redis.call('DEL', KEYS[7], KEYS[8])
return 0
"""

# ARGV: window ms, tokens
_ADD_TOKENS = _PRELUDE + """
redis.call('HINCRBY', KEYS[2], math.floor(now / 1000), tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[1]) + 2000)
return 0
"""

# ARGV: window ms, counts (0/1), immediate (0/1), allowed fails, cooldown ms, member
_FAILED = _PRELUDE + """
floor_decr(KEYS[3])
local probing = redis.call('EXISTS', KEYS[7]) == 1 and redis.call('EXISTS', KEYS[8]) == 1
redis.call('DEL', KEYS[8])
local cooldown = tonumber(ARGV[5])
if ARGV[2] == '0' or cooldown <= 0 then return 0 end
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - window)
redis.call('ZADD', KEYS[5], now, ARGV[6])
redis.call('PEXPIRE', KEYS[5], window)
if ARGV[3] == '1' or probing or redis.call('ZCARD', KEYS[5]) > tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[5])
  redis.call('SET', KEYS[6], '1', 'PX', cooldown)
  redis.call('SET', KEYS[7], '1', 'EX', 86400)
  return 1
end
return 0
"""

_RELEASED = _PRELUDE + """
floor_decr(KEYS[3])
if redis.call('EXISTS', KEYS[7]) == 1 then redis.call('DEL', KEYS[8]) end
return 0
"""

_SCRIPTS = {
    "snapshot": _SNAPSHOT,
    "reserve": _RESERVE,
    "reserve_first": _RESERVE_FIRST,
    "succeeded": _SUCCEEDED,
    "add_tokens": _ADD_TOKENS,
    "failed": _FAILED,
    "released": _RELEASED,
}


class RedisState:
    shared = True

    def __init__(
        self,
        url: str | None = None,
        host: str | None = None,
        port: int | str | None = None,
        password: str | None = None,
        db: int | str | None = None,
        username: str | None = None,
        namespace: str = "llmtap:router",
        window: float = WINDOW,
        socket_timeout: float = 1.0,
        retry_interval: float = 5.0,
        **options: Any,
    ) -> None:
        try:
            import redis  # noqa: F401
        except ImportError as exc:  # pragma: no cover - the extra is documented
            raise ImportError("a Router with Redis needs redis-py: pip install 'llmtap[redis]'") from exc
        self._settings: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_timeout,
            **options,
        }
        self._url = url
        if not url:
            self._settings.update(
                host=host or "localhost", port=int(port or 6379), password=password, username=username, db=int(db or 0)
            )
        self.where = _where(url, host, port)
        self.namespace = namespace
        self.window = window
        self.retry_interval = retry_interval
        self.local = MemoryState(window)
        self._down_until = 0.0
        self._sync: Any = None
        self._sync_scripts: dict[str, Any] = {}
        self._async: weakref.WeakKeyDictionary[Any, tuple[Any, dict[str, Any]]] = weakref.WeakKeyDictionary()

    # -- clients ------------------------------------------------------------------------------

    def _scripts(self) -> dict[str, Any]:
        if self._sync is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            settings = {"retry": Retry(NoBackoff(), 0), **self._settings}
            client = redis.Redis.from_url(self._url, **settings) if self._url else redis.Redis(**settings)
            self._sync_scripts = {name: client.register_script(text) for name, text in _SCRIPTS.items()}
            self._sync = client
        return self._sync_scripts

    def _ascripts(self) -> dict[str, Any]:
        import asyncio

        import redis.asyncio

        loop = asyncio.get_running_loop()
        found = self._async.get(loop)
        if found is None:
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            settings = {"retry": Retry(NoBackoff(), 0), **self._settings}
            cls = redis.asyncio.Redis
            client = cls.from_url(self._url, **settings) if self._url else cls(**settings)
            found = (client, {name: client.register_script(text) for name, text in _SCRIPTS.items()})
            self._async[loop] = found
        return found[1]

    # -- keys and arguments -----------------------------------------------------------------

    def _keys(self, deployment_id: str) -> list[str]:
        base = f"{self.namespace}:{{{deployment_id}}}:"
        return [base + name for name in _FIELDS]

    def _call(self, name: str, *args: Any) -> tuple[list[str], list[Any]]:
        window = int(self.window * 1000)
        if name == "snapshot":
            keys = [k for i in args[0] for k in self._keys(i)]
            return keys, [window]
        if name == "reserve_first":
            keys, argv = [], [window, int(PROBE_TTL * 1000), uuid.uuid4().hex, int(bool(args[1]))]
            for deployment_id, rpm, tpm, tokens in args[0]:
                keys.extend(self._keys(deployment_id))
                argv.extend((-1 if rpm is None else rpm, -1 if tpm is None else tpm, tokens))
            return keys, argv
        keys = self._keys(args[0])
        if name == "reserve":
            _, rpm, tpm, tokens = args
            return keys, [window, -1 if rpm is None else rpm, -1 if tpm is None else tpm, tokens, int(PROBE_TTL * 1000), uuid.uuid4().hex]
        if name == "succeeded":
            _, tokens, latency = args
            return keys, [window, tokens, "" if latency is None else repr(float(latency)), LATENCY_SAMPLES]
        if name == "add_tokens":
            return keys, [window, args[1]]
        if name == "failed":
            _, counts, immediate, allowed, cooldown = args
            return keys, [window, int(bool(counts)), int(bool(immediate)), allowed, int(cooldown * 1000), uuid.uuid4().hex]
        return keys, [window]

    @staticmethod
    def _result(name: str, raw: Any) -> Any:
        if name == "snapshot":
            out = []
            for cooling, probing, rpm, tpm, busy, lat in raw:
                cooling, probing = bool(int(cooling)), bool(int(probing))
                out.append(Stats(not cooling and not probing, cooling, int(rpm), int(tpm), int(busy), tuple(float(x) for x in lat)))
            return out
        if name == "reserve":
            return raw.decode() if isinstance(raw, bytes) else str(raw)
        if name == "reserve_first":
            index, reasons, probe = raw
            return int(index), [r.decode() if isinstance(r, bytes) else str(r) for r in reasons], bool(int(probe))
        if name == "failed":
            return bool(int(raw))
        return None

    # -- fault handling -------------------------------------------------------------------------

    def _up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _down(self, exc: BaseException) -> None:
        if self._up():
            logger.warning(
                "llmtap Router: Redis at %s unavailable (%s); routing on this process's own state, "
                "Redis is tried again in %gs",
                self.where,
                type(exc).__name__,
                self.retry_interval,
            )
        self._down_until = time.monotonic() + self.retry_interval

    def _run(self, name: str, *args: Any) -> Any:
        if self._up():
            try:
                keys, argv = self._call(name, *args)
                return self._result(name, self._scripts()[name](keys=keys, args=argv))
            except Exception as exc:
                self._down(exc)
        return getattr(self.local, name)(*args)

    async def _arun(self, name: str, *args: Any) -> Any:
        if self._up():
            try:
                keys, argv = self._call(name, *args)
                return self._result(name, await self._ascripts()[name](keys=keys, args=argv))
            except Exception as exc:
                self._down(exc)
        return getattr(self.local, name)(*args)

    # -- the operations (state.py) ------------------------------------------------------------

    def snapshot(self, ids: list[str]) -> list[Stats]:
        return self._run("snapshot", ids) if ids else []

    def reserve(self, deployment_id: str, rpm: int | None, tpm: int | None, tokens: int) -> str:
        return self._run("reserve", deployment_id, rpm, tpm, tokens)

    def reserve_first(self, limits: list[tuple[str, int | None, int | None, int]], busy: bool = True) -> tuple[int, list[str], bool]:
        return self._run("reserve_first", limits, busy)

    def succeeded(self, deployment_id: str, tokens: int, latency: float | None) -> None:
        self._run("succeeded", deployment_id, tokens, latency)

    def add_tokens(self, deployment_id: str, tokens: int) -> None:
        if tokens:
            self._run("add_tokens", deployment_id, tokens)

    def failed(self, deployment_id: str, counts: bool, immediate: bool, allowed_fails: int, cooldown: float) -> bool:
        return self._run("failed", deployment_id, counts, immediate, allowed_fails, cooldown)

    def released(self, deployment_id: str) -> None:
        self._run("released", deployment_id)

    async def asnapshot(self, ids: list[str]) -> list[Stats]:
        return await self._arun("snapshot", ids) if ids else []

    async def areserve(self, deployment_id: str, rpm: int | None, tpm: int | None, tokens: int) -> str:
        return await self._arun("reserve", deployment_id, rpm, tpm, tokens)

    async def areserve_first(
        self, limits: list[tuple[str, int | None, int | None, int]], busy: bool = True
    ) -> tuple[int, list[str], bool]:
        return await self._arun("reserve_first", limits, busy)

    async def asucceeded(self, deployment_id: str, tokens: int, latency: float | None) -> None:
        await self._arun("succeeded", deployment_id, tokens, latency)

    async def aadd_tokens(self, deployment_id: str, tokens: int) -> None:
        if tokens:
            await self._arun("add_tokens", deployment_id, tokens)

    async def afailed(self, deployment_id: str, counts: bool, immediate: bool, allowed_fails: int, cooldown: float) -> bool:
        return await self._arun("failed", deployment_id, counts, immediate, allowed_fails, cooldown)

    async def areleased(self, deployment_id: str) -> None:
        await self._arun("released", deployment_id)

    def clear(self) -> None:
        """Delete this namespace's keys (every deployment's state) and the local fallback's."""
        self.local.clear()
        try:
            self._scripts()
            client = self._sync
            keys = list(client.scan_iter(match=f"{self.namespace}:*", count=500))
            if keys:
                client.delete(*keys)
        except Exception as exc:
            self._down(exc)


def _where(url: str | None, host: str | None, port: Any) -> str:
    """host:port for messages: never the password a URL may carry."""
    if url:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
    return f"{host or 'localhost'}:{port or 6379}"
