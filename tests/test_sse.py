"""The sans-I/O stream decoders, fed bytes split at every possible place."""

from __future__ import annotations

from llmtap.sse import NDJSONDecoder, ServerSentEvent, SSEDecoder

STREAM = (
    b": keep-alive\n\n"
    b'data: {"a": 1}\n\n'
    b"event: message_start\r\ndata: line one\r\ndata: line two\r\n\r\n"
    b"id: 7\rdata: \xf0\x9f\x91\x8b wave\r\r"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    ServerSentEvent('{"a": 1}'),
    ServerSentEvent("line one\nline two", "message_start"),
    ServerSentEvent("👋 wave", None, "7"),
    ServerSentEvent("[DONE]", None, "7"),
]


def decode(pieces: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = []
    for piece in pieces:
        events += decoder.feed(piece)
    return events + decoder.close()


def test_whole_stream_at_once() -> None:
    assert decode([STREAM]) == EXPECTED


def test_split_at_every_byte_boundary() -> None:
    for cut in range(1, len(STREAM)):
        assert decode([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut


def test_one_byte_at_a_time() -> None:
    assert decode([bytes([b]) for b in STREAM]) == EXPECTED


def test_last_event_without_blank_line_is_flushed_at_close() -> None:
    assert decode([b"data: tail"]) == [ServerSentEvent("tail")]


def test_comments_only_give_no_events() -> None:
    assert decode([b": ping\n\n: ping\n\n"]) == []


def test_ndjson_split_lines() -> None:
    decoder = NDJSONDecoder()
    out = decoder.feed(b'{"a":1}\n{"b"') + decoder.feed(b":2}\n\n") + decoder.feed(b'{"c":3}')
    assert out == ['{"a":1}', '{"b":2}']
    assert decoder.close() == ['{"c":3}']
