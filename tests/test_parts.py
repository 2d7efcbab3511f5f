"""The conversions several providers share, tested alone (they are pure)."""

from __future__ import annotations

import pytest

from llmtap.providers.parts import Image, image_of, tool_arguments, tool_arguments_or_raw


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ({"image_url": {"url": "https://x.test/cat.png"}}, Image("https://x.test/cat.png")),
        ({"image_url": "https://x.test/cat.png"}, Image("https://x.test/cat.png")),
        (
            {"image_url": {"url": "data:image/png;base64,iVBOR"}},
            Image("data:image/png;base64,iVBOR", True, "image/png", True, "iVBOR"),
        ),
        ({"image_url": {"url": "data:image/svg+xml,<svg/>"}}, Image("data:image/svg+xml,<svg/>", True, "image/svg+xml", False, "<svg/>")),
        ({"image_url": {"url": "data:,"}}, Image("data:,", True, "", False, "")),
        ({"image_url": {"url": None}}, None),
        ({"image_url": 42}, None),
        ({}, None),
    ],
)
def test_image_of(part: dict, expected: Image | None) -> None:
    assert image_of(part) == expected


def test_tool_arguments() -> None:
    assert tool_arguments('{"a": 1}') == {"a": 1}
    assert tool_arguments("") == {} and tool_arguments(None) == {}
    assert tool_arguments({"a": 1}) == {"a": 1}
    with pytest.raises(ValueError):
        tool_arguments("{not json")
    assert tool_arguments_or_raw("{not json") == {"_raw": "{not json"}
    assert tool_arguments_or_raw('["x"]') == ["x"]
