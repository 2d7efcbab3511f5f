"""What the emulator answers next: scripted replies and injected faults, queued in order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Reply:
    """A successful answer. Every field is optional; the defaults answer like the provider."""

    content: str | None = None  # None: "Hello from the llmtap emulator. You said: <last user text>"
    tool_calls: list[dict] | None = None  # [{"name": ..., "arguments": "<json>"}]
    finish_reason: str | None = None
    chunks: int | None = None  # split a streamed answer into exactly this many content deltas
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    delay: float = 0.0  # seconds before the answer starts
    chunk_delay: float = 0.0  # seconds between streamed events
    keepalive_comments: bool = False  # ": keep-alive" comment lines between events
    split_writes: bool = False  # send the stream in small fragments that split lines
    headers: dict[str, str] | None = None


@dataclass
class Fault:
    """A failure: an error status, or a broken success (cut stream, malformed event, not JSON)."""

    status: int = 500
    message: str | None = None
    code: str | None = None
    retry_after: float | None = None
    headers: dict[str, str] | None = None
    body: bytes | None = None  # raw body instead of the provider's error JSON
    content_type: str | None = None
    cut_after: int | None = None  # stream: send this many content chunks, then stop
    cut_mode: str = "abort"  # "abort": drop the connection; "eof": end the body without finishing
    malformed: bool = False  # stream: one event whose data is not JSON, after the first chunk
    mid_stream: bool = False  # stream: answer 200, then send the error as a stream event
    delay: float = 0.0

    @classmethod
    def context_length(cls) -> Fault:
        return cls(
            400,
            "This model's maximum context length is 4097 tokens. However, your messages resulted "
            "in 5000 tokens. Please reduce the length of the messages.",
            code="context_length_exceeded",
        )

    @classmethod
    def content_policy(cls) -> Fault:
        return cls(
            400,
            "Your request was rejected as a result of our safety system.",
            code="content_policy_violation",
        )

    @classmethod
    def rate_limit(cls, retry_after: float | None = 1.0) -> Fault:
        return cls(429, "Rate limit reached for requests", code="rate_limit_exceeded", retry_after=retry_after)

    @classmethod
    def not_json(cls) -> Fault:
        return cls(200, body=b"<html><body>Welcome to nginx!</body></html>", content_type="text/html")

    @classmethod
    def cut(cls, after: int = 2, mode: str = "abort") -> Fault:
        return cls(200, cut_after=after, cut_mode=mode)

    @property
    def breaks_stream(self) -> bool:
        return self.cut_after is not None or self.malformed or self.mid_stream
