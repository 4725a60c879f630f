"""`ptfree extract` end to end: one tiny C tree per pattern, exact guards, citations and warnings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git_commit, run

from ptfree_cli import guards, loader
from ptfree_cli.model import Model
from ptfree_cli.models import shipped_rules

ROOT = Path(__file__).parent.parent
FIX = "tests/fixtures/extract"
X86 = f"{FIX}/x86"
X86_ENTRIES = ["-e", "free_pte", "-e", "free_pte_range", "-e", "free_pmd_range", "-e", "free_pud_range"]


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Paths in the output are the --source given: run from the repository root.
    monkeypatch.chdir(ROOT)


def extract(pattern: str, *entries: str, annotations: str | None = None) -> tuple[str, str, Model]:
    """Extract fixture ``pattern`` with its own rules; (stdout, stderr, the model read back)."""
    args = ["extract", "-s", f"{FIX}/{pattern}", "--rules", f"{FIX}/{pattern}/rules.yaml", "-j", "1"]
    for e in entries:
        args += ["-e", e]
    if annotations:
        args += ["--annotations", f"{FIX}/{pattern}/{annotations}"]
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr, loader.parse_model(result.stdout, "extracted.yaml")


def calls(model: Model, function: str) -> list[tuple[str, str, str | None]]:
    """(target, guard, at) of each call of ``function``, in order."""
    return [(c.target, guards.format_expr(c.guard), c.at) for c in model.function_map[function].calls]


# -- 1. #if arms ---------------------------------------------------------------


def test_each_if_arm_of_a_definition_guards_its_calls() -> None:
    _, err, m = extract("ifdefs", "entry")
    assert err == ""
    assert calls(m, "release") == [
        ("put_page", "A", "mm/arms.c:5"),
        ("folio_put", "!A && B && (C || !D)", "mm/arms.c:10"),
        ("pagetable_free", "!(A || B && (C || !D)) && !E && F && G", "mm/arms.c:18"),
    ]
    assert m.function_map["release"].at == "mm/arms.c:3"
    assert calls(m, "entry") == [("release", "y", "mm/arms.c:27")]


def test_a_function_defined_in_every_arm_exists_unconditionally() -> None:
    # The disjunction of all the arms of an #if chain is a tautology: no guard.
    out, _, m = extract("ifdefs", "entry")
    assert m.function_map["release"].guard == guards.TRUE
    assert "A || !A" not in out


# -- 2. opaque #if ---------------------------------------------------------------


def test_an_opaque_if_becomes_an_atom_option() -> None:
    out, _, m = extract("opaque", "entry")
    assert calls(m, "entry") == [
        ("put_page", "ATOM_CONFIG_PGTABLE_LEVELS_4", "mm/levels.c:5"),
        ("folio_put", "y", "mm/levels.c:7"),
    ]
    o = m.option_map["ATOM_CONFIG_PGTABLE_LEVELS_4"]
    assert o.prompt == "opaque condition: CONFIG_PGTABLE_LEVELS > 4"
    assert o.note == (
        "mm/levels.c:4:5: kept as an atom (cpp:CONFIG_PGTABLE_LEVELS > 4); "
        "settle it under atoms: in an annotations file"
    )
    assert [o.name for o in m.options] == ["ATOM_CONFIG_PGTABLE_LEVELS_4"]
    assert '        if: "ATOM_CONFIG_PGTABLE_LEVELS_4"\n' in out


def test_an_opaque_if_is_warned_about_at_its_location() -> None:
    _, err, _ = extract("opaque", "entry")
    assert err == (
        "tests/fixtures/extract/opaque/mm/levels.c:4:5: warning: "
        "opaque #if condition kept as an atom: CONFIG_PGTABLE_LEVELS > 4\n"
    )


def test_an_atom_settled_by_annotations_leaves_no_atom_option() -> None:
    out, err, m = extract("opaque", "entry", annotations="atoms.yaml")
    assert err == ""
    assert "ATOM_" not in out
    assert [o.name for o in m.options] == ["X86_5LEVEL"]
    assert calls(m, "entry")[0] == ("put_page", "X86_5LEVEL", "mm/levels.c:5")


# -- 3. macros -------------------------------------------------------------------


def test_a_call_macro_is_followed_into_the_function_its_body_calls() -> None:
    _, err, m = extract("macros", "entry")
    assert err == ""
    assert calls(m, "entry") == [("my_free_tlb", "y", "mm/free.c:9")]
    f = m.function_map["my_free_tlb"]
    assert (f.at, f.note) == ("include/asm-generic/tlb.h:2", "defined as a function-like macro")
    assert calls(m, "my_free_tlb") == [("__my_free_tlb", "y", "include/asm-generic/tlb.h:2")]


def test_a_generic_fallback_is_guarded_by_not_the_arch_override() -> None:
    _, _, m = extract("macros", "entry")
    assert calls(m, "my_table_free") == [
        ("folio_put", "ARCH_X", "arch/x86/include/asm/tlb.h:6"),
        ("put_page", "!ARCH_X", "include/asm-generic/tlb.h:7"),
    ]
    assert m.function_map["my_table_free"].at == "arch/x86/include/asm/tlb.h:4"


# -- 4. Kbuild -------------------------------------------------------------------


def test_kbuild_guards_a_file_and_a_directory() -> None:
    _, err, m = extract("kbuild", "entry")
    assert err == ""
    assert guards.format_expr(m.function_map["foo_release"].guard) == "FOO"
    assert guards.format_expr(m.function_map["bar_release"].guard) == "BAR"
    assert guards.format_expr(m.function_map["entry"].guard) == "y"
    assert m.function_map["bar_release"].at == "drivers/bar/bar.c:2"
    assert calls(m, "entry") == [("foo_release", "y", "mm/core.c:4"), ("bar_release", "y", "mm/core.c:5")]


# -- 5. hooks --------------------------------------------------------------------


def test_a_hook_is_resolved_from_initializers_copies_and_assignments() -> None:
    out, err, m = extract("hooks", "entry")
    assert err == ""
    c = m.function_map["entry"].calls[0]
    assert (c.target, c.hook, c.at) == ("my_ops.mmu.free_table", True, "mm/ops.c:15")
    h = m.hook_map["my_ops.mmu.free_table"]
    assert h.at == "mm/ops.c:15"
    got = [(t.target, guards.format_expr(t.guard), t.installer, t.at, t.note) for t in h.targets]
    assert got == [
        ("hv_free_table", "HV && backend=hv", "hv_setup", "mm/hv.c:15", None),
        ("kvm_free_table", "backend=kvm", "kvm_init_ops", "mm/kvm.c:10", "if (kvm_has_feature())"),
        ("native_free_table", "backend=native", "my_ops", "mm/ops.c:10", None),
    ]
    assert '        note: "if (kvm_has_feature())"\n' in out
    assert [a.name for a in m.axes] == ["backend"]


# -- 6. runtime branches ---------------------------------------------------------


def test_mapped_branches_give_axis_guards_and_labels_and_unmapped_ones_a_note() -> None:
    _, err, m = extract("branches", "queue_table")
    assert err == (
        "tests/fixtures/extract/branches: warning: no Kconfig at the top of the tree: every option is left free\n"
    )
    got = [(c.target, guards.format_expr(c.guard), c.label, c.note, c.at) for c in m.function_map["queue_table"].calls]
    assert got == [
        ("put_page", "batch=slow", "no batch page", None, "mm/batch.c:5"),
        ("folio_put", "batch=fast", "batched", None, "mm/batch.c:7"),
        ("pagetable_free", "y", None, "if (urgent > 1)", "mm/batch.c:10"),
    ]


# -- 7. leaves, waits, deferrals, pruning ------------------------------------------


LEAF_ENTRIES = ("free_deferred", "free_after_ipi", "free_batched")


def test_call_rcu_becomes_a_deferred_edge_to_its_callback() -> None:
    out, _, m = extract("leaves", *LEAF_ENTRIES)
    c = m.function_map["free_deferred"].calls
    assert [(x.target, x.defer, x.at) for x in c] == [("table_rcu_cb", "rcu", "mm/leaves.c:9")]
    assert '      - call: table_rcu_cb\n        defer: rcu\n        at: "mm/leaves.c:9"\n' in out


def test_what_reaches_no_leaf_is_pruned_unless_kept() -> None:
    _, _, m = extract("leaves", *LEAF_ENTRIES)
    assert "nothing_to_free" not in m.function_map
    assert calls(m, "free_after_ipi") == [
        ("flush_kept", "y", "mm/leaves.c:25"),
        ("smp_call_function", "y", "mm/leaves.c:26"),
        ("put_page", "y", "mm/leaves.c:27"),
    ]
    assert m.function_map["flush_kept"].calls == ()
    assert m.function_map["smp_call_function"].ipi is True
    assert m.function_map["tlb_remove_page"].leaf == "tlb_batched"


def test_leaf_classes_of_an_extracted_model_in_path_and_check(tmp_path: Path) -> None:
    out = tmp_path / "leaves.yaml"
    args = ["extract", "-s", f"{FIX}/leaves", "--rules", f"{FIX}/leaves/rules.yaml", "-o", str(out)]
    assert run(*args, *[x for e in LEAF_ENTRIES for x in ("-e", e)]).exit_code == 0
    path = run("path", "-m", str(out), "--format", "plain")
    assert path.exit_code == 0
    assert path.stdout == (
        "free_deferred [frees via RCU]\n"
        "  table_rcu_cb [RCU callback]\n"
        "    put_page [leaf: rcu]\n"
        "\n"
        "free_after_ipi\n"
        "  flush_kept\n"
        "  smp_call_function [IPI broadcast, waits]\n"
        "  put_page [leaf: ipi_sync]\n"
        "\n"
        "free_batched\n"
        "  tlb_remove_page [leaf: tlb_batched]\n"
    )
    check = run("check", str(out))
    assert check.exit_code == 1
    assert "free_after_ipi (teardown) reaches ipi_sync\n" in check.stdout
    assert "free_batched (teardown) reaches tlb_batched\n" in check.stdout
    assert "  path    free_after_ipi -> put_page\n" in check.stdout


# -- 8. function pointers --------------------------------------------------------


def test_a_call_through_an_unknown_pointer_is_warned_and_skipped() -> None:
    _, err, m = extract("pointer", "entry")
    assert err == (
        "tests/fixtures/extract/pointer/mm/ptr.c:8:2: warning: "
        "entry() calls through a pointer no rule names: f->release; not followed\n"
    )
    assert calls(m, "entry") == [("put_page", "y", "mm/ptr.c:9")]


# -- 9. Kconfig ------------------------------------------------------------------


def test_kconfig_supplies_the_options_and_an_undefined_one_is_hidden() -> None:
    _, err, m = extract("kconfig", "entry")
    # Kconfig reads an undefined symbol as n: the call it guards is never
    # taken, and that is said (a partial tree may lack the Kconfig file).
    assert err == (
        "tests/fixtures/extract/kconfig/Kconfig: warning: GHOST is not defined in the Kconfig files read: read as n\n"
        "tests/fixtures/extract/kconfig/mm/kc.c:11:2: warning: "
        "entry -> folio_put is never taken: the tree's Kconfig fixes GHOST=n\n"
    )
    # A symbol with one value everywhere is no choice: not an option of the model.
    assert [o.name for o in m.options] == ["SMP", "TABLE_FREE", "RCU_FREE"]
    t = m.option_map["TABLE_FREE"]
    assert (t.prompt, guards.format_expr(t.depends_on), t.at) == ("free tables", "SMP", "mm/Kconfig:4")
    assert [s.symbol for s in t.selects] == ["RCU_FREE"]
    assert [guards.format_expr(d.value) for d in t.defaults] == ["y"]
    r = m.option_map["RCU_FREE"]
    assert (r.prompt, r.at) == (None, "mm/Kconfig:10")
    assert calls(m, "entry") == [
        ("put_page", "TABLE_FREE", "mm/kc.c:5"),
        ("pagetable_free", "RCU_FREE", "mm/kc.c:8"),
    ]


# -- the x86 fixture with the shipped rules ----------------------------------------


def _x86(*extra: str) -> str:
    result = run("extract", "-s", X86, *X86_ENTRIES, *extra)
    assert result.exit_code == 0, result.output
    return result.stdout


def _portable(text: str) -> str:
    # The model cites the shipped rules file by its absolute path (assume: 64BIT).
    return text.replace(str(shipped_rules()), "<shipped rules>")


def test_x86_extraction_matches_its_golden_file(golden: Callable[[str, str], None]) -> None:
    golden("extract-x86.yaml", _portable(_x86("-j", "1")))


def test_the_x86_model_is_read_by_check_tree_and_diff(tmp_path: Path) -> None:
    out = tmp_path / "x86.yaml"
    out.write_text(_x86())
    check = run("check", str(out))
    assert check.exit_code == 1
    assert check.stdout.startswith("model extracted (extracted: extracted by ptfree from x86), policy default: FAIL")
    tree = run("tree", "-m", str(out), "--format", "plain")
    assert tree.exit_code == 0
    assert tree.stdout.startswith("free_pte\n  pte_free_tlb\n    __pte_free_tlb\n")
    diff = run("diff", "series-v2", str(out))
    assert diff.exit_code == 0
    assert diff.stdout.startswith("ptfree diff series-v2 -> extracted\n")


def test_x86_output_is_the_same_with_one_or_two_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Worker processes parse and build the index (kept in the cache) even
    # for this small tree.
    from ptfree_cli import sourcetree, treeindex

    monkeypatch.setattr(sourcetree, "PARALLEL_MIN", 1)
    monkeypatch.setattr(treeindex, "SCAN_PARALLEL_MIN", 1)
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / X86, tree)
    for i in range(30):
        (tree / "include" / f"extra{i}.h").write_text(f"/* mentions free_pte */\nstatic int unused_{i};\n")
    base = ["extract", "-s", str(tree), *X86_ENTRIES]
    one, two = run(*base, "-j", "1"), run(*base, "-j", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout
    assert one.stderr == two.stderr
    assert _x86("-j", "1") == _x86("-j", "2")


def test_x86_output_does_not_depend_on_the_hash_seed() -> None:
    outs = set()
    for seed in ("0", "1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        p = subprocess.run(
            [sys.executable, "-m", "ptfree_cli", "extract", "-s", X86, *X86_ENTRIES, "-j", "2"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=False,
        )
        assert p.returncode == 0, p.stderr
        outs.add(p.stdout)
    assert len(outs) == 1
    assert outs == {_x86().encode()}


def test_output_refuses_an_existing_file_without_force(tmp_path: Path) -> None:
    out = tmp_path / "model.yaml"
    out.write_text("keep me\n")
    result = run("extract", "-s", X86, *X86_ENTRIES, "-o", str(out))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"{out}: error: exists; pass --force to replace it\n"
    assert out.read_text() == "keep me\n"


def test_output_with_force_replaces_the_file(tmp_path: Path) -> None:
    out = tmp_path / "model.yaml"
    out.write_text("keep me\n")
    result = run("extract", "-s", X86, *X86_ENTRIES, "-o", str(out), "--force")
    assert result.exit_code == 0
    assert result.stdout == ""
    # The name defaults to the file's stem.
    assert out.read_text() == _x86("--name", "model")


def test_json_format_lists_the_model_and_the_warnings() -> None:
    rules = f"{FIX}/pointer/rules.yaml"
    result = run("extract", "-s", f"{FIX}/pointer", "--rules", rules, "-e", "entry", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["warnings"] == [
        {
            "location": "mm/ptr.c:8:2",
            "message": "entry() calls through a pointer no rule names: f->release; not followed",
        }
    ]
    assert doc["source"] == f"{FIX}/pointer"
    assert doc["model"] == "extracted"
    assert doc["text"] == extract("pointer", "entry")[0]
    x86 = json.loads(run("extract", "-s", X86, *X86_ENTRIES, "--format", "json").stdout)
    assert x86["text"] == _x86()
    assert isinstance(x86["warnings"], list)


def test_an_undefined_entry_is_one_located_error() -> None:
    result = run("extract", "-s", X86, "-e", "no_such_function")
    assert result.exit_code == 2
    assert result.stderr == f"{X86}: error: entry no_such_function() is not defined in any C file of the tree\n"


def test_a_git_checkout_is_cited_by_git_describe(tmp_path: Path) -> None:
    tree = tmp_path / "linux"
    shutil.copytree(ROOT / X86, tree)
    git_commit(tree, tag="v9.9")
    result = run("extract", "-s", str(tree), "-e", "free_pte", "-j", "1")
    assert result.exit_code == 0, result.output
    m = loader.parse_model(result.stdout, "x.yaml")
    assert m.tree == "v9.9"
    assert m.version == "v9.9"
    # The commit, not the work tree: asking git whether the tree is dirty
    # would let it run the clean filters the tree's own config names.
    (tree / "mm" / "pt_reclaim.c").write_text((tree / "mm" / "pt_reclaim.c").read_text() + "\n")
    edited = loader.parse_model(run("extract", "-s", str(tree), "-e", "free_pte", "-j", "1").stdout, "x.yaml")
    assert edited.tree == "v9.9"


def test_the_three_ways_of_indexing_a_tree_give_the_same_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A small tree is scanned in memory; a big one is indexed by git grep, or
    # by worker processes where there is no git, into the cache.
    from ptfree_cli import treeindex

    tree = tmp_path / "linux"
    shutil.copytree(ROOT / X86, tree)
    args = ["extract", "-s", str(tree), *X86_ENTRIES, "-j", "2"]
    in_memory = run(*args).stdout
    monkeypatch.setattr(treeindex, "SCAN_PARALLEL_MIN", 1)
    grepped = run(*args).stdout
    monkeypatch.setenv("PTFREE_CACHE_DIR", str(tmp_path / "other-cache"))
    monkeypatch.setattr(treeindex, "git", lambda: None)
    scanned = run(*args).stdout
    assert in_memory == grepped == scanned
    assert "free_pte_range" in in_memory


def test_a_rule_naming_an_unknown_alternative_is_one_located_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "ptfree-rules: 1\nruntime:\n  backend:\n    alternatives:\n      native: {}\n"
        "installers:\n  pv_ops: backend=nativ\n"
    )
    result = run("extract", "-s", X86, "-e", "free_pte", "--rules", str(rules))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"{rules}:7:3: error: 'nativ' is not an alternative of backend (native)\n"


def _arms(tmp_path: Path, n: int) -> Path:
    """A tree whose entry() is defined in ``n`` #if/#elif arms (hostile input, made here)."""
    (tmp_path / "mm").mkdir()
    lines = []
    for i in range(n):
        lines += [("#if" if i == 0 else "#elif") + f" defined(CONFIG_A{i})", "void entry(void *p) { put_page(p); }"]
    (tmp_path / "mm" / "x.c").write_text("\n".join([*lines, "#endif"]) + "\n")
    (tmp_path / "rules.yaml").write_text("ptfree-rules: 1\nleaves:\n  put_page: free\n")
    return tmp_path


