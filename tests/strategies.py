"""Hypothesis strategies: small random models, for oracle and property tests.

A random model has 2 to 5 options (dependencies, selects and defaults over
earlier options only, so no Kconfig loop), one runtime axis with 2 or 3
alternatives (availability guarded by options), and 3 to 8 functions in a
DAG: function i calls later functions only, each call guarded by options
and alternatives, some with ``defer: rcu``, some callees sending IPIs or
waiting for grace periods, the last ones leaves.  Entries are the first
functions.  No caller calls the same callee twice (the kernel path never
does, and the tree walker merges such calls).
"""

from __future__ import annotations

from hypothesis import strategies as st

from ptfree_cli.guards import TRUE, And, Cmp, Const, Expr, Not, Or, Sym
from ptfree_cli.model import Alternative, Axis, Call, Default, Entry, Function, Model, Option, Select


def exprs_over(names: list[str], axis: Axis | None = None) -> st.SearchStrategy[Expr]:
    leaves: st.SearchStrategy[Expr] = st.builds(Const, st.booleans())
    if names:
        leaves = st.one_of(
            leaves,
            st.builds(Sym, st.sampled_from(names)),
            st.builds(Cmp, st.sampled_from(names), st.sampled_from(("y", "n")), st.booleans()),
        )
    if axis is not None:
        leaves = st.one_of(
            leaves,
            st.builds(Cmp, st.just(axis.name), st.sampled_from([a.name for a in axis.alternatives]), st.booleans()),
        )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(st.builds(Not, inner), st.builds(And, inner, inner), st.builds(Or, inner, inner)),
        max_leaves=3,
    )


def maybe(draw: st.DrawFn, strategy: st.SearchStrategy[Expr]) -> Expr:
    return draw(st.one_of(st.just(TRUE), strategy))


@st.composite
def random_models(draw: st.DrawFn) -> Model:
    names = [f"O{i}" for i in range(draw(st.integers(2, 5)))]
    options: list[Option] = []
    for i, name in enumerate(names):
        expr = exprs_over(names[:i])
        targets = draw(st.lists(st.sampled_from(names[i + 1 :]), max_size=1, unique=True)) if i + 1 < len(names) else []
        prompt = draw(st.booleans())
        options.append(
            Option(
                name=name,
                prompt=name.lower() if prompt else None,
                depends_on=maybe(draw, expr),
                selects=tuple(Select(t, maybe(draw, expr)) for t in targets),
                defaults=tuple(Default(draw(expr), maybe(draw, expr)) for _ in range(draw(st.integers(0, 1)))),
            )
        )
    alts = [f"a{i}" for i in range(draw(st.integers(2, 3)))]
    axis = Axis(
        "rt",
        "runtime",
        tuple(
            Alternative(a, a.upper(), TRUE if j == 0 else maybe(draw, exprs_over(names))) for j, a in enumerate(alts)
        ),
    )
    guard = exprs_over(names, axis)
    count = draw(st.integers(3, 8))
    fnames = [f"f{i}" for i in range(count)]
    n_leaves = draw(st.integers(1, 2))
    functions: list[Function] = []
    for i, fname in enumerate(fnames):
        is_leaf = i >= count - n_leaves
        if is_leaf:
            functions.append(Function(fname, "leaf.c", leaf=draw(st.sampled_from(["free", "free", "tlb_batched"]))))
            continue
        later = fnames[i + 1 :]
        callees = draw(st.lists(st.sampled_from(later), min_size=1, max_size=3, unique=True))
        calls = tuple(
            Call(t, guard=maybe(draw, guard), defer="rcu" if draw(st.integers(0, 5)) == 0 else None, file="f.c")
            for t in callees
        )
        waits = draw(st.sampled_from(["none", "none", "none", "ipi", "gp"]))
        functions.append(
            Function(
                fname,
                "f.c",
                guard=maybe(draw, exprs_over(names)) if i > 0 else TRUE,
                calls=calls if waits == "none" else (),
                ipi=waits == "ipi",
                rcu_sync=waits == "gp",
            )
        )
    entries = (
        (Entry(fnames[0], "teardown"), Entry(fnames[1], "reclaim")) if count > 3 else (Entry(fnames[0], "teardown"),)
    )
    return Model("random", "random", "v0", "random.yaml", tuple(options), (axis,), tuple(functions), (), entries)
