"""C preprocessor conditionals: the guard on every line, macros, atoms and warnings."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptfree_cli import cpp, guards
from ptfree_cli.cpp import Atom, CppWarning, MacroDef
from ptfree_cli.errors import Location
from ptfree_cli.guards import FALSE, TRUE, And, Expr, Not, Or, Sym


def P(text: str) -> Expr:
    return guards.parse(text)


def lines_of(text: str) -> list[Expr]:
    return list(cpp.scan(text, "f.c").guards)


def loc(line: int, col: int) -> Location:
    return Location("f.c", line, col)


def src(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# -- Kconfig spellings, boolean structure ------------------------------------------


@pytest.mark.parametrize(
    "cond",
    [
        "#ifdef CONFIG_X",
        "#if defined(CONFIG_X)",
        "#if defined CONFIG_X",
        "#if defined ( CONFIG_X )",
        "#if CONFIG_X",
        "#if IS_ENABLED(CONFIG_X)",
        "#if IS_BUILTIN(CONFIG_X)",
        "#if IS_REACHABLE(CONFIG_X)",
        "#if (((CONFIG_X)))",
        "#if 1 && CONFIG_X",
        "#if 0 || CONFIG_X",
        "#if !!CONFIG_X",
        "  #  if   defined(CONFIG_X)",
        "#if\tCONFIG_X /* a comment */",
        "#if CONFIG_X // a comment",
    ],
)
def test_spellings_of_a_kconfig_option_read_as_its_symbol(cond: str) -> None:
    c = cpp.scan(src(cond, "x();", "#endif"), "f.c")
    assert c.guards == (TRUE, Sym("X"), TRUE)
    assert c.directive_lines == frozenset({1, 3})
    assert c.atoms == () and c.warnings == ()


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ("#ifndef CONFIG_X", "!X"),
        ("#if !defined(CONFIG_X)", "!X"),
        ("#if !IS_ENABLED(CONFIG_X)", "!X"),
        ("#if defined(CONFIG_A) && !defined(CONFIG_B)", "A && !B"),
        ("#if CONFIG_A || CONFIG_B && CONFIG_C", "A || B && C"),
        ("#if (CONFIG_A || CONFIG_B) && CONFIG_C", "(A || B) && C"),
        ("#if !(CONFIG_A || IS_ENABLED(CONFIG_B))", "!(A || B)"),
        ("#if CONFIG_A && CONFIG_B && CONFIG_C", "A && B && C"),
        ("#if CONFIG_A ? CONFIG_B : CONFIG_C", "A && B || !A && C"),
        ("#if 0", "n"),
        ("#if 1UL", "y"),
        ("#if 0x10", "y"),
        ("#if 00", "n"),
        ("#if 0 && CONFIG_A", "n"),
        ("#if 2 || CONFIG_A", "y"),
    ],
)
def test_boolean_structure(cond: str, expected: str) -> None:
    c = cpp.scan(src(cond, "x();", "#endif"), "f.c")
    assert c.guards[1] == P(expected)
    assert c.warnings == ()


def test_if_elif_else_chain() -> None:
    text = src(
        "#if defined(CONFIG_A)",  # 1
        "a();",
        "#elif IS_ENABLED(CONFIG_B)",  # 3
        "b();",
        "#elif CONFIG_C",  # 5
        "c();",
        "#else",  # 7
        "d();",
        "#endif",  # 9
        "e();",
    )
    assert lines_of(text) == [
        TRUE,
        Sym("A"),
        TRUE,
        P("!A && B"),
        TRUE,
        P("!(A || B) && C"),
        TRUE,
        P("!(A || B || C)"),
        TRUE,
        TRUE,
    ]


def test_ifdef_else_and_ifndef_else() -> None:
    text = src("#ifdef CONFIG_A", "a", "#else", "b", "#endif", "#ifndef CONFIG_B", "c", "#else", "d", "#endif")
    assert lines_of(text) == [TRUE, Sym("A"), TRUE, Not(Sym("A")), TRUE, TRUE, Not(Sym("B")), TRUE, Sym("B"), TRUE]


def test_elifdef_and_elifndef() -> None:
    text = src("#ifdef CONFIG_A", "a", "#elifdef CONFIG_B", "b", "#elifndef CONFIG_C", "c", "#endif")
    assert lines_of(text)[1::2] == [Sym("A"), P("!A && B"), P("!(A || B) && !C")]


def test_nesting_five_deep_conjoins_every_enclosing_arm_and_directives_get_the_guard_around_them() -> None:
    text = src(
        "#ifdef CONFIG_A",  # 1
        "#if CONFIG_B",  # 2
        "#ifndef CONFIG_C",  # 3
        "#if defined(CONFIG_D) || defined(CONFIG_E)",  # 4
        "#if IS_ENABLED(CONFIG_F)",  # 5
        "deep();",  # 6
        "#else",  # 7
        "other();",  # 8
        "#endif",  # 9
        "four();",  # 10
        "#endif",  # 11
        "#endif",  # 12
        "#elif CONFIG_G",  # 13
        "g();",  # 14
        "#endif",  # 15
        "#endif",  # 16
    )
    four = P("A && B && !C && (D || E)")
    assert lines_of(text) == [
        TRUE,
        P("A"),
        P("A && B"),
        P("A && B && !C"),
        four,
        P("A && B && !C && (D || E) && F"),
        four,
        P("A && B && !C && (D || E) && !F"),
        four,
        four,
        P("A && B && !C"),
        P("A && B"),
        P("A"),
        P("A && !B && G"),
        P("A"),
        TRUE,
    ]


def test_a_literal_already_in_force_is_not_repeated() -> None:
    text = src("#ifdef CONFIG_A", "#if defined(CONFIG_A) && CONFIG_B", "x", "#endif", "#endif")
    assert lines_of(text)[2] == P("A && B")


def test_else_of_an_if_0_block_is_true_and_the_block_false() -> None:
    assert lines_of(src("#if 0", "dead", "#else", "live", "#endif")) == [TRUE, FALSE, TRUE, TRUE, TRUE]


# -- include guards ---------------------------------------------------------------


def test_an_include_guard_is_true_and_makes_no_atom() -> None:
    text = src(
        "/* SPDX comment */",
        "#ifndef _ASM_X86_THING_H",
        "#define _ASM_X86_THING_H",
        "#ifdef CONFIG_A",
        "a();",
        "#endif",
        "b();",
        "#endif /* _ASM_X86_THING_H */",
    )
    c = cpp.scan(text, "f.h")
    assert list(c.guards) == [TRUE, TRUE, TRUE, TRUE, Sym("A"), TRUE, TRUE, TRUE]
    assert c.atoms == () and c.warnings == ()
    assert [m.name for m in c.macros] == ["_ASM_X86_THING_H"]
    assert c.macros[0].guard == TRUE


@pytest.mark.parametrize("opening", ["#if !defined(THING_H)", "#if !defined THING_H", "# ifndef THING_H /* guard */"])
def test_include_guard_spellings(opening: str) -> None:
    c = cpp.scan(src(opening, "#define THING_H 1", "a();", "#endif"), "f.h")
    assert list(c.guards) == [TRUE] * 4
    assert c.atoms == () and c.warnings == ()


@pytest.mark.parametrize(
    "text",
    [
        # the #endif is not the last directive
        src("#ifndef THING_H", "#define THING_H", "a();", "#endif", "#define LATE 1"),
        # the #define names another macro
        src("#ifndef THING_H", "#define OTHER_H", "a();", "#endif"),
        # the #define does not come right after
        src("#ifndef THING_H", "#include <x.h>", "#define THING_H", "a();", "#endif"),
    ],
)
def test_what_is_not_an_include_guard_keeps_its_condition(text: str) -> None:
    c = cpp.scan(text, "f.h")
    assert c.guard_at(text.split("\n").index("a();") + 1) == Not(Sym("defined:THING_H"))
    assert c.atoms[0] == Atom("defined:THING_H", "defined(THING_H)", "THING_H", Location("f.h", 1, 9))


# -- what is not a directive --------------------------------------------------------


def test_directives_hidden_by_comments_strings_and_code_are_not_directives() -> None:
    text = src(
        "#ifdef CONFIG_A",  # 1
        "/* #else */",  # 2
        "/*",  # 3
        "#endif",  # 4  inside a comment
        "*/",  # 5
        "// #else",  # 6
        'const char *s = "/*";',  # 7  not a comment opener
        "x = 1; # else",  # 8  not at the start of a line
        "char c = '\"'; int d; /* \" */",  # 9
        "#else",  # 10
        "b();",  # 11
        "#endif",  # 12
    )
    c = cpp.scan(text, "f.c")
    assert list(c.guards) == [TRUE, *[Sym("A")] * 8, TRUE, Not(Sym("A")), TRUE]
    assert c.directive_lines == frozenset({1, 10, 12})
    assert c.warnings == ()


def test_a_comment_before_the_hash_on_its_line_belongs_to_the_directive() -> None:
    text = src("/* a comment", "   over two lines */ #ifdef CONFIG_A", "a();", "#endif")
    c = cpp.scan(text, "f.c")
    assert list(c.guards) == [TRUE, TRUE, Sym("A"), TRUE]
    assert c.directive_lines == frozenset({1, 2, 4})


def test_a_line_comment_continued_by_a_backslash_hides_the_next_line() -> None:
    c = cpp.scan(src("// comment \\", "#ifdef CONFIG_A", "a();"), "f.c")
    assert list(c.guards) == [TRUE, TRUE, TRUE]
    assert c.directive_lines == frozenset()


# -- continuations, CRLF --------------------------------------------------------------


def test_continuation_lines_belong_to_the_directive() -> None:
    text = src(
        "#if defined(CONFIG_A) && \\",  # 1
        "    defined(CONFIG_B) /* spans",  # 2
        "    lines */ && CONFIG_C",  # 3
        "abc();",  # 4
        "#endif",  # 5
    )
    c = cpp.scan(text, "f.c")
    assert list(c.guards) == [TRUE, TRUE, TRUE, P("A && B && C"), TRUE]
    assert c.directive_lines == frozenset({1, 2, 3, 5})


def test_crlf_line_endings() -> None:
    c = cpp.scan("#ifdef CONFIG_A\r\na();\r\n#if CONFIG_B && \\\r\n  CONFIG_C\r\nb();\r\n#endif\r\n#endif\r\n", "f.c")
    assert list(c.guards) == [TRUE, Sym("A"), Sym("A"), Sym("A"), P("A && B && C"), Sym("A"), TRUE]
    assert c.directive_lines == frozenset({1, 3, 4, 6, 7})


def test_line_count_with_and_without_a_final_newline() -> None:
    assert len(cpp.scan("", "f.c").guards) == 0
    assert len(cpp.scan("a", "f.c").guards) == 1
    assert len(cpp.scan("a\n", "f.c").guards) == 1
    assert len(cpp.scan("a\n\n", "f.c").guards) == 2


def test_guard_at_counts_from_one_and_past_the_end_keeps_the_last_guard() -> None:
    c = cpp.scan(src("#ifdef CONFIG_A", "a();"), "f.c")
    assert c.guard_at(1) == TRUE
    assert c.guard_at(2) == Sym("A")
    assert c.guard_at(3) == Sym("A")
    with pytest.raises(ValueError, match="start at 1"):
        c.guard_at(0)
    assert cpp.scan("", "f.c").guard_at(1) == TRUE


# -- atoms --------------------------------------------------------------------


def test_opaque_sub_expressions_are_atoms_with_a_warning_where_first_seen() -> None:
    text = src(
        "#if defined(CONFIG_X86_64) && CONFIG_PGTABLE_LEVELS > 4",  # 1
        "five();",
        "#endif",
        "#if   (CONFIG_PGTABLE_LEVELS   >   4) || __GNUC__",  # 4
        "again();",
        "#endif",
        "#if __has_attribute(__fallthrough__) && !(FOO + 1)",  # 7
        "attr();",
        "#endif",
    )
    c = cpp.scan(text, "f.c")
    levels = Sym("cpp:CONFIG_PGTABLE_LEVELS > 4")
    assert c.guards[1] == And(Sym("X86_64"), levels)
    assert c.guards[4] == Or(levels, Sym("cpp:__GNUC__"))
    assert c.guards[7] == And(Sym("cpp:__has_attribute(__fallthrough__)"), Not(Sym("cpp:FOO + 1")))
    assert c.atoms == (
        Atom("cpp:CONFIG_PGTABLE_LEVELS > 4", "CONFIG_PGTABLE_LEVELS > 4", None, loc(1, 31)),
        Atom("cpp:__GNUC__", "__GNUC__", None, loc(4, 42)),
        Atom("cpp:__has_attribute(__fallthrough__)", "__has_attribute(__fallthrough__)", None, loc(7, 5)),
        Atom("cpp:FOO + 1", "FOO + 1", None, loc(7, 43)),
    )
    assert c.warnings == (
        CppWarning(loc(1, 31), "opaque #if condition kept as an atom: CONFIG_PGTABLE_LEVELS > 4"),
        CppWarning(loc(4, 42), "opaque #if condition kept as an atom: __GNUC__"),
        CppWarning(loc(7, 5), "opaque #if condition kept as an atom: __has_attribute(__fallthrough__)"),
        CppWarning(loc(7, 43), "opaque #if condition kept as an atom: FOO + 1"),
    )
    assert all(cpp.is_atom(a.name) for a in c.atoms)
    assert not cpp.is_atom("X86_64")


def test_an_atom_on_a_continuation_line_is_located_there() -> None:
    c = cpp.scan(src("#if CONFIG_A && \\", "\t  (NR_CPUS > 1)", "#endif"), "f.c")
    assert c.warnings == (CppWarning(loc(2, 5), "opaque #if condition kept as an atom: NR_CPUS > 1"),)


def test_defined_atoms_of_other_macros_are_not_warned_about() -> None:
    text = src(
        "#ifdef __HAVE_ARCH_PTE_FREE",  # 1
        "a();",
        "#endif",
        "#if !defined(pte_free_tlb) || defined __HAVE_ARCH_PTE_FREE",  # 4
        "b();",
        "#endif",
        "#ifndef pmd_free",  # 7
        "c();",
        "#endif",
    )
    c = cpp.scan(text, "f.c")
    assert c.guards[1] == Sym("defined:__HAVE_ARCH_PTE_FREE")
    assert c.guards[4] == Or(Not(Sym("defined:pte_free_tlb")), Sym("defined:__HAVE_ARCH_PTE_FREE"))
    assert c.guards[7] == Not(Sym("defined:pmd_free"))
    assert c.atoms == (
        Atom("defined:__HAVE_ARCH_PTE_FREE", "defined(__HAVE_ARCH_PTE_FREE)", "__HAVE_ARCH_PTE_FREE", loc(1, 8)),
        Atom("defined:pte_free_tlb", "defined(pte_free_tlb)", "pte_free_tlb", loc(4, 6)),
        Atom("defined:pmd_free", "defined(pmd_free)", "pmd_free", loc(7, 9)),
    )
    assert c.warnings == ()


def test_is_module_reads_as_false_with_a_warning() -> None:
    text = src("#if IS_MODULE(CONFIG_KVM) || CONFIG_A", "a();", "#else", "b();", "#endif")
    c = cpp.scan(text, "f.c")
    assert list(c.guards) == [TRUE, Sym("A"), TRUE, Not(Sym("A")), TRUE]
    assert c.warnings == (CppWarning(loc(1, 5), "IS_MODULE(CONFIG_KVM) read as false: ptfree reads m as y"),)


@pytest.mark.parametrize(
    ("line", "shown", "col"),
    [
        ("#if CONFIG_A &&", "CONFIG_A &&", 5),
        ("#if (CONFIG_A", "(CONFIG_A", 5),
        ("#if   CONFIG_A @ 2", "CONFIG_A @ 2", 7),
        ('#if "string"', '"string"', 5),
        ("#if 1.5", "1.5", 5),
        ("#if 09", "09", 5),
        ("#if", "", 1),
        ("#ifdef", "", 1),
        ("#if " + "(" * 40 + "1" + ")" * 40, "(" * 40 + "1" + ")" * 40, 5),
    ],
)
def test_an_expression_that_does_not_parse_is_one_atom_and_a_warning(line: str, shown: str, col: int) -> None:
    c = cpp.scan(src(line, "x();", "#endif"), "f.c")
    assert c.guards[1] == Sym(f"cpp:{shown}")
    assert c.atoms == (Atom(f"cpp:{shown}", shown, None, loc(1, col)),)
    assert c.warnings == (CppWarning(loc(1, col), f"cannot parse #if expression: {shown}"),)


def test_parse_condition_reads_one_expression_at_a_location() -> None:
    found: list[CppWarning] = []
    expr, atoms = cpp.parse_condition(
        "defined(CONFIG_X86_64) && CONFIG_PGTABLE_LEVELS > 4", Location("a.h", 3, 5), found
    )
    assert expr == And(Sym("X86_64"), Sym("cpp:CONFIG_PGTABLE_LEVELS > 4"))
    assert atoms == (Atom("cpp:CONFIG_PGTABLE_LEVELS > 4", "CONFIG_PGTABLE_LEVELS > 4", None, Location("a.h", 3, 31)),)
    assert found == [
        CppWarning(Location("a.h", 3, 31), "opaque #if condition kept as an atom: CONFIG_PGTABLE_LEVELS > 4")
    ]
    assert cpp.parse_condition("A == ", Location("a.h", 1, 1)) == (
        Sym("cpp:A =="),
        (Atom("cpp:A ==", "A ==", None, Location("a.h", 1, 1)),),
    )
    ternary, _ = cpp.parse_condition("~0 && -1 ? defined(X) : 0", Location("a.h", 1, 1))
    assert ternary == And(And(Sym("cpp:~0"), Sym("cpp:-1")), Sym("defined:X"))


# -- macros ---------------------------------------------------------------------


def test_macro_definitions_with_their_guards() -> None:
    text = src(
        "#define pte_free_tlb(tlb, ptep, address)\t\t\\",  # 1
        "\tdo {\t\t\t\t\t\t\\",  # 2
        "\t\ttlb_flush_pmd_range(tlb, address, PAGE_SIZE); /* why */\t\\",  # 3
        "\t\t__pte_free_tlb(tlb, ptep, address);\t\t\\",  # 4
        "\t} while (0)",  # 5
        "#ifdef CONFIG_PARAVIRT",  # 6
        "#define paravirt_tlb_remove_table paravirt_tlb_remove_table",  # 7
        "#else",  # 8
        "  #  define EMPTY",  # 9
        "#define VARIADIC(fmt, ...) printk(fmt, ##__VA_ARGS__)",  # 10
        "#define NOT_A_FUNCTION (x) + 1",  # 11
        "#undef EMPTY",  # 12
        "#endif",  # 13
        '#define STR "a  /* b */  c"  // comment',  # 14
    )
    c = cpp.scan(text, "f.c")
    assert c.macros == (
        MacroDef(
            "pte_free_tlb",
            ("tlb", "ptep", "address"),
            "do { tlb_flush_pmd_range(tlb, address, PAGE_SIZE); __pte_free_tlb(tlb, ptep, address); } while (0)",
            TRUE,
            loc(1, 1),
            5,
        ),
        MacroDef("paravirt_tlb_remove_table", None, "paravirt_tlb_remove_table", Sym("PARAVIRT"), loc(7, 1), 7),
        MacroDef("EMPTY", None, "", Not(Sym("PARAVIRT")), loc(9, 3), 9),
        MacroDef("VARIADIC", ("fmt", "..."), "printk(fmt, ##__VA_ARGS__)", Not(Sym("PARAVIRT")), loc(10, 1), 10),
        MacroDef("NOT_A_FUNCTION", None, "(x) + 1", Not(Sym("PARAVIRT")), loc(11, 1), 11),
        MacroDef("STR", None, '"a  /* b */  c"', TRUE, loc(14, 1), 14),
    )
    assert c.directive_lines == frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})
    assert c.warnings == ()


# -- unbalanced directives ------------------------------------------------------------


def test_unbalanced_directives_are_warned_about_where_they_are() -> None:
    text = src(
        "#endif",  # 1
        "#else",  # 2
        "  #elif CONFIG_A",  # 3
        "#ifdef CONFIG_B",  # 4
        "#else",  # 5
        "#else",  # 6
        "#elif CONFIG_C",  # 7
        "x();",  # 8
        "#endif",  # 9
        "#ifndef CONFIG_D",  # 10
        "#if CONFIG_E",  # 11
        "y();",  # 12
    )
    c = cpp.scan(text, "f.c")
    assert c.warnings == (
        CppWarning(loc(1, 1), "#endif without #if"),
        CppWarning(loc(2, 1), "#else without #if"),
        CppWarning(loc(3, 3), "#elif without #if"),
        CppWarning(loc(6, 1), "#else after #else"),
        CppWarning(loc(7, 1), "#elif after #else"),
        CppWarning(loc(10, 1), "#ifndef without #endif"),
        CppWarning(loc(11, 1), "#if without #endif"),
    )
    assert c.guards[7] == FALSE  # after an #else, nothing more can hold
    assert c.guards[11] == P("!D && E")


def test_an_unterminated_comment_is_warned_about() -> None:
    c = cpp.scan(src("a();", "  /* no end", "#ifdef CONFIG_A"), "f.c")
    assert c.warnings == (CppWarning(loc(2, 3), "unterminated /* comment"),)
    assert c.directive_lines == frozenset()


# -- scale ------------------------------------------------------------------


def test_deep_nesting_and_long_chains_do_not_exhaust_the_stack() -> None:
    depth = 3000
    text = "".join(f"#ifdef CONFIG_S{i}\n" for i in range(depth)) + "x();\n" + "#endif\n" * depth
    c = cpp.scan(text, "f.c")
    assert len(guards_conjuncts(c.guards[depth])) == depth
    assert c.guards[-1] == TRUE
    long = "#if " + " && ".join(f"CONFIG_S{i}" for i in range(3000)) + "\nx();\n#endif\n"
    assert len(guards_conjuncts(cpp.scan(long, "f.c").guards[1])) == 3000
    bangs = "#if " + "!" * 3001 + "CONFIG_A\nx();\n#endif\n"
    assert cpp.scan(bangs, "f.c").guards[1] == Not(Sym("A"))


def guards_conjuncts(expr: Expr) -> list[Expr]:
    out: list[Expr] = []
    while isinstance(expr, And):
        out.append(expr.right)
        expr = expr.left
    return [expr, *reversed(out)]


def test_scanning_is_deterministic() -> None:
    text = src("#if FOO > 1 || defined(BAR)", "#define X(a) a", "#endif", "#endif")
    assert cpp.scan(text, "f.c") == cpp.scan(text, "f.c")


# -- property: random nested #if trees ------------------------------------------------

SYMS = ("A", "B", "C", "D")
ENVS = [dict(zip(SYMS, values, strict=True)) for values in itertools.product("yn", repeat=len(SYMS))]
SPELLINGS = ("CONFIG_{}", "defined(CONFIG_{})", "defined CONFIG_{}", "IS_ENABLED(CONFIG_{})", "IS_BUILTIN( CONFIG_{} )")

# A condition: ("sym", name, spelling) | ("const", text) | ("not", c) | ("and", a, b) | ("or", a, b)
Cond = tuple[object, ...]

conds: st.SearchStrategy[Cond] = st.recursive(
    st.one_of(
        st.tuples(st.just("sym"), st.sampled_from(SYMS), st.integers(0, len(SPELLINGS) - 1)),
        st.tuples(st.just("const"), st.sampled_from(["0", "1", "2UL", "0x0"])),
    ),
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.just("and"), inner, inner),
        st.tuples(st.just("or"), inner, inner),
    ),
    max_leaves=5,
)


def render(c: Cond) -> str:
    match c:
        case ("sym", str(name), int(spelling)):
            return SPELLINGS[spelling].format(name)
        case ("const", str(text)):
            return text
        case ("not", inner):
            return "!" + render(inner)  # type: ignore[arg-type]
        case ("and" | "or" as op, a, b):
            return f"({render(a)} {'&&' if op == 'and' else '||'} {render(b)})"  # type: ignore[arg-type]
    raise AssertionError(c)


def value(c: Cond, env: dict[str, str]) -> bool:
    match c:
        case ("sym", str(name), _):
            return env[name] == "y"
        case ("const", str(text)):
            return int(text.rstrip("UL"), 0) != 0
        case ("not", inner):
            return not value(inner, env)  # type: ignore[arg-type]
        case ("and", a, b):
            return value(a, env) and value(b, env)  # type: ignore[arg-type]
        case ("or", a, b):
            return value(a, env) or value(b, env)  # type: ignore[arg-type]
    raise AssertionError(c)


@dataclass(frozen=True)
class Chain:
    """``#if``/``#ifdef``/``#ifndef`` arm, ``#elif`` arms, optional ``#else``."""

    kind: str
    cond: Cond
    sym: str
    body: tuple[object, ...]
    elifs: tuple[tuple[Cond, tuple[object, ...]], ...]
    otherwise: tuple[object, ...] | None
    style: int  # indentation, comments and continuations of the directive lines


