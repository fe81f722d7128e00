"""No import cycle anywhere in ``src``: no module imports, directly or through others, a module
that imports it back. Function-level (lazy) imports and ``TYPE_CHECKING`` imports count too: they
hide a cycle from the interpreter, not from the reader. Run by ``nox -s lint`` as well.

A cycle is broken by moving what both sides need into a lower module of its own (as
``sqlalchemy/_unit.py``, the transaction, and ``_unit_of_work.py``, which assembles the
repositories over it), never by importing inside a function.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import grimp
import pytest

PACKAGES = ("tradecore", "tradecore_adapters", "tradecore_cli", "tradecore_web")


def import_cycles(*packages: str) -> list[list[str]]:
    """One cycle (as a path ``a, b, …, a``) per group of modules that import each other, found
    with grimp's import graph of ``packages`` (Tarjan's strongly connected components)."""
    graph = grimp.build_graph(*packages, cache_dir=None)
    modules = sorted(graph.modules)
    imports = {
        m: sorted(graph.find_modules_directly_imported_by(m) & graph.modules) for m in modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]  # iterative: deep import chains must not hit the recursion limit
        while work:
            module, position = work.pop()
            if position == 0:
                index[module] = low[module] = len(index)
                stack.append(module)
                on_stack.add(module)
            targets = imports[module]
            if position < len(targets):
                work.append((module, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1 or module in imports[module]:
                    groups.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
    return [_a_cycle(graph, group) for group in groups]


def _a_cycle(graph: grimp.ImportGraph, group: list[str]) -> list[str]:
    # The shortest way from the group's first module to a module it imports in the group, and
    # back: a concrete cycle to show.
    first = group[0]
    for target in sorted(graph.find_modules_directly_imported_by(first)):
        if target in group:
            back = graph.find_shortest_chain(importer=target, imported=first)
            if back is not None:
                return [first, *back]
    return [*group, first]


def test_there_is_no_import_cycle_in_src() -> None:
    cycles = import_cycles(*PACKAGES)
    assert not cycles, "import cycles in src:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _package(root: Path, name: str, modules: dict[str, str]) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, source in modules.items():
        (package / f"{module}.py").write_text(textwrap.dedent(source))


def test_the_check_finds_cycles_lazy_and_type_checking_ones_included(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(
        tmp_path,
        "cyclic_sample",
        {
            # bottom -> top -> bottom, the import of the top hidden in a function
            "bottom": """
                def make():
                    from cyclic_sample.top import Top
                    return Top()
            """,
            "top": "from cyclic_sample.bottom import make\nclass Top: ...\n",
            # a -> b -> c -> a, closed by an import only for the type checker
            "a": "import cyclic_sample.b\n",
            "b": "import cyclic_sample.c\n",
            "c": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    import cyclic_sample.a
            """,
            "leaf": "import cyclic_sample.bottom\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    cycles = import_cycles("cyclic_sample")

    assert sorted(cycles) == [
        ["cyclic_sample.a", "cyclic_sample.b", "cyclic_sample.c", "cyclic_sample.a"],
        ["cyclic_sample.bottom", "cyclic_sample.top", "cyclic_sample.bottom"],
    ]
    assert "cyclic_sample" not in sys.modules  # found from the source, nothing imported


def test_the_check_passes_a_package_without_cycles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(
        tmp_path,
        "acyclic_sample",
        {
            "bottom": "X = 1\n",
            "middle": "from acyclic_sample.bottom import X\n",
            "top": "from acyclic_sample import bottom, middle\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    assert import_cycles("acyclic_sample") == []
