"""Guard expressions: parsing, printing, evaluation and substitution."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptfree_cli import guards
from ptfree_cli.errors import GuardSyntaxError
from ptfree_cli.guards import And, Cmp, Const, Expr, Not, Or, Sym

OPTIONS = ("A", "B", "C")
BACKENDS = ("x", "z")

# -- strategies and an independent evaluator ------------------------------

leaves = st.one_of(
    st.builds(Const, st.booleans()),
    st.builds(Sym, st.sampled_from(OPTIONS)),
    st.builds(Cmp, st.sampled_from(OPTIONS), st.sampled_from(("y", "n")), st.booleans()),
    st.builds(Cmp, st.just("backend"), st.sampled_from(BACKENDS), st.booleans()),
)

exprs: st.SearchStrategy[Expr] = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(And, inner, inner),
        st.builds(Or, inner, inner),
    ),
    max_leaves=12,
)


def all_envs() -> list[dict[str, str]]:
    """Every assignment of A, B, C (y or n) and of the backend axis (x or z)."""
    return [
        {**dict(zip(OPTIONS, values, strict=True)), "backend": backend}
        for values in itertools.product("yn", repeat=len(OPTIONS))
        for backend in BACKENDS
    ]


def truth(expr: Expr, env: dict[str, str]) -> bool:
    """The test's own reading of an expression, written from the module docstring."""
    match expr:
        case Const(value=value):
            return value
        case Sym(name=name):
            return env[name] == "y"
        case Cmp(name=name, value=value, equal=True):
            return env[name] == value
        case Cmp(name=name, value=value, equal=False):
            return env[name] != value
        case Not(operand=operand):
            return not truth(operand, env)
        case And(left=left, right=right):
            return all(truth(side, env) for side in (left, right))
        case Or(left=left, right=right):
            return any(truth(side, env) for side in (left, right))
    raise AssertionError(f"not an expression: {expr!r}")


def test_the_independent_evaluator_reads_a_known_table() -> None:
    expr = Or(And(Sym("A"), Not(Cmp("backend", "x"))), Cmp("C", "n", equal=False))
    table = [truth(expr, env) for env in all_envs()]
    # A B C backend, in all_envs order: yyy x, yyy z, yyn x, yyn z, yny x, ...
    assert table == [True, True, False, True, True, True, False, True] + [True, True, False, False] * 2


# -- properties -----------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(exprs)
def test_format_expr_then_parse_gives_back_the_same_tree(expr: Expr) -> None:
    assert guards.parse(guards.format_expr(expr)) == expr


@settings(max_examples=200, deadline=None)
@given(exprs)
def test_evaluate_agrees_with_the_truth_table(expr: Expr) -> None:
    assert [guards.evaluate(expr, env) for env in all_envs()] == [truth(expr, env) for env in all_envs()]


@settings(max_examples=200, deadline=None)
@given(exprs, st.sets(st.sampled_from((*OPTIONS, "backend"))), st.sampled_from(all_envs()))
def test_substitute_then_evaluate_equals_evaluate(expr: Expr, known: set[str], env: dict[str, str]) -> None:
    partial = {name: value for name, value in env.items() if name in known}
    folded = guards.substitute(expr, partial)
    assert guards.evaluate(folded, env) == guards.evaluate(expr, env)
    assert set(guards.names(folded)).isdisjoint(known)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=" ()!&|=ABny_CONFIG_defined\t")))
def test_any_text_parses_or_raises_a_syntax_error_inside_the_text(text: str) -> None:
    try:
        guards.parse(text)
    except GuardSyntaxError as exc:
        assert 0 <= exc.offset <= len(text)
        assert exc.text == text


# -- examples -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["X", "CONFIG_X", "defined(CONFIG_X)", "IS_ENABLED(CONFIG_X)", "IS_BUILTIN(CONFIG_X)", " defined ( CONFIG_X ) "],
)
def test_c_spellings_of_an_option_read_as_its_name(text: str) -> None:
    assert guards.parse(text) == Sym("X")


def test_c_spellings_mix_with_kconfig_operators() -> None:
    assert guards.parse("CONFIG_PARAVIRT && !defined(CONFIG_PT_RECLAIM) || IS_ENABLED(CONFIG_X)=n") == Or(
        And(Sym("PARAVIRT"), Not(Sym("PT_RECLAIM"))), Cmp("X", "n")
    )


def test_and_and_or_are_left_associative_and_and_binds_tighter() -> None:
    assert guards.parse("A || B && C || backend!=x") == Or(
        Or(Sym("A"), And(Sym("B"), Sym("C"))), Cmp("backend", "x", equal=False)
    )


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("", "empty expression", 0),
        ("   ", "empty expression", 0),
        ("A &&", "expected an operand at end of expression", 4),
        ("A & B", "unexpected character '&'", 2),
        ("(A", "expected ')' at end of expression", 2),
        ("A B", "unexpected 'B'", 2),
        ("A)", "unexpected ')'", 1),
        ("&& A", "expected a symbol, found '&&'", 0),
        ("A = = B", "expected a symbol, found '='", 4),
        ("defined(X)", "defined() takes a CONFIG_ symbol, found 'X'", 8),
        ("defined(CONFIG_A", "expected ')' at end of expression", 16),
        ("A && é", "unexpected character 'é'", 5),
    ],
)
def test_malformed_guard_names_the_fault_and_its_offset(text: str, message: str, offset: int) -> None:
    with pytest.raises(GuardSyntaxError) as info:
        guards.parse(text)
    assert (info.value.message, info.value.offset) == (message, offset)


@pytest.mark.parametrize(
    ("text", "c"),
    [
        ("A && !B", "defined(CONFIG_A) && !defined(CONFIG_B)"),
        ("A=n", "!defined(CONFIG_A)"),
        ("A!=n", "defined(CONFIG_A)"),
        ("y || n", "1 || 0"),
        ("!(A || B) && backend=kvm", "!(defined(CONFIG_A) || defined(CONFIG_B)) && backend == kvm"),
        ("(A || B) && backend!=xen_pv", "(defined(CONFIG_A) || defined(CONFIG_B)) && backend != xen_pv"),
    ],
)
def test_format_c_prints_the_preprocessor_spelling(text: str, c: str) -> None:
    assert guards.format_c(guards.parse(text), lambda name: name != "backend") == c


def test_format_expr_parenthesises_only_where_needed() -> None:
    expr = And(Or(Sym("A"), Sym("B")), Not(And(Sym("C"), Cmp("backend", "x", equal=False))))
    assert guards.format_expr(expr) == "(A || B) && !(C && backend!=x)"


def test_deeply_nested_guard_is_a_syntax_error_not_a_crash() -> None:
    text = "(" * 400 + "A" + ")" * 400
    with pytest.raises(GuardSyntaxError) as info:
        guards.parse(text)
    assert info.value.message == "expression nested more than 64 levels deep"
    assert info.value.offset == 64
