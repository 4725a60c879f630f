"""Call-graph export (ptfree_cli.export): DOT and Mermaid text, images drawn by Graphviz's dot."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA

from ptfree_cli import config, export, kconfig
from ptfree_cli.errors import PtfreeError
from ptfree_cli.loader import load_model
from ptfree_cli.model import Model
from ptfree_cli.models import locate

MISSING = (
    "Graphviz's dot is not installed; install the graphviz package (apt install graphviz) "
    "to draw svg or png, or export DOT or Mermaid text, which need no Graphviz"
)
# The configuration of tests/golden/path-v6.12-paravirt-open-backend.txt.
V6_12_CONFIG = "HYPERVISOR_GUEST=y,PARAVIRT=y,SMP=y,XEN=y"


def model(name: str) -> Model:
    return load_model(locate(name))


def v6_12_config() -> tuple[Model, dict[str, bool]]:
    m = model("v6.12")
    user = config.parse_inline(m, V6_12_CONFIG)
    return m, dict(kconfig.resolve(m, user.values).values)


def series_v2_dot() -> str:
    return export.dot(model("series-v2"), ["free_pte"])


def v6_12_dot() -> str:
    m, values = v6_12_config()
    return export.dot(m, (), values, {})


def v6_12_mermaid() -> str:
    m, values = v6_12_config()
    return export.mermaid(m, (), values, {})


# --- golden files -----------------------------------------------------------


def test_whole_model_dot_of_series_v2_from_free_pte_matches_its_golden_file(
    golden: Callable[[str, str], None],
) -> None:
    golden("graph-series-v2-free_pte.dot", series_v2_dot())


def test_whole_model_mermaid_of_series_v2_from_free_pte_matches_its_golden_file(
    golden: Callable[[str, str], None],
) -> None:
    golden("graph-series-v2-free_pte.mmd", export.mermaid(model("series-v2"), ["free_pte"]))


def test_one_configuration_dot_of_v6_12_matches_its_golden_file(golden: Callable[[str, str], None]) -> None:
    golden("graph-v6.12-paravirt-open-backend.dot", v6_12_dot())


def test_one_configuration_mermaid_of_v6_12_matches_its_golden_file(golden: Callable[[str, str], None]) -> None:
    golden("graph-v6.12-paravirt-open-backend.mmd", v6_12_mermaid())


def test_same_input_gives_the_same_bytes() -> None:
    assert series_v2_dot() == series_v2_dot()
    assert v6_12_mermaid() == v6_12_mermaid()


# --- whole model ------------------------------------------------------------


def test_whole_model_edge_carries_its_guard_as_an_if_line() -> None:
    lines = series_v2_dot().splitlines()
    assert (
        '  "paravirt_tlb_remove_table" -> "tlb_remove_table" '
        '[label="#if !defined(CONFIG_PARAVIRT) && defined(CONFIG_PT_RECLAIM)"];'
    ) in lines


def test_hook_targets_to_one_callee_merge_into_one_edge_with_the_disjunction() -> None:
    lines = series_v2_dot().splitlines()
    assert (
        '  "pv_ops.mmu.tlb_remove_table" -> "tlb_remove_table" '
        '[label="#if backend == xen_pv || backend == hyperv || backend == kvm"];'
    ) in lines
    assert sum(1 for x in lines if x.startswith('  "pv_ops.mmu.tlb_remove_table" -> ')) == 2


def test_labelled_call_shows_its_guard_then_its_group() -> None:
    assert (
        '  "tlb_remove_table" -> "tlb_table_flush" [label="#if batch == fast\\n[fastpath]"];'
        in series_v2_dot().splitlines()
    )


def test_rcu_deferred_call_is_a_dashed_call_rcu_edge() -> None:
    assert (
        '  "tlb_remove_table_free" -> "tlb_remove_table_rcu" '
        '[label="#if defined(CONFIG_MMU_GATHER_RCU_TABLE_FREE)\\ncall_rcu", style="dashed"];'
    ) in series_v2_dot().splitlines()


def test_hook_is_a_diamond_with_its_guard() -> None:
    assert (
        '  "pv_ops.mmu.tlb_remove_table" [label="pv_ops.mmu.tlb_remove_table\\n#if defined(CONFIG_PARAVIRT)", '
        'shape="diamond"];'
    ) in series_v2_dot().splitlines()


def test_entry_point_is_highlighted() -> None:
    assert (
        '  "free_pte" [label="free_pte\\n#if defined(CONFIG_PT_RECLAIM)", style="rounded,filled,bold", '
        'fillcolor="#bbdefb", color="#0d47a1", fontcolor="#000000", penwidth="2"];'
    ) in series_v2_dot().splitlines()


def test_free_leaf_reached_only_by_rcu_is_green() -> None:
    assert (
        '  "free_page_and_swap_cache" [label="free_page_and_swap_cache\\nleaf: rcu", style="filled", '
        'fillcolor="#c8e6c9", color="#2e7d32", fontcolor="#000000"];'
    ) in series_v2_dot().splitlines()


def test_free_leaf_reached_three_ways_is_striped_with_each_class() -> None:
    lines = export.dot(model("series-v2"), ["free_pte_range"]).splitlines()
    assert (
        '  "free_page_and_swap_cache" [label="free_page_and_swap_cache\\nleaf: rcu or ipi_sync or direct", '
        'style="striped", fillcolor="#c8e6c9:#ffcc80:#e57373", color="#4a0000", fontcolor="#000000"];'
    ) in lines


def test_fixed_class_leaf_no_valid_configuration_reaches_is_grey_and_dashed() -> None:
    lines = series_v2_dot().splitlines()
    # free_pte exists only with PT_RECLAIM, and tlb_remove_page needs !PT_RECLAIM.
    assert (
        '  "tlb_remove_page" [label="tlb_remove_page\\nleaf: tlb_batched\\nno valid configuration reaches it", '
        'style="rounded,dashed", color="#9e9e9e", fontcolor="#9e9e9e"];'
    ) in lines
    assert (
        '  "native_tlb_remove_table" -> "tlb_remove_page" [label="#if !defined(CONFIG_PT_RECLAIM)", '
        'color="#9e9e9e", fontcolor="#9e9e9e"];'
    ) in lines


def test_whole_model_keeps_only_what_the_entries_reach() -> None:
    text = series_v2_dot()
    assert '"free_pte_range"' not in text
    assert '"pmd_free_tlb"' not in text


def test_every_entry_is_drawn_when_none_is_chosen() -> None:
    text = export.dot(model("series-v2"))
    for name in ("free_pte", "free_pte_range", "free_pmd_range", "free_pud_range"):
        assert f'  "{name}" [label="{name}' in text


def test_unknown_entry_is_a_lookup_error() -> None:
    with pytest.raises(PtfreeError) as err:
        export.dot(model("series-v2"), ["free_p4d_range"])
    assert err.value.message == "'free_p4d_range' is not an entry point of model series-v2"


# --- one configuration ------------------------------------------------------


def test_configuration_edge_carries_its_residual_runtime_condition() -> None:
    lines = v6_12_dot().splitlines()
    assert '  "pv_ops.mmu.tlb_remove_table" -> "tlb_remove_table" [label="backend: xen_pv, kvm"];' in lines
    assert '  "pv_ops.mmu.tlb_remove_table" -> "native_tlb_remove_table" [label="backend: native"];' in lines
    assert '  "tlb_remove_table" -> "tlb_remove_table_one" [label="batch: slow\\n[no-free-memory slowpath]"];' in lines


def test_configuration_edge_whose_guard_is_decided_has_no_condition() -> None:
    lines = v6_12_dot().splitlines()
    assert '  "paravirt_tlb_remove_table" -> "pv_ops.mmu.tlb_remove_table";' in lines
    assert '  "tlb_remove_table_free" -> "tlb_remove_table_rcu" [label="call_rcu", style="dashed"];' in lines


def test_configuration_drops_what_its_options_rule_out() -> None:
    text = v6_12_dot()
    # PARAVIRT=y: no direct tlb_remove_page call; MMU_GATHER_RCU_TABLE_FREE=y: no direct free.
    assert '"paravirt_tlb_remove_table" -> "tlb_remove_page"' not in text
    assert '"tlb_remove_table_free" -> "__tlb_remove_table_free"' not in text
    assert "#if" not in text


def test_configuration_leaf_is_coloured_by_the_classes_its_paths_reach() -> None:
    lines = v6_12_dot().splitlines()
    assert (
        '  "free_page_and_swap_cache" [label="free_page_and_swap_cache\\nleaf: rcu or ipi_sync", style="striped", '
        'fillcolor="#c8e6c9:#ffcc80", color="#e65100", fontcolor="#000000"];'
    ) in lines
    assert (
        '  "tlb_remove_page" [label="tlb_remove_page\\nleaf: tlb_batched", style="filled", '
        'fillcolor="#ef9a9a", color="#c62828", fontcolor="#000000"];'
    ) in lines


def test_fixed_runtime_choice_keeps_only_its_branch_and_is_named_in_the_title() -> None:
    m, values = v6_12_config()
    lines = export.dot(m, ["free_pte_range"], values, {"backend": "kvm", "batch": "slow"}).splitlines()
    assert lines[5] == (
        '  graph [label="Linux v6.12, x86-64, before PT_RECLAIM: one configuration, backend=kvm, batch=slow", '
        'labelloc="t", fontname="Helvetica"];'
    )
    assert '  "pv_ops.mmu.tlb_remove_table" -> "tlb_remove_table";' in lines
    assert not any('"native_tlb_remove_table"' in x or '"tlb_table_flush"' in x for x in lines)
    assert (
        '  "free_page_and_swap_cache" [label="free_page_and_swap_cache\\nleaf: ipi_sync", style="filled", '
        'fillcolor="#ffcc80", color="#e65100", fontcolor="#000000"];'
    ) in lines


def test_runtime_choices_without_option_values_are_refused() -> None:
    with pytest.raises(ValueError):
        export.dot(model("v6.12"), (), None, {"backend": "kvm"})


# --- escaping ---------------------------------------------------------------

ODD_TITLE = 'quotes "q", back\\slash, | <b> & #1'


@pytest.fixture
def odd_model(tmp_path: Path) -> Model:
    text = (DATA / "ok_minimal.yaml").read_text()
    path = tmp_path / "odd.yaml"
    path.write_text(text.replace("title: A minimal valid model", "title: '" + ODD_TITLE + "'"))
    return load_model(path)


def test_dot_escapes_quotes_and_backslashes(odd_model: Model) -> None:
    lines = export.dot(odd_model).splitlines()
    assert lines[3] == (
        '  graph [label="quotes \\"q\\", back\\\\slash, | <b> & #1: every configuration", '
        'labelloc="t", fontname="Helvetica"];'
    )


def test_mermaid_title_is_a_quoted_yaml_string(odd_model: Model) -> None:
    lines = export.mermaid(odd_model).splitlines()
    assert lines[:4] == [
        "---",
        'title: "quotes \\"q\\", back\\\\slash, | <b> & #1: every configuration"',
        "---",
        "flowchart TD",
    ]


def test_mermaid_labels_use_entity_codes_for_characters_it_reads_as_syntax() -> None:
    lines = export.mermaid(model("series-v2"), ["free_pte"]).splitlines()
    assert '  n0["free_pte<br/>#35;if defined(CONFIG_PT_RECLAIM)"]' in lines
    assert '  n20 -->|"#35;if backend == xen_pv #124;#124; backend == hyperv #124;#124; backend == kvm"| n7' in lines
    assert '  n4 -->|"#35;if !defined(CONFIG_PARAVIRT) #38;#38; defined(CONFIG_PT_RECLAIM)"| n7' in lines


def test_mermaid_hook_is_a_rhombus_and_deferred_call_a_dotted_arrow() -> None:
    lines = export.mermaid(model("series-v2"), ["free_pte"]).splitlines()
    assert '  n20{"pv_ops.mmu.tlb_remove_table<br/>#35;if defined(CONFIG_PARAVIRT)"}' in lines
    assert '  n10 -.->|"#35;if defined(CONFIG_MMU_GATHER_RCU_TABLE_FREE)<br/>call_rcu"| n11' in lines


def test_mermaid_leaf_takes_the_class_of_its_least_safe_leaf() -> None:
    lines = v6_12_mermaid().splitlines()
    assert "  classDef ipi_sync fill:#ffcc80,stroke:#e65100,color:#000000" in lines
    assert "  class n25 ipi_sync" in lines
    assert '  n25["free_page_and_swap_cache<br/>leaf: rcu or ipi_sync"]' in lines


# --- Mermaid structure ------------------------------------------------------

NODE = re.compile(r'^  (n\d+)(?:\["((?:[^"])*)"\]|\{"((?:[^"])*)"\})$')
EDGE = re.compile(r'^  (n\d+) (-->|-\.->)(?:\|"([^"]*)"\|)? (n\d+)$')
CLASS = re.compile(r"^  class (n\d+) (\w+)$")
CLASSDEF = re.compile(r"^  classDef (\w+) \S.*$")
LINKSTYLE = re.compile(r"^  linkStyle (\d+(?:,\d+)*) \S+$")
#: After the entity codes and line breaks are taken out, no character Mermaid chokes on.
ENTITY = re.compile(r"#\d+;")


def check_mermaid(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Every line parsed; every id declared once, every edge and class between declared ids."""
    lines = text.splitlines()
    assert lines[0] == "---" and lines[2] == "---" and lines[3] == "flowchart TD"
    declared: list[str] = []
    edges: list[tuple[str, str]] = []
    classes: set[str] = set()
    used: list[tuple[str, str]] = []
    styled: list[int] = []
    for line in lines[4:]:
        if line.startswith("  %% "):
            continue
        if m := NODE.match(line):
            declared.append(m.group(1))
            label = m.group(2) if m.group(2) is not None else m.group(3)
            assert not re.search(r'["|<>&#`]', ENTITY.sub("", label.replace("<br/>", ""))), line
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(4)))
            if m.group(3) is not None:
                assert not re.search(r'["|<>&#`]', ENTITY.sub("", m.group(3).replace("<br/>", ""))), line
        elif m := CLASSDEF.match(line):
            classes.add(m.group(1))
        elif m := CLASS.match(line):
            used.append((m.group(1), m.group(2)))
        elif m := LINKSTYLE.match(line):
            styled.extend(int(i) for i in m.group(1).split(","))
        else:
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    assert len(declared) == len(set(declared))
    assert all(a in declared and b in declared for a, b in edges)
    assert all(n in declared and c in classes for n, c in used)
    assert all(0 <= i < len(edges) for i in styled)
    return declared, edges


