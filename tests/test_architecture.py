"""The layers point one way: an import graph of the project, walked from its source.

Every ``import`` of ``jhub_ck8s`` (with ``transforms/`` as ``jhub_ck8s.transforms``,
how it is installed) and ``postrender.py`` is read with ``ast``, including imports
inside functions (lazy imports are still dependencies); imports under
``if TYPE_CHECKING:`` are left out (they never run). The graph must have no cycle,
and the layering rules below must hold.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = "jhub_ck8s"


def _modules() -> dict[str, Path]:
    """Module name -> file, for the library, the transforms and the entry point."""
    found: dict[str, Path] = {"postrender": REPO / "postrender.py"}
    roots = [(REPO / PACKAGE, PACKAGE), (REPO / "transforms", f"{PACKAGE}.transforms")]
    for root, prefix in roots:
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root)
            if relative.parts[0] == "transforms" and root.name == PACKAGE:
                continue  # the checkout's symlink to ../transforms: counted once, above
            parts = [prefix, *relative.with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports (run-time imports only)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                targets.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = {f"{module}.{alias.name}" for alias in node.names} & known
            # `from pkg import submodule` depends on the submodule; `from mod import name` on mod
            targets.update(submodules if len(submodules) == len(node.names) else {module, *submodules})
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {target for target in targets if target in known and target != name}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_walker_sees_the_project(graph):
    assert "jhub_ck8s.pipeline" in graph and "jhub_ck8s.transforms.images" in graph
    assert "jhub_ck8s.stream" in graph["jhub_ck8s.pipeline"]
    assert "jhub_ck8s.transforms" in graph["jhub_ck8s.pipeline"]


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle(graph):
    assert _cycles(graph) == []


def test_only_the_pipeline_holds_the_transforms(graph):
    """The library never imports the transforms; the pipeline, which runs them, does."""
    importers = sorted(
        name for name, targets in graph.items()
        if not name.startswith(f"{PACKAGE}.transforms")
        and any(t == f"{PACKAGE}.transforms" or t.startswith(f"{PACKAGE}.transforms.") for t in targets)
    )
    assert importers == ["jhub_ck8s.pipeline"]


def test_no_transform_imports_another(graph):
    prefix = f"{PACKAGE}.transforms."
    crossing = sorted(
        (name, target) for name, targets in graph.items() if name.startswith(prefix)
        for target in targets if target.startswith(prefix) or target == f"{PACKAGE}.transforms"
    )
    assert crossing == []


def test_documents_is_a_leaf(graph):
    """Documents, read and serialise: nothing above it (no hub config, no settings, no checks)."""
    assert graph["jhub_ck8s.documents"] <= {"jhub_ck8s.errors", "jhub_ck8s.yamlio"}


def test_the_pipeline_and_the_audit_parse_as_the_tests_do(graph):
    """One checked parse (stream.parse): nothing in the library reads documents unchecked but it."""
    readers = sorted(
        name for name, path in _modules().items()
        if name != "jhub_ck8s.stream" and "read" in _names_from(path, "documents")
    )
    assert readers == []


def _names_from(path: Path, module: str) -> set[str]:
    """The names ``path`` imports from the project module ``module`` (any relative spelling)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").rpartition(".")[2] == module:
            names.update(alias.name for alias in node.names)
    return names


def test_nothing_imports_a_top_level_transforms_package():
    for path in [*REPO.glob("jhub_ck8s/**/*.py"), *REPO.glob("transforms/*.py"), *REPO.glob("tests/*.py"),
                 REPO / "postrender.py", *REPO.glob("bench/*.py")]:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert (node.module or "").split(".")[0] != "transforms", f"{path}: from {node.module} import"
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "transforms" for a in node.names), path
