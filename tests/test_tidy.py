"""Guard tidying (ptfree_cli/tidy.py): every step keeps the meaning and says it shorter."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from strategies import exprs_over

from ptfree_cli import guards, tidy
from ptfree_cli.guards import TRUE, parse
from ptfree_cli.model import Alternative, Axis, Default, Option, Select

BACKEND = Axis("backend", "backend", (Alternative("native", "native"), Alternative("xen_pv", "Xen PV")))


def same(a: guards.Expr, b: guards.Expr) -> bool:
    names = sorted(set(guards.names(a)) | set(guards.names(b)))
    domains = [["native", "xen_pv"] if n == "backend" else ["n", "y"] for n in names]
    for values in itertools.product(*domains):
        env = dict(zip(names, values, strict=True))
        if guards.evaluate(a, env) != guards.evaluate(b, env):
            return False
    return True


def test_an_if_else_pair_is_a_tautology() -> None:
    assert tidy.tautology(parse("MMU && !T || MMU && T || !MMU")) == TRUE
    assert tidy.tautology(parse("A || B")) == parse("A || B")


def test_the_smallest_sum_of_products_replaces_a_guard_only_when_it_names_fewer_options() -> None:
    assert tidy.minimal(parse("MMU && !T || T"), {}) == parse("MMU || T")
    # The #else of a chain says what the code says: no shorter in literals, kept.
    kept = parse("!(A || B && (C || !D)) && !E")
    assert tidy.minimal(kept, {}) == kept


def test_a_guard_over_an_axis_is_minimised_with_its_alternatives() -> None:
    e = parse("X && backend=native || X && backend=xen_pv")
    assert tidy.minimal(e, {"backend": BACKEND}) == parse("X")


def test_a_call_guard_leaves_out_what_its_function_guard_says() -> None:
    assert tidy.relative(parse("A && B && C"), parse("A && C")) == parse("B")
    # A disjunctive function guard has no conjunct to leave out.
    assert tidy.relative(parse("A && B"), parse("A || C")) == parse("A && B")


def test_repeated_conjuncts_of_nested_ifs_are_said_once() -> None:
    assert tidy.dedupe(parse("A && B && A && B && C")) == parse("A && B && C")


def test_depth_is_measured_without_recursion() -> None:
    deep: guards.Expr = guards.Sym("A")
    for i in range(5000):
        deep = guards.Not(deep) if i % 2 else guards.And(deep, guards.Sym("B"))
    assert tidy.depth(deep) == 5001


def test_options_kconfig_fixes_are_found_with_their_value() -> None:
    options = [
        Option("X86", defaults=(Default(TRUE),), selects=(Select("HAVE"),)),
        Option("HAVE"),
        Option("SMP", prompt="SMP"),
        Option("MMU", defaults=(Default(parse("X86")),)),
        Option("PAGE_SIZE_GATHER"),  # hidden, selected by no one: always n
    ]
    assert tidy.constants(options, [BACKEND]) == {"X86": "y", "HAVE": "y", "MMU": "y", "PAGE_SIZE_GATHER": "n"}


@settings(max_examples=200, deadline=None)
@given(e=exprs_over(["A", "B", "C", "D"], BACKEND))
def test_tidying_keeps_the_meaning(e: guards.Expr) -> None:
    axes = {"backend": BACKEND}
    for f in (tidy.dedupe, tidy.tautology, lambda x: tidy.minimal(x, axes)):
        assert same(f(e), e)
    assert tidy.literals(tidy.minimal(e, axes)) <= tidy.literals(e)