@pytest.mark.parametrize("entries", [(), ("free_pte",), ("free_pte_range", "free_pud_range")])
@pytest.mark.parametrize("name", ["series-v2", "v6.12", "v6.14", "v7.0"])
def test_mermaid_declares_every_node_once_and_edges_only_between_them(name: str, entries: tuple[str, ...]) -> None:
    m = model(name)
    chosen = [e for e in entries if e in m.entry_map]
    declared, edges = check_mermaid(export.mermaid(m, chosen))
    dot_text = export.dot(m, chosen)
    assert len(declared) == len(re.findall(r'^  "[^"]+" \[label=', dot_text, re.M))
    assert len(edges) == len(re.findall(r'^  "[^"]+" -> "[^"]+"', dot_text, re.M))


def test_mermaid_of_one_configuration_is_well_formed() -> None:
    declared, edges = check_mermaid(v6_12_mermaid())
    assert (len(declared), len(edges)) == (27, 30)


# --- images -----------------------------------------------------------------


def test_missing_dot_is_an_error_naming_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(PtfreeError) as err:
        export.render_image(series_v2_dot(), "svg")
    assert str(err.value) == MISSING


def test_dot_exit_status_becomes_an_error_with_the_first_line_of_its_stderr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []

    def fake_run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        seen.append(args)
        assert kwargs == {"input": b"digraph {", "capture_output": True, "check": False, "timeout": 60}
        return subprocess.CompletedProcess(args, 1, b"", b"Error: <stdin>: syntax error in line 2 near ''\nmore\n")

    monkeypatch.setattr(shutil, "which", lambda name: "/opt/graphviz/bin/dot")
    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(PtfreeError) as err:
        export.render_image("digraph {", "png")
    assert str(err.value) == "Graphviz's dot failed (exit 1): Error: <stdin>: syntax error in line 2 near ''"
    assert seen == [["/opt/graphviz/bin/dot", "-Tpng"]]


