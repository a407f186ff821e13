"""The sandbox's layout holds: shared parts name no platform, packages stay in their lane, no import cycles.

Read from the sources (every `import`, including those under `TYPE_CHECKING` and inside
functions), so a cycle or a shortcut across layers fails here before it confuses anyone.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sandbox.registry import PLATFORMS

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "sandbox"
PRODUCT = ("plugins", "ingestion", "dags", "webhook_sink")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file (absolute names; the sandbox has no relative imports)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module(p): p for p in sorted(SANDBOX.rglob("*.py"))} | {"cli.sandbox": ROOT / "cli" / "sandbox.py"}


def _resolve(name: str) -> str:
    """The module an imported name lives in (`sandbox.registry.BANK` → `sandbox.registry`)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


GRAPH = {
    name: {_resolve(m) for m in _imports(path) if _resolve(m) in MODULES and _resolve(m) != name}
    for name, path in MODULES.items()
}


def _layer(module: str) -> str:
    if module.startswith("sandbox.core"):
        return "core"
    if module.startswith("sandbox.providers."):
        return "provider:" + module.split(".")[2]
    return module


def test_there_is_no_import_cycle() -> None:
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, "import cycle: " + " → ".join((*path[path.index(name) :], name))
        if name in done:
            return
        for imported in GRAPH[name]:
            visit(imported, (*path, name))
        done.add(name)

    for name in GRAPH:
        visit(name, ())


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module: str) -> None:
    """core → one package per platform → registry → world / options → server → cli.sandbox."""
    imported = {
        _layer(_resolve(m)) for m in _imports(MODULES[module]) if m.split(".")[0] in ("sandbox", "cli", *PRODUCT)
    }
    imported.discard(_layer(module))
    imported = {m for m in imported if m not in ("sandbox", "sandbox.providers")}  # package docstrings only
    layer = _layer(module)
    allowed = {
        "core": set(),
        "sandbox.registry": {"core"} | {f"provider:{p.name}" for p in PLATFORMS},
        "sandbox.world": {"core", "sandbox.registry"},
        "sandbox.options": {"core", "sandbox.registry"},
        "sandbox.server": {"core", "sandbox.registry", "sandbox.world", "sandbox.options"},
        "cli.sandbox": {"core", "sandbox.registry", "sandbox.world", "sandbox.options", "sandbox.server"},
    }.get(layer, {"core"} if layer.startswith("provider:") else set())
    stray = {m for m in imported if m not in allowed}
    assert not stray, f"{module} ({layer}) may not import {sorted(stray)}"


def test_product_code_and_the_sandbox_never_import_each_other() -> None:
    for path in [*SANDBOX.rglob("*.py"), ROOT / "cli" / "sandbox.py"]:
        assert not {m for m in _imports(path) if m.split(".")[0] in PRODUCT}, path
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            assert not {m for m in _imports(path) if m.split(".")[0] == "sandbox"}, path


@pytest.mark.parametrize("name", [p.name for p in PLATFORMS])
def test_a_platform_is_named_only_in_its_package_and_the_registry(name: str) -> None:
    """The shared parts, the compositions and the other platforms' packages do not know it exists."""
    word = re.compile(re.escape(name), re.IGNORECASE)
    own = SANDBOX / "providers" / name
    for path in SANDBOX.rglob("*.py"):
        if own in path.parents or path == SANDBOX / "registry.py":
            continue
        hits = [n for n, line in enumerate(path.read_text().splitlines(), 1) if word.search(line)]
        assert not hits, f"{path.relative_to(ROOT)} names {name} on lines {hits}"
