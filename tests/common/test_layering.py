"""The house keeps its floors: no import circles, apps never import the configuration,
and a lower app never imports a higher one (admin.py, the presentation layer, excepted).

Read from the source with ast, lazy imports inside functions included, so a later
change cannot quietly undo the layering.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Bottom to top; an app may import those below it.
FLOORS = ["common", "cameras", "captures", "batches", "sharing", "operations", "api"]
PACKAGES = [*FLOORS, "timelapser"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            modules[_module_name(path)] = path
    return modules


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules this file imports, wherever in the file the import stands."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            # The longest project module the dotted name starts with.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _project_modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _package_of(module: str) -> str:
    return module.split(".")[0]


def test_the_project_has_no_import_circles(graph):
    # Tarjan's strongly connected components: any with two or more modules is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []


def test_no_app_imports_the_project_configuration(graph):
    offenders = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        if _package_of(module) != "timelapser"
        for target in targets
        if _package_of(target) == "timelapser"
    ]
    assert offenders == []


def test_a_lower_app_never_imports_a_higher_one_outside_admin(graph):
    offenders = []
    for module, targets in graph.items():
        package = _package_of(module)
        if package not in FLOORS or module.endswith(".admin"):
            continue
        for target in targets:
            other = _package_of(target)
            if other in FLOORS and FLOORS.index(other) > FLOORS.index(package):
                offenders.append(f"{module} imports {target}")
    assert offenders == []


def test_the_checker_sees_lazy_imports_and_circles(tmp_path):
    """The rules above would pass vacuously if _imports missed imports inside functions."""
    source = tmp_path / "probe.py"
    source.write_text("def later():\n    from operations.notify import send\n")
    assert _imports(source, _project_modules()) == {"operations.notify"}


def test_enqueueing_a_render_does_not_import_the_tasks_module(graph):
    assert "batches.tasks" not in graph["batches.lifecycle"]
    assert "batches.tasks" not in graph["batches.render"]
