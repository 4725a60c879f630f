"""Reading the Kconfig files of a source tree, checked against kconfiglib as the oracle.

Each scenario is a tiny tree under tests/fixtures/kconfig/.  For every one
kconfiglib can parse, the options read are resolved by
:func:`ptfree_cli.kconfig.resolve` for every assignment of the prompt symbols
(sampled by hypothesis beyond 10 of them) and every symbol must get
kconfiglib's value; random small Kconfig texts get the same check.  The rest
of the file pins what the reader builds and warns, to the column.
"""

from __future__ import annotations

import functools
import itertools
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import kconfiglib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptfree_cli import kconfig
from ptfree_cli.errors import Location, ModelError
from ptfree_cli.guards import FALSE, TRUE, And, Cmp, Not, Or, Sym, parse
from ptfree_cli.kconfig_tree import KconfigTree, KconfigWarning, closure, opaque, read_kconfig
from ptfree_cli.model import Default, Model, Option, Select

FIXTURES = Path(__file__).parent / "fixtures" / "kconfig"

#: The scenarios kconfiglib reads: not choice (kconfiglib makes its members
#: exclusive), not the ones with transitional, unexpandable macros, missing
#: files or unknown statements (kconfiglib refuses them), not imply next to
#: another default (approximated, see the test below).
ORACLE = (
    "arch",
    "continuation",
    "def_bool",
    "default_chains",
    "help_blocks",
    "if_nesting",
    "imply",
    "menu_depends",
    "menuconfig",
    "multiple_definitions",
    "select_if",
)
#: More than 10 prompt symbols: assignments are sampled.
ORACLE_LARGE = ("sources",)


def _loc(line: int, col: int, file: str = "Kconfig") -> Location:
    return Location(file, line, col)


def _warning(line: int, col: int, message: str, file: str = "Kconfig") -> KconfigWarning:
    return KconfigWarning(_loc(line, col, file), message)


# -- the oracle ---------------------------------------------------------------


@contextmanager
def kconfiglib_env(root: Path) -> Iterator[None]:
    """kconfiglib reads $srctree, $SRCARCH and $ARCH from the environment."""
    with mock.patch.dict(os.environ, {"srctree": str(root), "SRCARCH": "x86", "ARCH": "x86"}):
        yield


def model_of(tree: KconfigTree) -> Model:
    return Model("tree", "tree", "v0", "Kconfig", tuple(tree.options.values()), (), (), (), ())


def prompts_of(tree: KconfigTree) -> list[str]:
    return [o.name for o in tree.options.values() if o.prompt is not None]


def agrees(tree: KconfigTree, model: Model, kconf: kconfiglib.Kconfig, user: Mapping[str, bool]) -> None:
    for name, value in user.items():
        assert kconf.syms[name].set_value(2 if value else 0)
    # m counts as y: ptfree is two-valued.
    theirs = {name: kconf.syms[name].str_value != "n" for name in tree.options}
    assert dict(kconfig.resolve(model, user).values) == theirs, f"user values {user}"


def same_symbols(tree: KconfigTree, kconf: kconfiglib.Kconfig) -> None:
    bools = (kconfiglib.BOOL, kconfiglib.TRISTATE)
    assert list(tree.options) == [s.name for s in kconf.unique_defined_syms if s.orig_type in bools]
    assert list(tree.others) == [s.name for s in kconf.unique_defined_syms if s.orig_type not in bools]


@functools.cache
def fixture(name: str) -> tuple[KconfigTree, Model, kconfiglib.Kconfig]:
    root = FIXTURES / name
    tree = read_kconfig(root)
    with kconfiglib_env(root):
        kconf = kconfiglib.Kconfig("Kconfig", warn=False)
    return tree, model_of(tree), kconf


@pytest.mark.parametrize("name", ORACLE)
def test_fixture_resolves_as_kconfiglib_does_for_every_assignment(name: str) -> None:
    tree, model, kconf = fixture(name)
    same_symbols(tree, kconf)
    prompts = prompts_of(tree)
    assert 0 < len(prompts) <= 10
    for bits in itertools.product((False, True), repeat=len(prompts)):
        agrees(tree, model, kconf, dict(zip(prompts, bits, strict=True)))


