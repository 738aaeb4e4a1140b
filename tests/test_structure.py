"""The package's shape: stages import downwards only, no import circles, small files and functions.

Read from the source with `ast`, so the checks see imports inside functions too.
"""

from __future__ import annotations

import ast
import builtins
import collections
import graphlib
import re
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
    "data": {"errors", "display", "provenance", "results"},
    "models": {"errors", "display", "provenance"},
    "evaluation": {"errors", "display", "provenance", "results", "data", "statistics", "models"},
    "headlines": {"errors", "display", "results", "data", "evaluation", "statistics", "models"},
    "leaderboard": {"errors", "display", "results", "data", "evaluation", "statistics", "headlines", "models"},
    "analysis": {"errors", "display", "provenance", "data", "models"},
    "circuits": {"errors", "display", "provenance", "results", "data", "models", "analysis"},
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


# Functions the package does not call that stay, each with its reason.
UNUSED_OK = {
    "zipf_report": "data/pairs/tags.py: the measurement behind CORE_MIN_ZIPF, rerun by hand when the table changes",
    "near_threshold": "data/pairs/tags.py: the pairs to read at a candidate threshold, with zipf_report",
    "unembed": "models/adapters.py: an adapter's full logits, what tests check the logit lens against",
}


def parsed(folder: Path) -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(folder.rglob("*.py"))}


def defined_functions(tree: ast.Module, classes: dict[str, ast.ClassDef]) -> list[ast.FunctionDef]:
    """A module's top-level functions and its classes' methods, less those called by their name from
    elsewhere: dunder methods, properties and methods that override a base class."""
    found = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name[:2] != "__"]
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for node in cls.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name.startswith("__"):
                continue
            decorators = " ".join(ast.unparse(d) for d in node.decorator_list)
            if "property" not in decorators and ".setter" not in decorators and not overrides(cls, node.name, classes):
                found.append(node)
    return found


def overrides(cls: ast.ClassDef, name: str, classes: dict[str, ast.ClassDef]) -> bool:
    """Whether a base of `cls` has `name`: a base of the package by its source, a builtin (an
    exception) by its attributes; any other base, a library's, counts as having every name."""
    for base in (ast.unparse(b).split("[")[0] for b in cls.bases):
        if base in classes:
            inner = classes[base]
            if any(getattr(n, "name", None) == name for n in inner.body) or overrides(inner, name, classes):
                return True
        elif base != "Protocol" and (not hasattr(builtins, base) or hasattr(getattr(builtins, base), name)):
            return True
    return False


def names_used(tree: ast.AST) -> collections.Counter[str]:
    """Every name read, attribute taken and identifier-like string (`getattr`, `_EXPORTS`, `__all__`)."""
    used: collections.Counter[str] = collections.Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used[node.id] += 1
        elif isinstance(node, ast.Attribute):
            used[node.attr] += 1
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            used[node.value] += 1
    return used


def unused_functions(folder: Path, users: Path) -> list[str]:
    """`file:function` for each function or method of `folder` whose name appears nowhere in it or
    in `users` but in its own definition; entry points of pyproject.toml count as used."""
    package = parsed(folder)
    classes = {n.name: n for tree in package.values() for n in tree.body if isinstance(n, ast.ClassDef)}
    used = collections.Counter()
    for tree in (*package.values(), *parsed(users).values()):
        used.update(names_used(tree))
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    scripts = pyproject.split("[project.scripts]", 1)[1].split("\n[", 1)[0]  # no tomllib on Python 3.10
    used.update(re.findall(r':(\w+)"', scripts))
    return [
        f"{path.relative_to(folder.parent)}:{node.name}"
        for path, tree in package.items()
        for node in defined_functions(tree, classes)
        if node.name not in UNUSED_OK and used[node.name] - names_used(node)[node.name] <= 0
    ]


