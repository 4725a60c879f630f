"""The C files of a kernel tree, parsed on demand: where a name is defined, what each file holds.

Finding files is :mod:`ptfree_cli.treeindex`'s job (one pass over the tree,
kept in the user's cache); this module parses (:mod:`ptfree_cli.csource`)
only the files that may define a name the walk asks for and that the caller
can see: a ``.c`` file's static functions and macros are its own, and a
header is visible where the kernel's include path puts it (``include/``,
``arch/$SRCARCH/include/``, or beside the file that includes it).  Parsing
runs in a process pool when there are many files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ptfree_cli import cpp, csource, treeindex
from ptfree_cli.rules import Rules

#: Below this many files to parse, worker processes cost more than they save.
PARALLEL_MIN = 24
#: A header named by more files than this is taken as included without condition.
INCLUDERS_MAX = 16
#: A .c or .h file bigger than this is not read.
MAX_FILE_BYTES = treeindex.MAX_FILE_BYTES


class SourceTree:
    """The tree's C files, parsed on demand and indexed by the names they define."""

    def __init__(
        self, root: Path, srcarch: str, rules: Rules, jobs: int, index: treeindex.TreeIndex | None = None
    ) -> None:
        self.root = root
        self.srcarch = srcarch
        self.crules = csource.CRules(
            rules.defer,
            tuple((i.pattern, i.table, i.member) for i in rules.indirect),
            rules.attributes,
            None
            if rules.carriers is None
            else tuple(csource.carrier_pattern(c) for c in rules.carriers)
            + tuple(csource.carrier_pattern(c, "ref") for c in rules.references),
        )
        self.index = index or treeindex.TreeIndex(root, srcarch, jobs)
        self.files = list(self.index.listing.files)
        self.skipped = list(self.index.listing.skipped)
        self.facts: dict[str, csource.FileFacts] = {}
        self.defs: dict[str, list[csource.Definition]] = {}
        self.macros: dict[str, list[cpp.MacroDef]] = {}
        self.installs: dict[str, list[csource.Install]] = {}
        self.looked_up: set[str] = set()
        self.mentions: set[str] = set()
        self._conditionals: dict[str, cpp.Conditionals] = {}
        self._include = ("include/", f"arch/{srcarch}/include/")

    def visible(self, path: str, caller_file: str | None) -> bool:
        """Whether a definition in ``path`` can be what ``caller_file`` calls (no caller: any)."""
        if caller_file is None or path == caller_file:
            return True
        if path.endswith(".c"):
            return True  # non-static functions; static ones are refused by the caller
        return path.startswith(self._include) or os.path.dirname(path) == os.path.dirname(caller_file)

    def need(self, names: Iterable[str], caller_files: Iterable[str | None] = (None,)) -> None:
        """Parse the files that may define one of ``names`` for a call from one of ``caller_files``."""
        wanted = sorted(set(names) - self.looked_up)
        if not wanted:
            return
        self.looked_up.update(wanted)
        callers = set(caller_files)
        found = self.index.defining(wanted)
        todo = {
            path
            for rows in found.values()
            for path, _ in rows
            if path not in self.facts and any(self.visible(path, c) for c in callers)
        }
        self._parse(sorted(todo))

    def need_entries(self, names: Iterable[str]) -> None:
        """Parse what may define these entry points; one not in the index (a
        static function) is found by its name."""
        wanted = sorted(set(names) - self.looked_up)
        self.need(wanted)
        self._parse(
            [f for f in self.index.mentioning([n for n in wanted if n not in self.defs]) if f not in self.facts]
        )

    def parse(self, rels: Iterable[str]) -> None:
        """Parse these files (an entry's, named by the rules), if they are in the tree."""
        listed = self.index.listing.stamps
        self._parse(sorted({r for r in rels if r in listed and r not in self.facts}))

    def need_mentions(self, names: Iterable[str]) -> None:
        """Parse every file that mentions one of ``names`` (ops tables are set anywhere)."""
        wanted = sorted(set(names) - self.mentions)
        if not wanted:
            return
        self.mentions.update(wanted)
        self._parse([f for f in self.index.mentioning(wanted) if f not in self.facts])

    def includers(self, header: str) -> list[tuple[str, int]] | None:
        """The ``#include`` lines (file, line) that name ``header``; None when
        more than :data:`INCLUDERS_MAX` do (it is included everywhere).

        A header is named as the include path has it (``asm-generic/x.h``
        for include/asm-generic/x.h), or by its name from beside it.
        """
        on_path = next((header[len(p) :] for p in self._include if header.startswith(p)), None)
        sites = self.index.includers([on_path]) if on_path else []
        here = os.path.dirname(header)
        sites += [(f, n) for f, n in self.index.includers([os.path.basename(header)]) if os.path.dirname(f) == here]
        if len(sites) > INCLUDERS_MAX:
            return None
        return sorted(set(sites))

    def conditionals(self, rel: str) -> cpp.Conditionals:
        """The ``#if`` guards of a file: from its parse, or (an includer) read for them alone."""
        if rel in self.facts:
            return self.facts[rel].conditionals
        if rel not in self._conditionals:
            text = treeindex.file_bytes(str(self.root), rel).decode("utf-8", "surrogateescape")
            self._conditionals[rel] = cpp.scan(text, rel)
        return self._conditionals[rel]

    def close(self) -> None:
        self.index.close()

    def _parse(self, rels: list[str]) -> None:
        pool = self.index.workers(len(rels) >= PARALLEL_MIN)
        root = str(self.root)
        if pool is not None:
            results = list(pool.map(_read, [root] * len(rels), rels, [self.crules] * len(rels), chunksize=4))
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


def _read(root: str, rel: str, rules: csource.CRules) -> csource.FileFacts:
    return csource.read(rel, treeindex.file_bytes(root, rel).decode("utf-8", "surrogateescape"), rules)