@pytest.mark.parametrize("name", ORACLE_LARGE)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_large_fixture_resolves_as_kconfiglib_does_for_sampled_assignments(name: str, data: st.DataObject) -> None:
    tree, model, kconf = fixture(name)
    same_symbols(tree, kconf)
    prompts = prompts_of(tree)
    assert len(prompts) > 10
    bits = data.draw(st.lists(st.booleans(), min_size=len(prompts), max_size=len(prompts)))
    agrees(tree, model, kconf, dict(zip(prompts, bits, strict=True)))


# -- random small Kconfig texts -------------------------------------------------


@functools.cache  # building a recursive strategy costs more than drawing from it
def expr_texts(names: tuple[str, ...], cond: bool) -> st.SearchStrategy[str]:
    """Kconfig expressions over ``names``; m only in conditions (there it is
    m && MODULES; in a value, !m is m for kconfiglib but n two-valued)."""
    constants = ["y", "n", "m"] if cond else ["y", "n"]
    leaves: st.SearchStrategy[str] = st.sampled_from(constants)
    if names:
        sym = st.sampled_from(names)
        leaves = st.one_of(
            leaves,
            sym,
            st.builds(
                "{}{}{}".format, sym, st.sampled_from(["=", "!=", " = ", " != "]), st.sampled_from(["y", "n", "m"])
            ),
            st.builds("{} {} {}".format, sym, st.sampled_from(["=", "!="]), sym),
            st.builds('"{}" = {}'.format, st.sampled_from(["y", "n"]), sym),
        )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds("!{}".format, inner),
            st.builds("!({})".format, inner),
            st.builds("({})".format, inner),
            st.builds("{} && {}".format, inner, inner),
            st.builds("{} || {}".format, inner, inner),
        ),
        max_leaves=4,
    )


def _if(draw: st.DrawFn, names: tuple[str, ...]) -> str:
    return f" if {draw(expr_texts(names, True))}" if draw(st.booleans()) else ""


def definition(draw: st.DrawFn, names: list[str], i: int, again: bool) -> list[str]:
    """``config`` for names[i]: expressions over earlier names, selects of
    later ones, so that there is no dependency loop."""
    earlier, later = tuple(names[:i]), names[i + 1 :]
    lines = [f"config {names[i]}"]
    kind = draw(st.sampled_from(["bool", "prompt", "def_bool"] + (["none"] if again else [])))
    if kind == "bool":
        lines.append("\tbool")
    elif kind == "prompt":
        lines.append(f'\tbool "{names[i].lower()}"{_if(draw, earlier)}')
    elif kind == "def_bool":
        lines.append(f"\tdef_bool {draw(expr_texts(earlier, False))}{_if(draw, earlier)}")
    if earlier:
        lines += [f"\tdepends on {draw(expr_texts(earlier, True))}" for _ in range(draw(st.integers(0, 2)))]
    if later:
        lines += [
            f"\tselect {draw(st.sampled_from(later))}{_if(draw, earlier)}" for _ in range(draw(st.integers(0, 2)))
        ]
    lines += [
        f"\tdefault {draw(expr_texts(earlier, False))}{_if(draw, earlier)}" for _ in range(draw(st.integers(0, 2)))
    ]
    return [*lines, ""]


@st.composite
def kconfig_texts(draw: st.DrawFn) -> str:
    """2 to 6 bool symbols in if blocks and menus with dependencies, some
    defined twice."""
    names = [f"S{i}" for i in range(draw(st.integers(2, 6)))]
    lines: list[str] = []
    ends: list[str] = []
    for i in range(len(names)):
        if ends and draw(st.booleans()):
            lines.append(ends.pop())
        if i and len(ends) < 2 and draw(st.booleans()):
            cond = draw(expr_texts(tuple(names[:i]), True))
            if draw(st.booleans()):
                lines.append(f"if {cond}")
                ends.append("endif")
            else:
                lines += [f'menu "m{i}"', f"\tdepends on {cond}"]
                ends.append("endmenu")
        lines += definition(draw, names, i, again=False)
    lines += reversed(ends)
    for j in draw(st.lists(st.integers(0, len(names) - 1), max_size=2)):
        lines += definition(draw, names, j, again=True)
    return "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None)
