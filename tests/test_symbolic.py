"""The symbolic engine against brute force: the same valid environments, always."""

from __future__ import annotations

import pytest
from conftest import CONFIGS
from hypothesis import given, settings
from strategies import random_models

from ptfree_cli import kconfig, symbolic
from ptfree_cli.errors import ModelError
from ptfree_cli.loader import load_model, parse_model
from ptfree_cli.model import Model
from ptfree_cli.symbolic import Symbolic


def names(model: Model) -> list[str]:
    return [o.name for o in model.options] + [a.name for a in model.axes]


def assert_same_valid_set(model: Model) -> None:
    sym = Symbolic(model)
    cols = names(model)
    brute = {tuple(env[n] for n in cols) for env in kconfig.brute_force(model)}
    assert sym.points(sym.top, cols) == brute
    assert sym.count(sym.top) == len(brute)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_model_has_the_valid_set_brute_force_finds(path: object) -> None:
    assert_same_valid_set(load_model(path))  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None)
@given(random_models())
def test_random_model_has_the_valid_set_brute_force_finds(model: Model) -> None:
    assert_same_valid_set(model)


def test_pick_returns_the_least_environment_in_model_order() -> None:
    model = load_model(CONFIGS / "v6.12.yaml")
    sym = symbolic.space(model)
    env = sym.pick(sym.meet(sym.top, sym.cond(parse("backend=kvm"))))
    assert env is not None
    assert env["backend"] == "kvm"
    # KVM needs KVM_GUEST and SMP; every other prompt stays n where it can.
    assert (env["SMP"], env["KVM_GUEST"], env["XEN"], env["HYPERV"]) == ("y", "y", "n", "n")


def parse(text: str):  # type: ignore[no-untyped-def]
    from ptfree_cli.guards import parse as p

    return p(text)


def test_model_without_valid_configuration_names_the_clashing_constraints() -> None:
    text = """\
ptfree: 1
model: clash
kernel: {version: v0}
options:
  XEN:
    def_bool: n
  SMP:
    prompt: smp
runtime:
  backend:
    alternatives:
      xen_pv: {if: XEN}
entries: {f: {role: teardown}}
functions: {f: {file: f.c}}
"""
    with pytest.raises(ModelError) as info:
        parse_model(text, "clash.yaml")
    assert str(info.value) == (
        "clash.yaml:5:3: no valid configuration: these constraints clash: the Kconfig rules of XEN; "
        "axis backend takes one alternative; backend=xen_pv needs XEN"
    )
