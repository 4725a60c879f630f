"""The call graph: one frozen networkx graph, and per-configuration views of it.

This is the only module that imports networkx.  Nodes are functions and
hooks; each call is an edge keyed by its position in the caller's list of
calls, carrying the :class:`~ptfree_cli.model.Call` (and so its guard).
A configuration is a ``subgraph_view`` that hides what its guards rule
out; nothing is copied.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

import networkx as nx

from ptfree_cli import guards
from ptfree_cli.guards import Expr
from ptfree_cli.model import Call, Model

#: networkx ships no type information, so a graph is ``Any`` to mypy.
Graph: TypeAlias = Any


@functools.lru_cache(maxsize=64)
def build(model: Model) -> Graph:
    """The frozen call graph of ``model``.

    >>> sorted(build(model).successors("free_pte_range"))  # doctest: +SKIP
    ['pte_free_tlb']
    """
    g: Graph = nx.MultiDiGraph(model=model.name)
    for f in model.functions:
        g.add_node(f.name, kind="function", obj=f, guard=f.guard)
    for h in model.hooks:
        g.add_node(h.name, kind="hook", obj=h, guard=h.guard)
    for f in model.functions:
        for i, call in enumerate(f.calls):
            g.add_edge(f.name, call.target, key=i, call=call)
    for h in model.hooks:
        for i, call in enumerate(h.targets):
            g.add_edge(h.name, call.target, key=i, call=call)
    return nx.freeze(g)


def calls(g: Graph, name: str) -> list[Call]:
    """The calls made by ``name`` that ``g`` (or a view of it) keeps, in source order."""
    edges = sorted(g.out_edges(name, keys=True, data="call"), key=lambda e: e[2])
    return [e[3] for e in edges]


def _satisfiable(expr: Expr, model: Model, env: Mapping[str, str]) -> bool:
    """Whether ``expr``, with ``env``'s names fixed, holds for some available
    choice of the runtime axes that ``env`` leaves open."""
    rest = guards.substitute(expr, env)
    if isinstance(rest, guards.Const):
        return rest.value
    open_axes = [a for a in model.axes if a.name not in env]
    choices = [[alt.name for alt in a.alternatives if guards.evaluate(alt.available, env)] for a in open_axes]
    for picked in itertools.product(*choices):
        full = dict(env)
        full.update(zip((a.name for a in open_axes), picked, strict=False))
        if guards.evaluate(rest, full):
            return True
    return False


def view(model: Model, env: Mapping[str, str]) -> Graph:
    """The graph as one configuration sees it.

    ``env`` holds every option's value (``"y"``/``"n"``) and, for the
    runtime axes that are fixed, the alternative; an edge stays when its
    guard can still hold for some available choice of the open axes.
    """
    g = build(model)
    # Decided once per node and edge: a view calls its filters on every access.
    nodes = {n for n, guard in g.nodes(data="guard") if _satisfiable(guard, model, env)}
    edges = {(u, v, k) for u, v, k, call in g.edges(keys=True, data="call") if _satisfiable(call.guard, model, env)}

    def keep_edge(u: str, v: str, k: int) -> bool:
        return (u, v, k) in edges

    return nx.subgraph_view(g, filter_node=nodes.__contains__, filter_edge=keep_edge)


def topological_from(g: Graph, start: str) -> list[str]:
    """The nodes reachable from ``start``, callers before callees; ties in
    the order networkx visits them, which follows insertion (model) order."""
    below = nx.descendants(g, start) | {start}
    return list(nx.topological_sort(g.subgraph(below)))


def reachable(g: Graph, start: str) -> Iterator[str]:
    """Nodes reachable from ``start`` in ``g``, ``start`` included, in DFS preorder."""
    yield from nx.dfs_preorder_nodes(g, start)
