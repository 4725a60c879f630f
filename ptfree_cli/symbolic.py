"""The symbolic engine: valid configurations and conditions as BDDs.

This is the only module that imports dd.  A model's options become BDD
variables, and each runtime axis one variable per alternative, exactly one
of them true.  Kconfig's rules become one constraint per option, with the
user's choices eliminated: for a visible option any value at least its
``select``s is reachable; a hidden one equals its selects or its default.

    (visible -> (selected -> v))  &&  (!visible -> (v <-> selected || default))

where ``visible``, ``selected`` and ``default`` are formulas over the other
options (Kconfiglib's ``_tri_value``, two-valued).  The conjunction is the
set of configurations ``make olddefconfig`` can produce from some user
input, so no enumeration of 2^n assignments is ever needed.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import weakref
from collections.abc import Sequence
from typing import Any

from ptfree_cli.errors import Location, ModelError
from ptfree_cli.guards import And, Cmp, Const, Expr, Not, Or, Sym, format_expr
from ptfree_cli.guards import names as names_in
from ptfree_cli.model import Model, Option

Node = Any  # dd's Function; its annotations are not exported


def _backend() -> Any:
    """CUDD through dd's C extension, where dd was built with it (the PyPI
    wheels for common platforms are); dd's pure-Python BDD otherwise.  Same
    API, same results, very different speed."""
    try:
        return importlib.import_module("dd.cudd")
    except ImportError:  # pragma: no cover - depends on how dd was built
        return importlib.import_module("dd.autoref")


_bdd = _backend()
#: CUDD sizes its tables from a memory estimate (1 GiB by default), which
#: costs start-up time; it grows them as needed from a modest start.
_BDD_ARGS: dict[str, Any] = {"memory_estimate": 64 * 2**20} if _bdd.__name__ == "dd.cudd" else {}


def _alt_var(axis: str, alt: str) -> str:
    # Axis names are lower case, option names upper case: no clash.
    return f"{axis}={alt}"


def _variable_order(model: Model) -> list[str]:
    """Options in file order, each followed at once by the options tied to
    it (those it selects, those whose dependencies or defaults name it).

    A BDD is only as small as its variable order lets it be: an option and
    the hidden helper it selects must sit side by side, or every such pair
    doubles the size of the valid set's BDD.
    """
    tied: dict[str, list[str]] = {o.name: [] for o in model.options}
    for o in model.options:
        tied[o.name].extend(s.symbol for s in o.selects)
        exprs = [o.depends_on, o.prompt_if, *(d.value for d in o.defaults), *(d.cond for d in o.defaults)]
        for e in exprs:
            for n in names_in(e):
                if n in tied and o.name not in tied[n]:
                    tied[n].append(o.name)
    order: list[str] = []
    seen: set[str] = set()
    for o in model.options:
        stack = [o.name]
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            order.append(name)
            stack.extend(reversed([t for t in tied[name] if t not in seen]))
    return order


class Symbolic:
    """The valid environments of a model as a BDD, and the :class:`~ptfree_cli.spaces.Space`
    operations on it."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.bdd = _bdd.BDD(**_BDD_ARGS)
        # Dynamic reordering would make the variable order, and so the order
        # in which covers are found, depend on when garbage is collected:
        # output must not.  The static order is the model's (options as
        # written, then axes), which keeps related symbols together.
        self.bdd.configure(reordering=False)
        _MANAGERS.append(self.bdd)
        _LIVE.add(self)
        names = _variable_order(model)
        names += [_alt_var(a.name, alt.name) for a in model.axes for alt in a.alternatives]
        self.bdd.declare(*names)
        #: Every BDD variable, in declaration order (dd's own view is a set).
        self.variables = tuple(names)
        self._cache: dict[Expr, Node] = {}
        self._shadows: dict[tuple[str, ...], Node] = {}
        #: (where, what, BDD) of every constraint; their conjunction is the valid set.
        self.constraints: list[tuple[Location, str, Node]] = []
        for o in model.options:
            self.constraints.append((o.loc, f"the Kconfig rules of {o.name}", self._option_constraint(o)))
        for axis in model.axes:
            self.constraints.append((axis.loc, f"axis {axis.name} takes one alternative", self._one_hot(axis.name)))
            for alt in axis.alternatives:
                avail = self.bdd.var(_alt_var(axis.name, alt.name)).implies(self.cond(alt.available))
                what = f"{axis.name}={alt.name} needs {format_expr(alt.available)}"
                self.constraints.append((alt.loc, what, avail))
        valid = self.bdd.true
        for _, _, c in self.constraints:
            valid &= c
        self._top = valid

    def drop(self) -> None:
        """Let go of every BDD node this space holds (before exit)."""
        self._cache.clear()
        self._shadows.clear()
        self.constraints.clear()
        self._top = self.bdd.false

    # -- encoding ---------------------------------------------------------

    def _one_hot(self, axis: str) -> Node:
        alts = [self.bdd.var(_alt_var(axis, a.name)) for a in self.model.axis_map[axis].alternatives]
        some = self.bdd.false
        for v in alts:
            some |= v
        at_most = self.bdd.true
        for i, v in enumerate(alts):
            for w in alts[i + 1 :]:
                at_most &= ~(v & w)
        return some & at_most

    def _option_constraint(self, o: Option) -> Node:
        b = self.bdd
        v = b.var(o.name)
        dep = self.cond(o.depends_on)
        visible = dep & self.cond(o.prompt_if) if o.prompt is not None else b.false
        default = b.false
        for d in reversed(o.defaults):
            default = b.ite(self.cond(d.cond), self.cond(d.value), default)
        default &= dep
        selected = b.false
        for other in self.model.options:
            for s in other.selects:
                if s.symbol == o.name:
                    # Kconfig adds the selector's own dependencies to a select.
                    selected |= b.var(other.name) & self.cond(s.cond) & self.cond(other.depends_on)
        return visible.implies(selected.implies(v)) & (~visible).implies(v.equiv(selected | default))

    def cond(self, expr: Expr) -> Node:
        """The BDD of ``expr`` (cached)."""
        hit = self._cache.get(expr)
        if hit is not None:
            return hit
        b = self.bdd
        if isinstance(expr, Const):
            out = b.true if expr.value else b.false
        elif isinstance(expr, Sym):
            out = b.var(expr.name)
        elif isinstance(expr, Cmp):
            if expr.name in self.model.option_map:
                # m reads as y before it gets here, so "=m" never holds.
                out = b.var(expr.name) if expr.value == "y" else ~b.var(expr.name) if expr.value == "n" else b.false
            else:
                out = b.var(_alt_var(expr.name, expr.value))
            if not expr.equal:
                out = ~out
        elif isinstance(expr, Not):
            out = ~self.cond(expr.operand)
        elif isinstance(expr, And):
            out = self.cond(expr.left) & self.cond(expr.right)
        else:
            assert isinstance(expr, Or)
            out = self.cond(expr.left) | self.cond(expr.right)
        self._cache[expr] = out
        return out

    # -- the Space interface ------------------------------------------------

    @property
    def top(self) -> Node:
        return self._top

    def meet(self, a: Node, b: Node) -> Node:
        return a & b

    def join(self, a: Node, b: Node) -> Node:
        return a | b

    def minus(self, a: Node, b: Node) -> Node:
        return a & ~b

    def empty(self, a: Node) -> bool:
        return bool(a == self.bdd.false)

    def _vars_of(self, name: str) -> list[str]:
        axis = self.model.axis_map.get(name)
        return [_alt_var(name, alt.name) for alt in axis.alternatives] if axis else [name]

    def points(self, a: Node, names: Sequence[str]) -> set[tuple[str, ...]]:
        keep = [v for n in names for v in self._vars_of(n)]
        drop = [v for v in self.variables if v not in keep]
        projected = self.bdd.exist(drop, a)
        out: set[tuple[str, ...]] = set()
        for assignment in self.bdd.pick_iter(projected, care_vars=set(keep)):
            out.add(tuple(self._value(n, assignment) for n in names))
        return out

    def project(self, a: Node, names: Sequence[str]) -> Node:
        keep = {v for n in names for v in self._vars_of(n)}
        return self.bdd.exist([v for v in self.variables if v not in keep], a) & self._top

    def shadow(self, names: Sequence[str]) -> Node:
        key = tuple(names)
        hit = self._shadows.get(key)
        if hit is None:
            keep = {v for n in names for v in self._vars_of(n)}
            hit = self.bdd.exist([v for v in self.variables if v not in keep], self._top)
            self._shadows[key] = hit
        return hit

    def products(self, a: Node, names: Sequence[str]) -> list[dict[str, frozenset[str]]]:
        """The paths to true of ``a`` projected onto ``names``: disjoint
        products, as many as the BDD has paths, not points."""
        keep = {v for n in names for v in self._vars_of(n)}
        projected = self.bdd.exist([v for v in self.variables if v not in keep], a)
        owner = {v: n for n in names for v in self._vars_of(n)}
        out: list[dict[str, frozenset[str]]] = []

        def walk(u: Node, fixed: dict[str, bool]) -> None:
            if u == self.bdd.false:
                return
            if u == self.bdd.true:
                out.append(self._product(fixed, owner))
                return
            var = u.var
            for value in (False, True):
                walk(self.bdd.let({var: value}, u), {**fixed, var: value})

        walk(projected, {})
        return out

    def cover(self, on: Node, off: Node, names: Sequence[str]) -> list[dict[str, frozenset[str]]]:
        """A sum of products over ``names`` that holds on ``on`` and nowhere
        on ``off`` (everything else is don't-care): Minato-Morreale's
        irredundant sum of products, computed on the BDD.  ``on`` and ``off``
        must differ in ``names`` alone.  Each product is prime, so it names
        only what separates them; the cover is small, not always the
        smallest."""
        b = self.bdd
        keep = {v for n in names for v in self._vars_of(n)}
        drop = [v for v in self.variables if v not in keep]
        # Over ``names`` only: another option equal to one of them in every
        # valid configuration must not stand in for it.
        on, off = b.exist(drop, on), b.exist(drop, off)
        owner = {n: n for n in self.model.option_map}
        owner.update({v: a.name for a in self.model.axes for v in self._vars_of(a.name)})
        memo: dict[tuple[int, int], tuple[list[dict[str, bool]], Node]] = {}

        def isop(lower: Node, upper: Node) -> tuple[list[dict[str, bool]], Node]:
            if lower == b.false:
                return [], b.false
            if upper == b.true:
                return [{}], b.true
            key = (int(lower), int(upper))
            hit = memo.get(key)
            if hit is not None:
                return hit
            var = lower.var if lower.level <= upper.level else upper.var
            x = b.var(var)
            l0, l1 = b.let({var: False}, lower), b.let({var: True}, lower)
            u0, u1 = b.let({var: False}, upper), b.let({var: True}, upper)
            c0, f0 = isop(l0 & ~u1, u0)
            c1, f1 = isop(l1 & ~u0, u1)
            cs, fs = isop((l0 & ~f0) | (l1 & ~f1), u0 & u1)
            cubes = [{**c, var: False} for c in c0] + [{**c, var: True} for c in c1] + cs
            result = (cubes, (~x & f0) | (x & f1) | fs)
            memo[key] = result
            return result

        cubes, _ = isop(on, ~off)
        return [self._product(c, owner) for c in cubes]

    def _product(self, fixed: dict[str, bool], owner: dict[str, str]) -> dict[str, frozenset[str]]:
        product: dict[str, frozenset[str]] = {}
        for var, value in fixed.items():
            name = owner[var]
            axis = self.model.axis_map.get(name)
            if axis is None:
                product[name] = frozenset(["y" if value else "n"])
                continue
            alt = var.split("=", 1)[1]
            allowed = product.get(name, frozenset(a.name for a in axis.alternatives))
            product[name] = allowed & {alt} if value else allowed - {alt}
        return product

    def _value(self, name: str, assignment: dict[str, bool]) -> str:
        axis = self.model.axis_map.get(name)
        if axis is None:
            return "y" if assignment[name] else "n"
        return next(alt.name for alt in axis.alternatives if assignment[_alt_var(name, alt.name)])

    def pick(self, a: Node) -> dict[str, str] | None:
        """The least environment of ``a``: options n before y, alternatives in
        model order, decided one name at a time in model order."""
        if self.empty(a):
            return None
        env: dict[str, str] = {}
        for name in [o.name for o in self.model.options] + [x.name for x in self.model.axes]:
            axis = self.model.axis_map.get(name)
            values = [alt.name for alt in axis.alternatives] if axis else ["n", "y"]
            for value in values:
                trial = a & self.cond(Cmp(name, value))
                if not self.empty(trial):
                    a = trial
                    env[name] = value
                    break
        return env

    def count(self, a: Node) -> int:
        """How many environments ``a`` holds."""
        return int(self.bdd.count(a, nvars=len(self.variables)))

    # -- diagnosis ------------------------------------------------------------

    def clash(self) -> list[tuple[Location, str]]:
        """A minimal set of constraints that cannot hold together, when the
        model has no valid configuration at all (deletion-based core)."""
        core = list(self.constraints)
        i = 0
        while i < len(core):
            rest = core[:i] + core[i + 1 :]
            conj = self.bdd.true
            for _, _, c in rest:
                conj &= c
            if conj == self.bdd.false:
                core = rest
            else:
                i += 1
        return [(loc, what) for loc, what, _ in core]


@functools.lru_cache(maxsize=64)
def space(model: Model) -> Symbolic:
    """The (cached) symbolic space of ``model``.

    :raises ModelError: when no configuration is valid, naming the clash.
    """
    sym = Symbolic(model)
    if sym.empty(sym.top):
        core = sym.clash()
        raise ModelError(
            "no valid configuration: these constraints clash: " + "; ".join(w for _, w in core),
            core[0][0] if core else Location(model.source),
        )
    return sym


# dd's manager asserts, when it is collected, that no BDD node is still
# referenced.  When the garbage collector frees a cycle holding both nodes and
# their manager, the order is arbitrary and the assertion fires.  So managers
# live until exit, and at exit every space drops its nodes before the
# managers go.
_MANAGERS: list[Any] = []
_LIVE: weakref.WeakSet[Symbolic] = weakref.WeakSet()


@atexit.register
def _release() -> None:
    # No gc.collect() here: with networkx loaded a full collection costs
    # tens of milliseconds of every run's exit, and the spaces' own nodes
    # are freed by reference counting as they are dropped.
    space.cache_clear()
    for sym in list(_LIVE):
        sym.drop()
    _MANAGERS.clear()
