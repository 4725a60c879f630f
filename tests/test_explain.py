"""ptfree explain: the path a configuration takes, or the first guard that stops it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import DATA, run

ROOT = DATA.parent.parent


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


NATIVE = ["-m", "v6.12", "--config", "PARAVIRT=y,HYPERVISOR_GUEST=y,SMP=y", "--backend", "native"]


def test_explain_native_paravirt_reaching_tlb_remove_page_matches_its_golden_file(
    golden: Callable[[str, str], None],
) -> None:
    result = run("explain", *NATIVE, "-e", "free_pte_range", "tlb_remove_page")
    assert result.exit_code == 0
    golden("explain-v6.12-native-tlb_remove_page.txt", result.stdout)


def test_explain_takes_the_hook_path_and_names_the_blocking_guard_of_the_other() -> None:
    doc = json.loads(run("explain", *NATIVE, "-e", "free_pte_range", "tlb_remove_page", "--format", "json").stdout)
    assert doc["reached"] is True
    taken, blocked = doc["routes"]
    assert taken["taken"] and [h["callee"] for h in taken["hops"]][-2:] == [
        "native_tlb_remove_table",
        "tlb_remove_page",
    ]
    hop = blocked["hops"][blocked["blocked_at"]]
    assert (hop["caller"], hop["callee"], hop["guard"], hop["verdict"]) == (
        "paravirt_tlb_remove_table",
        "tlb_remove_page",
        "!PARAVIRT",
        "n",
    )
    assert doc["options"] == {"PARAVIRT": {"value": "y", "why": "set in the configuration"}}


def test_explain_unreachable_function_says_no_and_why() -> None:
    result = run("explain", "-m", "series-v2", "--config", "PT_RECLAIM=y,SMP=y", "-e", "free_pte", "tlb_remove_page")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[1] == "reached: no"
    assert "      if !PARAVIRT && !PT_RECLAIM: does not hold (PARAVIRT=n, PT_RECLAIM=y)" in lines


def test_explain_gives_kconfig_reasons_for_option_values() -> None:
    doc = json.loads(
        run(
            "explain",
            "-m",
            "series-v2",
            "--config",
            "SMP=n",
            "-e",
            "free_pte_range",
            "tlb_remove_page",
            "--format",
            "json",
        ).stdout
    )
    assert doc["options"]["PT_RECLAIM"] == {"value": "n", "why": "depends on ARCH_SUPPORTS_PT_RECLAIM && MMU && SMP"}


def test_explain_a_leaf_class_lists_the_runtime_choices_that_reach_it() -> None:
    doc = json.loads(
        run(
            "explain",
            "-m",
            "v6.12",
            "--config",
            "PARAVIRT=y,HYPERVISOR_GUEST=y,SMP=y",
            "-e",
            "free_pte_range",
            "ipi_sync",
            "--format",
            "json",
        ).stdout
    )
    assert doc["reached"] is True
    assert doc["runtime"] == [{"backend": "kvm", "batch": "slow"}]
    assert doc["routes"][0]["leaf"] == "ipi_sync"


def test_explain_unknown_target_is_a_usage_error() -> None:
    result = run("explain", "-m", "v6.12", "tlb_remove_pages")
    assert result.exit_code == 2
    assert result.stderr == (
        "ptfree: error: 'tlb_remove_pages' is neither a function of model v6.12 nor a leaf class; "
        "did you mean tlb_remove_page, tlb_remove_table, __tlb_remove_table?\n"
    )


def test_graph_dot_and_mermaid_through_the_cli() -> None:
    dot = run("graph", "-m", "series-v2", "-e", "free_pte").stdout
    assert "digraph ptfree {" in dot.splitlines()
    mermaid = run("graph", "-m", "series-v2", "-e", "free_pte", "--format", "mermaid").stdout
    assert "flowchart TD" in mermaid


def test_graph_png_needs_an_output_file() -> None:
    result = run("graph", "-m", "v6.12", "--format", "png")
    assert result.exit_code == 2
    assert result.stderr == "ptfree: error: --format png writes binary data: give --output FILE\n"
