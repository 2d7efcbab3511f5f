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
