"""The C files of a kernel tree: which mention a name, and what each holds, parsed on demand.

Finding the files that mention a name is the cost of a big tree: a git
checkout asks ``git grep``; a tree that fits in memory is tokenized once
into a word index (on every core); a bigger one is scanned again for each
step of the walk, in worker processes.  The three give the same files.
Parsing (:mod:`ptfree_cli.csource`) runs in the same pool when there are
many files.  Devices, FIFOs and huge files are listed, never opened.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ptfree_cli import cpp, csource
from ptfree_cli.rules import Rules

#: Directories of a kernel tree that hold no kernel C for the target.
_SKIP_DIRS = frozenset({".git", "Documentation", "tools", "scripts", "samples", "usr", "LICENSES"})
#: Below this many files to parse, worker processes cost more than they save.
PARALLEL_MIN = 24
#: Below this many files to scan for names, one process reads them faster.
SCAN_PARALLEL_MIN = 2000
#: A .c or .h file bigger than this is not read (the kernel's largest are a few MiB).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: A tree whose C is smaller than this is tokenized once into a word index.
INDEX_MAX_BYTES = 256 * 1024 * 1024


class SourceTree:
    """The tree's C files, parsed on demand and indexed by the names they define."""

    def __init__(self, root: Path, srcarch: str, rules: Rules, jobs: int) -> None:
        self.root = root
        self.crules = csource.CRules(
            rules.defer, tuple((i.pattern, i.table, i.member) for i in rules.indirect), rules.attributes
        )
        self.jobs = jobs
        self.files = self._list(srcarch)
        self.facts: dict[str, csource.FileFacts] = {}
        self.defs: dict[str, list[csource.Definition]] = {}
        self.macros: dict[str, list[cpp.MacroDef]] = {}
        self.installs: dict[str, list[csource.Install]] = {}
        self.searched: set[str] = set()
        self.pool: ProcessPoolExecutor | None = None
        self.index: dict[bytes, list[int]] | None = None
        self.git = (root / ".git").exists()

    def _list(self, srcarch: str) -> list[str]:
        out: list[str] = []
        self.size = 0
        self.skipped: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root)
            rel = "" if rel == "." else rel.replace(os.sep, "/")
            keep = []
            for d in dirnames:
                if d in _SKIP_DIRS or d.startswith("."):
                    continue
                if rel == "arch" and d != srcarch:
                    continue
                keep.append(d)
            dirnames[:] = sorted(keep)
            for f in sorted(filenames):
                if not f.endswith((".c", ".h")):
                    continue
                try:
                    st = os.stat(os.path.join(dirpath, f))
                except OSError:
                    continue
                # Never open a device, a FIFO or a file too big to be C a
                # person wrote (a hostile tree could hold /dev/zero as x.c).
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
                    self.skipped.append(f"{rel}/{f}" if rel else f)
                    continue
                out.append(f"{rel}/{f}" if rel else f)
                self.size += st.st_size
        return out

    def need(self, names: Iterable[str]) -> None:
        """Parse every file not yet parsed that mentions one of ``names``."""
        wanted = sorted(set(names) - self.searched)
        if not wanted:
            return
        self.searched.update(wanted)
        todo = [f for f in self._mentioning(wanted) if f not in self.facts]
        self._parse(todo)

    def _mentioning(self, names: list[str]) -> list[str]:
        """The files that mention one of ``names`` as a word, in tree order.

        A git checkout asks ``git grep`` (its index, every core); a tree that
        fits in memory is tokenized once into an index; a bigger one is
        scanned again for each step of the walk.
        """
        if self.git:
            found = _git_grep(self.root, names)
            if found is not None:
                return [f for f in self.files if f in found]
            self.git = False
        if self.index is None and self.size <= INDEX_MAX_BYTES:
            self.index = self._build_index()
        if self.index is not None:
            hits: set[int] = set()
            for n in names:
                hits.update(self.index.get(n.encode(), ()))
            return [self.files[i] for i in sorted(hits)]
        pattern = rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in names) + rb")\b"
        left = [f for f in self.files if f not in self.facts]
        pool = self._pool(len(left) >= SCAN_PARALLEL_MIN)
        if pool is None:
            return _scan(str(self.root), pattern, left)
        size = max(64, len(left) // (self.jobs * 4) + 1)
        chunks = [left[i : i + size] for i in range(0, len(left), size)]
        parts = pool.map(_scan, [str(self.root)] * len(chunks), [pattern] * len(chunks), chunks)
        return [f for part in parts for f in part]

    def _build_index(self) -> dict[bytes, list[int]]:
        root = str(self.root)
        pool = self._pool(len(self.files) >= SCAN_PARALLEL_MIN)
        if pool is None:
            words = _words_of(root, self.files)
        else:
            # Tokenizing is the cost of a big tree: every core takes a share.
            size = max(64, len(self.files) // (self.jobs * 4) + 1)
            chunks = [self.files[i : i + size] for i in range(0, len(self.files), size)]
            words = [w for part in pool.map(_words_of, [root] * len(chunks), chunks) for w in part]
        index: dict[bytes, list[int]] = {}
        for i, blob in enumerate(words):
            for word in blob.split():
                index.setdefault(word, []).append(i)
        return index

    def _pool(self, wanted: bool) -> ProcessPoolExecutor | None:
        if not wanted or self.jobs <= 1:
            return None
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.jobs)
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def _parse(self, rels: list[str]) -> None:
        # On a big tree the pool is there for the scan: small batches use it too.
        pool = self.pool if self.pool is not None and len(rels) > 1 else self._pool(len(rels) >= PARALLEL_MIN)
        root = str(self.root)
        if pool is not None:
            results = list(pool.map(_read, [root] * len(rels), rels, [self.crules] * len(rels), chunksize=8))
        else:
            results = [_read(root, r, self.crules) for r in rels]
        for facts in results:
            self.facts[facts.path] = facts
            for d in facts.definitions:
                self.defs.setdefault(d.name, []).append(d)
            for m in facts.conditionals.macros:
                self.macros.setdefault(m.name, []).append(m)
            for i in facts.installs:
                self.installs.setdefault(i.member.rsplit(".", 1)[-1], []).append(i)


def _file_bytes(root: str, rel: str) -> bytes:
    try:
        with open(os.path.join(root, rel), "rb") as f:
            return f.read()
    except OSError:
        return b""


_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


def _words_of(root: str, rels: list[str]) -> list[bytes]:
    """Each file's distinct words, space-separated (runs in workers)."""
    return [b" ".join(set(_WORD.findall(_file_bytes(root, r)))) for r in rels]


def _git_grep(root: Path, names: list[str]) -> set[str] | None:
    """The .c and .h files of a git checkout that mention a name, or None when git cannot say."""
    args = ["git", "-C", str(root), "grep", "-l", "-w", "-I", "-F", "--untracked"]
    for n in names:
        args += ["-e", n]
    try:
        out = subprocess.run([*args, "--", "*.c", "*.h"], capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode not in (0, 1):  # 1: nothing found
        return None
    return {line.decode("utf-8", "surrogateescape") for line in out.stdout.splitlines()}


def _scan(root: str, pattern: bytes, rels: list[str]) -> list[str]:
    """The files among ``rels`` that mention a name of ``pattern`` (runs in workers)."""
    regex = re.compile(pattern)
    return [r for r in rels if regex.search(_file_bytes(root, r))]


def _read(root: str, rel: str, rules: csource.CRules) -> csource.FileFacts:
    return csource.read(rel, _file_bytes(root, rel).decode("utf-8", "surrogateescape"), rules)


def git_describe(root: Path) -> str | None:
    """``git describe`` of a checkout, or None when ``root`` is not one (or git is missing)."""
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--tags"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