@given(kconfig_texts())
def test_random_kconfig_texts_resolve_as_kconfiglib_does(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "Kconfig").write_text(text)
        tree = read_kconfig(root)
        assert tree.warnings == ()
        with kconfiglib_env(root):
            kconf = kconfiglib.Kconfig("Kconfig", warn=False)
    same_symbols(tree, kconf)
    model = model_of(tree)
    prompts = prompts_of(tree)
    for bits in itertools.product((False, True), repeat=len(prompts)):
        agrees(tree, model, kconf, dict(zip(prompts, bits, strict=True)))


# -- what is read, scenario by scenario ---------------------------------------------


def test_source_rsource_and_globs_are_read_in_order_with_relative_paths() -> None:
    tree = read_kconfig(FIXTURES / "sources")
    assert tree.files == (
        "Kconfig",
        "sub/Kconfig",
        "sub/Kconfig.more",
        "drivers/alpha/Kconfig",
        "drivers/beta/Kconfig",
        "drivers/delta/Kconfig",
        "drivers/gamma/Kconfig",
    )
    assert list(tree.options) == [
        "TOP",
        "SUB",
        "MORE",
        "SUB_HELPER",
        "ALPHA",
        "BETA",
        "BETA_EXTRA",
        "DELTA",
        "DELTA_2",
        "GAMMA",
        "GAMMA_2",
        "GAMMA_3",
        "LAST",
    ]
    assert tree.options["MORE"] == Option(
        name="MORE",
        prompt="more",
        selects=(Select("SUB_HELPER", TRUE, _loc(3, 2, "sub/Kconfig.more")),),
        file="sub/Kconfig.more",
        loc=_loc(1, 1, "sub/Kconfig.more"),
    )
    assert tree.warnings == ()


def test_if_blocks_and_their_nesting_are_anded_after_the_own_dependencies() -> None:
    options = read_kconfig(FIXTURES / "if_nesting").options
    assert options["INSIDE_A"].depends_on == parse("(B || C) && A")
    assert options["A_NOT_B"].depends_on == parse("!B && A")
    assert options["C"].depends_on == Sym("A")
    assert options["OUTSIDE"].depends_on == Sym("INSIDE_A")
    assert options["OUTSIDE"].defaults == (Default(TRUE, TRUE, _loc(25, 2)),)


def test_menu_dependencies_apply_to_everything_inside_and_visible_if_is_ignored() -> None:
    tree = read_kconfig(FIXTURES / "menu_depends")
    options = tree.options
    assert options["TCP"].depends_on == Sym("NET")
    assert options["TCP_FANCY"].depends_on == parse("!TCP_PLAIN && (TCP && NET)")
    assert options["TCP_PLAIN"].depends_on == parse("TCP && NET")
    assert options["UDP"].depends_on == Sym("NET")
    assert tree.warnings == ()


def test_menuconfig_is_a_config_and_its_if_block_guards_the_rest() -> None:
    options = read_kconfig(FIXTURES / "menuconfig").options
    assert options["VIRT"] == Option(
        name="VIRT",
        prompt="Virtualization",
        defaults=(Default(TRUE, TRUE, _loc(3, 2)),),
        file="Kconfig",
        loc=_loc(1, 1),
    )
    assert [options[n].depends_on for n in ("KVM", "VIRT_HELPER", "VIRT_LEGACY")] == [Sym("VIRT")] * 3


def test_choice_members_are_independent_options_with_one_warning_per_choice() -> None:
    tree = read_kconfig(FIXTURES / "choice")
    assert list(tree.options) == ["PREEMPT_NONE", "PREEMPT_VOLUNTARY", "PREEMPT_FULL", "ARCH_CAN_PREEMPT"]
    # A member without a type takes the choice's.
    assert tree.options["PREEMPT_VOLUNTARY"] == Option(
        name="PREEMPT_VOLUNTARY", prompt="voluntary", file="Kconfig", loc=_loc(8, 1)
    )
    assert tree.options["PREEMPT_FULL"].depends_on == Sym("ARCH_CAN_PREEMPT")
    assert tree.warnings == (
        _warning(1, 1, "choice exclusivity is not modelled: its members are read as independent options"),
    )


