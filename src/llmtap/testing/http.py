"""A small, fast HTTP/1.1 server on asyncio streams: keep-alive, chunked streaming, no deps.

Route handlers are plain functions of a ``Request`` that return a ``Response`` (a whole body)
or a ``StreamResponse`` (pieces written as chunked transfer encoding, with optional pauses, and
an ending that may be clean, a body that stops short, or a dropped connection).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    408: "Request Timeout", 409: "Conflict", 413: "Payload Too Large", 422: "Unprocessable Entity",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 529: "Overloaded",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = None
    deployment: str | None = None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict | None = None, delay: float = 0.0) -> Response:
        return cls(status, json.dumps(data).encode(), {"content-type": "application/json", **(headers or {})}, delay)


@dataclass
class StreamResponse:
    pieces: list[bytes]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    piece_delay: float = 0.0
    ending: str = "done"  # "done" | "eof" (finish the chunked body early) | "abort" (drop the socket)


Handler = Callable[[Request], "Response | StreamResponse"]


def fault_response(fault: Any, body_for: Callable[[int, str | None, str | None], Any]) -> Response:
    """A scripted Fault as an error answer: its status, Retry-After and extra headers, and
    either its raw body or the provider's error JSON from ``body_for(status, message, code)``."""
    headers = dict(fault.headers or {})
    if fault.retry_after is not None:
        headers["retry-after"] = f"{fault.retry_after:g}"
    if fault.body is not None:
        headers["content-type"] = fault.content_type or "text/plain"
        return Response(fault.status, fault.body, headers, fault.delay)
    return Response.json(body_for(fault.status, fault.message, fault.code), fault.status, headers, fault.delay)


class HttpServer:
    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._connection, host, port, backlog=1024)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._tasks:  # aborted connections end their tasks on their own
            await asyncio.wait(list(self._tasks), timeout=2)
        if self._server is not None:
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                keep_alive = request.headers.get("connection", "").lower() != "close"
                try:
                    response = self._handler(request)
                except Exception as exc:  # a bug in a handler answers 500, never kills the server
                    response = Response.json({"error": {"message": f"emulator error: {exc!r}", "type": "server_error"}}, 500)
                if not await _write(writer, response, keep_alive):
                    break
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            if not writer.transport.is_closing():
                writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    else:
        length = int(headers.get("content-length") or 0)
        body = await reader.readexactly(length) if length else b""
    parts = urlsplit(target)
    request = Request(method, parts.path, dict(parse_qsl(parts.query)), headers, body)
    if body:
        try:
            request.json = json.loads(body)
        except ValueError:
            request.json = None
    return request


def _head(status: int, headers: dict[str, str], keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if not keep_alive:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _write(writer: asyncio.StreamWriter, response: Response | StreamResponse, keep_alive: bool) -> bool:
    """Write one answer; False when the connection must not be used again."""
    if response.delay:
        await asyncio.sleep(response.delay)
    if isinstance(response, Response):
        headers = {**response.headers, "content-length": str(len(response.body))}
        writer.write(_head(response.status, headers, keep_alive) + response.body)
        await writer.drain()
        return True
    headers = {**response.headers, "transfer-encoding": "chunked"}
    writer.write(_head(response.status, headers, keep_alive))
    for piece in response.pieces:
        if response.piece_delay:
            await writer.drain()
            await asyncio.sleep(response.piece_delay)
        if piece:
            writer.write(b"%x\r\n%b\r\n" % (len(piece), piece))
    if response.ending == "abort":
        await writer.drain()
        writer.transport.abort()
        return False
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True
