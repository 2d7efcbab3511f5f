"""The only module that moves bytes: urllib3 for sync calls, aiohttp for async calls.

Everything above this seam (retries, error mapping, stream parsing, callbacks) is shared by both
paths and sees only ``HttpRequest`` in and ``HttpResponse`` out. Client errors come out as
``TransportError`` so nothing else needs to know which client is in use. aiohttp is imported on
the first async call, so ``import llmtap`` stays cheap.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .wire import HttpRequest, HttpResponse, TransportError, safe_origin
from .wire import origin as wire_origin

if TYPE_CHECKING:
    import asyncio
    import ssl

DEFAULT_TIMEOUT = 600.0
CONNECT_TIMEOUT_CAP = 30.0
POOL_SIZE = 64
READ_SIZE = 65536


def _timeouts(request: HttpRequest) -> tuple[float, float]:
    total = request.timeout if request.timeout is not None else DEFAULT_TIMEOUT
    return min(total, CONNECT_TIMEOUT_CAP), total


def _ssl_context() -> ssl.SSLContext:
    import ssl

    cafile = os.environ.get("SSL_CERT_FILE")
    capath = os.environ.get("SSL_CERT_DIR")
    return ssl.create_default_context(cafile=cafile, capath=capath)


# -- sync: urllib3 ------------------------------------------------------------------------------

_sync_lock = threading.Lock()
_sync_managers: dict[str | None, Any] = {}  # proxy URL (None: direct) → pool manager
_sync_by_origin: dict[str, tuple[Any, bool]] = {}  # origin → (its pool, or the proxy manager; proxied?)


_proxies: dict[str, str | None] = {}  # origin → proxy URL (None: direct)


def _proxy_for(url: str) -> tuple[str, str | None]:
    """(origin, proxy) for a URL, from HTTP(S)_PROXY and NO_PROXY, read once per origin."""
    origin = wire_origin(url)
    try:
        return origin, _proxies[origin]
    except KeyError:
        import urllib.request

        proxy = None
        proxies = urllib.request.getproxies()
        parts = urlsplit(url)
        if proxies and not urllib.request.proxy_bypass(parts.hostname or ""):
            proxy = proxies.get(parts.scheme)
        _proxies[origin] = proxy
        return origin, proxy


def _sync_target(url: str) -> tuple[Any, str]:
    """(what to call urlopen on, the URL to give it) for a request URL.

    Direct connections go straight to the origin's connection pool with the path alone, which
    skips the pool manager's per-request URL parsing; proxied ones go through a ProxyManager."""
    origin = wire_origin(url)
    pool = _sync_by_origin.get(origin)
    if pool is None:
        pool = _sync_by_origin[origin] = _new_sync_target(url, origin)
    if pool[1]:
        return pool[0], url
    return pool[0], url[len(origin) :] or "/"


def _new_sync_target(url: str, origin: str) -> tuple[Any, bool]:
    _, proxy = _proxy_for(url)
    with _sync_lock:
        manager = _sync_managers.get(proxy)
        if manager is None:
            import urllib3

            options: dict[str, Any] = {"num_pools": 32, "maxsize": POOL_SIZE, "block": False}
            if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
                options["ssl_context"] = _ssl_context()
            if proxy:
                manager = urllib3.ProxyManager(proxy, **options)
            else:
                manager = urllib3.PoolManager(**options)
            _sync_managers[proxy] = manager
    if proxy:
        return manager, True
    return manager.connection_from_url(origin), False


def send(request: HttpRequest) -> HttpResponse:
    """Send one request on a pooled keep-alive connection and return its answer."""
    import urllib3
    from urllib3.exceptions import (
        ConnectTimeoutError,
        HTTPError,
        NewConnectionError,
        ReadTimeoutError,
    )

    connect, read = _timeouts(request)
    target, url = _sync_target(request.url)
    try:
        raw = target.urlopen(
            request.method,
            url,
            body=request.body,
            headers=request.headers,
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

_sessions: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


async def _session() -> Any:
    import asyncio

    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is not None and not session.closed:
        return session
    import aiohttp

    connector = aiohttp.TCPConnector(
        limit=0, limit_per_host=POOL_SIZE * 2, ssl=_ssl_context(), ttl_dns_cache=300
    )
    # trust_env=False: aiohttp would look proxies and .netrc up in a thread on every request;
    # we read the proxy settings once per origin instead (_proxy_for).
    session = aiohttp.ClientSession(
        connector=connector, trust_env=False, auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar()
    )
    _sessions[loop] = session
    _close_with_loop(loop, session)
    return session


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


async def asend(request: HttpRequest) -> HttpResponse:
    """Send one request through this event loop's aiohttp session."""
    import asyncio

    import aiohttp
    import yarl

    session = await _session()
    connect, read = _timeouts(request)
    if request.stream:
        timeout = aiohttp.ClientTimeout(total=None, connect=connect, sock_read=read)
    else:
        timeout = aiohttp.ClientTimeout(total=read, connect=connect)
    try:
        raw = await session.request(
            request.method,
            # As sent, never re-normalised: aiohttp would turn %3A back into ":", and a signed
            # request (AWS SigV4 signs the path) must go out exactly as it was signed.
            yarl.URL(request.url, encoded=True) if "%" in request.url else request.url,
            data=request.body,
            headers=request.headers,
            timeout=timeout,
            allow_redirects=False,
            proxy=_proxy_for(request.url)[1],
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


@atexit.register
def _close_pools() -> None:
    for manager in list(_sync_managers.values()):
        manager.clear()