def test_a_symbol_defined_twice_or_s_the_dependencies_and_guards_each_definitions_properties() -> None:
    options = read_kconfig(FIXTURES / "multiple_definitions").options
    assert options["SHARED"] == Option(
        name="SHARED",
        prompt="shared",
        prompt_if=Sym("A"),
        depends_on=Or(Sym("A"), Sym("B")),
        selects=(Select("HELPER", Sym("A"), _loc(11, 2)), Select("OTHER", And(Sym("A"), Sym("B")), _loc(19, 2))),
        defaults=(Default(TRUE, Sym("A"), _loc(10, 2)), Default(FALSE, Sym("B"), _loc(18, 2))),
        file="Kconfig",
        loc=_loc(7, 1),
    )
    # The first prompt's text; visible wherever any prompt is.
    twice = options["TWICE"]
    assert (twice.prompt, twice.prompt_if, twice.depends_on) == ("twice under a", parse("A || B"), parse("A || B"))
    assert twice.defaults == (Default(TRUE, Sym("B"), _loc(32, 2)),)


def test_select_if_keeps_its_condition_and_a_select_of_an_undefined_symbol_is_dropped() -> None:
    options = read_kconfig(FIXTURES / "select_if").options
    assert options["DRIVER"].selects == (
        Select("DMA", Sym("HAS_IOMEM"), _loc(3, 2)),
        Select("FIRMWARE", TRUE, _loc(4, 2)),
    )


def test_closure_follows_dependencies_and_every_selector_of_a_needed_symbol() -> None:
    tree = read_kconfig(FIXTURES / "select_if")
    assert closure(tree, ["DMA"]) == ("DRIVER", "HAS_IOMEM", "UML", "DMA", "PCI", "OTHER_USER", "BUS")
    # DRIVER selects FIRMWARE: needed; DMA, which DRIVER also selects, is not.
    assert closure(tree, ["FIRMWARE"]) == ("DRIVER", "FIRMWARE", "FW_BASE")
    assert closure(tree, ["UNRELATED_HELPER", "NOT_DEFINED"]) == ("UNRELATED", "UNRELATED_HELPER")
    assert closure(tree, []) == ()


def test_closure_follows_defaults_prompt_conditions_and_impliers() -> None:
    assert closure(read_kconfig(FIXTURES / "default_chains"), ["CHAIN2"]) == ("A", "B", "C", "CHAIN2")
    assert closure(read_kconfig(FIXTURES / "imply"), ["CRYPTO_FAST"]) == (
        "CRYPTO",
        "FAST_OK",
        "CRYPTO_FAST",
        "EXPERT",
        "HW",
    )


def test_imply_is_a_last_default_of_its_target() -> None:
    tree = read_kconfig(FIXTURES / "imply")
    assert tree.options["CRYPTO_FAST"].defaults == (Default(Sym("CRYPTO"), Sym("FAST_OK"), _loc(3, 2)),)
    assert tree.options["CRYPTO"].defaults == ()
    assert tree.warnings == ()


def test_imply_next_to_another_default_is_approximated_with_a_warning() -> None:
    tree = read_kconfig(FIXTURES / "imply_with_defaults")
    assert tree.options["TARGET"].defaults == (
        Default(Sym("OTHER"), TRUE, _loc(7, 2)),
        Default(Sym("USER"), TRUE, _loc(3, 2)),
    )
    assert tree.warnings == (_warning(3, 2, "imply approximated as a last default: TARGET has other defaults"),)
    # Where the approximation shows: kconfiglib takes the larger of the
    # default and the imply, ptfree the first default that applies.
    values = kconfig.resolve(model_of(tree), {"USER": True, "OTHER": False}).values
    assert values["TARGET"] is False
    with kconfiglib_env(FIXTURES / "imply_with_defaults"):
        kconf = kconfiglib.Kconfig("Kconfig", warn=False)
    kconf.syms["USER"].set_value(2)
    kconf.syms["OTHER"].set_value(0)
    assert kconf.syms["TARGET"].str_value == "y"


