"""Where a tree may define a name, and the cache that keeps it (ptfree_cli/treeindex.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import git_commit, run

from ptfree_cli import treeindex
from ptfree_cli.treeindex import TreeIndex, list_tree

FILES = {
    "mm/a.c": "void alpha(void)\n{\n\tbeta();\n}\n\nstatic int\nhidden(void) { return 0; }\n",
    "mm/b.c": "static void beta(void) { }\n/* gamma is only named in a comment */\n",
    "include/linux/c.h": (
        "static inline void gamma(void) { }\n"
        "extern void alpha(void);\n"
        "#define CALL(x) gamma()\n"
        "#define ALIAS gamma\n"
        "#define EMPTY\n"
        "#define NUMBER 12\n"
        "#define EXPR (1 << 3)\n"
        "\t#  define INDENTED(x) (x)\n"
    ),
    "arch/x86/mm/x.c": "void on_x86(void) { alpha(); }\n",
    "arch/arm64/mm/y.c": "void on_arm(void) { alpha(); }\n",
    "Documentation/d.c": "void alpha_doc(void) { alpha(); }\n",
    "mm/notes.txt": "alpha beta gamma\n",
    "mm/Makefile": "obj-y += a.o b.o\n",
}


def tree(tmp_path: Path, files: dict[str, str] = FILES) -> Path:
    root = tmp_path / "linux"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def index(root: Path, monkeypatch: pytest.MonkeyPatch, way: str = "git") -> TreeIndex:
    # Every tree takes the cached path, as a whole kernel would.
    monkeypatch.setattr(treeindex, "SCAN_PARALLEL_MIN", 1)
    if way == "scan":
        monkeypatch.setattr(treeindex, "git", lambda: None)
    return TreeIndex(root, "x86", 1)


def test_only_the_target_arch_and_kernel_c_are_listed(tmp_path: Path) -> None:
    listing = list_tree(tree(tmp_path), "x86")
    assert listing.files == ("arch/x86/mm/x.c", "include/linux/c.h", "mm/a.c", "mm/b.c")
    assert listing.skipped == ()


def test_the_fingerprint_changes_with_any_c_kconfig_or_makefile(tmp_path: Path) -> None:
    root = tree(tmp_path)
    first = list_tree(root, "x86").fingerprint
    assert list_tree(root, "x86").fingerprint == first
    (root / "mm" / "Makefile").write_text("obj-y += a.o\n")
    second = list_tree(root, "x86").fingerprint
    assert second != first
    (root / "mm" / "notes.txt").write_text("not C\n")
    assert list_tree(root, "x86").fingerprint == second


@pytest.mark.parametrize("way", ["git", "scan"])
def test_a_name_is_found_where_it_may_be_defined_not_where_it_is_mentioned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    ix = index(tree(tmp_path), monkeypatch, way)
    found = ix.defining(["alpha", "beta", "gamma", "hidden", "on_arm", "alpha_doc"])
    assert ix.how == ("git grep" if way == "git" else "scan")
    assert found == {
        # The definition; not its one-line prototype in c.h, nor the call in x.c.
        "alpha": [("mm/a.c", "f")],
        # Static in a .c file: that file's own, not indexed.
        "beta": [],
        "gamma": [("include/linux/c.h", "f")],
        # A static head over two lines reads as visible: a superset is safe.
        "hidden": [("mm/a.c", "f")],
        "on_arm": [],
        "alpha_doc": [],
    }


@pytest.mark.parametrize("way", ["git", "scan"])
def test_header_macros_that_can_be_called_are_indexed_constants_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    ix = index(tree(tmp_path), monkeypatch, way)
    found = ix.defining(["CALL", "ALIAS", "EMPTY", "NUMBER", "EXPR", "INDENTED"])
    assert {n: [k for _, k in v] for n, v in found.items()} == {
        "CALL": ["m"],
        "ALIAS": ["m"],
        "EMPTY": ["m"],
        "NUMBER": [],
        "EXPR": [],
        "INDENTED": ["m"],
    }


def test_the_index_is_kept_in_the_cache_and_only_what_changed_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path)
    first = index(root, monkeypatch)
    first.defining(["alpha"])
    assert (first.how, first.scanned) == ("git grep", 4)
    first.close()
    again = index(root, monkeypatch)
    assert again.defining(["gamma"]) == {"gamma": [("include/linux/c.h", "f")]}
    assert (again.how, again.scanned) == ("cache", 0)
    again.close()
    (root / "mm" / "b.c").write_text("void gamma(void) { }\n")
    (root / "include" / "linux" / "c.h").unlink()
    changed = index(root, monkeypatch)
    assert changed.defining(["gamma", "alpha"]) == {"gamma": [("mm/b.c", "f")], "alpha": [("mm/a.c", "f")]}
    assert (changed.how, changed.scanned) == ("updated", 1)
    changed.close()
    cache = treeindex.cache_root()
    assert cache.is_dir()
    assert not any(p.name.startswith(".") or "ptfree" in p.name for p in root.iterdir())


def test_an_unusable_cache_leaves_the_index_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("PTFREE_CACHE_DIR", str(blocker))
    ix = index(tree(tmp_path), monkeypatch)
    assert ix.defining(["gamma"]) == {"gamma": [("include/linux/c.h", "f")]}
    ix.keep_result("k", "text")
    assert ix.result("k") is None


def test_a_gitignore_of_everything_hides_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Debian's linux-source package ships a top-level .gitignore of `/*`.
    root = tree(tmp_path)
    (root / ".gitignore").write_text("/*\n")
    subprocess.run(["git", "-C", str(root), "init", "-q"], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-f", "."], check=True)
    ix = index(root, monkeypatch)
    assert ix.defining(["alpha"])["alpha"] == [("mm/a.c", "f")]
    assert ix.mentioning(["gamma"]) == ["include/linux/c.h", "mm/b.c"]


def test_the_trees_own_git_configuration_runs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path)
    git_commit(root, tag="v1.0")
    marker = tmp_path / "ran"
    with (root / ".git" / "config").open("a") as f:
        f.write(f'[core]\n\tfsmonitor = "touch {marker}"\n[grep]\n\tpatternType = fixed\n\tlineNumber = true\n')
        f.write(f'[filter "x"]\n\tclean = "touch {marker}"\n\tsmudge = "touch {marker}"\n')
        f.write(f'[diff "x"]\n\ttextconv = "touch {marker}"\n[include]\n\tpath = {tmp_path / "more"}\n')
    (tmp_path / "more").write_text(f'[core]\n\tfsmonitor = "touch {marker}"\n')
    (root / ".gitattributes").write_text("*.c filter=x diff=x\n*.h filter=x diff=x\n")
    (root / "mm" / "a.c").write_text((root / "mm" / "a.c").read_text() + "\n")  # dirty: git would refresh
    ix = index(root, monkeypatch)
    assert ix.defining(["alpha"])["alpha"] == [("mm/a.c", "f")]
    assert ix.mentioning(["gamma"]) == ["include/linux/c.h", "mm/b.c"]
    assert ix.includers(["include/linux/c.h"]) == []
    from ptfree_cli.treeindex import git_describe

    assert git_describe(root) == "v1.0"
    assert not marker.exists()


def test_includes_are_every_include_line_by_the_name_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "mm/a.c": '#include <linux/c.h>\n#ifdef CONFIG_X\n# include "local.h"\n#endif\n',
        "mm/local.h": "",
        "include/linux/c.h": "#include <asm-generic/z.h>\n",
    }
    for way in ("git", "scan"):
        ix = index(tree(tmp_path / way, files), monkeypatch, way)
        assert ix.includers(["linux/c.h"]) == [("mm/a.c", 1)]
        assert ix.includers(["local.h", "asm-generic/z.h"]) == [("include/linux/c.h", 1), ("mm/a.c", 3)]
        assert ix.includers(["c.h"]) == []  # as written, not by the file's own name
        assert ix.defining(["c.h"]) == {"c.h": []}


def test_a_device_or_fifo_is_listed_as_skipped_and_never_opened(tmp_path: Path) -> None:
    root = tree(tmp_path)
    (root / "mm" / "zero.c").symlink_to("/dev/zero")
    os.mkfifo(root / "mm" / "fifo.h")
    listing = list_tree(root, "x86")
    assert listing.skipped == ("mm/fifo.h", "mm/zero.c")
    assert "mm/zero.c" not in listing.files
    ix = TreeIndex(root, "x86", 1, listing)
    assert ix.defining(["alpha"])["alpha"] == [("mm/a.c", "f")]


def test_a_second_extraction_of_an_unchanged_tree_is_the_cached_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ptfree_cli import extract

    monkeypatch.setattr(treeindex, "SCAN_PARALLEL_MIN", 1)  # as big as a kernel
    src = Path(__file__).parent / "fixtures" / "extract" / "x86"
    args = ["extract", "-s", str(src), "-e", "free_pte", "-j", "1"]
    first = run(*args)
    calls: list[object] = []
    real = extract._Extractor.run
    monkeypatch.setattr(extract._Extractor, "run", lambda *a: calls.append(a) or real(*a))
    second = run(*args)
    assert (second.stdout, second.stderr) == (first.stdout, first.stderr)
    assert calls == []
    # Another entry is another result.
    run("extract", "-s", str(src), "-e", "free_pte_range", "-j", "1")
    assert len(calls) == 1


def test_the_kconfig_read_is_kept_until_a_kconfig_file_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from ptfree_cli import kconfig_tree

    monkeypatch.setattr(treeindex, "SCAN_PARALLEL_MIN", 1)  # as big as a kernel
    src = tmp_path / "linux"
    shutil.copytree(Path(__file__).parent / "fixtures" / "extract" / "x86", src)
    reads: list[Path] = []
    real = kconfig_tree.read_kconfig
    monkeypatch.setattr(kconfig_tree, "read_kconfig", lambda root, **kw: reads.append(root) or real(root, **kw))
    first = run("extract", "-s", str(src), "-e", "free_pte", "-j", "1")
    # Another entry: the extraction is new, the Kconfig the same.
    second = run("extract", "-s", str(src), "-e", "free_pte_range", "-j", "1")
    assert (first.exit_code, second.exit_code, len(reads)) == (0, 0, 1)
    kconfig = src / "arch" / "x86" / "Kconfig"
    kconfig.write_text(kconfig.read_text().replace("Symmetric multi-processing support", "SMP support"))
    third = run("extract", "-s", str(src), "-e", "free_pte_range", "-j", "1")
    assert third.exit_code == 0 and len(reads) == 2
    assert 'prompt: "SMP support"' in third.stdout


def test_a_kernel_sized_tree_is_listed_the_same_by_several_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path)
    for i in range(10):
        (root / f"top{i}" / "sub").mkdir(parents=True)
        (root / f"top{i}" / "own.c").write_text("void own(void) { }\n")
        (root / f"top{i}" / "sub" / "deep.h").write_text("#define DEEP(x) x\n")
        (root / f"top{i}" / "Makefile").write_text("obj-y += own.o\n")
    one = list_tree(root, "x86", 1)
    monkeypatch.setattr(treeindex, "PARALLEL_TOPS", 2)
    two = list_tree(root, "x86", 2)
    assert two == one
    assert "top3/sub/deep.h" in one.files and "arch/arm64/mm/y.c" not in one.files


def test_a_word_search_is_kept_and_follows_the_files_that_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path)
    monkeypatch.setattr(treeindex, "SCAN_PARALLEL_MIN", 1)
    first = TreeIndex(root, "x86", 1)
    assert first.mentioning(["gamma"]) == ["include/linux/c.h", "mm/b.c"]
    assert first.mentioning(["beta"]) == ["mm/a.c", "mm/b.c"]
    first.close()
    (root / "mm" / "a.c").write_text("void alpha(void) { gamma(); }\n")
    (root / "mm" / "b.c").write_text("void other(void) { }\n")
    searches: list[object] = []
    monkeypatch.setattr(treeindex.TreeIndex, "_git_grep", lambda self, args: searches.append(args))
    again = TreeIndex(root, "x86", 1)
    assert again.mentioning(["gamma"]) == ["include/linux/c.h", "mm/a.c"]
    assert again.mentioning(["beta"]) == []
    assert (again.how, searches) == ("updated", [])  # kept, brought up to date: no new search
    again.close()


def test_git_grep_that_fails_is_said_and_the_files_are_read_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(treeindex, "SCAN_PARALLEL_MIN", 1)
    src = Path(__file__).parent / "fixtures" / "extract" / "x86"
    args = ["extract", "-s", str(src), "-e", "free_pte", "-j", "1"]
    with_git = run(*args)
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'fatal: broken' >&2\nexit 128\n")
    fake.chmod(0o755)
    monkeypatch.setattr(treeindex, "git", lambda: str(fake))
    monkeypatch.setenv("PTFREE_CACHE_DIR", str(tmp_path / "another-cache"))
    result = run(*args)
    assert result.exit_code == 0
    said = f"{src}: warning: git grep failed (exit 128): ptfree read the files itself instead, which is slower\n"
    assert said in result.stderr
    assert result.stdout == with_git.stdout  # the same model, read the slow way
