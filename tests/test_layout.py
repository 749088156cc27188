"""The package's shape is its architecture (issue 15): a short top level and no import cycles.

The layer and independence contracts are import-linter's (``lint-imports``, pyproject.toml); these
tests check what it does not: cycles between any two modules (import-linter's no-cycle contract
works on sibling packages) and the size of the top level.
"""

from __future__ import annotations

import graphlib
from pathlib import Path

import grimp

import secscan

PACKAGE = Path(secscan.__file__).resolve().parent


def _a_cycle(graph: grimp.ImportGraph) -> list[str]:
    """One import cycle (its first module repeated at the end), or ``[]`` when there is none:
    the standard library's topological sort refuses a graph with a cycle and names it."""
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    sorter = graphlib.TopologicalSorter(imports)
    try:
        sorter.prepare()
    except graphlib.CycleError as err:
        return list(err.args[1])
    return []


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("secscan")  # lazy (function-level) imports count too
    assert _a_cycle(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    cycle = _a_cycle(graph)
    assert cycle[0] == cycle[-1] and sorted(set(cycle)) == ["p.a", "p.b"]


def test_the_top_level_has_at_most_twelve_entries() -> None:
    entries = sorted(
        p.name for p in PACKAGE.iterdir() if not p.name.startswith((".", "_rules")) and p.name != "__pycache__"
    )
    assert len(entries) <= 12, entries
    assert "__main__.py" in entries