CODE = "code"


def chains(blocks: st.SearchStrategy[tuple[object, ...]]) -> st.SearchStrategy[Chain]:
    return st.builds(
        Chain,
        st.sampled_from(["if", "ifdef", "ifndef"]),
        conds,
        st.sampled_from(SYMS),
        blocks,
        st.lists(st.tuples(conds, blocks), max_size=2).map(tuple),
        st.none() | blocks,
        st.integers(0, 3),
    )


blocks: st.SearchStrategy[tuple[object, ...]] = st.recursive(
    st.lists(st.just(CODE), max_size=2).map(tuple),
    lambda inner: st.lists(st.one_of(st.just(CODE), chains(inner)), min_size=1, max_size=3).map(tuple),
    max_leaves=10,
)

Pred = Callable[[dict[str, str]], bool]


class Renderer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.expected: dict[int, list[Pred]] = {}  # line -> conjuncts
        self.directives: set[int] = set()

    def directive(self, text: str, style: int, context: list[Pred]) -> None:
        pad = ["", "  ", "\t", " "][style]
        hash_ = "# " if style == 1 else "#"
        if style == 2 and " && " in text:
            head, _, tail = text.partition(" && ")
            parts = [f"{pad}{hash_}{head} && \\", f"      {tail}"]
        elif style == 3:
            parts = [f"{pad}{hash_}{text} /* note */"]
        else:
            parts = [f"{pad}{hash_}{text}"]
        for part in parts:
            self.lines.append(part)
            self.expected[len(self.lines)] = context
            self.directives.add(len(self.lines))

    def block(self, items: tuple[object, ...], context: list[Pred]) -> None:
        for item in items:
            if item == CODE:
                self.lines.append(f"stmt_{len(self.lines)}();")
                self.expected[len(self.lines)] = context
            else:
                assert isinstance(item, Chain)
                self.chain(item, context)

    def chain(self, ch: Chain, context: list[Pred]) -> None:
        if ch.kind == "if":
            first: Cond = ch.cond
            self.directive(f"if {render(first)}", ch.style, context)
        else:
            first = ("sym", ch.sym, 0) if ch.kind == "ifdef" else ("not", ("sym", ch.sym, 0))
            self.directive(f"{ch.kind} CONFIG_{ch.sym}", ch.style, context)
        taken: list[Cond] = [first]

        def arm(cond: Cond | None, before: tuple[Cond, ...]) -> Pred:
            return lambda env: not any(value(b, env) for b in before) and (cond is None or value(cond, env))

        self.block(ch.body, [*context, arm(first, ())])
        for cond, body in ch.elifs:
            self.directive(f"elif {render(cond)}", ch.style, context)
            self.block(body, [*context, arm(cond, tuple(taken))])
            taken.append(cond)
        if ch.otherwise is not None:
            self.directive("else", ch.style, context)
            self.block(ch.otherwise, [*context, arm(None, tuple(taken))])
        self.directive("endif", ch.style, context)


@settings(max_examples=150, deadline=None)
@given(blocks)
def test_the_guard_of_every_line_is_the_conjunction_of_its_enclosing_arms(tree: tuple[object, ...]) -> None:
    r = Renderer()
    r.lines.append("/* header */")
    r.expected[1] = []
    r.block(tree, [])
    c = cpp.scan("\n".join(r.lines) + "\n", "gen.c")
    assert len(c.guards) == len(r.lines)
    assert c.directive_lines == frozenset(r.directives)
    assert c.warnings == () and c.atoms == ()
    for line, context in r.expected.items():
        got = c.guard_at(line)
        for env in ENVS:
            assert guards.evaluate(got, env) == all(p(env) for p in context), (line, r.lines[line - 1], env)
