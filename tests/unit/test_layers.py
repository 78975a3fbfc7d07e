"""The import contracts of pyproject.toml (import-linter) hold for the tree and catch a break."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parents[2]
# the flow's stages, top to bottom, as the layers contract must order them
STAGES = ["worker", "webapp.web", "webapp.live", "webapp.alerts", "webapp.reports",
          "webapp.reads", "webapp.store", "webapp.ingest", "webapp.tenancy"]


def contract(kind: str) -> dict:
    options = read_configuration(str(ROOT / "pyproject.toml"))
    (found,) = [c for c in options["contracts_options"] if c["type"] == kind]
    return {"session": options["session_options"], "options": found}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("webapp", "worker", cache_dir=None)


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_layers_follow_the_flow_and_every_package_is_checked_for_circles():
    layers = contract("layers")["options"]["layers"]
    assert [layer for layer in layers if layer in STAGES] == STAGES
    acyclic = contract("acyclic_siblings")["options"]
    assert set(acyclic["ancestors"]) == {"webapp", "worker"}
    assert "depth" not in acyclic  # every depth (the default is deeper than the tree)


def check(kind: str, contract_class, graph: grimp.ImportGraph, *imports: tuple[str, str]):
    """The contract's check of the tree with these imports added (the files stay as they are)."""
    graph = copy.deepcopy(graph)
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported)
    found = contract(kind)
    return contract_class(f"{kind} contract", found["session"], found["options"]).check(
        graph, verbose=False)


def test_an_import_up_the_layers_breaks_the_layers_contract(graph):
    broken = check("layers", LayersContract, graph, ("webapp.store.insert", "webapp.reads.stats"))
    assert not broken.kept
    assert {(chain["importer"], chain["imported"])
            for chain in broken.metadata["invalid_dependencies"]} >= {
        ("webapp.store", "webapp.reads")}


def test_a_circle_of_two_modules_breaks_the_acyclic_contract(graph):
    # reads.stats imports reads.windows; the other way round closes a circle
    broken = check("acyclic_siblings", AcyclicSiblingsContract, graph,
                   ("webapp.reads.windows", "webapp.reads.stats"))
    assert not broken.kept
    assert "webapp.reads" in broken.metadata["cycle_breakers_by_package"]


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The module circles of the graph (its strongly connected components of two or more)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, following = work[-1]
            step = next(following, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.find_modules_directly_imported_by(step)))))
                elif step in on_stack:
                    low[module] = min(low[module], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_round_a_circle(graph):
    """What the acyclic contract does not see: a package's own module (its `__init__`) in a
    circle with its descendants, as well as any circle between siblings."""
    assert circles(graph) == []


def test_the_circle_finder_finds_a_circle_through_a_package(graph):
    graph = copy.deepcopy(graph)
    graph.add_import(importer="webapp.reads.windows", imported="webapp.reads")
    graph.add_import(importer="webapp.reads", imported="webapp.reads.windows")
    assert ["webapp.reads", "webapp.reads.windows"] in circles(graph)
