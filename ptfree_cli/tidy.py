"""Guards of an extracted model, tidied: repeated and implied conjuncts dropped, tautologies folded,
the smallest sum of products where it names fewer options, options Kconfig fixes made constants.

The C says the same condition many ways (nested ``#if``s repeat one, an
``#if``/``#else`` pair makes a tautology); a model should say it once.
Every step keeps the meaning; tests/test_extract_oracle.py checks the
result against ``gcc -E``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ptfree_cli import guards
from ptfree_cli.guards import TRUE, Expr
from ptfree_cli.model import Axis, Model, Option

#: Deeper guards than a model may hold (the loader's limit) become one atom.
MAX_GUARD_DEPTH = 48


def depth(e: Expr) -> int:
    """How deep ``e`` nests, without recursion (a hostile #if chain can be thousands deep)."""
    deepest, stack = 0, [(e, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(node, guards.Not):
            stack.append((node.operand, d + 1))
        elif isinstance(node, (guards.And, guards.Or)):
            stack += [(node.left, d + 1), (node.right, d + 1)]
    return deepest


def conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, guards.And):
        return conjuncts(e.left) + conjuncts(e.right)
    return [] if e == TRUE else [e]


def relative(site: Expr, outer: Expr) -> Expr:
    """``site`` without the conjuncts ``outer`` already says: sound because the
    site lies inside the definition whose guard implies ``outer``."""
    drop = conjuncts(outer)
    return guards.conj(*[c for c in conjuncts(site) if c not in drop])


def dedupe(e: Expr) -> Expr:
    """Drop repeated conjuncts (nested ``#if``s often repeat a condition)."""
    return guards.conj(*dict.fromkeys(conjuncts(e)))


#: Beyond this many names a guard is left as written rather than enumerated.
_TAUTOLOGY_NAMES = 12


def tautology(e: Expr) -> Expr:
    """``y`` for a guard that holds whatever its names are (a function defined
    in every arm of an #if chain), else ``e``."""
    names = sorted(set(guards.names(e)))
    # Options only: an axis (lower case) has alternatives, not y and n, and
    # an atom may not be read as a bool here.
    if not names or len(names) > _TAUTOLOGY_NAMES or any(":" in n or n.islower() for n in names):
        return e
    for bits in range(1 << len(names)):
        env = {n: "y" if bits >> i & 1 else "n" for i, n in enumerate(names)}
        if not guards.evaluate(e, env):
            return e
    return TRUE


#: Guards over more names than this are left as the code wrote them.
_MINIMAL_ENVS = 4096


def minimal(e: Expr, axes: dict[str, Axis]) -> Expr:
    """``e`` as its smallest sum of products (``MMU && !T || T`` is ``MMU || T``),
    when that has fewer literals and the names are few; else ``e``."""
    from ptfree_cli import conditions, spaces

    names = sorted(set(guards.names(e)))
    if not names or any(":" in n for n in names):
        return e
    domains = [[a.name for a in axes[n].alternatives] if n in axes else ["n", "y"] for n in names]
    size = 1
    for d in domains:
        size *= len(d)
    if size > _MINIMAL_ENVS:
        return e
    envs = [dict(zip(names, values, strict=True)) for values in itertools.product(*domains)]
    options = tuple(Option(n, prompt=n) for n in names if n not in axes)
    model = Model("guard", "guard", "", "", options, tuple(axes[n] for n in names if n in axes), (), (), ())
    space = spaces.Explicit(model, envs)
    on = frozenset(i for i, env in enumerate(envs) if guards.evaluate(e, env))
    off = space.top - on
    if not off:
        return TRUE
    if not on:
        return guards.FALSE
    cubes = conditions.minimize(space, on, off, conditions.relevant(space, on, off, names))
    smaller = guards.parse(conditions.format_cubes(space, cubes))
    # Only when it names fewer options: `!(A || B) && C` says what the #else says.
    return smaller if literals(smaller) < literals(e) else e


def literals(e: Expr) -> int:
    return sum(1 for _ in guards.atoms(e))


def replace_names(e: Expr, env: dict[str, Expr]) -> Expr:
    if isinstance(e, guards.Sym) and e.name in env:
        return env[e.name]
    if isinstance(e, guards.Not):
        return guards.neg(replace_names(e.operand, env))
    if isinstance(e, guards.And):
        return guards.conj(replace_names(e.left, env), replace_names(e.right, env))
    if isinstance(e, guards.Or):
        return guards.disj(replace_names(e.left, env), replace_names(e.right, env))
    return e


def constants(options: Sequence[Option], axes: Sequence[Axis]) -> dict[str, str]:
    """The options that have one value in every valid configuration of the tree's
    Kconfig: ``y`` (MMU on x86), or ``n`` (MMU_GATHER_PAGE_SIZE, which x86 never selects)."""
    from ptfree_cli import symbolic

    model = Model("kconfig", "kconfig", "", "", tuple(options), tuple(axes), (), (), ())
    try:
        space = symbolic.Symbolic(model)
    except RecursionError:  # pragma: no cover - Kconfig too deep to encode
        return {}
    if space.empty(space.top):
        return {}
    out: dict[str, str] = {}
    for o in options:
        on = space.cond(guards.Sym(o.name))
        if space.empty(space.minus(space.top, on)):
            out[o.name] = "y"
        elif space.empty(space.meet(space.top, on)):
            out[o.name] = "n"
    return out