def test_dot_timeout_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow_run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        raise subprocess.TimeoutExpired(args, 60)

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(subprocess, "run", slow_run)
    with pytest.raises(PtfreeError) as err:
        export.render_image("digraph {}", "svg")
    assert str(err.value) == "Graphviz's dot did not finish within 60 s"


def test_unknown_image_format_is_refused_before_running_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: pytest.fail("dot looked up"))
    with pytest.raises(PtfreeError) as err:
        export.render_image("digraph {}", "pdf")
    assert str(err.value) == "cannot draw 'pdf': the image formats are svg, png"


@pytest.mark.parametrize("text", [series_v2_dot, v6_12_dot], ids=["series-v2", "v6.12-config"])
def test_graphviz_draws_the_dot_or_its_absence_is_the_named_error(text: Callable[[], str]) -> None:
    if shutil.which("dot") is None:
        # Not skipped: without Graphviz the same call must fail with the message the CLI prints.
        with pytest.raises(PtfreeError) as err:
            export.render_image(text(), "svg")
        assert str(err.value) == MISSING
        return
    svg = export.render_image(text(), "svg").decode()
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8" standalone="no"?>')
    assert "<title>free_page_and_swap_cache</title>" in svg
    assert export.render_image(text(), "png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_graphviz_rejection_is_reported_with_its_message() -> None:
    if shutil.which("dot") is None:
        with pytest.raises(PtfreeError) as err:
            export.render_image("digraph {", "svg")
        assert str(err.value) == MISSING
        return
    with pytest.raises(PtfreeError) as err:
        export.render_image("digraph {", "svg")
    assert str(err.value).startswith("Graphviz's dot failed (exit 1): Error: <stdin>: syntax error in line ")
