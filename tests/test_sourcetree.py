"""Which files are parsed for a name, and what the caller can see (ptfree_cli/sourcetree.py)."""

from __future__ import annotations

from pathlib import Path

from ptfree_cli.guards import format_expr
from ptfree_cli.rules import Rules
from ptfree_cli.sourcetree import SourceTree

FILES = {
    "mm/a.c": "void alpha(void)\n{\n\tbeta();\n}\n",
    "mm/b.c": "void beta(void) { }\nstatic void gamma(void) { }\n",
    "mm/local.h": "static inline void delta(void) { }\n",
    "include/linux/c.h": "static inline void gamma(void) { }\n#define epsilon(x) gamma()\n",
    "arch/x86/include/asm/d.h": "static inline void delta(void) { }\n",
    "drivers/foo/private.h": "static inline void gamma(void) { }\n",
    "drivers/foo/foo.c": "void user(void) { gamma(); }\n",
}


def tree(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_only_files_that_may_define_a_name_are_parsed(tmp_path: Path) -> None:
    t = SourceTree(tree(tmp_path), "x86", Rules(), 1)
    t.need(["beta"], ["mm/a.c"])
    assert sorted(t.facts) == ["mm/b.c"]
    assert [d.path for d in t.defs["beta"]] == ["mm/b.c"]


def test_a_caller_sees_headers_on_the_include_path_and_beside_it(tmp_path: Path) -> None:
    t = SourceTree(tree(tmp_path), "x86", Rules(), 1)
    t.need(["gamma", "delta"], ["mm/a.c"])
    # Not drivers/foo/private.h (off the include path), nor b.c's static gamma.
    assert sorted(t.facts) == ["arch/x86/include/asm/d.h", "include/linux/c.h", "mm/local.h"]
    assert t.visible("drivers/foo/private.h", "drivers/foo/foo.c")
    assert not t.visible("drivers/foo/private.h", "mm/a.c")
    assert t.visible("mm/b.c", "mm/a.c")


def test_an_entry_point_is_looked_up_everywhere(tmp_path: Path) -> None:
    t = SourceTree(tree(tmp_path), "x86", Rules(), 1)
    t.need(["gamma"])
    # Not b.c's static gamma: the index knows where else it is defined.
    assert sorted(t.facts) == ["drivers/foo/private.h", "include/linux/c.h"]


def test_a_static_entry_point_is_found_by_its_name(tmp_path: Path) -> None:
    root = tree(tmp_path)
    (root / "mm" / "b.c").write_text("static void only_here(void) { }\n")
    t = SourceTree(root, "x86", Rules(), 1)
    t.need_entries(["only_here"])
    assert sorted(t.facts) == ["mm/b.c"]
    assert [d.static for d in t.defs["only_here"]] == [True]


def test_a_header_included_by_few_files_names_its_includers(tmp_path: Path) -> None:
    root = tree(tmp_path)
    (root / "mm" / "a.c").write_text('#ifdef CONFIG_X\n#include "local.h"\n#endif\n#include <linux/c.h>\n')
    t = SourceTree(root, "x86", Rules(), 1)
    assert t.includers("mm/local.h") == [("mm/a.c", 2)]
    assert t.includers("include/linux/c.h") == [("mm/a.c", 4)]
    assert format_expr(t.conditionals("mm/a.c").guard_at(2)) == "X"
    assert "mm/a.c" not in t.facts  # read for its #if lines alone
