"""``litellm.utils``: the helpers frameworks import from there are llmtap's public names
(``from litellm.utils import Usage, token_counter, supports_function_calling`` ...)."""

from __future__ import annotations

import sys
from typing import Any


def __getattr__(name: str) -> Any:
    llmtap = sys.modules[__package__]  # the package itself (already imported: we are in it)

    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(llmtap, name)
    except AttributeError:
        from . import types

        try:
            return getattr(types, name)
        except AttributeError:
            raise AttributeError(f"module 'llmtap.utils' has no attribute {name!r}") from None
