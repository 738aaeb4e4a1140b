"""The package's shape: stages import downwards only, no import circles, small files and functions.

Read from the source with `ast`, so the checks see imports inside functions too.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "duality_bench"

# What each stage may import from the project (besides itself). Leaves import nothing but errors.
ALLOWED = {
    "errors": {"display"},
    "display": set(),
    "provenance": set(),
    "results": {"errors", "display"},
    "statistics": set(),
    "data": {"errors", "display", "results"},
    "evaluation": {"errors", "display", "provenance", "results", "data", "statistics"},
    "headlines": {"errors", "display", "results", "data", "evaluation", "statistics"},
    "leaderboard": {"errors", "display", "results", "data", "evaluation", "statistics", "headlines"},
    "analysis": {"errors", "display", "provenance", "data", "evaluation"},
    "circuits": {"errors", "display", "provenance", "data", "evaluation", "analysis"},
}
# Keep `--help`, `import duality_bench` and importing the leaderboard free of torch and pandas.
LAZY_OK = {"duality_bench.cli.commands", "duality_bench", "duality_bench.headlines"}


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def project_imports(name: str, path: Path) -> list[tuple[str, bool]]:
    """(imported project module, whether the import is inside a function) for each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    known = modules()
    found = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.module and child.module.startswith("duality_bench"):
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    found.append((full if full in known else child.module, inner))
            elif isinstance(child, ast.Import):
                found.extend((a.name, inner) for a in child.names if a.name.startswith("duality_bench"))
            visit(child, inner)

    visit(tree, False)
    return found


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "duality_bench"


def test_no_import_circle() -> None:
    graph = {name: {m for m, _ in project_imports(name, path) if m != name} for name, path in modules().items()}
    graph = {name: deps - {"duality_bench"} for name, deps in graph.items()}  # the package root is lazy
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        pytest.fail(f"import circle: {' -> '.join(e.args[1])}")


def test_stages_import_only_the_stages_below() -> None:
    wrong = []
    for name, path in modules().items():
        here = stage(name)
        if here not in ALLOWED:
            continue
        for imported, _ in project_imports(name, path):
            there = stage(imported)
            if there != here and there not in ALLOWED[here]:
                wrong.append(f"{name} imports {imported}")
    assert not wrong, wrong


def test_no_lazy_import_of_the_project_outside_the_entry_points() -> None:
    lazy = [
        f"{name} imports {imported} inside a function"
        for name, path in modules().items()
        if name not in LAZY_OK
        for imported, nested in project_imports(name, path)
        if nested
    ]
    assert not lazy, lazy


def test_files_and_functions_stay_small() -> None:
    long = []
    for name, path in modules().items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 400:
            long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60:
                long.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not long, long


def test_the_checks_see_a_circle_and_a_lazy_import(tmp_path: Path) -> None:
    """The import reader finds imports inside functions, so the checks above can fail."""
    path = tmp_path / "m.py"
    path.write_text(
        "from duality_bench.errors import DualityBenchError\ndef f():\n    from duality_bench import results\n"
    )
    assert project_imports("m", path) == [("duality_bench.errors", False), ("duality_bench.results", True)]
