"""Sans-I/O decoders for streamed answers: server-sent events and newline-delimited JSON.

Bytes go in with ``feed`` as they arrive (split anywhere, even inside a line or a UTF-8
character); complete events come out. ``close`` flushes what is left at the end of the body.
The sync and async stream loops share these, and so does every provider.
"""

from __future__ import annotations


class ServerSentEvent:
    """One event: its data (lines joined by newlines), and its event name and id if given."""

    __slots__ = ("data", "event", "id")

    def __init__(self, data: str, event: str | None = None, id: str | None = None) -> None:  # noqa: A002
        self.data = data
        self.event = event
        self.id = id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.data, self.event, self.id) == (other.data, other.event, other.id)

    def __repr__(self) -> str:
        return f"ServerSentEvent(data={self.data!r}, event={self.event!r}, id={self.id!r})"


class SSEDecoder:
    """The WHATWG event-stream rules: fields per line, events end at a blank line, ':' comments."""

    __slots__ = ("_buffer", "_data", "_event", "_id")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" in buffer:
            # A lone trailing \r may be the first half of \r\n: keep it for the next chunk.
            keep_cr = buffer.endswith(b"\r")
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            if keep_cr:
                buffer = buffer[:-1]
                lines = buffer.split(b"\n")
                lines.append(lines.pop() + b"\r")
            else:
                lines = buffer.split(b"\n")
        else:
            lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            # "data:" lines and blank lines inline (this runs for every streamed chunk).
            if line[:6] == b"data: ":
                data.append(line[6:].decode("utf-8", "replace"))
            elif not line:
                if data or self._event is not None:
                    events.append(ServerSentEvent(data[0] if len(data) == 1 else "\n".join(data), self._event, self._id))
                    data = self._data = []
                    self._event = None
            else:
                self._line(line)
                data = self._data
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of body: a last event without its blank line still counts."""
        events: list[ServerSentEvent] = []
        if self._buffer:
            line, self._buffer = self._buffer.rstrip(b"\r"), b""
            event = self._line(line)
            if event is not None:
                events.append(event)
        event = self._line(b"")
        if event is not None:
            events.append(event)
        return events

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        if not raw:
            if not self._data and self._event is None:
                return None
            event = ServerSentEvent("\n".join(self._data), self._event, self._id)
            self._data = []
            self._event = None
            return event
        line = raw.decode("utf-8", "replace")
        if line[0] == ":":
            return None
        name, sep, value = line.partition(":")
        if sep and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        return None


class NDJSONDecoder:
    """One JSON document per line (Ollama and others); yields the lines' text."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[str]:
        buffer = self._buffer + chunk if self._buffer else chunk
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        return [text for line in lines if (text := line.decode("utf-8", "replace").strip())]

    def close(self) -> list[str]:
        rest, self._buffer = self._buffer, b""
        text = rest.decode("utf-8", "replace").strip()
        return [text] if text else []
