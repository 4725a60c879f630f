"""Conditions as a reviewer writes them: minimal sums of products, in words.

A guard is judged only on the environments that matter (the *care set*, a
set of a :class:`~ptfree_cli.spaces.Space`:
valid option values and available runtime alternatives, under what the
context already fixes), so ``!PARAVIRT && PT_RECLAIM`` seen from
``free_pte`` (where PT_RECLAIM is known) is just ``!PARAVIRT``.  The
minimiser is exact: it lists the prime implicants over the guard's own
variables and picks the smallest cover (fewest products, then fewest
literals; ties go to the earlier product in variable order).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ptfree_cli import guards
from ptfree_cli.guards import Cmp, Expr
from ptfree_cli.model import Model
from ptfree_cli.spaces import Set, Space

#: Above this many variables a guard is printed as written, not minimised.
MAX_VARIABLES = 8


@dataclass(frozen=True)
class Cube:
    """A product: for each constrained variable, the values it may take."""

    literals: tuple[tuple[str, frozenset[str]], ...]


@dataclass(frozen=True)
class Condition:
    """The outcome of judging a guard on a care set."""

    always: bool
    never: bool
    cubes: tuple[Cube, ...] = ()
    #: Set when the guard had too many variables to minimise.
    fallback: Expr | None = None


def variables(model: Model, expr: Expr) -> list[str]:
    """Names in ``expr``, options first in model order, then axes in model order."""
    present = set(guards.names(expr))
    order = [o.name for o in model.options] + [a.name for a in model.axes]
    return [n for n in order if n in present]


def judge(space: Space, expr: Expr, care: Set) -> Condition:
    """Minimise ``expr`` over the environments in ``care`` (a set of ``space``)."""
    model = space.model
    on = space.meet(care, space.cond(expr))
    if space.empty(on):
        return Condition(always=False, never=True)
    off = space.minus(care, on)
    if space.empty(off):
        return Condition(always=True, never=False)
    names = variables(model, expr)
    if len(names) > MAX_VARIABLES:
        return Condition(False, False, fallback=expr)
    return Condition(False, False, minimize(space, on, off, names))


def relevant(space: Space, on: Set, off: Set, names: list[str]) -> list[str]:
    """The fewest of ``names`` (greedily, last first) that still tell ``on``
    from ``off``; ``on`` and ``off`` must differ in ``names`` alone."""
    keep = list(names)
    for name in reversed(names):
        rest = [n for n in keep if n != name]
        if space.empty(space.meet(space.project(on, rest), space.project(off, rest))):
            keep = rest
    return keep


def minimize(space: Space, on: Set, off: Set, names: list[str]) -> tuple[Cube, ...]:
    """The smallest sum of products over ``names`` that holds on ``on`` and
    not on ``off`` (both non-empty, separable by ``names``)."""
    model = space.model
    if len(names) > MAX_VARIABLES:
        # Too many for the exact search: the disjoint products of the on-set.
        return products_to_cubes(model, space.products(on, names), names)
    on_pts = space.points(on, names)
    off_pts = space.points(off, names)
    domains = [_domain(model, n, {p[i] for p in on_pts | off_pts}) for i, n in enumerate(names)]
    candidates: list[tuple[frozenset[str], ...]] = []
    for cube in itertools.product(*(_subsets(d) for d in domains)):
        if any(all(p[i] in cube[i] for i in range(len(names))) for p in off_pts):
            continue
        if any(all(p[i] in cube[i] for i in range(len(names))) for p in on_pts):
            candidates.append(cube)
    primes = [
        c for c in candidates if not any(o != c and all(c[i] <= o[i] for i in range(len(names))) for o in candidates)
    ]
    best = _cover(primes, on_pts, domains)
    cubes = [Cube(tuple((names[i], c[i]) for i in range(len(names)) if c[i] != frozenset(domains[i]))) for c in best]
    # Products in the order of their first variable (model order), n before y.
    index = {n: i for i, n in enumerate(names)}
    rank = {n: {v: j for j, v in enumerate(domains[i])} for i, n in enumerate(names)}
    return tuple(sorted(cubes, key=lambda c: [(index[n], sorted(rank[n][v] for v in vals)) for n, vals in c.literals]))


def format_cubes(space: Space, cubes: tuple[Cube, ...]) -> str:
    """A sum of products in Kconfig syntax, common literals factored out:
    ``!PT_RECLAIM && (!PARAVIRT || backend=native)``."""
    model = space.model

    def literal(name: str, vals: frozenset[str]) -> str:
        axis = model.axis_map.get(name)
        if axis is None:
            return name if vals == {"y"} else f"!{name}"
        alts = [a.name for a in axis.alternatives]
        inside = [a for a in alts if a in vals]
        if len(inside) == 1:
            return f"{name}={inside[0]}"
        outside = [a for a in alts if a not in vals]
        if len(outside) == 1:
            return f"{name}!={outside[0]}"
        return "(" + " || ".join(f"{name}={a}" for a in inside) + ")"

    if not cubes:
        return "n"
    lits = [[literal(n, v) for n, v in c.literals] for c in cubes]
    common = [x for x in lits[0] if all(x in other for other in lits[1:])] if len(lits) > 1 else []
    rests = [[x for x in ls if x not in common] for ls in lits]
    terms = [" && ".join(r) if r else "y" for r in rests]
    if not common:
        return " || ".join(terms)
    if len(terms) == 1:
        return " && ".join(common + ([terms[0]] if terms[0] != "y" else []))
    if "y" in terms:
        return " && ".join(common)
    body = " || ".join(terms)
    return " && ".join(common) + f" && ({body})"


def products_to_cubes(model: Model, products: list[dict[str, frozenset[str]]], names: list[str]) -> tuple[Cube, ...]:
    """Products (name -> allowed values) as cubes over ``names`` in their
    order, a name that may take any value left out."""
    full = {n: frozenset(_all_values(model, n)) for n in names}
    cubes = []
    for p in products:
        lits = tuple((n, p[n]) for n in names if n in p and p[n] != full[n])
        cubes.append(Cube(lits))
    return tuple(dict.fromkeys(cubes))


def _all_values(model: Model, name: str) -> list[str]:
    axis = model.axis_map.get(name)
    return [a.name for a in axis.alternatives] if axis else ["n", "y"]


def _domain(model: Model, name: str, seen: set[str]) -> tuple[str, ...]:
    axis = model.axis_map.get(name)
    order = [a.name for a in axis.alternatives] if axis else ["n", "y"]
    return tuple(v for v in order if v in seen)


def _subsets(domain: tuple[str, ...]) -> list[frozenset[str]]:
    # Full set first, so that products with fewer literals come first.
    out = [frozenset(c) for k in range(len(domain), 0, -1) for c in itertools.combinations(domain, k)]
    return out


def _cover(
    primes: list[tuple[frozenset[str], ...]],
    on_pts: set[tuple[str, ...]],
    domains: list[tuple[str, ...]],
) -> tuple[tuple[frozenset[str], ...], ...]:
    def covers(c: tuple[frozenset[str], ...], p: tuple[str, ...]) -> bool:
        return all(p[i] in c[i] for i in range(len(p)))

    def cost(c: tuple[frozenset[str], ...]) -> tuple[int, int]:
        # Fewest literals; then the fewest values named, counting a literal
        # as printed: "backend!=native" names one, "(backend=a || backend=b)" two.
        lits = [(s, len(domains[i])) for i, s in enumerate(c) if len(s) != len(domains[i])]
        return len(lits), sum(min(len(s), n - len(s)) for s, n in lits)

    for k in range(1, len(primes) + 1):
        best: tuple[tuple[frozenset[str], ...], ...] | None = None
        best_cost = (0, 0)
        for combo in itertools.combinations(primes, k):
            if all(any(covers(c, p) for c in combo) for p in on_pts):
                costs = [cost(c) for c in combo]
                total = (sum(x for x, _ in costs), sum(y for _, y in costs))
                if best is None or total < best_cost:
                    best, best_cost = combo, total
        if best is not None:
            return best
    raise AssertionError("the prime implicants always cover the on-set")


@dataclass(frozen=True)
class _Item:
    options: tuple[tuple[str, bool], ...]
    runtime: tuple[tuple[str, str], ...]


def _items(space: Space, cond: Condition, care: Set) -> list[_Item]:
    model = space.model
    axes = model.axis_map
    items: list[_Item] = []
    for cube in cond.cubes:
        opts = [(n, "y" in vals) for n, vals in cube.literals if n not in axes]
        rt = [
            [(n, alt) for alt in (a.name for a in axes[n].alternatives) if alt in vals]
            for n, vals in cube.literals
            if n in axes
        ]
        for picked in itertools.product(*rt):
            # An option implied by the alternative's availability is absorbed:
            # "PARAVIRT && backend=xen_pv" is just "Xen PV".
            under = care
            for n, v in picked:
                under = space.meet(under, space.cond(Cmp(n, v)))
            kept = tuple(
                (n, v) for n, v in opts if not (picked and space.empty(space.minus(under, space.cond(Cmp(n, "y", v)))))
            )
            items.append(_Item(kept, tuple(picked)))
    order = {n: i for i, n in enumerate([o.name for o in model.options] + [a.name for a in model.axes])}
    alt_index = {(a.name, alt.name): i for a in model.axes for i, alt in enumerate(a.alternatives)}

    def key(it: _Item) -> tuple[int, tuple[tuple[int, int], ...], tuple[tuple[int, bool], ...]]:
        return (
            1 if it.runtime else 0,
            tuple((order[n], alt_index[(n, v)]) for n, v in it.runtime),
            tuple((order[n], not v) for n, v in it.options),
        )

    unique = list(dict.fromkeys(items))
    return sorted(unique, key=key)


def describe(space: Space, cond: Condition, care: Set) -> str:
    """Reviewer style: ``!CONFIG_PARAVIRT, Xen PV, CONFIG_PARAVIRT on native``."""
    model = space.model
    if cond.fallback is not None:
        return guards.format_c(cond.fallback, model.is_option)
    parts = []
    for it in _items(space, cond, care):
        opts = " && ".join(f"{'' if v else '!'}CONFIG_{n}" for n, v in it.options)
        rt = " && ".join(model.axis_map[n].alternative(v).label for n, v in it.runtime)  # type: ignore[union-attr]
        parts.append(f"{opts} on {rt}" if opts and rt else opts or rt)
    return ", ".join(parts)


def describe_runtime(model: Model, cond: Condition) -> str:
    """Runtime-only condition by names: ``backend: xen_pv, hyperv, kvm``."""
    if cond.fallback is not None:
        return guards.format_expr(cond.fallback)
    parts = []
    for cube in cond.cubes:
        lits = []
        for n, vals in cube.literals:
            axis = model.axis_map[n]
            lits.append(f"{n}: {', '.join(a.name for a in axis.alternatives if a.name in vals)}")
        parts.append("; ".join(lits))
    return " | ".join(parts)
