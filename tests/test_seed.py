"""The first acceptance test: the review's call tree, reproduced from the series-v2 model."""

from __future__ import annotations

import re

from conftest import run

# The reviewer's trace (linux-mm, 7 Nov 2024), from ../shared/seed/README.md:
# (depth, name, annotations).  A review quoted as data, not kernel code.
SEED = [
    (0, "free_pte", []),
    (1, "pte_free_tlb", []),
    (2, "__pte_free_tlb", []),
    (3, "___pte_free_tlb", []),
    (4, "paravirt_tlb_remove_table", []),
    (5, "tlb_remove_table", ["!CONFIG_PARAVIRT, Xen PV, Hyper-V, KVM"]),
    (6, "[no-free-memory slowpath:]", []),
    (7, "tlb_table_invalidate", []),
    (7, "tlb_remove_table_one", []),
    (8, "tlb_remove_table_sync_one", ["does IPI for GUP-fast"]),
    (8, "__tlb_remove_table_one", ["frees via RCU"]),
    (6, "[fastpath:]", []),
    (7, "tlb_table_flush", []),
    (8, "tlb_remove_table_free", ["frees via RCU"]),
    (5, "native_tlb_remove_table", ["CONFIG_PARAVIRT on native"]),
    (6, "tlb_remove_table", ["see above"]),
]

# Calls the source makes that the seed elided, each named: (depth, name).
EXTRA = [
    (9, "smp_call_function"),  # the IPI inside tlb_remove_table_sync_one
    (9, "__tlb_remove_table_one_rcu"),  # x86's call_rcu callback (series v2)
    (10, "free_page_and_swap_cache"),  # ... which frees the page
    (8, "tlb_table_invalidate"),  # tlb_table_flush invalidates first
    (9, "tlb_remove_table_rcu"),  # the batch's call_rcu callback
    (10, "__tlb_remove_table_free"),
    (11, "__tlb_remove_table"),
    (12, "free_page_and_swap_cache"),
]

_LINE = re.compile(r"^(?P<indent> *)(?P<name>\[[^\]]*:\]|\S+)(?P<rest>.*)$")


def parse_tree(text: str) -> list[tuple[int, str, list[str]]]:
    """(depth, name, annotations) per line; a line indented four more than the
    line before it continues that line's annotations (wrapped at 80 columns)."""
    joined: list[tuple[int, str]] = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if joined and indent == joined[-1][0] + 4:
            joined[-1] = (joined[-1][0], joined[-1][1] + " " + line.strip())
        else:
            joined.append((indent, line))
    out: list[tuple[int, str, list[str]]] = []
    for indent, line in joined:
        m = _LINE.match(line)
        assert m, line
        assert indent % 2 == 0, line
        out.append((indent // 2, m.group("name"), re.findall(r"\[([^\]]*)\]", m.group("rest"))))
    return out


def test_series_v2_tree_from_free_pte_prints_the_seed_trace_line_for_line() -> None:
    result = run("tree", "--model", "series-v2", "--entry", "free_pte", "--format", "plain")
    assert result.exit_code == 0
    ours = parse_tree(result.output)
    extra: list[tuple[int, str]] = []
    i = 0
    for depth, name, notes in ours:
        if i < len(SEED) and (depth, name) == SEED[i][:2]:
            assert notes == SEED[i][2], f"annotations of {name} at depth {depth}"
            i += 1
        else:
            extra.append((depth, name))
    assert i == len(SEED), f"seed line not found in order: {SEED[i]}"
    assert extra == EXTRA


def test_series_v2_tree_lines_fit_in_a_mail() -> None:
    result = run("tree", "--model", "series-v2", "--format", "plain")
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_series_v2_tree_from_free_pte_range_shows_the_branches_the_seed_leaves_out() -> None:
    result = run("tree", "--model", "series-v2", "--entry", "free_pte_range", "--format", "plain")
    assert result.exit_code == 0
    ours = parse_tree(result.output)
    assert (5, "tlb_remove_page", ["!CONFIG_PARAVIRT && !CONFIG_PT_RECLAIM", "leaf: tlb_batched"]) in ours
    assert (5, "tlb_remove_table", ["!CONFIG_PARAVIRT && CONFIG_PT_RECLAIM, Xen PV, Hyper-V, KVM"]) in ours
    assert (6, "tlb_remove_page", ["!CONFIG_PT_RECLAIM", "leaf: tlb_batched"]) in ours
