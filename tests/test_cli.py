"""The commands end to end, in-process: exact output, exact exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import run

from ptfree_cli import models

MODELS = models.SHIPPED


@pytest.mark.parametrize("model", MODELS)
def test_tree_of_every_entry_matches_its_golden_file(model: str, golden: Callable[[str, str], None]) -> None:
    result = run("tree", "--model", model, "--format", "plain")
    assert result.exit_code == 0
    assert result.stderr == ""
    golden(f"tree-{model}.txt", result.stdout)


PATHS = {
    "v6.12-no-paravirt": ["-m", "v6.12", "--config", "PARAVIRT=n", "-e", "free_pte_range"],
    "v6.12-paravirt-open-backend": ["-m", "v6.12", "--config", "HYPERVISOR_GUEST=y,PARAVIRT=y,SMP=y,XEN=y"],
    "series-v2-reclaim": ["-m", "series-v2", "--config", "PT_RECLAIM=y,SMP=y", "-e", "free_pte"],
    "series-v2-paravirt-native-no-reclaim": [
        "-m",
        "series-v2",
        "--config",
        "HYPERVISOR_GUEST=y,PARAVIRT=y,SMP=y,PT_RECLAIM=n",
        "--backend",
        "native",
        "-e",
        "free_pte_range",
    ],
    "v6.14-kvm-slowpath": [
        "-m",
        "v6.14",
        "--config",
        "HYPERVISOR_GUEST=y,PARAVIRT=y,SMP=y,PT_RECLAIM=n",
        "--backend",
        "kvm",
        "--batch",
        "slow",
        "-e",
        "free_pte_range",
    ],
    "default-model": [],
}


@pytest.mark.parametrize("case", sorted(PATHS))
def test_path_matches_its_golden_file(case: str, golden: Callable[[str, str], None]) -> None:
    result = run("path", "--format", "plain", *PATHS[case])
    assert result.exit_code == 0
    golden(f"path-{case}.txt", result.stdout)


def leaves(args: list[str]) -> dict[str, list[str]]:
    result = run("path", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return {e["entry"]: e["leaves"] for e in json.loads(result.stdout)["entries"]}


def test_v6_12_native_without_paravirt_frees_batched_after_the_tlb_flush() -> None:
    assert leaves(["-m", "v6.12", "--config", "PARAVIRT=n", "-e", "free_pte_range"]) == {
        "free_pte_range": ["tlb_batched"]
    }


def test_v6_12_xen_pv_slowpath_sends_an_ipi_then_frees() -> None:
    args = ["-m", "v6.12", "--config", "HYPERVISOR_GUEST=y,PARAVIRT=y,SMP=y,XEN=y", "--backend", "xen_pv"]
    assert leaves([*args, "--batch", "slow", "-e", "free_pte_range"]) == {"free_pte_range": ["ipi_sync"]}
    assert leaves([*args, "--batch", "fast", "-e", "free_pte_range"]) == {"free_pte_range": ["rcu"]}


def test_series_v2_paravirt_on_native_without_pt_reclaim_still_batches() -> None:
    # The review's conclusion missed this case: PARAVIRT=y, PT_RECLAIM=n on
    # native also ends in tlb_remove_page.
    args = ["-m", "series-v2", "--config", "HYPERVISOR_GUEST=y,PARAVIRT=y,SMP=y,PT_RECLAIM=n"]
    assert leaves([*args, "--backend", "native", "-e", "free_pte_range"]) == {"free_pte_range": ["tlb_batched"]}


def test_series_v2_reclaim_frees_by_rcu_on_every_backend_and_batch_path() -> None:
    assert leaves(["-m", "series-v2", "--config", "PT_RECLAIM=y,SMP=y", "-e", "free_pte"]) == {"free_pte": ["rcu"]}


def test_v6_14_without_pt_reclaim_on_kvm_slowpath_is_ipi_sync() -> None:
    args = ["-m", "v6.14", "--config", "HYPERVISOR_GUEST=y,PARAVIRT=y,SMP=y,PT_RECLAIM=n", "--backend", "kvm"]
    assert leaves([*args, "--batch", "slow", "-e", "free_pte_range"]) == {"free_pte_range": ["ipi_sync"]}


def test_v7_0_frees_every_table_by_rcu_whatever_the_configuration() -> None:
    assert set(map(tuple, leaves(["--config", "SMP=n,PARAVIRT=y,HYPERVISOR_GUEST=y"]).values())) == {("rcu",)}


def test_path_without_model_uses_the_newest_shipped_model() -> None:
    result = run("path", "--format", "json")
    assert json.loads(result.stdout)["model"] == models.SHIPPED[-1]


def test_entry_missing_in_a_configuration_says_which_guard_excludes_it() -> None:
    result = run("path", "-m", "series-v2", "--config", "PT_RECLAIM=n", "-e", "free_pte", "--format", "plain")
    assert result.exit_code == 0
    assert result.stdout == "free_pte [not in this configuration: needs PT_RECLAIM]\n"


def test_kconfig_override_is_applied_with_a_warning_naming_the_dependency() -> None:
    result = run("path", "-m", "series-v2", "--config", "PT_RECLAIM=y,SMP=n", "-e", "free_pte", "--format", "plain")
    assert result.exit_code == 0
    assert result.stderr == (
        "<--config>:1:1: warning: PT_RECLAIM=y overridden by Kconfig: PT_RECLAIM=n because depends on "
        "ARCH_SUPPORTS_PT_RECLAIM && MMU && SMP, which is n (ARCH_SUPPORTS_PT_RECLAIM=y, MMU=y, SMP=n)\n"
    )
    assert result.stdout == "free_pte [not in this configuration: needs PT_RECLAIM]\n"


def test_backend_not_available_in_the_configuration_is_a_usage_error() -> None:
    result = run("path", "-m", "v6.12", "--config", "PARAVIRT=n", "--backend", "kvm")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "ptfree: error: --backend: backend=kvm is not available in this configuration: it needs KVM_GUEST && SMP\n"
    )


def test_unknown_backend_lists_the_alternatives() -> None:
    result = run("path", "-m", "v6.12", "--backend", "vmware")
    assert result.exit_code == 2
    assert result.stderr == (
        "ptfree: error: --backend: 'vmware' is not an alternative of backend (native, xen_pv, hyperv, kvm)\n"
    )


def test_backend_on_a_model_without_backends_is_ignored_with_a_warning() -> None:
    result = run("path", "-m", "v6.15", "--backend", "kvm", "-e", "free_pte_range", "--format", "plain")
    assert result.exit_code == 0
    assert result.stderr == (
        "warning: model v6.15 has no runtime axis 'backend' (nothing on its path depends on it); --backend ignored\n"
    )


def test_unknown_entry_is_a_usage_error_naming_the_entries() -> None:
    result = run("tree", "-m", "v6.12", "-e", "free_pte")
    assert result.exit_code == 2
    assert result.stderr == (
        "ptfree: error: 'free_pte' is not an entry point of model v6.12; "
        "did you mean free_pte_range, free_pud_range, free_pmd_range?\n"
    )


def test_json_output_of_tree_is_stable_and_complete(golden: Callable[[str, str], None]) -> None:
    result = run("tree", "-m", "series-v2", "-e", "free_pte", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["model"] == "series-v2"
    assert doc["entries"][0]["leaves"] == ["rcu"]
    golden("tree-series-v2-free_pte.json", result.stdout)


def test_rich_format_draws_a_tree_with_the_leaf_summary() -> None:
    result = run("path", "-m", "v6.12", "--config", "PARAVIRT=n", "-e", "free_pte_range", "--format", "rich")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "free_pte_range"
    assert lines[1] == "└── pte_free_tlb"
    assert lines[-1] == "leaves: tlb_batched"


def test_models_lists_every_shipped_model_and_marks_the_default() -> None:
    result = run("models", "--format", "plain")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == list(MODELS)
    assert result.stdout.splitlines()[-1].endswith("(default)")


def test_models_as_json() -> None:
    doc = json.loads(run("models", "--format", "json").stdout)
    assert [m["name"] for m in doc["models"]] == list(MODELS)
    assert [m["default"] for m in doc["models"]] == [False] * (len(MODELS) - 1) + [True]


def test_version() -> None:
    from ptfree_cli import __version__

    result = run("--version")
    assert result.stdout == f"ptfree, version {__version__}\n"


def test_color_never_and_always_override_the_terminal_test() -> None:
    plain = run("--color", "never", "path", "-m", "v6.12", "--config", "PARAVIRT=n", "-e", "free_pte_range")
    assert plain.stdout.splitlines()[1] == "  pte_free_tlb"
    rich = run("--color", "always", "path", "-m", "v6.12", "--config", "PARAVIRT=n", "-e", "free_pte_range")
    assert "\x1b[" in rich.stdout
    assert "└── pte_free_tlb" in rich.stdout


class _Tty:
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "rich"),
        ({"TERM": "dumb"}, "plain"),
        ({"NO_COLOR": "1"}, "plain"),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, "rich"),
    ],
)
def test_a_terminal_gets_rich_output_unless_dumb_or_no_color(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    from ptfree_cli import cli

    for name in ("TERM", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdout", _Tty())
    assert cli._pick_format(None) == expected


def test_force_color_gets_the_rich_tree_even_when_piped() -> None:
    result = run(
        "path",
        "-m",
        "v6.12",
        "--config",
        "PARAVIRT=n",
        "-e",
        "free_pte_range",
        env={"FORCE_COLOR": "1", "NO_COLOR": ""},
    )
    assert "└── pte_free_tlb" in result.stdout


def test_progress_shows_on_a_terminal_only_once_the_work_has_run_a_second() -> None:
    import io

    from rich.console import Console

    from ptfree_cli.render import Progress

    now = [0.0]
    term = Console(file=io.StringIO(), force_terminal=True, width=100)
    shown = Progress(after=1.0, console=term, clock=lambda: now[0])
    shown("listing")
    assert shown.status is None  # a quick step: nothing
    now[0] = 1.5
    shown("following the table")
    assert shown.status is not None
    shown.close()
    assert shown.status is None
    pipe = Progress(after=1.0, console=Console(file=io.StringIO(), force_terminal=False), clock=lambda: 5.0)
    pipe("following the table")
    assert pipe.status is None  # not a terminal: never
