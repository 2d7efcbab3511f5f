"""The emulator: a real HTTP server in a background thread that answers like the providers.

Each request is recorded before it is answered, then routed by path. The next scripted item
(``push``) shapes the answer; request headers ``x-emulator-chunks`` / ``x-emulator-fault`` do
the same for clients in other processes (benchmarks).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import pkgutil
import threading
import time
from collections import deque
from typing import Any

from . import aws_routes, openai_routes, token_routes
from .http import HttpServer, Request, Response, StreamResponse
from .script import Fault, Reply

RecordedRequest = Request


def _route_modules() -> tuple:
    """Every ``<provider>_routes`` module of this package: adding a provider's routes is adding
    its file. Their paths do not overlap, so the order they are tried in does not matter."""
    names = sorted(info.name for info in pkgutil.iter_modules([os.path.dirname(__file__)]) if info.name.endswith("_routes"))
    return tuple(importlib.import_module(f"{__package__}.{name}") for name in names)


ROUTE_MODULES = _route_modules()
ROUTES = tuple(row for module in ROUTE_MODULES for row in module.ROUTES)


class Emulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.requests: list[Request] = []
        self._script: deque[Reply | Fault] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: HttpServer | None = None
        self.aws = aws_routes.AwsState()
        self.tokens = token_routes.TokenState()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Emulator:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = HttpServer(self._handle)
            try:
                self.port = loop.run_until_complete(self._server.start(self.host, self.port))
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._server.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"llmtap-emulator-{id(self):x}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop = None
            self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base(self) -> str:
        return self.url + "/v1"

    @property
    def azure_base(self) -> str:
        return self.url

    @property
    def anthropic_base(self) -> str:
        return self.url

    @property
    def ollama_base(self) -> str:
        return self.url

    @property
    def gemini_base(self) -> str:
        return self.url

    @property
    def bedrock_base(self) -> str:
        return self.url

    @property
    def vertex_base(self) -> str:
        return self.url

    # -- scripting and inspection ------------------------------------------------------------------

    def push(self, *items: Reply | Fault) -> None:
        with self._lock:
            self._script.extend(items)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self.aws.minted.clear()
            self.tokens.reset()
            self.aws.lifetime = aws_routes.DEFAULT_LIFETIME

    @property
    def last_request(self) -> Request | None:
        with self._lock:
            return self.requests[-1] if self.requests else None

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"emulator saw {len(self.requests)} requests, expected {n}")
                self._arrived.wait(remaining)
            return list(self.requests)

    # -- answering -------------------------------------------------------------------------------

    def _next_item(self, request: Request) -> Reply | Fault | None:
        with self._lock:
            if self._script:
                return self._script.popleft()
        fault = request.headers.get("x-emulator-fault")
        if fault:
            return Fault(int(fault))
        chunks = request.headers.get("x-emulator-chunks")
        if chunks:
            return Reply(content=" ".join(f"w{i}" for i in range(int(chunks))), chunks=int(chunks))
        return None

    next_item = _next_item  # what route handlers call

    def _handle(self, request: Request) -> Response | StreamResponse:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()
        for row in ROUTES:
            answer = row.answer(self, request)
            if answer is not None:
                return answer
        return openai_routes.error_response(404, f"Unknown route {request.method} {request.path}")


def serve(host: str = "127.0.0.1", port: int = 8000, api_key: str | None = None) -> None:
    """Run the emulator in the foreground until interrupted (``llmtap emulator``)."""
    emulator = Emulator(host, port, api_key).start()
    print(f"llmtap emulator listening on {emulator.url} (OpenAI: {emulator.openai_base})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
