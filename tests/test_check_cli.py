"""ptfree check and ptfree matrix through the CLI: exit codes, every format, files written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DATA, run

ROOT = DATA.parent.parent


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_check_passes_on_the_newest_model_with_exit_0() -> None:
    result = run("check")
    assert result.exit_code == 0
    assert result.stdout.startswith("model v7.2 (")
    assert result.stdout.splitlines()[0].endswith("policy default: ok")


@pytest.mark.parametrize("model", ["v6.12", "series-v2"])
def test_check_text_report_matches_its_golden_file(model: str, golden: Callable[[str, str], None]) -> None:
    result = run("check", "-m", model)
    assert result.exit_code == 1
    golden(f"check-{model}.txt", result.stdout)


def test_check_of_several_models_fails_when_one_fails() -> None:
    result = run("check", "-m", "v7.2", "-m", "v6.15", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [(r["model"], r["ok"]) for r in doc["results"]] == [("v7.2", True), ("v6.15", False)]


def test_all_models_checks_every_shipped_model_in_order() -> None:
    from ptfree_cli.models import SHIPPED

    doc = json.loads(run("check", "--all-models", "--format", "json").stdout)
    assert [r["model"] for r in doc["results"]] == list(SHIPPED)


def test_teardown_may_batch_policy_is_found_by_name() -> None:
    result = run("check", "-m", "v6.14", "-p", "teardown-may-batch", "--format", "json")
    classes = {v["leaf_class"] for v in json.loads(result.stdout)["results"][0]["violations"]}
    assert classes == {"ipi_sync", "direct"}


def test_json_report_spells_out_the_path_and_its_guard_locations() -> None:
    doc = json.loads(run("check", "-m", "series-v2", "--format", "json").stdout)
    v = next(v for v in doc["results"][0]["violations"] if v["leaf_class"] == "tlb_batched")
    assert v["condition"] == "!PT_RECLAIM && backend=native"
    assert v["path"][-1] == "tlb_remove_page"
    assert v["guards"] == [
        {
            "caller": "paravirt_tlb_remove_table",
            "callee": "tlb_remove_page",
            "guard": "!PARAVIRT && !PT_RECLAIM",
            "location": {"file": "configs/series-v2.yaml", "line": 274, "col": 9},
            "source": "arch/x86/mm/pgtable.c",
        }
    ]


def test_sarif_report_validates_against_the_official_2_1_0_schema() -> None:
    import jsonschema

    result = run("check", "--all-models", "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]

    def model_of(r: dict[str, object]) -> str:
        flow = r["codeFlows"][0]["threadFlows"][0]["locations"]  # type: ignore[index]
        return str(flow[-1]["location"]["physicalLocation"]["artifactLocation"]["uri"])

    # Oldest model first.
    assert model_of(results[0]) == "configs/v6.1.yaml"
    first = next(r for r in results if model_of(r) == "configs/v6.12.yaml")
    assert first["ruleId"] == "ptfree/forbidden-leaf"
    flow = first["codeFlows"][0]["threadFlows"][0]["locations"]
    assert flow[0]["location"]["message"]["text"] == "free_pte_range"
    assert flow[-1]["location"]["physicalLocation"]["artifactLocation"]["uri"] == "configs/v6.12.yaml"
    assert flow[-1]["location"]["logicalLocations"] == [
        {
            "name": "free_page_and_swap_cache",
            "kind": "function",
            "fullyQualifiedName": "mm/swap_state.c:free_page_and_swap_cache",
        }
    ]
    assert first["relatedLocations"][-1] == {
        "id": len(flow) - 1,
        "physicalLocation": {"artifactLocation": {"uri": "arch/x86/include/asm/tlb.h", "uriBaseId": "KERNEL_SRC"}},
        "message": {"text": "call to free_page_and_swap_cache"},
    }


def test_junit_report_validates_against_the_junit_schema_with_a_case_per_entry_and_class() -> None:
    import xml.etree.ElementTree as ET

    import xmlschema

    result = run("check", "-m", "v6.15", "--format", "junit")
    assert result.exit_code == 1
    xmlschema.XMLSchema(DATA / "junit-10.xsd").validate(result.stdout)
    root = ET.fromstring(result.stdout)
    cases = root.findall("./testsuite/testcase")
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert "free_pte_range [SMP=y PT_RECLAIM=n MMU_GATHER_TABLE_FREE=y MMU_GATHER_RCU_TABLE_FREE=y batch=slow]" in (
        failed
    )
    assert root.get("failures") == str(len(failed))
    assert all("PT_RECLAIM=y" not in name for name in failed)


def test_github_format_prints_workflow_commands_at_the_model_lines() -> None:
    result = run("check", "-m", "v6.15", "-p", "teardown-may-batch", "--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "::error file=configs/v6.15.yaml,line=156,col=3,title=ptfree check v6.15::"
        "free_pte_range (teardown) reaches ipi_sync when SMP && !PT_RECLAIM && batch=slow via "
        "free_pte_range -> pte_free_tlb -> __pte_free_tlb -> ___pte_free_tlb -> tlb_remove_ptdesc -> "
        "tlb_remove_table -> tlb_remove_table_one -> __tlb_remove_table_one -> __tlb_remove_table -> "
        "pagetable_dtor_free -> pagetable_free"
    )
    assert len(lines) == 6
    assert all(line.startswith("::error file=configs/v6.15.yaml,") for line in lines)


def test_github_format_escapes_what_workflow_commands_reserve() -> None:
    from ptfree_cli import reports

    assert reports._escape_data("50%\nnext") == "50%25%0Anext"
    assert reports._escape_property("a:b,c") == "a%3Ab%2Cc"


def test_emit_config_writes_one_fragment_per_violation(tmp_path: Path) -> None:
    out = tmp_path / "fragments"
    result = run("check", "-m", "v6.15", "--emit-config", str(out), "--format", "json")
    assert result.exit_code == 1
    names = sorted(p.name for p in out.iterdir())
    assert names[:2] == [
        "v6.15-free_pmd_range-forbidden-direct.config",
        "v6.15-free_pmd_range-forbidden-ipi_sync.config",
    ]
    assert len(names) == len(json.loads(result.stdout)["results"][0]["violations"])
    text = (out / "v6.15-free_pte_range-forbidden-ipi_sync.config").read_text()
    assert "CONFIG_SMP=y\n" in text
    assert "# CONFIG_PT_RECLAIM is not set\n" in text
    assert "# runtime batch=slow (no-free-memory slowpath)" in text


def test_emit_config_refuses_to_overwrite_without_force_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "fragments"
    out.mkdir()
    existing = out / "v6.15-free_pte_range-forbidden-ipi_sync.config"
    existing.write_text("mine\n")
    result = run("check", "-m", "v6.15", "--emit-config", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"{existing}: error: exists; pass --force to replace it\n"
    assert sorted(p.name for p in out.iterdir()) == [existing.name]
    assert existing.read_text() == "mine\n"
    assert run("check", "-m", "v6.15", "--emit-config", str(out), "--force").exit_code == 1
    assert existing.read_text() != "mine\n"


def test_output_writes_the_report_to_a_file_and_nothing_to_stdout(tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    result = run("check", "-m", "v7.2", "--format", "sarif", "--output", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads(target.read_text())["version"] == "2.1.0"


def write_policy(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return str(path)


def test_waiver_naming_an_unknown_option_is_a_located_error(tmp_path: Path) -> None:
    policy = write_policy(
        tmp_path,
        "ptfree-policy: 1\nwaivers:\n  - if: SMPP\n    allow: direct\n    reason: up\n",
    )
    result = run("check", "-m", "v6.15", "-p", policy)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{policy}:3:9: error: waivers[0].if: unknown option or runtime axis 'SMPP' in model v6.15; did you mean SMP?\n"
    )


def test_waiver_without_a_reason_is_a_located_error(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, "ptfree-policy: 1\nwaivers:\n  - if: SMP\n    allow: direct\n    reason: ''\n")
    result = run("check", "-m", "v6.15", "-p", policy)
    assert result.exit_code == 2
    assert result.stderr == f"{policy}:5:13: error: waivers[0].reason: a waiver needs a reason\n"


def test_policy_with_an_unknown_class_is_a_located_error(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, "ptfree-policy: 1\nroles:\n  teardown:\n    allow: [rcu, batched]\n")
    result = run("check", "-p", policy)
    assert result.exit_code == 2
    assert result.stderr == (
        f"{policy}:4:18: error: roles.teardown.allow[1]: 'batched' is not one of: rcu, ipi_sync, tlb_batched, direct\n"
    )


def test_policy_naming_an_unknown_entry_is_a_located_error(tmp_path: Path) -> None:
    policy = write_policy(
        tmp_path, "ptfree-policy: 1\nwaivers:\n  - if: y\n    allow: direct\n    reason: r\n    entries: [free_pte]\n"
    )
    result = run("check", "-m", "v7.2", "-p", policy)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{policy}:3:5: error: waivers[0].entries: 'free_pte' is not an entry point")


def test_stale_waiver_fails_the_check(tmp_path: Path) -> None:
    policy = write_policy(tmp_path, "ptfree-policy: 1\nwaivers:\n  - if: '!SMP'\n    allow: direct\n    reason: up\n")
    result = run("check", "-m", "v7.2", "-p", policy)
    assert result.exit_code == 1
    assert f"{policy}:3:5: stale waiver: allows direct where nothing reaches it any more (up)" in result.stdout


def test_unknown_policy_name_is_a_usage_error() -> None:
    result = run("check", "-p", "strict")
    assert result.exit_code == 2
    assert result.stderr == "ptfree: error: unknown policy 'strict'; shipped policies: default, teardown-may-batch\n"


def test_matrix_plain_matches_its_golden_file(golden: Callable[[str, str], None]) -> None:
    result = run("matrix", "-m", "series-v2", "--format", "plain")
    assert result.exit_code == 0
    golden("matrix-series-v2.txt", result.stdout)


def test_matrix_marks_exactly_the_rows_with_a_leaf_other_than_rcu() -> None:
    lines = run("matrix", "-m", "v6.15", "--format", "plain").stdout.splitlines()[1:]
    marked = [line for line in lines if line.startswith("!")]
    assert len(marked) == 2
    assert all("rcu" not in line.split()[-1] or "ipi" in line or "direct" in line for line in marked)


def test_matrix_csv_has_a_header_and_one_line_per_row() -> None:
    text = run("matrix", "-m", "v7.2", "--format", "csv").stdout
    lines = text.splitlines()
    assert lines[0].split(",")[-4:] == ["zap_pte_range", "free_pte_range", "free_pmd_range", "free_pud_range"]
    assert all(line.endswith("rcu,rcu,rcu,rcu") for line in lines[1:])


def test_matrix_json_agrees_with_check() -> None:
    doc = json.loads(run("matrix", "-m", "v6.12", "--format", "json").stdout)["matrices"][0]
    unsafe = [r for r in doc["rows"] if not r["rcu_only"]]
    check = json.loads(run("check", "-m", "v6.12", "--format", "json").stdout)["results"][0]
    assert bool(unsafe) == (not check["ok"])
    assert {c for r in unsafe for c in r["leaves"]["free_pte_range"]} - {"rcu"} == {
        v["leaf_class"] for v in check["violations"] if v["entry"] == "free_pte_range"
    }


def test_check_takes_model_files_as_arguments_as_pre_commit_passes_them() -> None:
    result = run("check", "configs/v7.0.yaml", "configs/v7.2.yaml", "--format", "json")
    assert result.exit_code == 0
    assert [r["model"] for r in json.loads(result.stdout)["results"]] == ["v7.0", "v7.2"]


def test_pre_commit_hooks_run_as_declared() -> None:
    import shlex

    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"ptfree-validate", "ptfree-check"}
    files = ["configs/v7.0.yaml", "configs/v7.2.yaml"]
    for hook in hooks.values():
        argv = shlex.split(hook["entry"])
        assert argv[0] == "ptfree"
        result = run(*argv[1:], *files)
        assert result.exit_code == 0, (hook["id"], result.output)
    assert run("check", "configs/v6.15.yaml").exit_code == 1
