"""Count the import graph between newsdesk's top-level packages: the figures behind the
layer contracts in pyproject.toml ([tool.importlinter]), for anyone to run again.

    .venv/bin/python devtools/import_graph.py [--edges]

(On another checkout: PYTHONPATH=that/checkout .venv/bin/python devtools/import_graph.py.)

Prints modules, package-to-package edges and the imports behind them, upward imports
(a lower layer importing a higher one, by the order of LAYERS) and cycles between packages.
Imports inside functions count as much as those at the top of a module: both are coupling.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import grimp

# Bottom to top; packages on one level are peers. Modules outside these (settings, urls,
# the management commands, wsgi, cli) are the composition root and are left out.
LAYERS: list[set[str]] = [
    {"turns"},
    {"links", "dates", "limits", "charset", "plain_rows", "registry", "sqlite"},
    {"sources", "extract", "ai"},
    {"articles"},
    {"pipeline", "accounts"},
    {"stories", "search", "comments", "recovery"},
    {"web", "api"},
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "newsdesk" else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", action="store_true", help="list every package edge and its imports")
    args = parser.parse_args()
    graph = grimp.build_graph("newsdesk", cache_dir=None)
    modules = sorted(m for m in graph.modules if ".migrations." not in m)
    imports: Counter[tuple[str, str]] = Counter()
    upward: list[str] = []
    for importer in modules:
        source = package_of(importer)
        for imported in graph.find_modules_directly_imported_by(importer):
            target = package_of(imported)
            if source is None or target is None or source == target:
                continue
            imports[(source, target)] += 1
            if source in LEVEL and target in LEVEL and LEVEL[target] > LEVEL[source]:
                upward.append(f"{importer} -> {imported}")
    layered = {edge: n for edge, n in imports.items() if edge[0] in LEVEL and edge[1] in LEVEL}
    cycles = find_cycles({edge for edge in layered})
    if args.edges:
        for (source, target), n in sorted(layered.items()):
            print(f"{source} -> {target}: {n}")
    for line in upward:
        print("upward:", line)
    for group in cycles:
        print("cycle between:", ", ".join(group))
    print(
        json.dumps(
            {
                "modules": len(modules),
                "package_edges": len(layered),
                "imports_between_packages": sum(layered.values()),
                "upward_imports": len(upward),
                "package_cycles": len(cycles),
                "project_imports_inside_functions": imports_inside_functions(),
            }
        )
    )
    sys.exit(0)


def imports_inside_functions() -> int:
    """Project imports written inside a function: often a cycle being dodged."""
    found: set[tuple[Path, int]] = set()
    package = importlib.util.find_spec("newsdesk")
    assert package is not None and package.origin is not None
    for path in Path(package.origin).parent.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                names = (
                    [inner.module or ""]
                    if isinstance(inner, ast.ImportFrom)
                    else [a.name for a in inner.names]
                    if isinstance(inner, ast.Import)
                    else []
                )
                if any(name.startswith("newsdesk") for name in names):
                    found.add((path, inner.lineno))
    return len(found)


def find_cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Groups of packages that reach each other by imports (strongly connected, Tarjan)."""
    nodes = sorted({n for edge in edges for n in edge})
    successors = {n: sorted(t for s, t in edges if s == n) for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in successors[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in nodes:
        if node not in index:
            visit(node)
    return groups


if __name__ == "__main__":
    main()
