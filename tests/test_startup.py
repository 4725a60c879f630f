"""Start-up stays cheap: --help and shell completion load neither networkx nor yaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

PROBE = """
import sys
from ptfree_cli.cli import main
try:
    main(prog_name="ptfree")
except SystemExit:
    pass
heavy = sorted(m for m in ("networkx", "yaml", "rich") if m in sys.modules)
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
"""


def probe(args: list[str], env: dict[str, str] | None = None) -> tuple[str, str]:
    full = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=full, cwd=ROOT, check=False
    )
    heavy = [line for line in proc.stderr.splitlines() if line.startswith("HEAVY:")]
    assert heavy, proc.stderr
    return proc.stdout, heavy[-1][len("HEAVY:") :]


@pytest.mark.parametrize("args", [["--help"], ["path", "--help"], ["tree", "--help"], ["--version"]])
def test_help_imports_neither_networkx_nor_yaml(args: list[str]) -> None:
    out, heavy = probe(args)
    assert out
    assert heavy == ""


def test_completing_a_model_name_imports_neither_networkx_nor_yaml() -> None:
    out, heavy = probe(
        [], {"_PTFREE_COMPLETE": "bash_complete", "COMP_WORDS": "ptfree path --model v6.1", "COMP_CWORD": "3"}
    )
    assert out.split() == ["plain,v6.1", "plain,v6.12", "plain,v6.14", "plain,v6.15"]
    assert heavy == ""


def test_running_path_imports_networkx_and_yaml_but_not_rich_when_piped() -> None:
    _, heavy = probe(["path", "--config", "PT_RECLAIM=y", "--format", "plain"])
    assert heavy == "networkx,yaml"


def test_completing_an_entry_reads_the_model_without_yaml() -> None:
    out, heavy = probe(
        [],
        {"_PTFREE_COMPLETE": "bash_complete", "COMP_WORDS": "ptfree path -m v6.12 --entry free_p", "COMP_CWORD": "5"},
    )
    assert out.split() == ["plain,free_pte_range", "plain,free_pmd_range", "plain,free_pud_range"]
    assert heavy == ""


def test_completing_an_inline_config_offers_option_names() -> None:
    out, heavy = probe(
        [],
        {
            "_PTFREE_COMPLETE": "bash_complete",
            "COMP_WORDS": "ptfree path -m v6.12 --config SMP=y,PARA",
            "COMP_CWORD": "5",
        },
    )
    assert out.split() == ["plain,SMP=y,PARAVIRT="]
    assert heavy == ""
