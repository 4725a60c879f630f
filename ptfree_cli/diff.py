"""Compares two models: what a series changes in behaviour and in structure. Pure.

Behaviour: per entry point, the combinations of user-visible options
(those with a prompt) and runtime choices whose leaf classes differ between
the models, grouped by transition (``ipi_sync -> rcu``) and described by the
smallest condition.  An option that exists in one model only is free in the
other (a configuration of the new kernel also describes the old one, minus
the new option).  Structure: functions, calls, hooks and Kconfig
definitions added, removed or changed, with the citations of both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ptfree_cli import check, conditions, graph, guards
from ptfree_cli.errors import Location
from ptfree_cli.model import LEAF_CLASSES, Call, Model, Option
from ptfree_cli.spaces import Explicit

#: Marks, among an entry's leaf classes, that an IPI is sent on the way.
IPI = "IPI"


@dataclass(frozen=True)
class Transition:
    """An entry whose leaf classes go from ``old`` to ``new`` where ``condition`` holds."""

    entry: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    condition: str


@dataclass(frozen=True)
class EdgeChange:
    """A call added (``old`` None), removed (``new`` None) or re-guarded."""

    caller: str
    callee: str
    old: Call | None
    new: Call | None


@dataclass(frozen=True)
class Change:
    """Something named (a function, hook or option) added, removed or changed."""

    kind: str
    name: str
    what: str
    old: Location | None = None
    new: Location | None = None
    detail: str = ""


@dataclass(frozen=True)
class ModelDiff:
    old: Model
    new: Model
    columns: tuple[str, ...]
    transitions: tuple[Transition, ...]
    entries_added: tuple[str, ...] = ()
    entries_removed: tuple[str, ...] = ()
    edges: tuple[EdgeChange, ...] = ()
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (self.transitions or self.entries_added or self.entries_removed or self.edges or self.changes)


def _visible(model: Model, names: Sequence[str]) -> list[str]:
    return [n for n in names if n in model.axis_map or model.option_map[n].prompt is not None]


def _behaviour(model: Model, columns: list[str]) -> dict[str, dict[tuple[str, ...], tuple[str, ...]]]:
    """entry -> (values of ``columns`` -> leaf classes reached there)."""
    from ptfree_cli import symbolic

    space = symbolic.space(model)
    out: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {}
    for entry in model.entries:
        sets = check.reach(model, space, entry.function)
        rows: dict[tuple[str, ...], tuple[str, ...]] = {}
        order = graph.topological_from(graph.build(model), entry.function)
        exists = space.cond(model.function_map[entry.function].guard)
        ipi = space.meet(exists, check.waits(model, space, order)["ipi"][entry.function])
        for point in sorted(space.points(space.top, columns)):
            cell = space.top
            for n, v in zip(columns, point, strict=True):
                cell = space.meet(cell, space.cond(guards.Cmp(n, v)))
            classes: tuple[str, ...] = tuple(c for c in LEAF_CLASSES if not space.empty(space.meet(cell, sets[c])))
            # An IPI sent on the way is behaviour too (the series drops one).
            if not space.empty(space.meet(cell, ipi)):
                classes += (IPI,)
            rows[point] = classes
        out[entry.function] = rows
    return out


def _columns(model: Model) -> list[str]:
    names: list[str] = []
    for entry in model.entries:
        names += [n for n in check._names(model, entry.function) if n not in names]
    return _visible(model, [o.name for o in model.options if o.name in names] + [a.name for a in model.axes])


def _values(model: Model, name: str) -> list[str]:
    axis = model.axis_map.get(name)
    return [a.name for a in axis.alternatives] if axis else ["n", "y"]


def behaviour(old: Model, new: Model) -> tuple[list[str], list[Transition]]:
    """The columns compared and the transitions of every common entry."""
    cold, cnew = _columns(old), _columns(new)
    both = set(cold) | set(cnew)
    names = [o.name for o in new.options] + [o.name for o in old.options if o.name not in new.option_map]
    names += [a.name for a in new.axes] + [a.name for a in old.axes if a.name not in new.axis_map]
    union = [n for n in dict.fromkeys(names) if n in both]
    bold, bnew = _behaviour(old, cold), _behaviour(new, cnew)
    transitions: list[Transition] = []
    for entry in [e.function for e in new.entries if e.function in old.entry_map]:
        joined: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for po, co in bold[entry].items():
            for pn, cn in bnew[entry].items():
                env = dict(zip(cold, po, strict=True))
                if any(env.get(n, v) != v for n, v in zip(cnew, pn, strict=True)):
                    continue
                env.update(zip(cnew, pn, strict=True))
                joined[tuple(env[n] for n in union)] = (co, cn)
        if not joined:
            continue
        envs = [dict(zip(union, k, strict=True)) for k in sorted(joined)]
        outcome = [joined[k] for k in sorted(joined)]
        space = Explicit(_merged(old, new, union), envs)
        for pair in sorted({o for o in outcome if o[0] != o[1]}):
            on = frozenset(i for i, o in enumerate(outcome) if o == pair)
            off = space.top - on
            if not off:
                text = "y"
            else:
                keep = conditions.relevant(space, on, off, union)
                text = conditions.format_cubes(space, conditions.minimize(space, on, off, keep))
            transitions.append(Transition(entry, pair[0], pair[1], text))
    return union, transitions


def _merged(old: Model, new: Model, names: list[str]) -> Model:
    """A model holding just the options and axes named, for printing conditions."""
    options = tuple(
        new.option_map.get(n) or old.option_map[n] for n in names if n not in new.axis_map and n not in old.axis_map
    )
    axes = tuple(new.axis_map.get(n) or old.axis_map[n] for n in names if n in new.axis_map or n in old.axis_map)
    return Model("diff", "diff", "", "", options, axes, (), (), ())


def _calls(model: Model) -> dict[tuple[str, str, int], Call]:
    """Every call, keyed by (caller, callee, occurrence among that pair)."""
    out: dict[tuple[str, str, int], Call] = {}
    for owner, calls in [(f.name, f.calls) for f in model.functions] + [(h.name, h.targets) for h in model.hooks]:
        seen: dict[str, int] = {}
        for c in calls:
            i = seen.get(c.target, 0)
            seen[c.target] = i + 1
            out[(owner, c.target, i)] = c
    return out


def _paired(old: Model, new: Model) -> tuple[dict[tuple[str, str, int], Call], dict[tuple[str, str, int], Call]]:
    """The calls of both models, keyed so that the same call has the same key.

    A hook's targets pair by the function installed and its installer
    (tlb_remove_table by xen_init_mmu_ops, hyperv_setup_mmu_ops,
    kvm_guest_init), whatever their order; what is left pairs by the
    function, in order (an installer spelled differently).
    """
    co, cn = _calls(old), _calls(new)
    hooks = set(old.hook_map) | set(new.hook_map)
    out = {k: c for k, c in cn.items() if k[0] not in hooks}
    for owner in sorted(hooks):
        mine = [c for k, c in cn.items() if k[0] == owner]
        slots = [k for k in co if k[0] == owner]
        placed: dict[int, tuple[str, str, int]] = {}
        for same_installer in (True, False):
            for i, c in enumerate(mine):
                slot = next(
                    (
                        s
                        for s in slots
                        if s not in placed.values()
                        and s[1] == c.target
                        and (not same_installer or co[s].installer == c.installer)
                    ),
                    None,
                )
                if i not in placed and slot is not None:
                    placed[i] = slot
        for i, c in enumerate(mine):
            out[placed.get(i, (owner, c.target, len(slots) + i))] = c
    return co, out


def _kconfig(o: Option) -> str:
    """An option's definition, one line, in Kconfig's words."""
    parts = [f"{o.type}" + (f' "{o.prompt}"' if o.prompt else "")]
    if o.prompt and o.prompt_if != guards.TRUE:
        parts[-1] += f" if {guards.format_expr(o.prompt_if)}"
    if o.depends_on != guards.TRUE:
        parts.append(f"depends on {guards.format_expr(o.depends_on)}")
    for s in o.selects:
        parts.append(f"select {s.symbol}" + (f" if {guards.format_expr(s.cond)}" if s.cond != guards.TRUE else ""))
    for d in o.defaults:
        parts.append(
            f"default {guards.format_expr(d.value)}"
            + (f" if {guards.format_expr(d.cond)}" if d.cond != guards.TRUE else "")
        )
    return "; ".join(parts)


def structure(old: Model, new: Model) -> tuple[list[EdgeChange], list[Change]]:
    edges: list[EdgeChange] = []
    co, cn = _paired(old, new)
    for key in list(co) + [k for k in cn if k not in co]:
        was, now = co.get(key), cn.get(key)
        if was is None or now is None or was.guard != now.guard or was.defer != now.defer or was.hook != now.hook:
            edges.append(EdgeChange(key[0], key[1], was, now))
    changes: list[Change] = []
    named: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("function", dict(old.function_map), dict(new.function_map)),
        ("hook", dict(old.hook_map), dict(new.hook_map)),
    ]
    for kind, om, nm in named:
        for name in list(om) + [n for n in nm if n not in om]:
            f, g = om.get(name), nm.get(name)
            if f is None and g is not None:
                changes.append(Change(kind, name, "added", None, g.loc, f"{g.file}{_if(g.guard)}"))
            elif g is None and f is not None:
                changes.append(Change(kind, name, "removed", f.loc, None, f"{f.file}{_if(f.guard)}"))
            elif f is not None and g is not None and (f.guard != g.guard or f.file != g.file):
                detail = f"{f.file}{_if(f.guard)} => {g.file}{_if(g.guard)}"
                changes.append(Change(kind, name, "changed", f.loc, g.loc, detail))
    for name in [o.name for o in old.options] + [o.name for o in new.options if o.name not in old.option_map]:
        oo, no = old.option_map.get(name), new.option_map.get(name)
        if oo is None and no is not None:
            changes.append(Change("option", name, "added", None, no.loc, _kconfig(no)))
        elif no is None and oo is not None:
            changes.append(Change("option", name, "removed", oo.loc, None, _kconfig(oo)))
        elif oo is not None and no is not None and _kconfig(oo) != _kconfig(no):
            changes.append(Change("option", name, "changed", oo.loc, no.loc, f"{_kconfig(oo)} => {_kconfig(no)}"))
    return edges, changes


def _if(g: guards.Expr) -> str:
    # Axis names are lower case, option names upper case (the loader's rule).
    return "" if g == guards.TRUE else f" #if {guards.format_c(g, lambda n: not n.islower())}"


def diff(old: Model, new: Model) -> ModelDiff:
    """What ``new`` changes relative to ``old``."""
    columns, transitions = behaviour(old, new)
    edges, changes = structure(old, new)
    added = tuple(e.function for e in new.entries if e.function not in old.entry_map)
    removed = tuple(e.function for e in old.entries if e.function not in new.entry_map)
    return ModelDiff(old, new, tuple(columns), tuple(transitions), added, removed, tuple(edges), tuple(changes))