def test_a_guard_too_deep_for_a_model_becomes_one_atom_with_a_warning(tmp_path: Path) -> None:
    tree = _arms(tmp_path, 60)
    result = run("extract", "-s", str(tree), "-e", "entry", "--rules", str(tree / "rules.yaml"), "-j", "1")
    assert result.exit_code == 0, result.output
    assert f"{tree}/mm/x.c:100:0: warning: #if guard nested more than 48 deep: kept as one atom\n" in result.stderr
    assert f"{tree}/mm/x.c:2:0: warning: the guard of entry() is nested more than 48 deep: kept as one atom\n" in (
        result.stderr
    )
    model = loader.parse_model(result.stdout, "x.yaml")
    assert guards.format_expr(model.function_map["entry"].guard) == "ATOM_GUARD_OF_ENTRY"


def test_guards_nested_beyond_any_limit_are_one_located_error_not_a_traceback(tmp_path: Path) -> None:
    tree = _arms(tmp_path, 1200)
    result = run("extract", "-s", str(tree), "-e", "entry", "--rules", str(tree / "rules.yaml"), "-j", "1")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"{tree}/mm/x.c:2400:0: error: conditions nested too deep to model around here\n"


def test_a_device_or_fifo_named_like_c_is_never_opened(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / X86, tree)
    (tree / "mm" / "zero.c").symlink_to("/dev/zero")
    os.mkfifo(tree / "mm" / "fifo.h")
    result = run("extract", "-s", str(tree), "-e", "free_pte", "-j", "1")
    assert result.exit_code == 0, result.output
    for name in ("fifo.h", "zero.c"):
        assert f"{tree}/mm/{name}: warning: not read: not a regular file, or larger than 67108864 bytes\n" in (
            result.stderr
        )