def test_default_if_chains_keep_their_order_and_conditions() -> None:
    options = read_kconfig(FIXTURES / "default_chains").options
    assert [(d.value, d.cond) for d in options["CHAIN"].defaults] == [
        (FALSE, parse("A && B")),
        (TRUE, Sym("A")),
        (Sym("B"), Sym("C")),
        (Sym("C"), TRUE),
    ]
    assert options["CHAIN2"].prompt_if == Not(Sym("C"))


def test_def_bool_is_a_bool_with_a_first_default_and_comparisons_fold() -> None:
    options = read_kconfig(FIXTURES / "def_bool").options
    assert options["BOTH"] == Option(
        name="BOTH", defaults=(Default(parse("A && B"), TRUE, _loc(8, 2)),), file="Kconfig", loc=_loc(7, 1)
    )
    # Two bools compared: equal when both are y or both n.
    assert options["EITHER_NOT"].defaults[0].value == parse("!(A || B) || (A && B || !A && !B)")
    assert options["GATED"].defaults == (Default(TRUE, Sym("A"), _loc(14, 2)),)
    assert options["GATED"].depends_on == Not(Sym("B"))
    assert options["NOT_Y"].defaults[0].value == Cmp("A", "y", equal=False)
    assert options["QUOTED"].defaults[0].value == TRUE
    assert options["NUMBERS"].defaults[0].value == TRUE


def test_srcarch_and_arch_expand_in_source_paths_and_conditions() -> None:
    x86 = read_kconfig(FIXTURES / "arch")
    assert x86.files == ("Kconfig", "arch/x86/Kconfig")
    assert list(x86.options) == ["X86_ONLY", "ARCH_X86", "X86_FEATURE", "NOT_X86", "GREETING_IS_HELLO"]
    assert x86.options["X86_ONLY"].defaults == (Default(TRUE, TRUE, _loc(5, 2)),)
    assert x86.options["NOT_X86"].depends_on == FALSE
    assert x86.options["GREETING_IS_HELLO"].defaults[0].value == TRUE
    arm = read_kconfig(FIXTURES / "arch", srcarch="arm")
    assert arm.files == ("Kconfig", "arch/arm/Kconfig")
    assert arm.options["X86_ONLY"].defaults[0].value == FALSE
    assert arm.options["NOT_X86"].depends_on == TRUE
    # ARCH defaults to SRCARCH but can differ from it.
    assert read_kconfig(FIXTURES / "arch", arch="x86_64").options["X86_ONLY"].defaults[0].value == FALSE
    assert x86.warnings == arm.warnings == ()


def test_unexpandable_macros_and_unmodelled_comparisons_are_opaque_atoms_with_warnings() -> None:
    tree = read_kconfig(FIXTURES / "opaque")
    options = tree.options
    assert options["CC_HAS_FOO"].defaults[0].value == Sym("kconfig:$(cc-option,-mfoo)")
    assert options["USES_CHECK"].depends_on == Sym("kconfig:$(CC_CHECK)")
    assert options["MANY_THINGS"].defaults[0].value == Sym("kconfig:NR_THINGS >= 8")
    assert options["FOUR_THINGS"].defaults[0].value == Sym("kconfig:NR_THINGS = 4")
    assert options["LESS"].defaults[0].value == Or(Sym("USES_CHECK"), Sym("kconfig:USES_CHECK < CC_HAS_FOO"))
    assert opaque("kconfig:NR_THINGS = 4") and not opaque("NR_THINGS")
    assert dict(tree.others) == {"NR_THINGS": ("int", _loc(10, 1))}
    atom = "read as the opaque atom kconfig:"
    assert tree.warnings == (
        _warning(4, 11, f"macro $(cc-option,-mfoo) cannot be expanded: {atom}$(cc-option,-mfoo)"),
        _warning(8, 13, f"macro $(CC_CHECK) cannot be expanded: {atom}$(CC_CHECK)"),
        _warning(15, 11, f"NR_THINGS is a symbol of type int: {atom}NR_THINGS >= 8"),
        _warning(18, 11, f"NR_THINGS is a symbol of type int: {atom}NR_THINGS = 4"),
        # On the second physical line of a continued one.
        _warning(22, 11, f"'<' comparison is not modelled: {atom}USES_CHECK < CC_HAS_FOO"),
    )
    assert str(tree.warnings[0]).startswith("Kconfig:4:11: warning: macro $(cc-option,-mfoo)")


