"""Where a kernel tree may define a name: one pass over the tree, kept in the user's cache.

A whole kernel tree is ~90,000 files and 1.3 GB of C; what costs is finding
where a name is *defined*.  One pass lists the lines that can start a
definition: a line at column 0 holding ``name(`` (a function's head; not a
one-line prototype) in any C file, and ``#define name`` of a function-like
macro, an alias or an empty macro in a header (a ``.c`` file's macros and
static functions are visible to that file only, which is parsed anyway;
numeric constants cannot lead anywhere); and every ``#include`` line.  The
pass is ``git grep -P --no-index`` where git is installed -- neither the
tree's ``.gitignore`` nor its git configuration is read, so a tree cannot
make it run anything -- and worker processes running the same expressions
otherwise.  The list is a superset: the C reader says which candidates
really define the name.  Word searches (the files that name an ops table)
are asked of git grep when needed, and kept with their answers.

The index is kept in ``$XDG_CACHE_HOME/ptfree`` (``~/.cache/ptfree``),
never inside the tree, keyed by the tree's real path and each file's size
and modification time: a later run rescans only the files that changed.
Finished extractions and the tree's Kconfig are kept there too, keyed by
what they were made from.  Deleting the cache is always safe.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

#: Directories of a kernel tree that hold no kernel C for the target.
SKIP_DIRS = frozenset({"Documentation", "tools", "scripts", "samples", "usr", "LICENSES"})
#: A .c or .h file bigger than this is not read (the kernel's largest are a few MiB).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Below this many files, worker processes cost more than they save.
SCAN_PARALLEL_MIN = 2000
#: More changed files than this, and the whole tree is scanned again.
RESCAN_MAX = 4000
#: Bumped when what the index or a cached result holds changes meaning.
FORMAT = "ptfree-index-8"

# A definition's first line: `name(` on a line starting at column 0 (the
# kernel's style for function heads, which ends with the name and its
# parenthesis on that line) that is not a one-line prototype or macro call
# (`...);`), and in headers a macro that can be a call.
_HEAD = r"^[A-Za-z_][^;(]*\((?!.*\)[ \t]*;[ \t]*$)"
_DEFINE = r"^[ \t]*#[ \t]*define[ \t]+\w+(?:\(|[ \t]+[A-Za-z_]|[ \t]*$)"
# The same, for Python's re over a whole file (the scan without git): no
# class may cross a newline.
_HEAD_RE = re.compile(rb"^[A-Za-z_][^;(\n]*\((?![^\n]*\)[ \t]*;[ \t]*$)", re.M)
_DEFINE_RE = re.compile(_DEFINE.encode(), re.M)
_LAST_NAME = re.compile(rb"(\w+)\s*\($")
# Over a file's matches at once: each head's static-ness and name, each macro's name.
_HEAD_NAMES = re.compile(rb"^(static\b)?[^\n]*?(\w+)[ \t]*\($", re.M)
_DEFINED_NAMES = re.compile(rb"define[ \t]+(\w+)")
_INCLUDE = r'^[ \t]*#[ \t]*include[ \t]*[<"][^>"]+[>"]'
_INCLUDE_LINE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]', re.M)
# git grep -n --heading: "LINE:#include <name>" under the file's name.
_INCLUDE_HITS = re.compile(rb'^(\d+):[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]', re.M)


def cache_root() -> Path:
    """``$PTFREE_CACHE_DIR``, else ``$XDG_CACHE_HOME/ptfree``, else ``~/.cache/ptfree``."""
    explicit = os.environ.get("PTFREE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ptfree"


def code_version() -> str:
    """This ptfree: its version, the index format and its modules' sizes and
    times, so that a kept result never outlives the code that made it."""
    from ptfree_cli import __version__

    here = Path(__file__).parent
    stamps = []
    for p in sorted(here.glob("*.py")):
        st = p.stat()
        stamps.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    return f"{__version__}/{FORMAT}/" + hashlib.sha256("\n".join(stamps).encode()).hexdigest()[:16]


def lazy_module(name: str) -> ModuleType:
    """``name``, imported when one of its attributes is first used
    (importlib's LazyLoader; an import already done is that module)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None, name
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def git_describe(root: Path) -> str | None:
    """``git describe`` of a checkout, or None when ``root`` is not one (or git is missing)."""
    if not (root / ".git").exists():
        return None
    g = git()
    if g is None:
        return None
    # The commit, not the work tree: asking whether the tree is dirty would let
    # git run the clean filters the tree's own configuration names.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_DIR=str(root / ".git"), LC_ALL="C")
    try:
        out = subprocess.run(
            [g, "-c", "core.fsmonitor=false", "describe", "--always", "--tags"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def git() -> str | None:
    """The git program, or None: the index is then built by worker processes."""
    return shutil.which("git")


def _git_env() -> dict[str, str]:
    # No repository and no configuration: with --no-index git reads files
    # only, and nothing a tree's .git/config says can run.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_DIR=os.devnull, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_COUNT="0", LC_ALL="C"
    )
    return env


@dataclass(frozen=True)
class Listing:
    """The tree's files as read: C files to scan, those refused, and a fingerprint of all."""

    files: tuple[str, ...]
    stamps: dict[str, tuple[int, int]]
    skipped: tuple[str, ...]
    size: int
    fingerprint: str


def list_tree(root: Path, srcarch: str, jobs: int = 1) -> Listing:
    """Every ``.c``/``.h`` file the target can build from, plus the Kconfig and Kbuild files' stamps.

    Devices, FIFOs and files over :data:`MAX_FILE_BYTES` are listed as
    skipped and never opened (a hostile tree could hold ``/dev/zero`` as x.c).
    A kernel-sized tree is walked by ``jobs`` processes, each a share of the
    directories (a stat per file is the cost: half the time with two).
    """
    units: list[tuple[str, bool]] = [("", False)]
    tops = _subdirs(str(root), "", srcarch)
    if jobs > 1 and len(tops) >= PARALLEL_TOPS and _fork() is not None:
        # Each top directory's own files, and each of its subdirectories whole.
        units += [(t, False) for t in tops] + [(d, True) for t in tops for d in _subdirs(str(root), t, srcarch)]
        shares = [units[i::jobs] for i in range(jobs)]
        with ProcessPoolExecutor(jobs, mp_context=_fork()) as pool:
            seen = [r for part in pool.map(_walk, [str(root)] * jobs, [srcarch] * jobs, shares) for r in part]
    else:
        seen = _walk(str(root), srcarch, [("", True)])
    files: list[str] = []
    stamps: dict[str, tuple[int, int]] = {}
    skipped: list[str] = []
    size = 0
    for path, nbytes, mtime, mode in seen:
        if not path.endswith((".c", ".h")):
            continue
        if not stat.S_ISREG(mode) or nbytes > MAX_FILE_BYTES:
            skipped.append(path)
            continue
        files.append(path)
        stamps[path] = (nbytes, mtime)
        size += nbytes
    # The tree's own order does not matter: everything is sorted once.
    seen.sort()
    text = "".join(f"{p}\0{n}\0{m}\0{mode}\n" for p, n, m, mode in seen)
    digest = hashlib.sha256(text.encode("utf-8", "surrogateescape"))
    files.sort()
    skipped.sort()
    return Listing(tuple(files), stamps, tuple(skipped), size, digest.hexdigest())


#: What a row of the index says of a name in a file: a function head or
#: prototype the whole kernel can see (``f``), a macro of a header (``m``),
#: an ``#include`` of it (``i``, with its line).  A .c file's static
#: functions are its own, and not indexed: the file is parsed when the walk
#: is in it, and an entry point is found by its name.
KINDS = ("f", "m", "i")

Row = tuple[str, str, int]  # name, kind, line (0 but for an #include)


def _head_row(rel: str, head: bytes) -> Row | None:
    n = _LAST_NAME.search(head)
    if not n or (not rel.endswith(".h") and head.startswith(b"static")):
        return None
    return n.group(1).decode("ascii"), "f", 0


#: A tree with this many top directories is kernel-sized: listed by several processes.
PARALLEL_TOPS = 8


def _fork() -> Any:
    """The fork start method where there is one (Linux): a worker starts in milliseconds."""
    import multiprocessing

    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def _skip(rel: str, name: str, srcarch: str) -> bool:
    return name in SKIP_DIRS or name.startswith(".") or (rel == "arch" and name != srcarch)


def _subdirs(root: str, rel: str, srcarch: str) -> list[str]:
    try:
        with os.scandir(os.path.join(root, rel) if rel else root) as it:
            return sorted(
                f"{rel}/{e.name}" if rel else e.name
                for e in it
                if e.is_dir(follow_symlinks=False) and not _skip(rel, e.name, srcarch)
            )
    except OSError:
        return []


def _walk(root: str, srcarch: str, units: list[tuple[str, bool]]) -> list[tuple[str, int, int, int]]:
    """(path, size, mtime, mode) of the C, Kconfig and Kbuild files of each
    unit: a directory's own files, and with ``deep`` those below it (in workers)."""
    out: list[tuple[str, int, int, int]] = []
    stack = list(units)
    while stack:
        rel, deep = stack.pop()
        try:
            it = os.scandir(os.path.join(root, rel) if rel else root)
        except OSError:
            continue
        with it:
            for e in it:
                name = e.name
                path = f"{rel}/{name}" if rel else name
                try:
                    if e.is_dir(follow_symlinks=False):
                        if deep and not _skip(rel, name, srcarch):
                            stack.append((path, True))
                        continue
                    if not (name.endswith((".c", ".h")) or name.startswith(("Kconfig", "Makefile", "Kbuild"))):
                        continue
                    st = e.stat(follow_symlinks=True)
                except OSError:
                    continue
                out.append((path, st.st_size, st.st_mtime_ns, st.st_mode))
    return out


def scan_text(rel: str, data: bytes) -> set[Row]:
    """What ``data`` may define, and what it includes (:data:`KINDS`)."""
    rows: set[Row] = set()
    for m in _HEAD_RE.finditer(data):
        row = _head_row(rel, m.group(0))
        if row:
            rows.add(row)
    if rel.endswith(".h"):
        for m in _DEFINE_RE.finditer(data):
            d = _DEFINED_NAMES.search(m.group(0))
            if d:
                rows.add((d.group(1).decode("ascii"), "m", 0))
    for m in _INCLUDE_LINE.finditer(data):
        rows.add((m.group(1).decode("utf-8", "surrogateescape"), "i", data.count(b"\n", 0, m.start()) + 1))
    return rows


def file_bytes(root: str, rel: str) -> bytes:
    """A file of the tree, or nothing when it cannot be read (it went, or is unreadable)."""
    try:
        with open(os.path.join(root, rel), "rb") as f:
            return f.read()
    except OSError:
        return b""


def _scan_files(root: str, rels: list[str]) -> list[tuple[str, list[Row]]]:
    """Worker: each file's rows."""
    return [(rel, sorted(scan_text(rel, file_bytes(root, rel)))) for rel in rels]


def _words(root: str, pattern: bytes, rels: list[str]) -> list[tuple[str, str]]:
    """Worker: (word, file) for each word of ``pattern`` (one group) each file of ``rels`` mentions."""
    regex = re.compile(pattern)
    return [
        (w.decode("utf-8", "surrogateescape"), rel) for rel in rels for w in set(regex.findall(file_bytes(root, rel)))
    ]


class TreeIndex:
    """The definition index of one tree, opened from the cache or built."""

    def __init__(self, root: Path, srcarch: str, jobs: int, listing: Listing | None = None) -> None:
        self.root = root
        self.srcarch = srcarch
        self.jobs = jobs
        self.listing = listing or list_tree(root, srcarch)
        self.pool: ProcessPoolExecutor | None = None
        self.db: sqlite3.Connection | None = None
        self.memory: dict[str, list[tuple[str, str, int]]] | None = None
        self.scanned = 0
        #: how the index was had: "cache", "updated", "git grep", "scan"
        self.how = ""
        #: what went wrong with git where it is installed (the files were then read by ptfree, slower)
        self.problems: list[str] = []

    # -- the cache ----------------------------------------------------------

    @property
    def cache_dir(self) -> Path:
        real = os.path.realpath(self.root)
        key = hashlib.sha256(f"{FORMAT}\0{real}\0{self.srcarch}".encode("utf-8", "surrogateescape")).hexdigest()
        return cache_root() / "trees" / key[:24]

    def result(self, key: str) -> str | None:
        """A finished extraction kept under ``key``, or None."""
        return self.cached(f"result-{key}.json")

    def keep_result(self, key: str, text: str) -> None:
        """Keep a finished extraction; results of an older state of the tree go."""
        with _quiet_oserror():
            for old in self.cache_dir.glob("result-*.json"):
                if old.stat().st_mtime < self._opened_at:
                    old.unlink()
        self.keep(f"result-{key}.json", text)

    def cached(self, name: str) -> str | None:
        """The text kept under ``name`` in this tree's cache, or None."""
        try:
            return (self.cache_dir / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def keep(self, name: str, text: str) -> None:
        """Keep ``text`` under ``name`` (see :func:`keep_file`)."""
        keep_file(self.cache_dir / name, text)

    _opened_at = 0.0

    # -- lookups ------------------------------------------------------------

    def defining(self, names: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """For each of ``names``, the files that may define it and how (:data:`KINDS`), in tree order."""
        wanted = sorted(set(names))
        if not wanted:
            return {}
        self._open()
        out: dict[str, list[tuple[str, str]]] = {n: [] for n in wanted}
        if self.memory is not None:
            for n in wanted:
                out[n] = sorted({(p, k) for p, k, _ in self.memory.get(n, ()) if k != "i"})
            return out
        assert self.db is not None
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            rows = self.db.execute(
                "SELECT d.name, f.path, d.kind FROM defs d JOIN files f ON f.id = d.file"
                f" WHERE d.kind != 'i' AND d.name IN ({_marks(part)})",
                part,
            ).fetchall()
            for name, path, kind in rows:
                out[name].append((path, kind))
        for n in out:
            out[n].sort()
        return out

    def mentioning(self, names: Iterable[str]) -> list[str]:
        """The C files that mention one of ``names`` as a word, in tree order.

        A big tree keeps the answer in its index (kept up to date with the
        files that change), so a later run does not search again.
        """
        wanted = sorted(set(names))
        if not wanted:
            return []
        self._open()
        if self.db is None:
            return self._search(wanted)
        asked = {n for (n,) in self.db.execute(f"SELECT name FROM asked WHERE name IN ({_marks(wanted)})", wanted)}
        new = [n for n in wanted if n not in asked]
        if new:
            ids = {p: i for p, i in self.db.execute("SELECT path, id FROM files")}
            with self.db:
                self.db.executemany(
                    "INSERT INTO mentions VALUES (?, ?)", [(n, ids[f]) for n, f in self._search_each(new) if f in ids]
                )
                self.db.executemany("INSERT OR IGNORE INTO asked VALUES (?)", [(n,) for n in new])
        rows = self.db.execute(
            f"SELECT DISTINCT f.path FROM mentions m JOIN files f ON f.id = m.file WHERE m.name IN ({_marks(wanted)})",
            wanted,
        ).fetchall()
        return sorted(p for (p,) in rows)

    def _search(self, names: list[str]) -> list[str]:
        """The files mentioning one of ``names``, searched now."""
        return sorted({f for _, f in self._search_each(names)})

    def _search_each(self, names: list[str], rels: list[str] | None = None) -> list[tuple[str, str]]:
        """(name, file) for every file (of ``rels``, default all) that mentions ``name`` as a word; one pass."""
        listed = self.listing.stamps
        found = self._git_grep(["-o", "-w", "-F", *[a for n in names for a in ("-e", n)]]) if rels is None else None
        if found is not None:
            hits = set()
            for line in found.split(b"\n"):
                path, _, word = line.partition(b"\0")
                if word:
                    hits.add((word.decode("utf-8", "surrogateescape"), path.decode("utf-8", "surrogateescape")))
            return sorted((n, f) for n, f in hits if f in listed)
        pattern = rb"\b(" + b"|".join(re.escape(n.encode()) for n in names) + rb")\b"
        files = list(self.listing.files) if rels is None else rels
        pool = self.workers(len(files) >= SCAN_PARALLEL_MIN)
        if pool is None:
            parts = [_words(str(self.root), pattern, files)]
        else:
            chunks = _chunks(files, self.jobs)
            parts = list(pool.map(_words, [str(self.root)] * len(chunks), [pattern] * len(chunks), chunks))
        return sorted({hit for part in parts for hit in part})

    def includers(self, names: Iterable[str]) -> list[tuple[str, int]]:
        """The ``#include`` lines (file, line) that name one of ``names`` as written, in tree order."""
        wanted = sorted(set(names))
        self._open()
        out: list[tuple[str, int]] = []
        if self.memory is not None:
            out = [(p, line) for n in wanted for p, k, line in self.memory.get(n, ()) if k == "i"]
        else:
            assert self.db is not None
            out = self.db.execute(
                "SELECT f.path, d.line FROM defs d JOIN files f ON f.id = d.file"
                f" WHERE d.kind = 'i' AND d.name IN ({_marks(wanted)})",
                wanted,
            ).fetchall()
        return sorted(set(out))

    # -- building -------------------------------------------------------------

    def _open(self) -> None:
        if self.db is not None or self.memory is not None:
            return
        import time

        self._opened_at = time.time()
        if len(self.listing.files) < SCAN_PARALLEL_MIN:
            # A small tree is scanned in a moment: no cache to keep fresh.
            self.memory = {}
            for rel, rows in _scan_files(str(self.root), list(self.listing.files)):
                for n, kind, line in rows:
                    self.memory.setdefault(n, []).append((rel, kind, line))
            self.scanned = len(self.listing.files)
            self.how = "scan"
            return
        path = self.cache_dir / "index.sqlite"
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            if path.exists():
                db = sqlite3.connect(path, timeout=60)
                if self._update(db):
                    self.db = db
                    return
                db.close()
            # Built whole into a file of its own, then put in place: a run
            # stopped halfway leaves the old index or none, never half of one.
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".index-", suffix=".sqlite")
            os.close(fd)
            try:
                db = sqlite3.connect(tmp)
                self._build(db)
                db.close()
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            self.db = sqlite3.connect(path, timeout=60)
        except (OSError, sqlite3.Error):
            # No usable cache (read-only, full, corrupt): built in memory.
            self.db = sqlite3.connect(":memory:")
            self._build(self.db)

    def _build(self, db: sqlite3.Connection) -> None:
        """Every file scanned into a new, empty database."""
        # A cache: no journal, no sync; the file is renamed into place when whole.
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT UNIQUE, size INT, mtime INT)")
        db.execute("CREATE TABLE defs(name TEXT, file INTEGER, kind TEXT, line INTEGER)")
        # Word searches asked before (ops tables), kept with their answers.
        db.execute("CREATE TABLE mentions(name TEXT, file INTEGER)")
        db.execute("CREATE TABLE asked(name TEXT PRIMARY KEY)")
        now = self.listing.stamps
        ids = {p: i for i, p in enumerate(self.listing.files, 1)}
        with db:
            db.executemany("INSERT INTO files VALUES (?, ?, ?, ?)", ((i, p, *now[p]) for p, i in ids.items()))
            db.executemany("INSERT INTO defs VALUES (?, ?, ?, ?)", _rows(self._scan_all(), ids))
            # Built after the rows: one sort, not a b-tree insert per row.
            db.execute("CREATE INDEX defs_name ON defs(name)")
            db.execute("CREATE INDEX defs_file ON defs(file)")
            db.execute("CREATE INDEX mentions_name ON mentions(name)")
            db.execute("CREATE INDEX mentions_file ON mentions(file)")
        self.scanned = len(now)

    def _update(self, db: sqlite3.Connection) -> bool:
        """Bring a kept index up to date with the files that changed; False
        when it is not one, or so much changed that building anew is cheaper."""
        try:
            stored = {p: (i, s, m) for i, p, s, m in db.execute("SELECT id, path, size, mtime FROM files")}
        except sqlite3.Error:
            return False
        now = self.listing.stamps
        changed = [p for p, st in now.items() if stored.get(p, (0, -1, -1))[1:] != st]
        gone = [p for p in stored if p not in now]
        if not stored or len(changed) > RESCAN_MAX:
            return False
        if not changed and not gone:
            self.how = "cache"
            return True
        with db:
            for p in changed + gone:
                if p in stored:
                    db.execute("DELETE FROM defs WHERE file = ?", (stored[p][0],))
                    db.execute("DELETE FROM mentions WHERE file = ?", (stored[p][0],))
                    db.execute("DELETE FROM files WHERE id = ?", (stored[p][0],))
            db.executemany("INSERT INTO files(path, size, mtime) VALUES (?, ?, ?)", ((p, *now[p]) for p in changed))
            ids = dict(db.execute("SELECT path, id FROM files"))
            db.executemany("INSERT INTO defs VALUES (?, ?, ?, ?)", _rows(self._scan(changed), ids))
            asked = [n for (n,) in db.execute("SELECT name FROM asked")]
            db.executemany(
                "INSERT INTO mentions VALUES (?, ?)", [(n, ids[f]) for n, f in self._search_each(asked, changed)]
            )
        self.scanned = len(changed)
        self.how = "updated"
        return True

    def _scan_all(self) -> Iterable[tuple[str, str, str, int]]:
        rows = self._git_scan()
        if rows is not None:
            self.how = "git grep"
            return rows
        self.how = "scan"
        return self._scan(list(self.listing.files))

    def _scan(self, rels: list[str]) -> Iterator[tuple[str, str, str, int]]:
        pool = self.workers(len(rels) >= SCAN_PARALLEL_MIN)
        root = str(self.root)
        if pool is None:
            parts: Iterable[list[tuple[str, list[Row]]]] = [_scan_files(root, rels)]
        else:
            chunks = _chunks(rels, self.jobs)
            parts = pool.map(_scan_files, [root] * len(chunks), chunks)
        return ((n, rel, kind, line) for part in parts for rel, rows in part for n, kind, line in rows)

    def _git_scan(self) -> list[tuple[str, str, str, int]] | None:
        """The candidate names of every listed file: ``git grep -P`` for heads and
        for macros, side by side, each file's matches under its name (``--heading``)."""
        g = git()
        if g is None:
            return None
        spec = self._pathspec()
        base = [g, "grep", "--no-index", "-P", "-I", "-o", "--no-color", "--heading", "--break"]
        jobs = {
            "heads": [*base, "-e", _HEAD, "--", *spec],
            "defines": [*base, "-e", _DEFINE, "--", "*.h", *spec[2:]],
            "includes": [*base, "-n", "-e", _INCLUDE, "--", *spec],
        }
        try:
            procs = {
                k: subprocess.Popen(
                    cmd, cwd=self.root, env=_git_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
                )
                for k, cmd in jobs.items()
            }
            outs = _drain_all(procs)
            failed = [p.wait() for p in procs.values() if p.wait() not in (0, 1)]
            if failed:
                self.problems.append(f"git grep failed (exit {failed[0]})")
                return None
        except OSError as exc:
            self.problems.append(f"git grep could not run ({exc.strerror or exc})")
            return None
        listed = set(self.listing.files)
        rows: list[tuple[str, str, str, int]] = []
        for kind, out in outs.items():
            for group in out.split(b"\n\n"):
                path, _, body = group.partition(b"\n")
                rel = path.decode("utf-8", "surrogateescape")
                if rel not in listed:
                    continue
                if kind == "defines":
                    rows.extend((n.decode("ascii"), rel, "m", 0) for n in _DEFINED_NAMES.findall(body))
                elif kind == "includes":
                    rows.extend(
                        (n.decode("utf-8", "surrogateescape"), rel, "i", int(line))
                        for line, n in _INCLUDE_HITS.findall(body)
                    )
                else:
                    header = rel.endswith(".h")
                    rows.extend(
                        (n.decode("ascii"), rel, "f", 0)
                        for static, n in _HEAD_NAMES.findall(body)
                        if header or not static
                    )
        return rows

    def _git_grep(self, args: list[str]) -> bytes | None:
        g = git()
        if g is None:
            return None
        try:
            out = subprocess.run(
                [g, "grep", "--no-index", "-I", "-z", "--no-color", *args, "--", *self._pathspec()],
                cwd=self.root,
                env=_git_env(),
                capture_output=True,
                timeout=600,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            self.problems.append(f"git grep could not run ({exc})")
            return None
        if out.returncode not in (0, 1):  # 1: nothing found
            first = out.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
            self.problems.append(f"git grep failed (exit {out.returncode}{': ' + first[0] if first else ''})")
            return None
        return out.stdout

    def _pathspec(self) -> list[str]:
        return ["*.c", "*.h", *[f":(exclude){d}" for d in sorted(SKIP_DIRS)], ":(exclude).*", ":(exclude)*/.*"] + [
            f":(exclude)arch/{a}" for a in self._other_arches()
        ]

    def _other_arches(self) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(self.root / "arch") if e.is_dir() and e.name != self.srcarch)
        except OSError:
            return []

    def workers(self, wanted: bool = True) -> ProcessPoolExecutor | None:
        """The extraction's one pool of worker processes (scanning, parsing,
        Kconfig), started when first wanted; None with one job."""
        if not wanted or self.jobs <= 1:
            return None
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.jobs)
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
        if self.db is not None:
            self.db.close()
            self.db = None


def _marks(items: list[str]) -> str:
    return ",".join("?" * len(items))


def _rows(rows: Iterable[tuple[str, str, str, int]], ids: dict[str, int]) -> Iterator[tuple[str, int, str, int]]:
    """Index rows by file id.  Of the ``#include`` lines of .c files, one per
    name and directory: all that is asked of them is whether a .c file there
    includes a header (it is then compiled wherever that file is)."""
    seen: set[tuple[str, str]] = set()
    for name, path, kind, line in rows:
        if path not in ids:
            continue
        if kind == "i" and not path.endswith(".h"):
            key = (name, os.path.dirname(path))
            if key in seen:
                continue
            seen.add(key)
        yield name, ids[path], kind, line


def _drain_all(procs: dict[str, subprocess.Popen[bytes]]) -> dict[str, bytes]:
    """Every process's whole output, each pipe read by a thread of its own so that all run at once."""

    outs: dict[str, bytes] = {}

    def read(key: str, p: subprocess.Popen[bytes]) -> None:
        outs[key] = p.stdout.read() if p.stdout is not None else b""

    threads = [threading.Thread(target=read, args=item) for item in procs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outs


def keep_file(path: Path, text: str) -> None:
    """Write a file of the cache atomically; best effort: a read-only or full cache is no error."""
    with _quiet_oserror():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keep-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _chunks(items: list[str], jobs: int) -> list[list[str]]:
    size = max(64, len(items) // (jobs * 4) + 1)
    return [items[i : i + size] for i in range(0, len(items), size)]


class _quiet_oserror:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is not None and issubclass(kind, OSError)
