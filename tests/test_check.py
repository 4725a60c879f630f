"""ptfree_cli.check: symbolic reachability equals brute force; verdicts, waivers, matrix."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CONFIGS
from hypothesis import given, settings
from strategies import random_models

from ptfree_cli import check, kconfig, symbolic, walk
from ptfree_cli.guards import evaluate, parse
from ptfree_cli.loader import load_model
from ptfree_cli.model import LEAF_CLASSES, Model
from ptfree_cli.policy import Policy, RoleRule, Waiver
from ptfree_cli.spaces import Explicit


def columns(model: Model) -> list[str]:
    return [o.name for o in model.options] + [a.name for a in model.axes]


def brute_leaves(model: Model) -> dict[tuple[str, tuple[str, ...]], set[str]]:
    """(entry, environment) -> leaf classes, walking one environment at a time."""
    cols = columns(model)
    out = {}
    for env in kconfig.brute_force(model):
        values = {o.name: env[o.name] == "y" for o in model.options}
        runtime = {a.name: env[a.name] for a in model.axes}
        for tree in walk.one_configuration(model, values, runtime):
            out[(tree.entry.function, tuple(env[c] for c in cols))] = set(tree.leaves)
    return out


def assert_symbolic_reach_is_brute_force(model: Model) -> None:
    sym = symbolic.Symbolic(model)
    cols = columns(model)
    expected = brute_leaves(model)
    for entry in model.entries:
        sets = check.reach(model, sym, entry.function)
        points = {c: sym.points(sym.meet(sym.top, sets[c]), cols) for c in LEAF_CLASSES}
        for (name, env), classes in expected.items():
            if name == entry.function:
                assert {c for c in LEAF_CLASSES if env in points[c]} == classes, (name, env)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_model_reaches_what_walking_each_configuration_reaches(path: Path) -> None:
    assert_symbolic_reach_is_brute_force(load_model(path))


@settings(max_examples=80, deadline=None)
@given(random_models())
def test_random_model_reaches_what_walking_each_configuration_reaches(model: Model) -> None:
    assert_symbolic_reach_is_brute_force(model)


@settings(max_examples=40, deadline=None)
@given(random_models())
def test_check_gives_the_same_verdict_on_the_brute_force_space(model: Model) -> None:
    envs = kconfig.brute_force(model)
    by_bdd = check.check(model, space=symbolic.Symbolic(model))
    by_list = check.check(model, space=Explicit(model, envs))

    def meaning(result: check.CheckResult) -> list[tuple[str, str, frozenset[int]]]:
        # Two minimal conditions may differ in text (two options equal in
        # every valid configuration are interchangeable): compare the
        # environments each one describes, within the entry's own.
        out = []
        for v in result.violations:
            guard = model.function_map[v.entry.function].guard
            where = frozenset(i for i, e in enumerate(envs) if evaluate(guard, e) and evaluate(parse(v.condition), e))
            out.append((v.entry.function, v.leaf_class, where))
        return out

    assert meaning(by_bdd) == meaning(by_list)


def verdict(name: str, policy: Policy = check.DEFAULT) -> list[tuple[str, str, str]]:
    result = check.check(load_model(CONFIGS / f"{name}.yaml"), policy)
    return [(v.entry.function, v.leaf_class, v.condition) for v in result.violations]


TEARDOWN_MAY_BATCH = Policy("teardown-may-batch", {"reclaim": RoleRule(), "teardown": RoleRule(("rcu", "tlb_batched"))})


def test_v6_12_batches_on_native_and_sends_ipis_on_pv_backends_without_memory() -> None:
    assert verdict("v6.12")[:3] == [
        ("free_pte_range", "ipi_sync", "SMP && backend!=native && batch=slow"),
        ("free_pte_range", "tlb_batched", "backend=native"),
        ("free_pte_range", "direct", "!SMP && backend!=native && batch=slow"),
    ]


def test_series_v2_reclaim_entry_is_always_rcu() -> None:
    assert [v for v in verdict("series-v2") if v[0] == "free_pte"] == []


def test_series_v2_teardown_batches_only_without_pt_reclaim_on_native() -> None:
    assert ("free_pte_range", "tlb_batched", "!PT_RECLAIM && backend=native") in verdict("series-v2")


def test_v6_15_ipi_only_without_pt_reclaim_and_memory() -> None:
    assert verdict("v6.15")[:2] == [
        ("free_pte_range", "ipi_sync", "SMP && !PT_RECLAIM && batch=slow"),
        ("free_pte_range", "direct", "!SMP && batch=slow"),
    ]


@pytest.mark.parametrize("name", ["v7.0", "v7.2"])
def test_newest_models_free_every_table_by_rcu(name: str) -> None:
    assert verdict(name) == []


def test_teardown_may_batch_policy_leaves_only_the_slowpath_violations_in_v6_12() -> None:
    assert {v[1] for v in verdict("v6.12", TEARDOWN_MAY_BATCH)} == {"ipi_sync", "direct"}


def test_waiver_allows_its_class_where_its_condition_holds_and_reports_what_it_waived() -> None:
    waiver = Waiver(parse("!SMP"), "direct", "UP: no other CPU walks the tables")
    policy = Policy("up", {"reclaim": RoleRule(), "teardown": RoleRule(("rcu", "tlb_batched", "ipi_sync"))}, (waiver,))
    result = check.check(load_model(CONFIGS / "v6.15.yaml"), policy)
    assert result.ok
    assert [(w.entry.function, w.leaf_class, w.condition) for w in result.waived][:1] == [
        ("free_pte_range", "direct", "!SMP && batch=slow")
    ]
    assert result.stale == ()


def test_waiver_that_matches_nothing_is_reported_stale() -> None:
    waiver = Waiver(parse("!SMP"), "tlb_batched", "nothing batches in v7.2")
    result = check.check(load_model(CONFIGS / "v7.2.yaml"), Policy("p", waivers=(waiver,)))
    assert result.ok
    assert result.stale == (waiver,)


def test_waiver_for_other_models_neither_applies_nor_goes_stale() -> None:
    waiver = Waiver(parse("y"), "tlb_batched", "old kernels", models=("v6.12",))
    result = check.check(load_model(CONFIGS / "v6.14.yaml"), Policy("p", waivers=(waiver,)))
    assert result.stale == ()
    assert any(v.leaf_class == "tlb_batched" for v in result.violations)


def test_required_class_missing_somewhere_is_a_violation() -> None:
    policy = Policy("p", {"reclaim": RoleRule(("rcu",)), "teardown": RoleRule(LEAF_CLASSES, ("ipi_sync",))})
    result = check.check(load_model(CONFIGS / "v6.15.yaml"), policy)
    missing = [(v.entry.function, v.kind, v.condition) for v in result.violations]
    assert missing[0] == ("free_pte_range", "missing", "!SMP || PT_RECLAIM || batch=fast")


def test_violation_path_ends_at_the_offending_leaf_with_the_model_locations_of_its_calls() -> None:
    result = check.check(load_model(CONFIGS / "series-v2.yaml"))
    v = next(v for v in result.violations if v.leaf_class == "tlb_batched")
    assert [s.function for s in v.path] == [
        "free_pte_range",
        "pte_free_tlb",
        "__pte_free_tlb",
        "___pte_free_tlb",
        "paravirt_tlb_remove_table",
        "tlb_remove_page",
    ]
    locs = check.guard_locations(v.path)
    assert len(locs) == 5
    assert all(loc.file.endswith("series-v2.yaml") and loc.line > 0 for loc in locs)


def test_fragment_sets_the_prompts_and_names_the_runtime_choices() -> None:
    model = load_model(CONFIGS / "series-v2.yaml")
    v = next(v for v in check.check(model).violations if v.leaf_class == "tlb_batched")
    text = check.fragment(model, v)
    assert "# CONFIG_PT_RECLAIM is not set\n" in text
    assert "# runtime backend=native (native)" in text
    values = {line.split("=")[0][len("CONFIG_") :] for line in text.splitlines() if line.startswith("CONFIG_")}
    assert "PT_RECLAIM" not in values


def test_matrix_rows_are_the_valid_combinations_of_what_changes_a_path() -> None:
    m = check.matrix(load_model(CONFIGS / "v6.15.yaml"))
    assert m.columns == ("SMP", "PT_RECLAIM", "MMU_GATHER_TABLE_FREE", "MMU_GATHER_RCU_TABLE_FREE", "batch")
    assert len(m.rows) == len(set(r.values for r in m.rows))
    unsafe = [r.values for r in m.rows if not r.safe]
    assert unsafe == [("n", "n", "y", "y", "slow"), ("y", "n", "y", "y", "slow")]
