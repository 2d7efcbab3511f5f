"""``litellm.litellm_core_utils`` (and every module under it, see llmtap/dropin.py): the helpers
frameworks import from there are llmtap's public names."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    import llmtap

    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(llmtap, name)
    except AttributeError:
        from . import types

        try:
            return getattr(types, name)
        except AttributeError:
            raise AttributeError(f"module 'llmtap.litellm_core_utils' has no attribute {name!r}") from None