def test_every_function_is_used() -> None:
    """Each function and method of the package is called (or named) by the package or its scripts,
    not only by tests. Functions called by their name from elsewhere are not counted: see
    `defined_functions`; a public one the package never calls goes in UNUSED_OK with its reason."""
    unused = unused_functions(PACKAGE, PACKAGE.parent / "scripts")
    assert not unused, unused


def test_the_unused_check_sees_an_unused_function(tmp_path: Path) -> None:
    """A function named only in its own body is unused; a call, an attribute or a string uses one,
    and a method overriding its base is left alone."""
    (tmp_path / "m.py").write_text(
        "def loop(n):\n    return loop(n - 1)\n"
        "def called():\n    pass\n"
        "def by_name():\n    pass\n"
        "class Base:\n    def hook(self):\n        called()\n"
        "class Child(Base):\n    def hook(self):\n        return getattr(self, 'by_name')\n"
        "class Error(ValueError):\n    def with_traceback(self, tb):\n        pass\n"
        "    def unused(self):\n        pass\n"
    )
    found = unused_functions(tmp_path, tmp_path / "no scripts")
    assert [name.rpartition(":")[2] for name in found] == ["loop", "hook", "unused"]


def code_map(readme: str) -> dict[str, str]:
    """README's code map (the first fenced block of "## Development") by entry: a line that starts
    in the first column opens an entry (`data/`, `results/`, `statistics.py`), indented lines continue
    it; a line naming two top-level modules is one entry under the first."""
    section = readme.split("\n## Development\n", 1)[1]
    block = section.split("```\n", 2)[1]
    entries: dict[str, str] = {}
    for line in block.splitlines():
        if line[:1].strip():
            key = line.split()[0]
        entries[key] = entries.get(key, "") + " " + line
    return entries


def unmapped(package: Path, readme: str) -> list[str]:
    """The modules of `package` the code map does not name: a top-level module must appear as
    `name.py`, a module of a subpackage (at any depth) as a word in its top folder's entry."""
    entries = code_map(readme)
    block = " ".join(entries.values())
    missing = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).parts
        if path.stem in ("__init__", "__main__"):
            continue
        if len(parts) == 1:
            found = re.search(rf"(?<![\w/]){re.escape(path.name)}\b", block)
        else:
            found = re.search(rf"\b{re.escape(path.stem)}\b", entries.get(f"{parts[0]}/", ""))
        if not found:
            missing.append("/".join(parts))
    return missing


def test_the_readme_code_map_names_every_module() -> None:
    """Every module of the package is on README's code map (see `unmapped` for how it is named)."""
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    missing = unmapped(PACKAGE, readme)
    assert not missing, missing


def test_the_code_map_check_sees_a_missing_module(tmp_path: Path) -> None:
    """A module missing from its folder's entry is found, even where another entry names it."""
    for name in ("top.py", "stage/__init__.py", "stage/kept.py", "stage/deep/lost.py", "other/lost.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    readme = "\n## Development\n\n```\ntop.py    a leaf\nstage/    kept ->\n          deep/\nother/    lost\n```\n"
    assert unmapped(tmp_path, readme) == ["stage/deep/lost.py"]
    assert unmapped(tmp_path, readme.replace("top.py", "top")) == ["stage/deep/lost.py", "top.py"]


def test_the_model_has_one_room() -> None:
    """Loading a causal LM happens in models/ alone, and evaluate, analyze and find_circuit reach
    their model through `models.loading.as_loaded` (no stage unpacks model shapes of its own)."""
    found = modules()
    outside = [n for n, p in found.items() if stage(n) != "models" and "AutoModelForCausalLM" in p.read_text()]
    assert not outside, outside
    for name in ("duality_bench.evaluation.run", "duality_bench.analysis.pipeline", "duality_bench.circuits.pipeline"):
        text = found[name].read_text(encoding="utf-8")
        assert ("duality_bench.models.loading", False) in project_imports(name, found[name]), name
        assert "as_loaded(" in text and "def _unpack" not in text, name
