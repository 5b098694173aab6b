"""The layout keeps its promises: imports only go down the layers, no cycles, short modules and functions."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A package may import itself and packages of a LOWER rank only (ARCHITECTURE.md draws the same picture).
RANK = {"core": 0, "builders": 1, "facts": 2, "lab": 3, "cluster": 3, "shop": 3, "load": 4, "drills": 5,
        "bench": 5, "ops": 6, "tasks": 9}
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


def modules():
    return sorted(p for p in (ROOT / "ops").rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def ops_imports(path: Path) -> set[str]:
    """The ops modules a file imports (relative imports resolved)."""
    name, found = module_name(path), set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found |= {base} | {f"{base}.{a.name}" for a in node.names}
    known = {module_name(p) for p in modules()}
    return {m for m in found if m in known}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ops"


def test_every_package_has_a_rank():
    assert {layer(module_name(p)) for p in modules()} <= set(RANK)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_go_down(path):
    src = layer(module_name(path))
    up = [m for m in ops_imports(path) if layer(m) != src and RANK[layer(m)] >= RANK[src]]
    assert not up, f"{module_name(path)} ({src}) imports {up}: move the shared code down a layer"


def test_no_import_cycles():
    graph = {module_name(p): ops_imports(p) - {module_name(p)} for p in modules()}
    state = {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        assert state.get(m) != "open", f"import cycle: {' -> '.join(path + [m])}"
        state[m] = "open"
        for d in graph.get(m, ()):
            if d.startswith(m + "."):
                continue  # a package importing its own submodules
            visit(d, path + [m])
        state[m] = "done"

    for m in graph:
        visit(m, [])


def test_library_never_imports_the_entry_points():
    for p in modules():
        tree = ast.parse(p.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            bad = [n for n in names if n.split(".")[0] in ("scripts", "loadtest", "tests", "tasks")]
            assert not bad, f"{p.relative_to(ROOT)} imports {bad}: entry points import the library, not the reverse"


def code_files():
    return sorted([*modules(), *(ROOT / "scripts").glob("*.py"), *(ROOT / "loadtest").glob("*.py"),
                   *(ROOT / "bench").glob("*.py"), ROOT / "tasks.py"])


@pytest.mark.parametrize("path", code_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_short_modules_and_functions(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.name}: split it (over {MAX_MODULE_LINES} lines)"
    long = [f"{n.name} ({n.end_lineno - n.lineno + 1} lines)" for n in ast.walk(ast.parse(text))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"


@pytest.mark.parametrize("path", code_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_one_line_module_docstring(path):
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc and doc.strip(), f"{path.name} has no module docstring"
