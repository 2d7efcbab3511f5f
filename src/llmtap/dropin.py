"""``install_as_litellm()``: make ``import litellm`` (and its submodules) give llmtap.

The convention PyMySQL set with ``install_as_MySQLdb()``. Frameworks (DSPy, aider, OpenHands,
smolagents, langchain-litellm, instructor) ``import litellm`` themselves; after one call, each of
those imports resolves to llmtap without editing the framework.

How: a finder at the front of ``sys.meta_path`` answers for ``litellm`` and every
``litellm.<path>``. ``litellm.<path>`` is ``llmtap.<path>`` — llmtap keeps the peer's module paths
(``llmtap.types.utils``, ``llmtap.utils``, ``llmtap._logging``, ``llmtap.exceptions``,
``llmtap.integrations.custom_logger``, ``llmtap.caching.caching``...) — so the alias is the same
module object, not a copy: ``litellm.callbacks = [...]`` sets ``llmtap.callbacks``.
``litellm.litellm_core_utils.<anything>`` is one module forwarding to llmtap's public names
(frameworks import helpers from a dozen files there). A path llmtap does not have fails with a
``ModuleNotFoundError`` naming it, the way a missing module does.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Any

ALIAS = "litellm"
TARGET = "llmtap"


class _ExistingModuleLoader(importlib.abc.Loader):
    """Loads a name by handing back a module that already exists (llmtap's own)."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _ForwardingModule(types.ModuleType):
    """``litellm.litellm_core_utils.*``: every attribute is llmtap's public one of that name."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        llmtap = sys.modules[TARGET]

        return getattr(llmtap, name)


class LiteLLMAliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        module = _resolve(fullname)
        if module is None:
            return None  # nothing of ours: let the import fail as a missing module does
        return importlib.machinery.ModuleSpec(
            fullname, _ExistingModuleLoader(module), is_package=hasattr(module, "__path__")
        )


def _resolve(fullname: str) -> types.ModuleType | None:
    name = TARGET + fullname[len(ALIAS):]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise  # llmtap's module exists but something it imports does not: say so
    if name.startswith(TARGET + ".litellm_core_utils."):
        module = _ForwardingModule(name, "Forwards to llmtap's public names.")
        module.__path__ = []  # a package, so deeper paths resolve too
        sys.modules[name] = module
        return module
    return None


_finder = LiteLLMAliasFinder()


def install_as_litellm() -> None:
    """Make ``import litellm`` and every ``import litellm.<submodule>`` give llmtap.

    Call it before importing the framework. Idempotent. If the real litellm was imported before,
    modules that already hold it keep it (a warning says so); later imports get llmtap.
    """
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    stale = [name for name in sys.modules if name == ALIAS or name.startswith(ALIAS + ".")]
    real = [name for name in stale if not getattr(sys.modules[name], "__name__", "").startswith(TARGET)]
    if real:
        warnings.warn(
            "llmtap.install_as_litellm(): the real litellm was imported before; modules that "
            "imported it already keep it. Call install_as_litellm() before importing the framework.",
            stacklevel=2,
        )
    for name in real:
        del sys.modules[name]
    llmtap = sys.modules[TARGET]  # the package itself, already imported

    sys.modules[ALIAS] = llmtap
    _answer_to_peer_module_names()
    from . import exceptions

    if "openai" in sys.modules:
        exceptions._graft_openai()


def _answer_to_peer_module_names() -> None:
    """Some frameworks recognise the peer's types by module name (DSPy's streaming checks that
    a chunk's class is ``ModelResponseStream`` from a ``litellm`` module). Once ``litellm`` IS
    llmtap, the response types say they live where the peer keeps them — and since
    ``litellm.types.utils`` now resolves to llmtap's module, pickling still finds them. Without
    install_as_litellm() they keep their own module name."""
    from . import types as llmtap_types

    for name in dir(llmtap_types):
        value = getattr(llmtap_types, name)
        if isinstance(value, type) and value.__module__ == llmtap_types.__name__:
            value.__module__ = ALIAS + ".types.utils"


def uninstall_as_litellm() -> None:
    """Undo ``install_as_litellm()`` (for tests): forget the alias and the finder."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
        if getattr(sys.modules[name], "__name__", "").startswith(TARGET):
            del sys.modules[name]