def test_without_entries_the_walk_starts_at_every_rules_entry_the_tree_defines() -> None:
    result = run("extract", "-s", X86, "-j", "1")
    assert result.exit_code == 0, result.output
    model = loader.parse_model(result.stdout, "x.yaml")
    assert [(e.function, e.role, e.level) for e in model.entries] == [
        ("free_pte", "reclaim", "pte"),
        ("free_pte_range", "teardown", "pte"),
        ("free_pmd_range", "teardown", "pmd"),
        ("free_pud_range", "teardown", "pud"),
    ]


def test_a_tree_defining_none_of_the_rules_entries_is_one_error() -> None:
    result = run("extract", "-s", f"{FIX}/kbuild", "-j", "1")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{FIX}/kbuild: error: the tree defines none of the entries the rules name (free_pte, zap_pte_range, "
        "free_pte_range, free_pmd_range, free_pud_range, free_p4d_range)\n"
    )


def test_options_the_tree_fixes_are_folded_but_a_fixed_selector_still_selects() -> None:
    m = loader.parse_model(_x86(), "x.yaml")
    # 64BIT and X86_64 have one value on x86-64: not a choice, not an option.
    assert "64BIT" not in m.option_map and "X86_64" not in m.option_map
    # X86 is always y, and it selects MMU_GATHER_RCU_TABLE_FREE when PARAVIRT:
    # without it, PARAVIRT=y would allow a kernel with no RCU table free.
    x86 = m.option_map["X86"]
    assert [(s.symbol, guards.format_expr(s.cond)) for s in x86.selects] == [("MMU_GATHER_RCU_TABLE_FREE", "PARAVIRT")]
    from ptfree_cli import kconfig

    rows = kconfig.brute_force(m)
    assert rows and all(r["MMU_GATHER_RCU_TABLE_FREE"] == "y" for r in rows if r["PARAVIRT"] == "y")


