"""The package's shape, checked from its source: providers are pure, wire types stand alone."""

from __future__ import annotations

import ast
from pathlib import Path

import llmtap

PACKAGE = Path(llmtap.__file__).parent


def _imports(path: Path) -> set[str]:
    """Absolute names of the llmtap modules a file imports (at any depth, lazily or not)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name == "__init__.py":
        module = module.rsplit(".", 1)[0] + ".__init__"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "llmtap" or name.startswith("llmtap.")}


def test_providers_import_neither_transport_nor_logging_nor_caching() -> None:
    forbidden = ("llmtap.transport", "llmtap.logging", "llmtap.caching", "llmtap.main")
    for path in sorted((PACKAGE / "providers").glob("*.py")):
        bad = sorted(name for name in _imports(path) if name.startswith(forbidden) or name == "llmtap")
        assert not bad, f"{path.name} imports {bad}: a provider is a pure transform"


def test_wire_types_depend_on_nothing_in_the_package() -> None:
    assert _imports(PACKAGE / "wire.py") == set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The llmtap modules a file imports as it is imported: module-level statements, not those
    inside functions or under ``if TYPE_CHECKING:``. Each name resolves to the module it is in."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    candidate = f"{source}.{alias.name}"
                    found.add(candidate if candidate in modules else source)

    visit(ast.parse(path.read_text()).body)
    return {module for module in found if module in modules and module != name}


def test_no_import_cycle() -> None:
    paths = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: _top_level_imports(path, set(paths)) for name, path in paths.items()}
    state: dict[str, str] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert graph["llmtap"], "the walker found no imports at all"
    assert "llmtap.main" in graph["llmtap"]


def test_no_inner_module_imports_the_package_for_its_settings() -> None:
    for path in PACKAGE.rglob("*.py"):
        # the emulator, demo, CLI and Router are clients of the public API, like user code
        if path.parent.name in ("testing", "router") or path.name in ("demo.py", "cli.py", "__init__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert "llmtap" not in [alias.name for alias in node.names], f"{path} imports llmtap"


def test_settings_are_a_snapshot_taken_as_the_call_starts() -> None:
    from llmtap.call import prepare
    from llmtap.retry import RetryRules

    slow = RetryRules(initial_backoff=5.0)
    llmtap.num_retries, llmtap.retry_rules, llmtap.drop_params = 4, slow, True
    llmtap.callbacks = [first := object()]
    call = prepare("completion", "gpt-4o", {"api_key": "k"}, False)
    llmtap.num_retries, llmtap.drop_params = 0, False
    llmtap.callbacks.append(object())
    assert call.num_retries == 4 and call.retry_rules is slow
    assert call.settings.drop_params is True and call.settings.callbacks == (first,)


def test_every_routes_module_exposes_the_same_table_and_the_emulator_tries_them_all() -> None:
    import importlib

    from llmtap.testing import emulator
    from llmtap.testing.common import Route

    files = sorted(path.stem for path in (PACKAGE / "testing").glob("*_routes.py"))
    assert files == sorted(module.__name__.rsplit(".", 1)[1] for module in emulator.ROUTE_MODULES)
    for name in files:
        module = importlib.import_module(f"llmtap.testing.{name}")
        assert isinstance(module.ROUTES, tuple) and module.ROUTES, name
        assert all(isinstance(row, Route) for row in module.ROUTES), name
    assert len(emulator.ROUTES) == sum(len(m.ROUTES) for m in emulator.ROUTE_MODULES)


def test_only_call_py_reads_the_raw_library_params() -> None:
    """Every library parameter code acts on is a typed field of the Call, set once in prepare()."""
    for path in PACKAGE.rglob("*.py"):
        if path.name == "call.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "library_params":
                raise AssertionError(
                    f"{path.relative_to(PACKAGE)}:{node.lineno} reads call.library_params; add a typed Call field"
                )
