"""The only module that moves bytes: transports, objects with one method each.

A sync transport has ``handle_request(HttpRequest) -> HttpResponse``; an async one has
``async handle_async_request(HttpRequest) -> HttpResponse`` (httpx's transport seam). Client
errors come out as ``TransportError``, so nothing above this seam knows which client is in use.
The drivers in main.py are given the transports the call's settings name (``llmtap.sync_transport``,
``llmtap.async_transport``); unset, they get the shared defaults below, which speak real HTTP
over pooled keep-alive sockets: urllib3 for sync calls, aiohttp (one session per event loop) for
async ones. Tests, the Router or a gateway can pass their own instance — with its own pools —
or any object with the one method. urllib3 and aiohttp are imported on first use, so
``import llmtap`` stays cheap.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from .wire import HttpRequest, HttpResponse, TransportError, origin, safe_origin

if TYPE_CHECKING:
    import asyncio
    import ssl

__all__ = [
    "AiohttpTransport",
    "AsyncTransport",
    "HttpRequest",
    "HttpResponse",
    "SyncTransport",
    "TransportError",
    "Urllib3Transport",
    "default_async_transport",
    "default_transport",
]

DEFAULT_TIMEOUT = 600.0
CONNECT_TIMEOUT_CAP = 30.0
POOL_SIZE = 64
READ_SIZE = 65536


class SyncTransport(Protocol):
    def handle_request(self, request: HttpRequest) -> HttpResponse: ...


class AsyncTransport(Protocol):
    async def handle_async_request(self, request: HttpRequest) -> HttpResponse: ...


def _timeouts(request: HttpRequest) -> tuple[float, float]:
    total = request.timeout if request.timeout is not None else DEFAULT_TIMEOUT
    return min(total, CONNECT_TIMEOUT_CAP), total


def _ssl_context() -> ssl.SSLContext:
    import ssl

    cafile = os.environ.get("SSL_CERT_FILE")
    capath = os.environ.get("SSL_CERT_DIR")
    return ssl.create_default_context(cafile=cafile, capath=capath)


class _Proxies:
    """The proxy for each origin, from HTTP(S)_PROXY and NO_PROXY, read once per origin."""

    def __init__(self) -> None:
        self._by_origin: dict[str, str | None] = {}

    def __call__(self, url: str) -> str | None:
        key = origin(url)
        try:
            return self._by_origin[key]
        except KeyError:
            import urllib.request

            proxy = None
            proxies = urllib.request.getproxies()
            parts = urlsplit(url)
            if proxies and not urllib.request.proxy_bypass(parts.hostname or ""):
                proxy = proxies.get(parts.scheme)
            self._by_origin[key] = proxy
            return proxy

    def clear(self) -> None:
        self._by_origin.clear()


# -- sync: urllib3 ------------------------------------------------------------------------------


class Urllib3Transport:
    """Sync HTTP over urllib3 pools: one per origin, keep-alive, proxies from the environment."""

    def __init__(self, pool_size: int = POOL_SIZE) -> None:
        self.pool_size = pool_size
        self.proxies = _Proxies()
        self._lock = threading.Lock()
        self._managers: dict[str | None, Any] = {}  # proxy URL (None: direct) → pool manager
        self._by_origin: dict[str, tuple[Any, bool]] = {}  # origin → (its pool, or the proxy manager; proxied?)

    def target(self, url: str) -> tuple[Any, str]:
        """(what to call urlopen on, the URL to give it) for a request URL.

        Direct connections go straight to the origin's connection pool with the path alone, which
        skips the pool manager's per-request URL parsing; proxied ones go through a ProxyManager."""
        key = origin(url)
        pool = self._by_origin.get(key)
        if pool is None:
            pool = self._by_origin[key] = self._new_target(url, key)
        if pool[1]:
            return pool[0], url
        return pool[0], url[len(key) :] or "/"

    def _new_target(self, url: str, key: str) -> tuple[Any, bool]:
        proxy = self.proxies(url)
        with self._lock:
            manager = self._managers.get(proxy)
            if manager is None:
                import urllib3

                options: dict[str, Any] = {"num_pools": 32, "maxsize": self.pool_size, "block": False}
                if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
                    options["ssl_context"] = _ssl_context()
                if proxy:
                    manager = urllib3.ProxyManager(proxy, **options)
                else:
                    manager = urllib3.PoolManager(**options)
                self._managers[proxy] = manager
        if proxy:
            return manager, True
        return manager.connection_from_url(key), False

    def handle_request(self, request: HttpRequest) -> HttpResponse:
        """Send one request on a pooled keep-alive connection and return its answer."""
        import urllib3
        from urllib3.exceptions import (
            ConnectTimeoutError,
            HTTPError,
            NewConnectionError,
            ReadTimeoutError,
        )

        connect, read = _timeouts(request)
        sent_url, sent_headers = _without_userinfo(request.url, request.headers)
        target, url = self.target(sent_url)
        try:
            raw = target.urlopen(
                request.method,
                url,
                body=request.body,
                headers=sent_headers,
                timeout=urllib3.Timeout(connect=connect, read=read),
                retries=False,
                redirect=False,
                preload_content=False,
                decode_content=True,
            )
        except NewConnectionError as exc:  # (a subclass of ConnectTimeoutError in urllib3 2)
            raise TransportError("connect", f"cannot connect to {safe_origin(request.url)}: {exc}") from exc
        except ConnectTimeoutError as exc:
            raise TransportError("timeout", f"connect timed out after {connect:g}s") from exc
        except ReadTimeoutError as exc:
            raise TransportError("timeout", f"no answer within {read:g}s") from exc
        except HTTPError as exc:
            raise TransportError("connect", f"{type(exc).__name__}: {exc}") from exc
        headers = {key.lower(): value for key, value in raw.headers.items()}
        if request.stream and raw.status < 400:
            chunks = _sync_chunks(raw)
            return HttpResponse(raw.status, headers, chunks=chunks, _close=chunks.close)
        try:
            body = raw.read()
        except ReadTimeoutError as exc:
            raise TransportError("timeout", f"no answer within {read:g}s") from exc
        except HTTPError as exc:
            raise TransportError("read", f"answer cut short: {exc}") from exc
        finally:
            raw.release_conn()
        return HttpResponse(raw.status, headers, body)

    def close(self) -> None:
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
            self._by_origin.clear()
        for manager in managers:
            manager.clear()


