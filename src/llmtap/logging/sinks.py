"""Turn what users put in the callback lists into sinks the delivery worker can call.

A sink answers one question per event: which function to call, with which arguments, and
whether it must be awaited. The answer depends only on the handler's class and the call's
mode, so it is worked out once and cached.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import operator
from collections.abc import Callable, Iterable
from typing import Any

from ..exceptions import BadRequestError
from ..integrations import BUILTIN, unknown_callback_message
from ..integrations.custom_logger import CustomLogger
from .hooks import FUNCTION_LISTS, LOGGER_HOOKS, PRE

# (function, awaited?) or None when the sink ignores the event
Plan = tuple[Callable[..., Any], bool] | None


_sink_ids = itertools.count(1)


class Sink:
    __slots__ = ("target", "name", "_plans", "sink_id")

    def __init__(self, target: Any, name: str) -> None:
        self.target = target
        self.name = name
        self._plans: dict[tuple[str, bool], Plan] = {}
        self.sink_id = next(_sink_ids)  # lanes are keyed by it: stable for the sink's life

    def plan(self, event: str, is_async: bool) -> Plan:
        key = (event, is_async)
        try:
            return self._plans[key]
        except KeyError:
            plan = self._plans[key] = self._make_plan(event, is_async)
            return plan

    def _make_plan(self, event: str, is_async: bool) -> Plan:
        raise NotImplementedError

    def arguments(self, event: Any) -> tuple:
        raise NotImplementedError


class LoggerSink(Sink):
    """A CustomLogger (or any object with its hook methods)."""

    __slots__ = ()

    def _make_plan(self, event: str, is_async: bool) -> Plan:
        sync_name, async_name = LOGGER_HOOKS[event]
        defined = [name for name in (sync_name, async_name) if name and _overrides(self.target, name)]
        if not defined:
            return None
        # The peer runs the sync pre-call hook for async calls too (it has no async pre-call).
        preferred = async_name if is_async and event != PRE else sync_name
        name = preferred if preferred in defined else defined[0]
        function = getattr(self.target, name)
        return _by_keyword(function, event), inspect.iscoroutinefunction(function)

    def arguments(self, event: Any) -> tuple:
        if event.kind == PRE:
            return (event.kwargs.get("model"), event.kwargs.get("messages"), event.kwargs)
        return (event.kwargs, event.response_obj, event.start_time, event.end_time)


class FunctionSink(Sink):
    """A plain function from input_callback, success_callback or failure_callback."""

    __slots__ = ("events",)

    def __init__(self, target: Any, name: str, events: frozenset[str]) -> None:
        super().__init__(target, name)
        self.events = events

    def _make_plan(self, event: str, is_async: bool) -> Plan:
        if event not in self.events:
            return None
        return self.target, inspect.iscoroutinefunction(self.target)

    def arguments(self, event: Any) -> tuple:
        if event.kind == PRE:
            return (event.kwargs,)
        return (event.kwargs, event.response_obj, event.start_time, event.end_time)


_PRE_NAMES = ("model", "messages", "kwargs")
_EVENT_NAMES = ("kwargs", "response_obj", "start_time", "end_time")


def _by_keyword(function: Callable[..., Any], event: str) -> Callable[..., Any]:
    """CustomLogger hooks are called with keyword arguments, as the peer calls them (handlers
    written with ``**kw``, and mocks reading ``call_args.kwargs``, depend on it)."""
    names = _PRE_NAMES if event == PRE else _EVENT_NAMES
    if not _takes_keywords(function, names):
        return function  # a handler with its own parameter names gets them by position
    if len(names) == 3:

        def hook(a: Any, b: Any, c: Any) -> Any:
            return function(model=a, messages=b, kwargs=c)

    else:

        def hook(a: Any, b: Any, c: Any, d: Any) -> Any:
            return function(kwargs=a, response_obj=b, start_time=c, end_time=d)

    hook.__name__ = getattr(function, "__name__", "hook")
    hook.__qualname__ = getattr(function, "__qualname__", hook.__name__)
    hook.__wrapped__ = function  # type: ignore[attr-defined]
    return hook


def _takes_keywords(function: Callable[..., Any], names: tuple[str, ...]) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return True
    accepted = {p.name for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    return set(names) <= accepted


def _overrides(target: Any, name: str) -> bool:
    if not isinstance(target, CustomLogger):
        return callable(getattr(target, name, None))
    method = getattr(type(target), name, None)
    return method is not None and method is not getattr(CustomLogger, name)


def _describe(target: Any) -> str:
    if inspect.isfunction(target) or inspect.ismethod(target):
        return getattr(target, "__qualname__", repr(target))
    return type(target).__name__


_sink_cache: dict[tuple[int, frozenset[str] | None], tuple[Any, Sink]] = {}


def _sink_for(target: Any, events: frozenset[str] | None) -> Sink:
    key = (id(target), events)
    cached = _sink_cache.get(key)
    if cached is not None and cached[0] is target:
        return cached[1]
    if events is None:
        sink: Sink = LoggerSink(target, _describe(target))
    else:
        sink = FunctionSink(target, _describe(target), events)
    if len(_sink_cache) > 1024:
        _sink_cache.clear()
    _sink_cache[key] = (target, sink)
    return sink


_builtin_instances: dict[str, Any] = {}
_reported: set[str] = set()


def builtin(name: str) -> Any:
    """A built-in integration named in a callback list, created once."""
    instance = _builtin_instances.get(name)
    if instance is None:
        spec = BUILTIN.get(name)
        if spec is None:
            if name in _reported:
                return None
            # Reported once per name, then left out: a list the user appended to (which no
            # assignment check sees) must not fail every call that follows.
            _reported.add(name)
            raise BadRequestError(unknown_callback_message(name), model=None)
        module_name, _, class_name = spec.partition(":")
        instance = getattr(importlib.import_module(module_name), class_name)()
        _builtin_instances[name] = instance
    return instance


_last: tuple[tuple, tuple[Sink, ...]] = ((), ())


def collect(settings: Any, per_call: Iterable[Any] | None) -> tuple[Sink, ...]:
    """The sinks for one call: a snapshot of the module lists plus the call's own callbacks.

    The lists rarely change between calls, so the last answer is reused while their contents
    (compared by identity) stay the same."""
    global _last
    snapshot = (
        tuple(settings.callbacks or ()),
        tuple(settings.input_callback or ()),
        tuple(settings.success_callback or ()),
        tuple(settings.failure_callback or ()),
    )
    if not per_call:
        key, sinks = _last
        if _same(key, snapshot):
            return sinks
        sinks = _collect(settings, None)
        _last = (snapshot, sinks)
        return sinks
    return _collect(settings, per_call)


def _same(old: tuple, new: tuple) -> bool:
    """The lists hold the very same objects: compared by identity, because a replacement
    handler that compares equal (a dataclass, a pydantic model) must still take effect."""
    if len(old) != len(new):
        return False
    for a, b in zip(old, new, strict=True):
        if len(a) != len(b) or not all(map(operator.is_, a, b)):
            return False
    return True


_profiles: dict[tuple[int, bool], tuple[tuple[Sink, ...], frozenset[str], tuple]] = {}


def sink_profile(sinks: tuple[Sink, ...], is_async: bool) -> tuple[frozenset[str], tuple]:
    """(the events at least one sink has a hook for — the others are never built, the sinks'
    ``capture_call_context`` methods — run in the caller's thread as a call starts)."""
    key = (id(sinks), is_async)
    cached = _profiles.get(key)
    if cached is not None and cached[0] is sinks:
        return cached[1], cached[2]
    from .hooks import LOGGER_HOOKS

    wanted = frozenset(kind for kind in LOGGER_HOOKS if any(sink.plan(kind, is_async) for sink in sinks))
    capturers = tuple(
        capture for sink in sinks if (capture := getattr(sink.target, "capture_call_context", None)) is not None
    )
    if len(_profiles) > 256:
        _profiles.clear()
    _profiles[key] = (sinks, wanted, capturers)
    return wanted, capturers


def _collect(settings: Any, per_call: Iterable[Any] | None) -> tuple[Sink, ...]:
    entries: list[tuple[Any, str | None]] = []
    for item in settings.callbacks or ():
        entries.append((item, None))
    for list_name, event in FUNCTION_LISTS.items():
        for item in getattr(settings, list_name) or ():
            entries.append((item, event))
    for item in per_call or ():
        entries.append((item, None))
    if not entries:
        return ()
    sinks: list[Sink] = []
    seen_loggers: set[int] = set()
    functions: dict[int, tuple[Any, set[str]]] = {}
    for item, event in entries:
        if isinstance(item, str):
            item = builtin(item)
            if item is None:
                continue
        if isinstance(item, CustomLogger) or (event is None and not callable(item)):
            if id(item) not in seen_loggers:
                seen_loggers.add(id(item))
                sinks.append(_sink_for(item, None))
        elif callable(item):
            events = functions.setdefault(id(item), (item, set()))[1]
            events.add(event or "successful_api_call")
        else:
            raise BadRequestError(
                f"callback {item!r} is neither a CustomLogger, a function nor a built-in name",
                model=None,
            )
    for item, events in functions.values():
        sinks.append(_sink_for(item, frozenset(events)))
    return tuple(sinks)