# -- following the table --------------------------------------------------------


def test_the_walk_follows_the_table_and_nothing_else() -> None:
    _, err, m = extract("carriers", "teardown")
    assert err == ""
    # write_entry(e) hands over only an entry that points at the table: it is
    # not followed; count_entries gets no carrier at all; free_data frees a
    # page that does not carry the table, so it is no page-table free.
    # detach(g, e, &val) is followed (the gather) and gives val the entry;
    # t = table_of(val) carries the table into defer_table, whose call_rcu
    # defers it; sync_readers() has no arguments: it can still wait.
    assert [c.target for c in m.function_map["teardown"].calls] == ["sync_readers", "defer_table"]
    assert [c.target for c in m.function_map["defer_table"].calls] == ["table_rcu"]
    assert [c.target for c in m.function_map["table_rcu"].calls] == ["free_table"]
    assert m.function_map["sync_readers"].calls[0].target == "wait_for_readers"
    assert {"write_entry", "count_entries", "free_data", "detach"}.isdisjoint(m.function_map)


def test_an_if_on_a_number_is_what_the_trees_kconfig_computes() -> None:
    # PGTABLE_LEVELS is 5 with X86_5LEVEL, else 4 (X86_64 is always y here);
    # the rules' own value for '> 4' gives way to the tree's Kconfig.
    _, err, m = extract("levels", "entry")
    assert calls(m, "entry") == [("put_page", "X86_5LEVEL", "mm/levels.c:5"), ("folio_put", "y", "mm/levels.c:8")]
    assert err == (
        "tests/fixtures/extract/levels/mm/levels.c:11:2: warning: "
        "entry -> pagetable_free is never taken: the tree's Kconfig fixes X86_64=y\n"
    )
    assert [o.name for o in m.options] == ["X86_5LEVEL"]
