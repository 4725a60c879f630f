"""Drift between a hand-written model and a model extracted from the kernel source. Pure.

Both models are compared in one space: the extracted model's Kconfig (the
source is the truth), with the options and axes only the hand-written model
has added free.  A call is compared by the condition under which a walk
from the entries takes it (its caller reached, its guard and its callee's
existence), so a guard written on the function in one model and on the call
in the other is the same fact, and a call no configuration reaches is no
difference.  Leaf classes, deferrals and Kconfig definitions are compared as
formulas in the same space.  Every difference names both sides' locations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ptfree_cli import diff, guards
from ptfree_cli.errors import Location
from ptfree_cli.guards import Expr
from ptfree_cli.model import Call, Model, Option


@dataclass(frozen=True)
class Difference:
    """One disagreement: ``kind`` is call, leaf, option or behaviour."""

    kind: str
    subject: str
    what: str
    model_loc: Location | None = None
    source_at: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Verification:
    model: Model
    source: Model
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def _joint(model: Model, source: Model) -> Model:
    options = list(source.options) + [o for o in model.options if o.name not in source.option_map]
    # An option only the model has is free: give it a prompt so both values exist.
    options = [
        o
        if o.name in source.option_map
        else replace(o, prompt=o.prompt or o.name, depends_on=guards.TRUE, selects=(), defaults=())
        for o in options
    ]
    axes = list(source.axes) + [a for a in model.axes if a.name not in source.axis_map]
    return Model("verify", "verify", "", source.source, tuple(options), tuple(axes), (), (), ())


class _Reach:
    """Per call (caller, callee, deferred): the condition under which a walk takes it."""

    def __init__(self, model: Model, space: Any) -> None:
        self.model = model
        self.space = space
        self.edges: dict[tuple[str, str, str], Any] = {}
        self.calls: dict[tuple[str, str, str], list[Call]] = {}
        self.reach: dict[str, Any] = {}
        s = space
        order = _topological(model)
        for e in model.entries:
            self.reach[e.function] = s.join(
                self.reach.get(e.function, s.bdd.false), self.cond(model.guard_of(e.function))
            )
        for n in order:
            here = self.reach.get(n)
            if here is None or s.empty(s.meet(here, s.top)):
                continue
            for c in model.calls_of(n):
                key = (n, c.target, c.defer or "")
                edge = s.meet(s.meet(here, self.cond(c.guard)), self.cond(model.guard_of(c.target)))
                self.edges[key] = s.join(self.edges.get(key, s.bdd.false), edge)
                self.calls.setdefault(key, []).append(c)
                self.reach[c.target] = s.join(self.reach.get(c.target, s.bdd.false), edge)

    def cond(self, e: Expr) -> Any:
        return self.space.cond(e)


def _topological(model: Model) -> list[str]:
    names = [f.name for f in model.functions] + [h.name for h in model.hooks]
    indeg = dict.fromkeys(names, 0)
    for n in names:
        for c in model.calls_of(n):
            indeg[c.target] += 1
    ready = [n for n in names if indeg[n] == 0]
    out: list[str] = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for c in model.calls_of(n):
            indeg[c.target] -= 1
            if indeg[c.target] == 0:
                ready.append(c.target)
    return out


def _where(calls: list[Call] | None) -> tuple[Location | None, str | None]:
    if not calls:
        return None, None
    return calls[0].loc, calls[0].at


def _witness(space: Any, a: Any, joint: Model, names: set[str] | None = None) -> str:
    env = space.pick(a)
    if env is None:
        return ""
    # Only the names the difference is about (those of the guards involved,
    # else the BDD's support): the rest would be noise.
    support = names if names is not None else {v.split("=", 1)[0] for v in space.bdd.support(a)}
    shown = [n for n in env if n in support and (n in joint.axis_map or joint.option_map[n].prompt is not None)]
    return ", ".join(f"{n}={env[n]}" for n in shown)


def _default_value(o: Option) -> Expr:
    """The value the defaults give (the first whose condition holds), as one formula."""
    out: Expr = guards.FALSE
    for d in reversed(o.defaults):
        out = guards.disj(guards.conj(d.cond, d.value), guards.conj(guards.neg(d.cond), out))
    return out


def verify(model: Model, source: Model) -> Verification:
    from ptfree_cli import symbolic

    joint = _joint(model, source)
    space = symbolic.Symbolic(joint)
    top = space.top
    rm, rs = _Reach(model, space), _Reach(source, space)
    out: list[Difference] = []

    def differs(a: Any, b: Any) -> Any:
        return space.meet(top, space.join(space.minus(a, b), space.minus(b, a)))

    false = space.bdd.false
    for key in list(rm.edges) + [k for k in rs.edges if k not in rm.edges]:
        caller, callee, defer = key
        subject = f"{caller} -> {callee}" + (" (call_rcu)" if defer else "")
        # Compared where both models reach the caller: a difference in how
        # the caller is reached is reported once, on the call where it starts.
        common = space.meet(top, space.meet(rm.reach.get(caller, false), rs.reach.get(caller, false)))
        a = space.meet(common, rm.edges.get(key, false))
        b = space.meet(common, rs.edges.get(key, false))
        mloc, _ = _where(rm.calls.get(key))
        _, sat = _where(rs.calls.get(key))
        d = differs(a, b)
        if space.empty(d):
            continue
        names = {
            n
            for m, r in ((model, rm), (source, rs))
            for c in r.calls.get(key, [])
            for e in (c.guard, m.guard_of(callee), m.guard_of(caller))
            for n in guards.names(e)
        }
        side = "the model" if not space.empty(space.meet(d, a)) else "the source"
        anywhere = f"wherever both reach {caller}"
        if key in rm.calls and key in rs.calls:
            what, detail = "guards differ", f"only {side} takes it when {_witness(space, d, joint, names) or anywhere}"
        elif key in rm.calls:
            w = _witness(space, a, joint, names)
            what, detail = "in the model, not in the source", f"taken when {w}" if w else f"taken {anywhere}"
        else:
            w = _witness(space, b, joint, names)
            what, detail = "in the source, not in the model", f"taken when {w}" if w else f"taken {anywhere}"
        out.append(Difference("call", subject, what, mloc, sat, detail))
    for name in [f.name for f in model.functions]:
        f, g = model.function_map[name], source.function_map.get(name)
        if g is None or name not in rm.reach or name not in rs.reach:
            continue
        both = space.meet(top, space.meet(rm.reach[name], rs.reach[name]))
        if space.empty(both):
            continue
        mine = (f.leaf, f.ipi, f.rcu_sync)
        theirs = (g.leaf, g.ipi, g.rcu_sync)
        if mine != theirs:
            out.append(
                Difference(
                    "leaf",
                    name,
                    "classified differently",
                    f.loc,
                    g.at,
                    f"model: {_flags(*mine)}; source: {_flags(*theirs)}",
                )
            )
    for o in model.options:
        so = source.option_map.get(o.name)
        if so is None or so.at is None:
            # Not a "hidden" symbol: no Kconfig file read defines it (one may be missing).
            out.append(Difference("option", o.name, "not defined in the Kconfig files read", o.loc, None))
            continue
        checks: list[tuple[str, Expr, Expr]] = [
            ("depends on", o.depends_on, so.depends_on),
            ("default", _default_value(o), _default_value(so)),
        ]
        if (o.prompt is None) != (so.prompt is None):
            out.append(
                Difference(
                    "option",
                    o.name,
                    "a prompt in one only",
                    o.loc,
                    so.at,
                    f"model: {'prompt' if o.prompt else 'hidden'}; source: {'prompt' if so.prompt else 'hidden'}",
                )
            )
        for sel in {s.symbol for s in o.selects} | {s.symbol for s in so.selects}:
            if sel not in model.option_map:
                continue
            ce = guards.disj(*[guards.conj(s.cond, o.depends_on) for s in o.selects if s.symbol == sel])
            cs = guards.disj(*[guards.conj(s.cond, so.depends_on) for s in so.selects if s.symbol == sel])
            checks.append((f"select {sel}", guards.conj(guards.Sym(o.name), ce), guards.conj(guards.Sym(o.name), cs)))
        for what, e1, e2 in checks:
            d = differs(space.cond(e1), space.cond(e2))
            if not space.empty(d):
                out.append(
                    Difference(
                        "option",
                        o.name,
                        f"'{what}' differs",
                        o.loc,
                        so.at,
                        f"model: {guards.format_expr(e1)}; source: {guards.format_expr(e2)}; "
                        f"they differ when {_witness(space, d, joint)}",
                    )
                )
    _, transitions = diff.behaviour(model, source)
    for t in transitions:
        out.append(
            Difference(
                "behaviour",
                t.entry,
                f"{'+'.join(t.old) or 'no free'} in the model, {'+'.join(t.new) or 'no free'} in the source",
                model.entry_map[t.entry].loc,
                None,
                "always" if t.condition == "y" else f"when {t.condition}",
            )
        )
    return Verification(model, source, tuple(out))


def _flags(leaf: str | None, ipi: bool, rcu_sync: bool) -> str:
    parts = [f"leaf {leaf}"] if leaf else []
    parts += ["ipi"] if ipi else []
    parts += ["rcu_sync"] if rcu_sync else []
    return ", ".join(parts) or "not a leaf"