def test_transitional_and_modules_are_accepted_and_m_in_a_condition_is_modules() -> None:
    tree = read_kconfig(FIXTURES / "transitional_modules")
    assert tree.warnings == ()
    assert tree.options["OLD_NAME"] == Option(name="OLD_NAME", file="Kconfig", loc=_loc(5, 1))
    assert tree.options["NEW_NAME"].type == "tristate"
    assert tree.options["NEW_NAME"].defaults[0].value == Sym("OLD_NAME")
    needs = tree.options["NEEDS_MODULES"]
    assert (needs.depends_on, needs.defaults[0].value) == (Sym("MODULES"), TRUE)


def test_help_blocks_are_skipped_up_to_the_first_line_indented_less() -> None:
    tree = read_kconfig(FIXTURES / "help_blocks")
    assert list(tree.options) == ["A", "B", "C"]
    assert tree.options["A"].depends_on == TRUE
    # "depends on A" is indented less than B's help text: it ends it.
    assert tree.options["B"].depends_on == Sym("A")
    assert tree.options["C"].defaults == (Default(Sym("B"), TRUE, _loc(24, 2)),)
    assert tree.warnings == ()


def test_line_continuations_comments_and_other_types() -> None:
    tree = read_kconfig(FIXTURES / "continuation")
    assert tree.options["C"].depends_on == parse("A && B")
    assert tree.options["D"].defaults[0].value == parse("(A || C) && !B")
    assert dict(tree.others) == {"STR": ("string", _loc(10, 1)), "HEXVAL": ("hex", _loc(13, 1))}
    assert tree.warnings == ()


def test_a_missing_source_file_warns_at_the_source_line_unless_optional() -> None:
    tree = read_kconfig(FIXTURES / "missing_source")
    assert list(tree.options) == ["A"]
    assert tree.warnings == (
        _warning(4, 1, "sourced file not found: does/not/exist/Kconfig"),
        _warning(8, 2, "sourced file not found: nothere.Kconfig"),
        _warning(10, 1, "sourced file not found: globbed/*/Kconfig"),
    )


def test_unknown_statements_warn_at_their_location_and_reading_goes_on() -> None:
    tree = read_kconfig(FIXTURES / "unknown_statement")
    assert tree.options["A"] == Option(name="A", prompt="a", file="Kconfig", loc=_loc(1, 1))
    assert list(tree.options) == ["A", "B"]
    assert tree.warnings == (
        _warning(3, 2, "unknown statement 'frobnicate': line skipped"),
        _warning(5, 1, "unknown statement 'wibble': line skipped"),
        _warning(8, 1, "'endif' without a matching 'if': line skipped"),
        _warning(9, 2, "'select' outside a config, menu or choice entry: line skipped"),
    )


# -- odd input, written inline -----------------------------------------------------


def read_text(tmp_path: Path, text: str, **files: str) -> KconfigTree:
    (tmp_path / "Kconfig").write_text(text)
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    return read_kconfig(tmp_path)


def test_an_unreadable_top_file_is_a_located_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        read_kconfig(tmp_path, "Kconfig.missing")
    assert info.value.location == Location("Kconfig.missing")
    assert info.value.message.startswith("cannot read the top Kconfig file: ")


