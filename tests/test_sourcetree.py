"""Which files of a tree mention a name, and what they hold (ptfree_cli/sourcetree.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import git_commit

from ptfree_cli import sourcetree
from ptfree_cli.rules import Rules
from ptfree_cli.sourcetree import SourceTree


def tree(tmp_path: Path) -> Path:
    files = {
        "mm/a.c": "void alpha(void) { beta(); }\n",
        "mm/b.c": "void beta(void) { }\n/* gamma is only named in a comment */\n",
        "include/linux/c.h": "static inline void gamma(void) { }\n",
        "arch/x86/mm/x.c": "void on_x86(void) { alpha(); }\n",
        "arch/arm64/mm/y.c": "void on_arm(void) { alpha(); }\n",
        "Documentation/d.c": "void alpha_doc(void) { alpha(); }\n",
        "mm/notes.txt": "alpha beta gamma\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_only_the_target_arch_and_kernel_c_are_listed(tmp_path: Path) -> None:
    t = SourceTree(tree(tmp_path), "x86", Rules(), 1)
    assert t.files == ["arch/x86/mm/x.c", "include/linux/c.h", "mm/a.c", "mm/b.c"]


@pytest.mark.parametrize("way", ["index", "scan", "git"])
def test_a_name_finds_the_files_that_mention_it_as_a_word(
    tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path)
    if way == "scan":
        monkeypatch.setattr(sourcetree, "INDEX_MAX_BYTES", 0)
    if way == "git":
        git_commit(root)
    t = SourceTree(root, "x86", Rules(), 1)
    t.need(["gamma"])
    # Parsed: the files naming gamma, the comment included (a mention is enough to look).
    assert sorted(t.facts) == ["include/linux/c.h", "mm/b.c"]
    assert [d.path for d in t.defs["gamma"]] == ["include/linux/c.h"]
    t.need(["alpha"])
    assert sorted(t.facts) == ["arch/x86/mm/x.c", "include/linux/c.h", "mm/a.c", "mm/b.c"]


def test_git_that_cannot_answer_falls_back_to_reading_the_files(tmp_path: Path) -> None:
    root = tree(tmp_path)
    (root / ".git").mkdir()  # not a repository: git grep fails
    t = SourceTree(root, "x86", Rules(), 1)
    t.need(["beta"])
    assert sorted(t.facts) == ["mm/a.c", "mm/b.c"]
    assert t.git is False


def test_a_device_or_fifo_is_listed_as_skipped_and_never_opened(tmp_path: Path) -> None:
    root = tree(tmp_path)
    (root / "mm" / "zero.c").symlink_to("/dev/zero")
    os.mkfifo(root / "mm" / "fifo.h")
    t = SourceTree(root, "x86", Rules(), 1)
    assert t.skipped == ["mm/fifo.h", "mm/zero.c"]
    t.need(["alpha"])
    assert "mm/zero.c" not in t.facts
