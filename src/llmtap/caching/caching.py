"""``litellm.caching.caching``: where the peer's users import ``Cache`` from."""

from . import Cache

__all__ = ["Cache"]