def _sync_chunks(raw: Any) -> Iterator[bytes]:
    """Yield body bytes as they arrive; a stream left unfinished closes its connection."""
    from urllib3.exceptions import HTTPError, ReadTimeoutError

    finished = False
    try:
        if raw.chunked and raw.supports_chunked_reads():
            yield from raw.read_chunked(decode_content=True)
        else:
            while data := raw.read1(READ_SIZE):
                yield data
        finished = True
    except ReadTimeoutError as exc:
        raise TransportError("timeout", "stream stalled: no data before the read timeout") from exc
    except HTTPError as exc:
        raise TransportError("read", f"stream cut short: {exc}") from exc
    finally:
        if not finished:
            raw.close()
        raw.release_conn()


# -- async: aiohttp, one session per event loop -----------------------------------------------


class AiohttpTransport:
    """Async HTTP over aiohttp: one session per event loop, closed when that loop ends."""

    def __init__(self, pool_size: int = POOL_SIZE) -> None:
        self.pool_size = pool_size
        self.proxies = _Proxies()
        self.sessions: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    async def session(self) -> Any:
        """This event loop's session (made on first use)."""
        import asyncio

        loop = asyncio.get_running_loop()
        session = self.sessions.get(loop)
        if session is not None and not session.closed:
            return session
        import aiohttp

        connector = aiohttp.TCPConnector(
            limit=0, limit_per_host=self.pool_size * 2, ssl=_ssl_context(), ttl_dns_cache=300
        )
        # trust_env=False: aiohttp would look proxies and .netrc up in a thread on every request;
        # we read the proxy settings once per origin instead (_Proxies).
        session = aiohttp.ClientSession(
            connector=connector, trust_env=False, auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar()
        )
        self.sessions[loop] = session
        _close_with_loop(loop, session)
        return session

    async def handle_async_request(self, request: HttpRequest) -> HttpResponse:
        """Send one request through this event loop's aiohttp session."""
        import asyncio

        import aiohttp
        import yarl

        session = await self.session()
        connect, read = _timeouts(request)
        if request.stream:
            timeout = aiohttp.ClientTimeout(total=None, connect=connect, sock_read=read)
        else:
            timeout = aiohttp.ClientTimeout(total=read, connect=connect)
        sent_url, sent_headers = _without_userinfo(request.url, request.headers)
        try:
            raw = await session.request(
                request.method,
                # As sent, never re-normalised: aiohttp would turn %3A back into ":", and a signed
                # request (AWS SigV4 signs the path) must go out exactly as it was signed.
                yarl.URL(sent_url, encoded=True) if "%" in sent_url else sent_url,
                data=request.body,
                headers=sent_headers,
                timeout=timeout,
                allow_redirects=False,
                proxy=self.proxies(request.url),
            )
        except asyncio.TimeoutError as exc:
            raise TransportError("timeout", f"no answer within {read:g}s") from exc
        except aiohttp.ClientConnectorError as exc:
            raise TransportError("connect", f"cannot connect to {safe_origin(request.url)}") from exc
        except aiohttp.ClientError as exc:
            raise TransportError("connect", f"{type(exc).__name__}: {exc}") from exc
        headers = {key.lower(): value for key, value in raw.headers.items()}
        if request.stream and raw.status < 400:
            return HttpResponse(raw.status, headers, chunks=_async_chunks(raw), _close=raw.release)
        try:
            body = await raw.read()
        except asyncio.TimeoutError as exc:
            raise TransportError("timeout", f"no answer within {read:g}s") from exc
        except aiohttp.ClientError as exc:
            raise TransportError("read", f"answer cut short: {exc}") from exc
        finally:
            raw.release()
        return HttpResponse(raw.status, headers, body)

    async def aclose(self) -> None:
        """Close the current event loop's session (others close with their loops)."""
        import asyncio

        session = self.sessions.pop(asyncio.get_running_loop(), None)
        if session is not None and not session.closed:
            await session.close()


