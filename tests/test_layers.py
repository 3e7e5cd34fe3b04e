"""The layer order, checked on every import in the package, including those inside function bodies.

app → dashboard → widgets → dialogs → messages → config → nats → format: a module may import its own
layer and the layers below it, never one above. A downward import inside a function (to keep
start-up fast) is allowed; an upward one is a circle in hiding and fails here even though Python
would never notice it. Modules must not form a circle inside a layer either.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "jstui"

LAYERS: list[tuple[str, ...]] = [
    ("jstui.cli", "jstui.commands", "jstui.__main__", "jstui.shutdown", "jstui.logfile"),
    ("jstui.app",),
    ("jstui.dashboard",),
    ("jstui.widgets",),
    ("jstui.dialogs",),
    ("jstui.messages",),
    ("jstui.config",),
    ("jstui.nats",),
    ("jstui.format", "jstui.paths", "jstui.gctuning", "jstui"),
]
"""Top to bottom. A module belongs to the longest prefix listed (``jstui`` itself: the version)."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str | None = None) -> set[str]:
    """Every jstui module imported anywhere in the file, relative imports resolved."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from jstui.nats import session`` imports the module jstui.nats.session
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t == "jstui" or t.startswith("jstui."))
    return found


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def layer_of(module: str) -> int:
    best, rank = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank >= 0, f"{module} belongs to no layer: add it to LAYERS"
    return rank


def resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The module a dotted import name stands for (``a.b.func`` → ``a.b``), or None if none."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        resolved = {resolve(t, modules) for t in imports_of(path)}
        edges[name] = {t for t in resolved if t is not None and t != name}
    return edges


def test_every_import_points_down() -> None:
    upward = [
        f"{source} imports {target}"
        for source, targets in sorted(graph().items())
        for target in sorted(targets)
        if layer_of(target) < layer_of(source)
        # a package's __init__ may name its own modules
        and not source.startswith(target + ".")
    ]
    assert upward == [], "imports against the layer order:\n" + "\n".join(upward)


def test_no_import_circle() -> None:
    edges = graph()
    # a package __init__ importing its submodules is not a circle through them
    for source in edges:
        edges[source] = {t for t in edges[source] if not t.startswith(source + ".")}
    state: dict[str, int] = {}
    path: list[str] = []
    circles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert circles == [], "import circles:\n" + "\n".join(circles)


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    """A lazy import is still an edge: the check would be blind without this."""
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from jstui.widgets.feeds import FeedLog\n")
    assert "jstui.widgets.feeds" in imports_of(source, "jstui.dialogs.probe")


def test_service_layer_never_imports_textual() -> None:
    """Importing every jstui.nats module (sub-packages included) must not load Textual."""
    modules = sorted(
        name for name in all_modules() if name == "jstui.nats" or name.startswith("jstui.nats.")
    )
    assert len(modules) > 5, modules
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in modules)
        + "bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"jstui.nats imports textual: {result.stdout}"
