"""ptfree diff: what a series changes, in behaviour first, then structure."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import DATA, run

ROOT = DATA.parent.parent


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(("old", "new"), [("v6.12", "series-v2"), ("series-v2", "v6.14"), ("v6.14", "v6.15")])
def test_diff_plain_matches_its_golden_file(old: str, new: str, golden: Callable[[str, str], None]) -> None:
    result = run("diff", old, new)
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    golden(f"diff-{old}-{new}.txt", result.stdout)


def test_series_v2_makes_batched_and_ipi_frees_rcu_under_pt_reclaim() -> None:
    doc = json.loads(run("diff", "v6.12", "series-v2", "--format", "json").stdout)
    moves = {(t["old"][0], t["new"][0], t["condition"]) for t in doc["transitions"] if t["entry"] == "free_pte_range"}
    assert moves == {
        ("ipi_sync", "rcu", "PT_RECLAIM && backend!=native && batch=slow"),
        ("tlb_batched", "rcu", "PT_RECLAIM && backend=native && batch=fast"),
        ("tlb_batched", "rcu", "PT_RECLAIM && backend=native && batch=slow"),
    }
    assert doc["entries_added"] == ["free_pte"]


def test_v6_14_drops_the_slowpath_ipi_under_pt_reclaim() -> None:
    doc = json.loads(run("diff", "series-v2", "v6.14", "--format", "json").stdout)
    for entry in ("free_pte", "free_pte_range"):
        assert {"entry": entry, "old": ["rcu", "IPI"], "new": ["rcu"], "condition": "PT_RECLAIM && batch=slow"} in doc[
            "transitions"
        ]
    removed = [c for c in doc["calls"] if c["new"] is None]
    assert {"caller": "tlb_remove_table_one", "callee": "tlb_remove_table_sync_one"} in [
        {"caller": c["caller"], "callee": c["callee"]} for c in removed
    ]
    added = next(c for c in doc["calls"] if c["old"] is None and c["callee"] == "tlb_remove_table_sync_one")
    assert added["caller"] == "__tlb_remove_table_one"
    assert added["new"]["guard"] == "!PT_RECLAIM"


def test_diff_markdown_for_a_review_comment(golden: Callable[[str, str], None]) -> None:
    result = run("diff", "series-v2", "v6.14", "--format", "markdown")
    assert result.exit_code == 0
    golden("diff-series-v2-v6.14.md", result.stdout)


def test_exit_code_says_whether_the_models_differ() -> None:
    assert run("diff", "v7.0", "v7.0", "--exit-code").exit_code == 0
    assert run("diff", "v7.0", "v7.2", "--exit-code").exit_code == 1
    assert run("diff", "v7.0", "v7.2").exit_code == 0


def test_identical_models_say_so() -> None:
    lines = run("diff", "v6.15", "v6.15").stdout.splitlines()
    assert lines[-1] == "no difference"


def test_option_definitions_that_change_are_listed_with_both_sides() -> None:
    doc = json.loads(run("diff", "v7.0", "v7.2", "--format", "json").stdout)
    assert doc["transitions"] == []
    added = [(c["kind"], c["name"], c["what"]) for c in doc["changes"]]
    assert ("function", "tlb_remove_table_sync_rcu", "added") in added
    assert ("function", "synchronize_rcu", "added") in added


def test_unknown_model_is_a_usage_error() -> None:
    result = run("diff", "v6.12", "v6.13")
    assert result.exit_code == 2
    assert result.stderr.startswith("ptfree: error: unknown model 'v6.13'")


def test_hook_targets_pair_by_installer_not_by_position(tmp_path: object) -> None:
    # The same four targets of pv_ops.mmu.tlb_remove_table, written in
    # another order: no call changed.
    from pathlib import Path

    text = (ROOT / "configs" / "v6.12.yaml").read_text()
    head, targets = text.split("    targets:\n", 1)
    blocks = ["      - call:" + b for b in targets.split("      - call:")[1:]]
    shuffled = head + "    targets:\n" + "".join(blocks[::-1])
    path = Path(str(tmp_path)) / "shuffled.yaml"
    path.write_text(shuffled.replace("model: v6.12", "model: shuffled"))
    doc = json.loads(run("diff", "v6.12", str(path), "--format", "json").stdout)
    assert doc["calls"] == []
    # A target whose installer changes is that target, changed.
    moved = shuffled.replace("installer: kvm_guest_init", "installer: kvm_setup_pv_tlb_flush")
    path.write_text(moved.replace("model: v6.12", "model: shuffled"))
    doc = json.loads(run("diff", "v6.12", str(path), "--format", "json").stdout)
    assert doc["calls"] == []
