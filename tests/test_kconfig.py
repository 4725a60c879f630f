"""Kconfig semantics, checked against kconfiglib as the oracle.

Every model's options are written out as Kconfig text, read back by
kconfiglib, and for every assignment of the prompt symbols the value of every
symbol must be the value :func:`ptfree_cli.kconfig.resolve` computes.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Mapping
from pathlib import Path

import kconfiglib
import pytest
from conftest import CONFIGS
from hypothesis import given, settings
from hypothesis import strategies as st

from ptfree_cli import kconfig
from ptfree_cli.errors import Location, ModelError
from ptfree_cli.guards import TRUE, And, Cmp, Const, Expr, Not, Or, Sym
from ptfree_cli.loader import load_model, parse_model
from ptfree_cli.model import Default, Model, Option, Select

# -- the oracle -----------------------------------------------------------


def kconfig_expr(expr: Expr) -> str:
    """``expr`` in Kconfig syntax, every operand parenthesised (our own printer,
    so that a bug in guards.format_expr cannot hide one here)."""
    match expr:
        case Const(value=value):
            return "y" if value else "n"
        case Sym(name=name):
            return name
        case Cmp(name=name, value=value, equal=equal):
            return f"{name}{'=' if equal else '!='}{value}"
        case Not(operand=operand):
            return f"!({kconfig_expr(operand)})"
        case And(left=left, right=right):
            return f"({kconfig_expr(left)}) && ({kconfig_expr(right)})"
        case Or(left=left, right=right):
            return f"({kconfig_expr(left)}) || ({kconfig_expr(right)})"
    raise AssertionError(f"not an expression: {expr!r}")


def _if(cond: Expr) -> str:
    return "" if cond == TRUE else f" if {kconfig_expr(cond)}"


def kconfig_text(model: Model) -> str:
    """The model's options as Kconfig.

    A tristate option is written as ``bool``: ptfree reads ``m`` as ``y``
    (see the kconfig module's docstring), which is what a bool symbol does, and
    without a ``modules`` symbol kconfiglib would treat the tristate as a bool
    anyway.  ``def_bool`` needs no case: the loader folds it into the defaults.
    """
    lines: list[str] = []
    for o in model.options:
        lines.append(f"config {o.name}")
        if o.prompt is None:
            lines.append("\tbool")
        else:
            prompt = o.prompt.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'\tbool "{prompt}"{_if(o.prompt_if)}')
        if o.depends_on != TRUE:
            lines.append(f"\tdepends on {kconfig_expr(o.depends_on)}")
        lines.extend(f"\tselect {s.symbol}{_if(s.cond)}" for s in o.selects)
        lines.extend(f"\tdefault {kconfig_expr(d.value)}{_if(d.cond)}" for d in o.defaults)
        lines.append("")
    return "\n".join(lines)


def load_kconfig(model: Model, directory: Path) -> kconfiglib.Kconfig:
    path = directory / "Kconfig"
    path.write_text(kconfig_text(model))
    kconf = kconfiglib.Kconfig(str(path), warn=False)
    assert [sym.name for sym in kconf.unique_defined_syms] == [o.name for o in model.options]
    return kconf


def kconfiglib_values(kconf: kconfiglib.Kconfig, user: Mapping[str, bool]) -> dict[str, bool]:
    for name, value in user.items():
        assert kconf.syms[name].set_value(2 if value else 0)
    # A bool symbol is 0 or 2; anything else (1, m) is a KeyError here.
    return {sym.name: {0: False, 2: True}[sym.tri_value] for sym in kconf.unique_defined_syms}


def assert_agrees_with_kconfiglib(model: Model) -> int:
    """Compare every symbol for every assignment of the prompt symbols;
    return how many assignments were compared."""
    prompts = [o.name for o in model.options if o.prompt is not None]
    with tempfile.TemporaryDirectory() as tmp:
        kconf = load_kconfig(model, Path(tmp))
        count = 0
        for bits in itertools.product((False, True), repeat=len(prompts)):
            user = dict(zip(prompts, bits, strict=True))
            ours = dict(kconfig.resolve(model, user).values)
            assert ours == kconfiglib_values(kconf, user), f"user values {user}"
            count += 1
    return count


def tiny(options_yaml: str) -> Model:
    """A model with the given ``options:`` body (indented two spaces) and one function."""
    text = (
        "ptfree: 1\nmodel: tiny\nkernel:\n  version: v0\n"
        f"options:\n{options_yaml}"
        "functions:\n  f:\n    file: f.c\nentries:\n  f:\n    role: teardown\n"
    )
    return parse_model(text, "tiny.yaml")


# -- the oracle helper itself -------------------------------------------------


def test_kconfig_text_writes_prompts_dependencies_selects_and_defaults() -> None:
    model = tiny(
        '  A:\n    prompt: say "a"\n    type: tristate\n    selects:\n      - symbol: H\n        if: B=n\n'
        "  B:\n    prompt: b\n    prompt_if: '!A'\n    depends_on: A || C\n  C:\n    prompt: c\n"
        "  H:\n    def_bool: A && !B\n    defaults:\n      - value: y\n        if: B\n"
    )
    assert kconfig_text(model) == (
        'config A\n\tbool "say \\"a\\""\n\tselect H if B=n\n\n'
        'config B\n\tbool "b" if !(A)\n\tdepends on (A) || (C)\n\n'
        'config C\n\tbool "c"\n\n'
        "config H\n\tbool\n\tdefault (A) && (!(B))\n\tdefault y if B\n"
    )


# -- shipped models -------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_model_resolves_as_kconfiglib_does(path: Path) -> None:
    model = load_model(path)
    prompts = sum(o.prompt is not None for o in model.options)
    assert assert_agrees_with_kconfiglib(model) == 2**prompts


# -- tiny scenarios -------------------------------------------------------------


def test_select_overrides_an_unmet_dependency() -> None:
    model = tiny(
        "  GATE:\n    prompt: gate\n"
        "  LEAF:\n    prompt: leaf\n    depends_on: GATE\n"
        "  TOP:\n    prompt: top\n    selects: [LEAF]\n"
    )
    assert_agrees_with_kconfiglib(model)
    res = kconfig.resolve(model, {"GATE": False, "LEAF": False, "TOP": True})
    assert dict(res.values) == {"GATE": False, "LEAF": True, "TOP": True}
    assert res.reasons["LEAF"] == kconfig.Reason("select", "selected by TOP")


def test_first_default_whose_condition_holds_wins() -> None:
    model = tiny(
        "  A:\n    prompt: a\n"
        "  B:\n    prompt: b\n"
        "  H:\n    defaults:\n"
        "      - value: n\n        if: '!A'\n"
        "      - value: B\n        if: A=y\n"
        "      - value: y\n"
    )
    assert_agrees_with_kconfiglib(model)
    assert [kconfig.resolve(model, {"A": a, "B": b}).values["H"] for a in (False, True) for b in (False, True)] == [
        False,
        False,
        False,
        True,
    ]


def test_def_bool_with_an_expression_takes_its_value() -> None:
    model = tiny("  A:\n    prompt: a\n  B:\n    prompt: b\n  H:\n    def_bool: A && !B\n")
    assert_agrees_with_kconfiglib(model)
    res = kconfig.resolve(model, {"A": True, "B": False})
    assert res.values["H"] is True
    assert res.reasons["H"] == kconfig.Reason("default", "default A && !B")


def test_prompt_if_hides_the_prompt_and_the_default_applies() -> None:
    model = tiny("  A:\n    prompt: a\n  B:\n    prompt: b\n    prompt_if: A\n    def_bool: y\n")
    assert_agrees_with_kconfiglib(model)
    res = kconfig.resolve(model, {"A": False, "B": False})
    assert dict(res.values) == {"A": False, "B": True}
    assert res.warnings == ("warning: B=n overridden by Kconfig: B=y because its prompt is hidden (A is n)",)
    assert kconfig.resolve(model, {"A": True, "B": False}).values["B"] is False


def test_hidden_symbol_ignores_a_user_value() -> None:
    model = tiny("  A:\n    prompt: a\n  H:\n    depends_on: A\n")
    assert_agrees_with_kconfiglib(model)
    with tempfile.TemporaryDirectory() as tmp:
        kconf = load_kconfig(model, Path(tmp))
        assert kconfiglib_values(kconf, {"A": True, "H": True}) == {"A": True, "H": False}
    res = kconfig.resolve(model, {"A": True, "H": True})
    assert dict(res.values) == {"A": True, "H": False}
    assert res.warnings == (
        "warning: H=y overridden by Kconfig: H=n because H has no prompt, so Kconfig sets it (no default applies)",
    )


# -- random small option sets -----------------------------------------------------


def exprs_over(names: list[str]) -> st.SearchStrategy[Expr]:
    leaves: st.SearchStrategy[Expr] = st.builds(Const, st.booleans())
    if names:
        leaves = st.one_of(
            leaves,
            st.builds(Sym, st.sampled_from(names)),
            st.builds(Cmp, st.sampled_from(names), st.sampled_from(("y", "n", "m")), st.booleans()),
        )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(st.builds(Not, inner), st.builds(And, inner, inner), st.builds(Or, inner, inner)),
        max_leaves=4,
    )


@st.composite
def option_sets(draw: st.DrawFn) -> Model:
    """3 to 6 options; every expression mentions only earlier options and a
    select only targets a later one, so there is no dependency loop."""
    names = [f"S{i}" for i in range(draw(st.integers(3, 6)))]
    selected: set[str] = set()
    options: list[Option] = []
    for i, name in enumerate(names):
        earlier = names[:i]
        expr = exprs_over(earlier)
        depends_on = draw(st.one_of(st.just(TRUE), expr))
        can_select = True
        targets = (
            draw(st.lists(st.sampled_from(names[i + 1 :]), max_size=2)) if can_select and i + 1 < len(names) else []
        )
        selects = tuple(Select(t, draw(st.one_of(st.just(TRUE), expr))) for t in targets)
        selected.update(targets)
        prompt = draw(st.booleans())
        options.append(
            Option(
                name=name,
                prompt=name.lower() if prompt else None,
                prompt_if=draw(st.one_of(st.just(TRUE), expr)) if prompt else TRUE,
                depends_on=depends_on,
                selects=selects,
                defaults=tuple(
                    Default(draw(expr), draw(st.one_of(st.just(TRUE), expr))) for _ in range(draw(st.integers(0, 2)))
                ),
            )
        )
    return Model("random", "random", "v0", "random.yaml", tuple(options), (), (), (), ())


@settings(max_examples=60, deadline=None)
@given(option_sets())
def test_random_option_sets_resolve_as_kconfiglib_does(model: Model) -> None:
    assert_agrees_with_kconfiglib(model)


# -- warnings and errors --------------------------------------------------------


def test_user_value_against_an_unmet_dependency_warns_with_the_dependency() -> None:
    model = load_model(CONFIGS / "series-v2.yaml")
    res = kconfig.resolve(model, {"PT_RECLAIM": True, "SMP": False})
    assert res.values["PT_RECLAIM"] is False
    assert res.warnings == (
        "warning: PT_RECLAIM=y overridden by Kconfig: PT_RECLAIM=n because depends on "
        "ARCH_SUPPORTS_PT_RECLAIM && MMU && SMP, which is n (ARCH_SUPPORTS_PT_RECLAIM=y, MMU=y, SMP=n)",
    )


def test_user_value_against_a_select_warns_with_the_selector_and_its_origin() -> None:
    model = load_model(CONFIGS / "v6.12.yaml")
    user = {"PARAVIRT": False, "HYPERV": True, "HYPERVISOR_GUEST": True}
    res = kconfig.resolve(model, user, {"PARAVIRT": Location(".config", 7, 1)})
    assert res.values["PARAVIRT"] is True
    assert res.warnings == (
        ".config:7:1: warning: PARAVIRT=n overridden by Kconfig: PARAVIRT=y because selected by HYPERV",
    )


def test_user_values_kconfig_keeps_give_no_warning() -> None:
    model = load_model(CONFIGS / "v6.12.yaml")
    assert kconfig.resolve(model, {"PARAVIRT": True, "HYPERVISOR_GUEST": True, "SMP": False}).warnings == ()


def test_recursive_dependency_is_a_located_model_error() -> None:
    with pytest.raises(ModelError) as info:
        tiny("  A:\n    prompt: a\n    depends_on: B\n  B:\n    prompt: b\n    depends_on: A\n")
    assert info.value.message == "recursive Kconfig dependency: A -> B -> A"
    assert info.value.location == Location("tiny.yaml", 6, 3)
    assert info.value.key == "options.A"


def test_select_of_an_option_one_depends_on_is_a_recursive_dependency() -> None:
    with pytest.raises(ModelError) as info:
        tiny("  A:\n    prompt: a\n  B:\n    prompt: b\n    depends_on: A\n    selects: [A]\n")
    assert str(info.value) == "tiny.yaml:6:3: options.A: recursive Kconfig dependency: A -> B -> A"


def test_an_option_selected_past_its_unmet_dependency_does_not_select_its_own_targets() -> None:
    model = tiny(
        "  GATE:\n    prompt: gate\n"
        "  MID:\n    depends_on: GATE\n    selects: [LEAF]\n"
        "  TOP:\n    prompt: top\n    selects: [MID]\n"
        "  LEAF:\n"
    )
    assert dict(kconfig.resolve(model, {"GATE": False, "TOP": True}).values) == {
        "GATE": False,
        "MID": True,
        "TOP": True,
        "LEAF": False,
    }
    assert_agrees_with_kconfiglib(model)