def test_odd_lines_warn_and_never_raise(tmp_path: Path) -> None:
    tree = read_text(
        tmp_path,
        "config\n"  # 1
        "config A\n"  # 2
        '\tbool "a" if\n'  # 3
        "\tdepends on A &&\n"  # 4
        "\tdepends B\n"  # 5
        '\tdefault "unterminated\n'  # 6
        "menu\n"  # 7
        'menu "m"\n'  # 8
        "\tselect A\n"  # 9
        "if\n"  # 10
        "config B\n"  # 11
        "\tbool\n"  # 12
        "\tint\n"  # 13
        "config C\n"  # 14
        "\tdepends on A\n"  # 15
        'source "Kconfig"\n'  # 16
        "endmenu\n",  # 17
    )
    assert tree.warnings == (
        _warning(1, 1, "malformed 'config' line (expected one symbol name): line skipped"),
        _warning(3, 2, "malformed 'bool' line (expected a condition after 'if'): line skipped"),
        _warning(4, 13, "malformed expression (expected an operand at the end): read as the opaque atom kconfig:A &&"),
        _warning(5, 2, "malformed 'depends' line (expected 'on' and a condition): line skipped"),
        _warning(6, 2, "malformed 'default' line (unterminated string): line skipped"),
        _warning(7, 1, "malformed 'menu' line (expected one quoted title): line skipped"),
        _warning(8, 1, "'menu' is not closed by 'endmenu' in this file"),
        _warning(9, 2, "'select' is only valid in a config entry: line skipped"),
        _warning(10, 1, "malformed expression (expected a condition): read as the opaque atom kconfig:if"),
        _warning(10, 1, "'if' is not closed by 'endif' in this file"),
        _warning(13, 2, "ignoring type redefinition of B from bool to int"),
        _warning(14, 1, "C has no type: Kconfig reads it as n"),
        _warning(16, 1, "Kconfig is already being read (recursive source): skipped"),
        # The endmenu meets the open if.
        _warning(17, 1, "'endmenu' without a matching 'menu': line skipped"),
    )
    assert tree.options["A"].depends_on == Sym("kconfig:A &&")
    assert tree.options["B"].depends_on == Sym("kconfig:if")
    assert list(tree.options) == ["A", "B"]


def test_macros_assign_append_and_take_arguments(tmp_path: Path) -> None:
    tree = read_text(
        tmp_path,
        "A := x\n"
        "B = $(A)y\n"
        "A := z\n"
        "L := one\n"
        "L += two\n"
        "pick = $(2)\n"
        "config R\n"
        '\tdef_bool "$(B)" = "zy"\n'
        "config S\n"
        '\tdef_bool "$(L)" = "one two"\n'
        "config T\n"
        '\tdef_bool "$(pick,a,b)" = "b"\n'
        "config U\n"
        '\tdef_bool "\\$(A)" = "$(A)"\n'
        "$(warning-if,y,a warning)\n",
    )
    assert [tree.options[n].defaults[0].value for n in "RST"] == [TRUE, TRUE, TRUE]
    assert tree.options["U"].defaults[0].value == FALSE
    assert tree.warnings == ()


def test_undefined_symbols_read_as_n_and_compare_as_their_name(tmp_path: Path) -> None:
    tree = read_text(
        tmp_path,
        "config A\n"
        '\tbool "a"\n'
        "\tdepends on !GHOST || GHOST = y\n"
        "config B\n"
        "\tdef_bool GHOST = GHOST && A != GHOST\n"
        "config C\n"
        "\tdef_bool A = 2 || A = 0\n",
    )
    assert tree.options["A"].depends_on == TRUE
    assert tree.options["B"].defaults[0].value == TRUE
    assert tree.options["C"].defaults[0].value == Or(Cmp("A", "y"), Cmp("A", "n"))


def test_a_tree_of_many_files_reads_in_linear_time(tmp_path: Path) -> None:
    def build(root: Path, n: int) -> None:
        (root / "Kconfig").write_text('source "d/*/Kconfig"\n')
        for i in range(n):
            d = root / "d" / f"{i:05d}"
            d.mkdir(parents=True)
            body = "".join(
                f'config S{i}_{j}\n\tbool "s"\n\tdepends on S{i}_{j - 1} || \\\n\t  S0_0\n\thelp\n\t  text\n\n'
                for j in range(20)
            )
            (d / "Kconfig").write_text(body)

    sizes = (40, 160)
    for n in sizes:
        (tmp_path / str(n)).mkdir()
        build(tmp_path / str(n), n)
    best = dict.fromkeys(sizes, float("inf"))
    for _ in range(3):  # interleaved, so that a busy moment spoils both sizes or neither
        for n in sizes:
            start = time.perf_counter()
            tree = read_kconfig(tmp_path / str(n))
            best[n] = min(best[n], time.perf_counter() - start)
            assert len(tree.files) == n + 1 and len(tree.options) == 20 * n
    # Four times the files: about four times the time, far from sixteen.
    assert best[160] < 9 * best[40] + 0.05


