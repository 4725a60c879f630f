"""The gate: which leaf classes each entry reaches, where, and whether a policy allows it.

Reachability is computed per entry point over the call graph in
topological order, as sets of environments of a :class:`~ptfree_cli.spaces.Space`
(a BDD in practice), split by what has happened on the way: a ``call_rcu``
edge taken (``rcu``), an IPI sent earlier on the path (``ipi``), or neither
(``plain``).  Each call is taken where its guard and its callee's hold; an
earlier call in the same caller that sends an IPI makes the later ones
``ipi``.  Nothing is enumerated, so the cost grows with the graph and the
BDDs, not with 2^options.

Results are plain dataclasses; :mod:`ptfree_cli.render` prints them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ptfree_cli import conditions, graph, guards
from ptfree_cli.errors import Location, ModelError
from ptfree_cli.guards import Expr
from ptfree_cli.model import LEAF_CLASSES, WAITS, Call, Entry, Model
from ptfree_cli.policy import DEFAULT, Policy, Waiver
from ptfree_cli.spaces import Explicit, Set, Space

_STATES = ("rcu", "ipi", "plain")


def _edges(model: Model, name: str) -> list[tuple[Call, str]]:
    """(call, target node) of a function or hook, in source order."""
    return [(c, c.target) for c in model.calls_of(name)]


def _guard(model: Model, name: str) -> Expr:
    return model.guard_of(name)


def waits(model: Model, space: Space, order: Sequence[str]) -> dict[str, dict[str, Set]]:
    """Per kind of wait (:data:`~ptfree_cli.model.WAITS`) and node, where
    calling the node waits for it, whatever came before; ``order`` is
    topological (callers first)."""
    none = space.cond(guards.FALSE)
    out: dict[str, dict[str, Set]] = {kind: {} for kind in WAITS}
    for name in reversed(order):
        fn = model.function_map.get(name)
        for kind in WAITS:
            if fn is not None and fn.waits(kind):
                out[kind][name] = space.cond(guards.TRUE)
                continue
            acc = none
            for call, target in _edges(model, name):
                taken = space.cond(guards.conj(call.guard, _guard(model, target)))
                acc = space.join(acc, space.meet(taken, out[kind][target]))
            out[kind][name] = acc
    return out


def reach(model: Model, space: Space, entry: str) -> dict[str, Set]:
    """For each leaf class, the environments in which ``entry`` reaches a leaf of it.

    The sets constrain only the options and axes the guards below ``entry``
    name (:func:`_names`): meet them with ``space.top`` to enumerate whole
    environments.

    >>> reach(model, symbolic.space(model), "free_pte_range")["tlb_batched"]  # doctest: +SKIP
    """
    g = graph.build(model)
    order = graph.topological_from(g, entry)
    none = space.cond(guards.FALSE)
    waited = waits(model, space, order)

    def union(*sets: Set) -> Set:
        acc = none
        for x in sets:
            acc = space.join(acc, x)
        return acc

    # Path conditions are built over the guards alone and met with the valid
    # set once, at the end: carrying the Kconfig constraints through every
    # step would multiply the size of every intermediate BDD.
    at: dict[str, dict[str, Set]] = {n: dict.fromkeys(_STATES, none) for n in order}
    at[entry]["plain"] = space.cond(_guard(model, entry))
    out: dict[str, Set] = dict.fromkeys(LEAF_CLASSES, none)
    for name in order:
        here = at[name]
        fn = model.function_map.get(name)
        if fn is not None and fn.leaf is not None:
            if fn.leaf == "free":
                out["rcu"] = space.join(out["rcu"], here["rcu"])
                out["ipi_sync"] = space.join(out["ipi_sync"], here["ipi"])
                out["direct"] = space.join(out["direct"], here["plain"])
            else:
                out[fn.leaf] = space.join(out[fn.leaf], union(*here.values()))
            continue
        before = dict.fromkeys(WAITS, none)
        for call, target in _edges(model, name):
            taken = space.cond(guards.conj(call.guard, _guard(model, target)))
            dest = at[target]
            if call.defer == "rcu":
                dest["rcu"] = space.join(dest["rcu"], space.meet(union(*here.values()), taken))
            else:
                # A grace period waited for earlier makes what follows as
                # safe as an RCU callback; an IPI makes it ipi_sync.
                gp, ipi = before["gp"], before["ipi"]
                to_rcu = union(here["rcu"], space.meet(union(here["ipi"], here["plain"]), gp))
                to_ipi = union(space.minus(here["ipi"], gp), space.meet(space.minus(here["plain"], gp), ipi))
                to_plain = space.minus(space.minus(here["plain"], gp), ipi)
                for state, sets in (("rcu", to_rcu), ("ipi", to_ipi), ("plain", to_plain)):
                    dest[state] = space.join(dest[state], space.meet(sets, taken))
            for kind in WAITS:
                before[kind] = space.join(before[kind], space.meet(taken, waited[kind][target]))
    # Path conditions name only the guards' options and axes, so the valid
    # set seen through those names is enough (and far smaller to meet with).
    valid = space.shadow(_names(model, entry))
    return {cls: space.meet(valid, where) for cls, where in out.items()}


@dataclass(frozen=True)
class Step:
    """One call on a witness path: the function reached and the call that got there."""

    function: str
    call: Call | None = None
    via: str | None = None


@dataclass(frozen=True)
class Violation:
    """An entry that reaches a class its policy forbids (``kind`` "forbidden"),
    or fails to reach one it requires ("missing"), under ``condition``."""

    entry: Entry
    kind: str
    leaf_class: str
    #: The smallest condition (Kconfig syntax) under which it happens.
    condition: str
    #: One environment where it happens (option values and runtime choices).
    witness: Mapping[str, str]
    #: The call path to the offending leaf in the witness (empty for "missing").
    path: tuple[Step, ...] = ()
    #: The environments where it happens, as a set of the space checked.
    region: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Waived:
    """A class reached where a waiver allows it."""

    entry: Entry
    leaf_class: str
    waiver: Waiver
    condition: str


@dataclass(frozen=True)
class CheckResult:
    model: Model
    policy: Policy
    violations: tuple[Violation, ...]
    waived: tuple[Waived, ...] = ()
    #: Waivers (applying to this model) that allow nothing here any more.
    stale: tuple[Waiver, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations


def _names(model: Model, entry: str, extra: Sequence[Expr] = ()) -> list[str]:
    """Options and axes that can change what ``entry`` reaches: those named by
    the guards below it (and by ``extra``), in model order."""
    g = graph.build(model)
    seen: set[str] = set()
    for name in graph.topological_from(g, entry):
        seen.update(guards.names(_guard(model, name)))
        for call, _ in _edges(model, name):
            seen.update(guards.names(call.guard))
    for e in extra:
        seen.update(guards.names(e))
    order = [o.name for o in model.options] + [a.name for a in model.axes]
    return [n for n in order if n in seen]


def describe_set(space: Space, on: Set, care: Set, names: list[str]) -> str:
    """``on`` within ``care`` as a small condition over ``names``: the
    smallest one when few names are involved."""
    if space.empty(on):
        return "n"
    off = space.minus(care, on)
    if space.empty(off):
        return "y"
    cover = getattr(space, "cover", None)
    if cover is not None:
        # The BDD's irredundant cover says which names matter; minimise
        # exactly over those when there are few, else print the cover.
        products = cover(on, off, names)
        used = {n for p in products for n in p}
        keep = [n for n in names if n in used]
        if len(keep) <= conditions.MAX_VARIABLES:
            return conditions.format_cubes(space, conditions.minimize(space, on, off, keep))
        return conditions.format_cubes(space, conditions.products_to_cubes(space.model, products, names))
    keep = conditions.relevant(space, on, off, names)
    return conditions.format_cubes(space, conditions.minimize(space, on, off, keep))


def witness_path(model: Model, env: Mapping[str, str], entry: str, leaf_class: str) -> tuple[Step, ...]:
    """The first path (in source order) from ``entry`` to a leaf of ``leaf_class`` in ``env``."""
    one = Explicit(model, [env])
    order = graph.topological_from(graph.build(model), entry)
    waited = {kind: {n: not one.empty(s) for n, s in sets.items()} for kind, sets in waits(model, one, order).items()}
    path: list[Step] = [Step(entry)]
    # Whether a node leads to the class depends only on the node and what
    # happened before it, so each (node, rcu, ipi) is explored once.
    dead: set[tuple[str, bool, bool]] = set()

    def dfs(name: str, rcu: bool, ipi: bool) -> bool:
        if (name, rcu, ipi) in dead:
            return False
        fn = model.function_map.get(name)
        if fn is not None and fn.leaf is not None:
            cls: str = fn.leaf if fn.leaf != "free" else "rcu" if rcu else "ipi_sync" if ipi else "direct"
            return cls == leaf_class
        gp_before, ipi_before = False, False
        for call, target in _edges(model, name):
            if not guards.evaluate(guards.conj(call.guard, _guard(model, target)), env):
                continue
            path.append(Step(target, call, name if name in model.hook_map else None))
            if dfs(target, rcu or call.defer == "rcu" or gp_before, ipi or ipi_before):
                return True
            path.pop()
            gp_before = gp_before or waited["gp"][target]
            ipi_before = ipi_before or waited["ipi"][target]
        dead.add((name, rcu, ipi))
        return False

    found = dfs(entry, False, False)
    assert found, "the witness environment does not reach the class"
    return tuple(path)


def validate_policy(model: Model, policy: Policy) -> None:
    """Refuse a policy whose waivers (those applying to ``model``) name an
    option, alternative or entry the model does not have.

    :raises ModelError: located in the policy file.
    """
    from ptfree_cli.loader import suggest

    for i, w in enumerate(policy.waivers):
        if w.models and model.name not in w.models:
            continue
        key = f"waivers[{i}]"
        for atom in guards.atoms(w.condition):
            axis = model.axis_map.get(atom.name)
            if atom.name in model.option_map:
                continue
            if axis is None:
                pool = sorted(model.option_map) + sorted(model.axis_map)
                raise ModelError(
                    f"unknown option or runtime axis '{atom.name}' in model {model.name}{suggest(atom.name, pool)}",
                    w.cond_loc,
                    f"{key}.if",
                )
            if not isinstance(atom, guards.Cmp) or axis.alternative(atom.value) is None:
                known = ", ".join(a.name for a in axis.alternatives)
                raise ModelError(
                    f"'{guards.format_expr(atom)}': axis {axis.name} of model {model.name} takes one of {known}",
                    w.cond_loc,
                    f"{key}.if",
                )
        for e in w.entries:
            if e not in model.entry_map:
                raise ModelError(
                    f"'{e}' is not an entry point of model {model.name}{suggest(e, sorted(model.entry_map))}",
                    w.loc,
                    f"{key}.entries",
                )


def check(model: Model, policy: Policy = DEFAULT, space: Space | None = None) -> CheckResult:
    """Check every entry of ``model`` against ``policy``.

    ``space`` defaults to the model's symbolic space; the tests pass the
    brute-force one and expect the same result.
    """
    validate_policy(model, policy)
    if space is None:
        from ptfree_cli import symbolic

        space = symbolic.space(model)
    violations: list[Violation] = []
    waived: list[Waived] = []
    used: set[int] = set()
    applicable = [w for w in policy.waivers if not w.models or model.name in w.models]
    for entry in model.entries:
        rule = policy.rule(entry.role)
        care = space.meet(space.top, space.cond(_guard(model, entry.function)))
        sets = reach(model, space, entry.function)
        waivers = [w for w in applicable if w.applies_to(model.name, entry.function)]
        names = _names(model, entry.function, [w.condition for w in waivers])
        for cls in LEAF_CLASSES:
            bad = sets[cls]
            if cls in rule.allow or space.empty(bad):
                continue
            for w in waivers:
                if w.allow != cls:
                    continue
                covered = space.meet(bad, space.cond(w.condition))
                if not space.empty(covered):
                    used.add(id(w))
                    waived.append(Waived(entry, cls, w, describe_set(space, covered, care, names)))
                    bad = space.minus(bad, covered)
            if space.empty(bad):
                continue
            env = space.pick(space.meet(space.top, bad))
            assert env is not None
            violations.append(
                Violation(
                    entry,
                    "forbidden",
                    cls,
                    describe_set(space, bad, care, names),
                    env,
                    witness_path(model, env, entry.function, cls),
                    bad,
                )
            )
        for needed in rule.require:
            missing = space.minus(care, sets[needed])
            if space.empty(missing):
                continue
            env = space.pick(missing)
            assert env is not None
            violations.append(
                Violation(entry, "missing", needed, describe_set(space, missing, care, names), env, (), missing)
            )
    stale = tuple(w for w in applicable if id(w) not in used)
    return CheckResult(model, policy, tuple(violations), tuple(waived), stale)


@dataclass(frozen=True)
class Row:
    """One combination class: the values of the names that matter, and per
    entry the leaf classes reached."""

    values: tuple[str, ...]
    leaves: Mapping[str, tuple[str, ...]]

    @property
    def safe(self) -> bool:
        return all(set(c) <= {"rcu"} for c in self.leaves.values())


@dataclass(frozen=True)
class Matrix:
    model: Model
    columns: tuple[str, ...]
    entries: tuple[str, ...]
    rows: tuple[Row, ...]


def matrix(model: Model, space: Space | None = None) -> Matrix:
    """Every valid combination of the options and runtime choices that change
    some path, with the leaf classes each entry reaches there.

    Rows are sorted by their values in column order (options n before y,
    alternatives in model order); an entry absent in a row reaches nothing.
    """
    if space is None:
        from ptfree_cli import symbolic

        space = symbolic.space(model)
    names: list[str] = []
    for entry in model.entries:
        names += [n for n in _names(model, entry.function) if n not in names]
    order = [o.name for o in model.options] + [a.name for a in model.axes]
    columns = [n for n in order if n in names]
    sets = {e.function: reach(model, space, e.function) for e in model.entries}
    rank = {n: _ranks(model, n) for n in columns}
    rows: list[Row] = []
    for point in sorted(
        space.points(space.top, columns), key=lambda p: [rank[n][v] for n, v in zip(columns, p, strict=True)]
    ):
        cell = space.top
        for n, v in zip(columns, point, strict=True):
            cell = space.meet(cell, space.cond(guards.Cmp(n, v)))
        leaves = {e: tuple(c for c in LEAF_CLASSES if not space.empty(space.meet(cell, sets[e][c]))) for e in sets}
        rows.append(Row(point, leaves))
    return Matrix(model, tuple(columns), tuple(e.function for e in model.entries), tuple(rows))


def _ranks(model: Model, name: str) -> dict[str, int]:
    axis = model.axis_map.get(name)
    values = [a.name for a in axis.alternatives] if axis else ["n", "y"]
    return {v: i for i, v in enumerate(values)}


def fragment(model: Model, violation: Violation) -> str:
    """A ``.config`` fragment that reproduces ``violation``: the values of the
    options a user sets (those with a prompt), and the runtime choices as comments."""
    w = violation.witness
    lines = [
        f"# ptfree check: model {model.name}, entry {violation.entry.function}, "
        f"{violation.kind} leaf class {violation.leaf_class}",
        f"# condition: {violation.condition}",
    ]
    for o in model.options:
        if o.prompt is None:
            continue
        lines.append(f"CONFIG_{o.name}=y" if w[o.name] == "y" else f"# CONFIG_{o.name} is not set")
    for axis in model.axes:
        alt = axis.alternative(w[axis.name])
        assert alt is not None
        cond = f": {alt.condition}" if alt.condition else ""
        lines.append(f"# runtime {axis.name}={alt.name} ({alt.label}){cond}")
    return "\n".join(lines) + "\n"


def guard_locations(path: Sequence[Step]) -> list[Location]:
    """The model locations of the calls on ``path``, in order."""
    return [s.call.loc for s in path if s.call is not None]


@dataclass(frozen=True)
class Case:
    """One entry point in one combination class (a matrix row): a JUnit testcase."""

    entry: str
    #: The names the row's values are for.
    columns: tuple[str, ...]
    row: Row
    #: The violations that happen in this combination class.
    failures: tuple[Violation, ...]


def cases(result: CheckResult, table: Matrix, space: Space | None = None) -> list[Case]:
    """Every entry point × combination class of ``table``, with the violations
    of ``result`` that occur there."""
    model = result.model
    if space is None:
        from ptfree_cli import symbolic

        space = symbolic.space(model)
    out: list[Case] = []
    for entry in table.entries:
        for row in table.rows:
            if not row.leaves[entry]:
                continue
            cell = space.top
            for n, v in zip(table.columns, row.values, strict=True):
                cell = space.meet(cell, space.cond(guards.Cmp(n, v)))
            hits = tuple(
                v
                for v in result.violations
                if v.entry.function == entry and not space.empty(space.meet(cell, v.region))
            )
            out.append(Case(entry, table.columns, row, hits))
    return out
