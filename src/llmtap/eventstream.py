"""Sans-I/O decoder (and encoder) for AWS's binary event-stream framing (Bedrock's streams).

A message is: a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes), the
headers, the payload, and a CRC32 of everything before it. Bytes go in with ``feed`` split
anywhere; whole messages come out. A CRC that does not match, or a length that cannot be right,
raises ``EventStreamError``: a corrupt stream is an error, never a silent stop. ``close`` raises
if the body ended inside a message.

The encoder exists for the emulator, which answers in the same framing.
"""

from __future__ import annotations

import struct
from binascii import crc32
from typing import Any

_PRELUDE = 12
_MIN_MESSAGE = 16  # prelude + message CRC
MAX_MESSAGE = 16 * 1024 * 1024  # the service's own limit; anything larger is corruption
MAX_HEADERS = 128 * 1024


class EventStreamError(ValueError):
    """The bytes are not a valid event stream (bad CRC, impossible length, unknown header type)."""


class EventStreamMessage:
    __slots__ = ("headers", "payload")

    def __init__(self, headers: dict[str, Any], payload: bytes) -> None:
        self.headers = headers
        self.payload = payload

    def __repr__(self) -> str:
        return f"EventStreamMessage(headers={self.headers!r}, payload={self.payload[:80]!r})"


class EventStreamDecoder:
    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[EventStreamMessage]:
        buffer = self._buffer
        buffer += data
        messages = []
        while len(buffer) >= _PRELUDE:
            total, headers_length, prelude_crc = struct.unpack_from(">III", buffer)
            if crc32(buffer[:8]) != prelude_crc:
                raise EventStreamError("event stream prelude CRC does not match: the stream is corrupt")
            if total < _MIN_MESSAGE or total > MAX_MESSAGE or headers_length > min(MAX_HEADERS, total - _MIN_MESSAGE):
                raise EventStreamError(f"event stream message has an impossible length ({total} bytes, {headers_length} of headers)")
            if len(buffer) < total:
                break
            (message_crc,) = struct.unpack_from(">I", buffer, total - 4)
            if crc32(memoryview(buffer)[: total - 4]) != message_crc:
                raise EventStreamError("event stream message CRC does not match: the stream is corrupt")
            headers = _decode_headers(bytes(buffer[_PRELUDE : _PRELUDE + headers_length]))
            payload = bytes(buffer[_PRELUDE + headers_length : total - 4])
            del buffer[:total]
            messages.append(EventStreamMessage(headers, payload))
        return messages

    def close(self) -> None:
        if self._buffer:
            left = len(self._buffer)
            self._buffer = bytearray()
            raise EventStreamError(f"event stream ended inside a message ({left} bytes left over)")


# header value types: 0 true, 1 false, 2 byte, 3 short, 4 int, 5 long, 6 bytes, 7 string, 8 timestamp, 9 uuid
_FIXED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


def _decode_headers(data: bytes) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    at = 0
    end = len(data)
    try:
        while at < end:
            size = data[at]
            name = data[at + 1 : at + 1 + size].decode("utf-8")
            at += 1 + size
            kind = data[at]
            at += 1
            if kind == 0 or kind == 1:
                value: Any = kind == 0
            elif kind in _FIXED:
                fmt = _FIXED[kind]
                (value,) = struct.unpack_from(fmt, data, at)
                at += struct.calcsize(fmt)
            elif kind == 6 or kind == 7:
                (length,) = struct.unpack_from(">H", data, at)
                raw = data[at + 2 : at + 2 + length]
                if len(raw) != length:
                    raise EventStreamError("event stream header value runs past the headers")
                value = raw.decode("utf-8") if kind == 7 else raw
                at += 2 + length
            elif kind == 9:
                value = data[at : at + 16]
                at += 16
            else:
                raise EventStreamError(f"event stream header {name!r} has an unknown type {kind}")
            if at > end:
                raise EventStreamError("event stream header value runs past the headers")
            headers[name] = value
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise EventStreamError(f"event stream headers are malformed: {exc}") from None
    return headers


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One message with string headers (all Bedrock uses)."""
    raw = b""
    for name, value in headers.items():
        key = name.encode()
        data = value.encode()
        raw += bytes([len(key)]) + key + b"\x07" + struct.pack(">H", len(data)) + data
    total = _PRELUDE + len(raw) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw))
    prelude += struct.pack(">I", crc32(prelude))
    message = prelude + raw + payload
    return message + struct.pack(">I", crc32(message))
