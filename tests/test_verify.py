"""`ptfree verify`: a hand-written model against the fixture tree, exact lines and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run

ROOT = Path(__file__).parent.parent
X86 = "tests/fixtures/extract/x86"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_series_v2_agrees_with_the_fixture_tree() -> None:
    result = run("verify", "-m", "series-v2", "-s", X86, "-j", "1")
    assert result.exit_code == 0
    assert result.stdout == f"series-v2 agrees with the source at {X86}\n"
    assert result.stderr == ""


def test_v6_14_disagrees_and_names_both_sides_of_each_call() -> None:
    result = run("verify", "-m", "v6.14", "-s", X86, "-j", "1")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert (
        "configs/v6.14.yaml:394:9: -: call __tlb_remove_table_one -> tlb_remove_table_sync_one: "
        "in the model, not in the source (taken when PT_RECLAIM=n)"
    ) in lines
    assert (
        f"-: {X86}/mm/mmu_gather.c:62: call tlb_remove_table_one -> tlb_remove_table_sync_one: "
        "in the source, not in the model (taken wherever both reach tlb_remove_table_one)"
    ) in lines
    assert lines[-1] == f"v6.14 and the source at {X86} disagree: 10 differences"


def test_a_changed_guard_in_a_copy_of_the_tree_is_found(tmp_path: Path) -> None:
    tree = tmp_path / "x86"
    shutil.copytree(ROOT / X86, tree)
    pv = tree / "arch/x86/kernel/paravirt.c"
    pv.write_text(pv.read_text().replace("#ifdef CONFIG_PT_RECLAIM", "#ifndef CONFIG_PT_RECLAIM"))
    result = run("verify", "-m", "series-v2", "-s", str(tree), "-j", "1")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    prefix = (
        f"configs/series-v2.yaml:287:9: {tree}/arch/x86/kernel/paravirt.c:10: "
        "call native_tlb_remove_table -> tlb_remove_page: guards differ (only the model takes it when "
    )
    assert [x for x in lines if x.startswith(prefix)] == [prefix + "PARAVIRT=y, PT_RECLAIM=n)"]
    assert (
        f"configs/series-v2.yaml:289:9: {tree}/arch/x86/kernel/paravirt.c:8: "
        "call native_tlb_remove_table -> tlb_remove_table: guards differ"
    ) in result.stdout
    assert lines[-1] == f"series-v2 and the source at {tree} disagree: 19 differences"


def test_json_format_parses() -> None:
    ok = json.loads(run("verify", "-m", "series-v2", "-s", X86, "--format", "json").stdout)
    assert ok == {"differences": [], "model": "series-v2", "ok": True, "source": X86, "tree": X86}
    bad = run("verify", "-m", "v6.14", "-s", X86, "--format", "json")
    assert bad.exit_code == 1
    doc = json.loads(bad.stdout)
    assert doc["ok"] is False
    assert len(doc["differences"]) == 10


def test_a_bad_source_is_one_located_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run("verify", "-m", "series-v2", "-s", str(missing))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"{missing}: error: not a directory\n"
