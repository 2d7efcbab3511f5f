"""The provider registry: every provider llmtap can route to, by name.

Adding a built-in provider is one line in ``REGISTRY``. OpenAI-compatible services are rows of a
table (``TABLES``: compatible.py's ``PROVIDERS``), so adding one is a row there. Another package
adds providers through the entry-point group ``llmtap.providers`` (entry name = provider name,
value = ``"module:Class"``), and code can call ``register_provider``. Everything a provider is —
keys, base URLs, bare model names, secret headers, capabilities — is declared by its class
(providers/base.py); nothing else in llmtap lists providers.

Provider modules are imported on first use, so a call to one provider never pays for the
others; entry points are scanned only when a name is not found among the built-ins.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Provider

REGISTRY: dict[str, str] = {
    "openai": "llmtap.providers.openai:OpenAI",
    "text-completion-openai": "llmtap.providers.openai:OpenAI",
    "azure": "llmtap.providers.azure:Azure",
    "anthropic": "llmtap.providers.anthropic:Anthropic",
    "anthropic_text": "llmtap.providers.anthropic_text:AnthropicText",
    "gemini": "llmtap.providers.gemini:Gemini",
    "ollama": "llmtap.providers.ollama:Ollama",
    "bedrock": "llmtap.providers.bedrock:Bedrock",
    "vertex_ai": "llmtap.providers.vertex:VertexAI",
    "ollama_chat": "llmtap.providers.ollama:Ollama",
    "mistral": "llmtap.providers.mistral:Mistral",
    "cohere": "llmtap.providers.rerank:CohereRerank",
    "jina_ai": "llmtap.providers.rerank:JinaRerank",
}
# Modules holding tables of rows, each ``name -> factory``.
TABLES = ("llmtap.providers.compatible:PROVIDERS",)
ENTRY_POINT_GROUP = "llmtap.providers"

Factory = Callable[[str], "Provider"]
logger = logging.getLogger("llmtap")

_lock = threading.RLock()
_sources: dict[str, str | Factory] = {}  # every name known so far → "module:attr" or a factory
_loaded: dict[str, Provider] = {}
_tables_read = False
_entry_points_read = False
_bare_seen: dict[str, str] = {}  # model → provider name, for the bare names calls actually use
_bare_index: tuple[dict[str, str], list[tuple[str, str]]] | None = None  # exact names, (prefix, name) longest first


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.RLock()  # another thread may have held it when the process forked


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _read_tables() -> None:
    global _tables_read
    with _lock:
        if _tables_read:
            return
        for name, source in REGISTRY.items():
            _sources.setdefault(name, source)
        for table in TABLES:
            for name, factory in _load_attr(table).items():
                _sources.setdefault(name, factory)
        _tables_read = True


def _read_entry_points() -> None:
    """Providers other packages declare; a broken one is logged and skipped, never fatal."""
    global _entry_points_read, _bare_index
    _read_tables()
    with _lock:
        if _entry_points_read:
            return
        _entry_points_read = True
        from importlib.metadata import entry_points

        try:
            found = entry_points(group=ENTRY_POINT_GROUP)
        except Exception as exc:  # a broken distribution's metadata must not break calls
            logger.warning("llmtap: could not read the %s entry points: %s", ENTRY_POINT_GROUP, exc)
            return
        for entry in found:
            if entry.name not in _sources:
                _sources[entry.name] = entry.value
                _bare_index = None
                _bare_seen.clear()


def _load_attr(source: str) -> Any:
    module_name, _, attr = source.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def _build(name: str, source: str | Factory) -> Provider:
    from .base import missing_facts

    factory = _load_attr(source) if isinstance(source, str) else source
    provider = factory(name)
    missing = missing_facts(provider)
    if missing:
        raise TypeError(
            f"provider {name!r} ({type(provider).__module__}.{type(provider).__qualname__}) does not "
            f"declare {', '.join(missing)}; see llmtap.providers.base for the contract"
        )
    return provider


def get_provider(name: str) -> Provider:
    """The provider registered as ``name`` (built once); KeyError if there is none."""
    provider = _loaded.get(name)
    if provider is not None:
        return provider
    _read_tables()
    source = _sources.get(name)
    if source is None:
        _read_entry_points()
        source = _sources[name]
    with _lock:
        provider = _loaded.get(name)
        if provider is None:
            provider = _loaded[name] = _build(name, source)
    return provider


def is_registered(name: str) -> bool:
    if name in _loaded:
        return True
    _read_tables()
    if name in _sources:
        return True
    _read_entry_points()
    return name in _sources


def names() -> list[str]:
    """Every provider name, for messages and for tests that cover them all."""
    _read_entry_points()
    return sorted(_sources)


def register_provider(name: str, provider: str | Factory | type) -> None:
    """Add (or replace) a provider: ``"module:Class"``, a Provider subclass, or a factory
    taking the registered name. Checked for the contract's facts on first use."""
    global _bare_index
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"a provider name is a non-empty string without '/', got {name!r}")
    _read_tables()
    with _lock:
        _sources[name] = provider
        _loaded.pop(name, None)
        _bare_index = None
        _bare_seen.clear()


def unregister_provider(name: str) -> None:
    global _bare_index
    with _lock:
        _sources.pop(name, None)
        _loaded.pop(name, None)
        _bare_index = None
        _bare_seen.clear()


def provider_for_bare_name(model: str) -> str | None:
    """The provider a model named without ``provider/`` belongs to, from the providers' own
    ``bare_names`` and ``bare_prefixes`` (exact names first, then the longest prefix)."""
    name = _bare_seen.get(model)
    if name is not None:
        return name
    name = _match(_index(), model)
    if name is None and not _entry_points_read:
        _read_entry_points()
        name = _match(_index(), model)
    if name is not None:
        if len(_bare_seen) >= 4096:
            _bare_seen.clear()
        _bare_seen[model] = name
    return name


def _match(index: tuple[dict[str, str], list[tuple[str, str]]], model: str) -> str | None:
    exact, prefixes = index
    name = exact.get(model)
    if name is not None:
        return name
    for prefix, name in prefixes:
        if model.startswith(prefix):
            return name
    return None


def _index() -> tuple[dict[str, str], list[tuple[str, str]]]:
    global _bare_index
    index = _bare_index
    if index is not None:
        return index
    _read_tables()
    with _lock:
        exact: dict[str, str] = {}
        prefixes: dict[str, str] = {}
        for name in list(_sources):
            try:
                provider = get_provider(name)
            except Exception as exc:  # one broken plug-in must not stop every bare-name call
                logger.warning("llmtap: provider %r cannot be loaded: %s", name, exc)
                continue
            if provider.name != name and provider.name in _sources:
                continue  # an alias ("text-completion-openai"): bare names go to the main name
            for model in provider.bare_names:
                exact.setdefault(model, name)
            for prefix in provider.bare_prefixes:
                prefixes.setdefault(prefix, name)
        index = _bare_index = (exact, sorted(prefixes.items(), key=lambda item: -len(item[0])))
    return index