def _close_with_loop(loop: asyncio.AbstractEventLoop, session: Any) -> None:
    """Close the session when its loop shuts down (asyncio.run finalises pending async generators)."""

    async def guard() -> AsyncIterator[None]:
        try:
            yield
        finally:
            if not session.closed:
                await session.close()

    keeper = guard()
    loop.create_task(keeper.__anext__())
    session._llmtap_keeper = keeper  # keep the generator alive as long as the session


async def _async_chunks(raw: Any) -> AsyncIterator[bytes]:
    import asyncio

    import aiohttp

    try:
        async for data in raw.content.iter_any():
            yield data
    except asyncio.TimeoutError as exc:
        raise TransportError("timeout", "stream stalled: no data before the read timeout") from exc
    except aiohttp.ClientError as exc:
        raise TransportError("read", f"stream cut short: {exc}") from exc
    finally:
        raw.release()


# -- the shared defaults ----------------------------------------------------------------------

_defaults_lock = threading.Lock()
_default_sync: Urllib3Transport | None = None
_default_async: AiohttpTransport | None = None


def default_transport() -> Urllib3Transport:
    """The process-wide sync transport: real sockets, pooled across calls."""
    global _default_sync
    transport = _default_sync
    if transport is None:
        with _defaults_lock:
            if _default_sync is None:
                _default_sync = Urllib3Transport()
                atexit.register(_default_sync.close)
            transport = _default_sync
    return transport


def default_async_transport() -> AiohttpTransport:
    """The process-wide async transport: one pooled aiohttp session per event loop."""
    global _default_async
    transport = _default_async
    if transport is None:
        with _defaults_lock:
            if _default_async is None:
                _default_async = AiohttpTransport()
            transport = _default_async
    return transport


def _after_fork_in_child() -> None:
    """A forked child must not share its parent's pooled sockets: it builds its own pools."""
    global _default_sync, _default_async, _defaults_lock
    _defaults_lock = threading.Lock()
    _default_sync = None
    _default_async = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _without_userinfo(url: str, headers: dict) -> tuple[str, dict]:
    """``http://user:pass@host`` sent the same way by both clients: the credentials leave the URL
    (aiohttp refuses them next to an Authorization header; urllib3 would drop them) and become
    Basic auth unless the provider already set an Authorization header."""
    if "@" not in url:
        return url, headers
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, headers
    userinfo, _, host = parts.netloc.rpartition("@")
    url = parts._replace(netloc=host).geturl()
    if not any(name.lower() == "authorization" for name in headers):
        import base64
        from urllib.parse import unquote

        user, _, password = userinfo.partition(":")
        token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
        headers = {**headers, "Authorization": f"Basic {token}"}
    return url, headers