def test_a_sourced_file_inherits_the_enclosing_if_and_menu(tmp_path: Path) -> None:
    tree = read_text(
        tmp_path,
        'config A\n\tbool "a"\nconfig B\n\tbool "b"\n'
        'if A\nmenu "m"\n\tdepends on B\nsource "sub.kconfig"\nendmenu\nendif\n',
        **{"sub.kconfig": 'config X\n\tbool "x"\n\tdepends on !B || A\n'},
    )
    assert tree.options["X"].depends_on == parse("(!B || A) && (B && A)")
    assert tree.options["X"].file == "sub.kconfig"
    assert tree.files == ("Kconfig", "sub.kconfig")


def test_symbols_that_are_not_modelled_give_no_warning_for_their_own_properties(tmp_path: Path) -> None:
    tree = read_text(
        tmp_path,
        "config CC_VERSION_TEXT\n"
        '\tstring\n\tdefault "$(shell,$(CC) --version)"\n'
        "config GCC_VERSION\n\tint\n\tdefault $(cc-version) if CC_IS_GCC\n\trange 0 $(x) if y\n",
    )
    assert dict(tree.others) == {"CC_VERSION_TEXT": ("string", _loc(1, 1)), "GCC_VERSION": ("int", _loc(4, 1))}
    assert tree.options == {} and tree.warnings == ()


def test_a_source_path_that_cannot_be_expanded_warns(tmp_path: Path) -> None:
    tree = read_text(tmp_path, 'orsource "none/*.kconfig"\nsource "$(shell,ls)/Kconfig"\n')
    assert tree.warnings == (_warning(2, 1, "cannot expand $(shell,ls) in a source path: line skipped"),)


def test_option_modules_names_the_symbol_m_stands_for_in_conditions(tmp_path: Path) -> None:
    tree = read_text(
        tmp_path,
        'config MOD\n\tbool "mod"\n\toption modules\nconfig T\n\ttristate "t"\n\tdepends on m || !m\n',
    )
    assert tree.options["T"].depends_on == parse("MOD || !MOD")


line_pieces = st.sampled_from(
    [
        *("config", "menuconfig", "choice", "endchoice", "comment", "menu", "endmenu", "if", "endif"),
        *("source", "rsource", "osource", "mainmenu", "bool", "tristate", "int", "def_bool", "prompt"),
        *("depends", "on", "select", "imply", "default", "range", "help", "option", "modules", "visible"),
        *("A", "B", "y", "n", "m", "&&", "||", "!", "=", "!=", "<", "(", ")", '"', "'", "\\", "#"),
        *("$(", "$(A)", "$(SRCARCH)", "$(success,x)", ":=", "+=", "X", "$(X)", '"K"', '"*"', "\t", "0x10", ","),
    ]
)
kconfig_noise = st.lists(st.lists(line_pieces, max_size=6).map(" ".join), max_size=15).map("\n".join)


@settings(max_examples=100, deadline=None)
@given(kconfig_noise, kconfig_noise)
def test_any_text_is_read_with_warnings_and_never_raises(top: str, other: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "Kconfig").write_text(top)
        (root / "K").write_text(other)
        tree = read_kconfig(root)
    closure(tree, tree.options)
    for w in tree.warnings:
        assert w.loc.file in tree.files and w.loc.line >= 1 and w.loc.col >= 1, w


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if (p / "Kconfig").is_file()))
def test_a_tree_kept_as_json_reads_back_equal(name: str) -> None:
    import json

    from ptfree_cli import kconfig_tree

    tree = read_kconfig(FIXTURES / name)
    again = kconfig_tree.load(json.loads(json.dumps(kconfig_tree.dump(tree))))
    assert dict(again.options) == dict(tree.options)
    assert dict(again.others) == dict(tree.others)
    assert (again.files, again.warnings) == (tree.files, tree.warnings)
