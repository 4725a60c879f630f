"""Writes docs/review.md, the worked example, running every command it shows.

    python3 docs/gen_review.py --write

tests/test_docs.py fails when docs/review.md differs from what this
produces, so the example cannot drift from ptfree's behaviour.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from click.testing import CliRunner

from ptfree_cli.cli import main

DOC = Path(__file__).parent / "review.md"

# (prose before the command, the command line); prose is Markdown.
STEPS: list[tuple[str, str]] = [
    (
        """# Reviewing the PT_RECLAIM series with ptfree

On 7 November 2024 Jann Horn reviewed the x86 patch of Qi Zheng's series
"synchronously scan and reclaim empty user PTE pages" (v2). He traced by hand
which function frees a page-table page reclaimed by `free_pte()`, and
concluded that "the only remaining case in which paravirt_tlb_remove_table()
does not use tlb_remove_table() with RCU delay is !CONFIG_PARAVIRT &&
!CONFIG_PT_RECLAIM". This page answers the same question with ptfree, on the
model of the series as posted (`series-v2`). Every output below is produced
by the command above it (`docs/gen_review.py`), and a test keeps it so.

## The trace, for every configuration at once

`ptfree tree` prints the reviewer's tree from `free_pte`, where PT_RECLAIM
is known to be set; each branch carries the condition under which it is
taken.""",
        "ptfree tree --model series-v2 --entry free_pte --format plain",
    ),
    (
        """From munmap/exit (`ptfree tree --model series-v2 --entry
free_pte_range`) the tree also has what the review's tree leaves out: the
`!CONFIG_PT_RECLAIM` branches, among them `native_tlb_remove_table` still
calling `tlb_remove_page` when PARAVIRT is set. So the review's conclusion
holds for PT_RECLAIM kernels only: PARAVIRT=y with PT_RECLAIM=n on bare
metal batches too, as `ptfree explain` shows guard by guard.""",
        "ptfree explain --model series-v2 --config HYPERVISOR_GUEST=y,PARAVIRT=y,SMP=y,PT_RECLAIM=n "
        "--backend native --entry free_pte_range tlb_batched",
    ),
    (
        """## The gate

`ptfree check` asks the question for every valid configuration and
runtime choice, and prints each way to a non-RCU free as the smallest
condition, an example configuration and the path with the model lines of
its guards. Reclaim (`free_pte`) always frees by RCU; teardown batches on
native without PT_RECLAIM and, without the batch page, sends an IPI (or,
on a uniprocessor kernel, frees at once).""",
        "ptfree check --model series-v2 --policy teardown-may-batch",
    ),
    (
        """## What the series changes, and what v4 changed again

`ptfree diff` puts the two kernels side by side: first the configurations
whose leaf classes change, then the calls, functions and Kconfig options
that moved.""",
        "ptfree diff v6.12 series-v2",
    ),
    (
        """The version that was merged (v6.14) drops the IPI that v2 still sends
before `call_rcu()` in the no-memory slowpath under PT_RECLAIM: the IPI
served GUP-fast, which the RCU grace period now covers.""",
        "ptfree diff series-v2 v6.14 --format plain",
    ),
]


def run(command: str) -> str:
    args = shlex.split(command)[1:]
    result = CliRunner().invoke(main, args, env={"COLUMNS": "80", "NO_COLOR": "1"}, catch_exceptions=False)
    return result.stdout


def render() -> str:
    parts = []
    for prose, command in STEPS:
        out = run(command).rstrip("\n")
        parts.append(f"{prose}\n\n```console\n$ {command}\n{out}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    text = render()
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(text)
    else:
        print(text, end="")
