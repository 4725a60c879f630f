"""Where a kernel tree may define a name: one pass over the tree, kept in the user's cache.

A whole kernel tree is ~90,000 files and 1.3 GB of C; what costs is finding
where a name is *defined*.  One pass lists the lines that can start a
definition: a line at column 0 holding ``name(`` (a function's head, or a
prototype) in any C file, and ``#define name`` of a function-like macro, an
alias or an empty macro in a header (a ``.c`` file's macros and static
functions are visible to that file only, which is parsed anyway; numeric
constants cannot lead anywhere).  The pass is ``git grep -P --no-index``
where git is installed -- neither the tree's ``.gitignore`` nor its git
configuration is read, so a tree cannot make it run anything -- and worker
processes running the same expressions otherwise.  The list is a superset:
the C reader says which candidates really define the name.

The index is kept in ``$XDG_CACHE_HOME/ptfree`` (``~/.cache/ptfree``),
never inside the tree, keyed by the tree's real path and each file's size
and modification time: a later run rescans only the files that changed.
Finished extractions are kept there too, keyed by a fingerprint of every
file that can change them.  Deleting the cache is always safe.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

#: Directories of a kernel tree that hold no kernel C for the target.
SKIP_DIRS = frozenset({"Documentation", "tools", "scripts", "samples", "usr", "LICENSES"})
#: A .c or .h file bigger than this is not read (the kernel's largest are a few MiB).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Below this many files, worker processes cost more than they save.
SCAN_PARALLEL_MIN = 2000
#: More changed files than this, and the whole tree is scanned again.
RESCAN_MAX = 4000
#: Bumped when what the index or a cached result holds changes meaning.
FORMAT = "ptfree-index-4"

# A definition's first line: `name(` on a line starting at column 0 (the
# kernel's style for function heads, which ends with the name and its
# parenthesis on that line), and in headers a macro that can be a call.
_HEAD = r"^[A-Za-z_][^;(]*\("
_DEFINE = r"^[ \t]*#[ \t]*define[ \t]+\w+(?:\(|[ \t]+[A-Za-z_]|[ \t]*$)"
_HEAD_RE = re.compile(rb"^[A-Za-z_][^;(\n]*\(", re.M)
_DEFINE_RE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+\w+(?:\(|[ \t]+[A-Za-z_]|[ \t]*$)", re.M)
_LAST_NAME = re.compile(rb"(\w+)\s*\($")
# Over a file's matches at once: each head's static-ness and name, each macro's name.
_HEAD_NAMES = re.compile(rb"^(static\b)?[^\n]*?(\w+)[ \t]*\($", re.M)
_DEFINED_NAMES = re.compile(rb"define[ \t]+(\w+)")
_INCLUDE = r'^[ \t]*#[ \t]*include[ \t]*[<"][^>"]+[>"]'
_INCLUDE_RE = re.compile(rb'[ \t]*#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]')
_DEFINED_NAME = re.compile(rb"define[ \t]+(\w+)")


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


def list_tree(root: Path, srcarch: str) -> Listing:
    """Every ``.c``/``.h`` file the target can build from, plus the Kconfig and Kbuild files' stamps.

    Devices, FIFOs and files over :data:`MAX_FILE_BYTES` are listed as
    skipped and never opened (a hostile tree could hold ``/dev/zero`` as x.c).
    """
    files: list[str] = []
    stamps: dict[str, tuple[int, int]] = {}
    skipped: list[str] = []
    size = 0
    digest = hashlib.sha256()
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(os.path.join(root, rel) if rel else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for e in entries:
            name = e.name
            path = f"{rel}/{name}" if rel else name
            try:
                if e.is_dir(follow_symlinks=False):
                    if name in SKIP_DIRS or name.startswith(".") or (rel == "arch" and name != srcarch):
                        continue
                    subdirs.append(path)
                    continue
                c_file = name.endswith((".c", ".h"))
                if not (c_file or name.startswith(("Kconfig", "Makefile", "Kbuild"))):
                    continue
                st = e.stat(follow_symlinks=True)
            except OSError:
                continue
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_mode}\n".encode("utf-8", "surrogateescape"))
            if not c_file:
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
                skipped.append(path)
                continue
            files.append(path)
            stamps[path] = (st.st_size, st.st_mtime_ns)
            size += st.st_size
        stack.extend(reversed(subdirs))
    files.sort()
    return Listing(tuple(files), stamps, tuple(skipped), size, digest.hexdigest())


#: What a row of the index says of a name in a file: a function head or
#: prototype the whole kernel can see (``f``), a macro of a header (``m``).
#: A .c file's static functions are its own, and not indexed: the file is
#: parsed when the walk is in it, and an entry point is found by its name.
KINDS = ("f", "m")


def _head_row(rel: str, head: bytes) -> tuple[str, str] | None:
    n = _LAST_NAME.search(head)
    if not n or (not rel.endswith(".h") and head.startswith(b"static")):
        return None
    return n.group(1).decode("ascii"), "f"


def scan_text(rel: str, data: bytes) -> set[tuple[str, str]]:
    """The names ``data`` may define, with their kind (:data:`KINDS`)."""
    rows: set[tuple[str, str]] = set()
    for m in _HEAD_RE.finditer(data):
        row = _head_row(rel, m.group(0))
        if row:
            rows.add(row)
    if rel.endswith(".h"):
        for m in _DEFINE_RE.finditer(data):
            d = _DEFINED_NAME.search(m.group(0))
            if d:
                rows.add((d.group(1).decode("ascii"), "m"))
    return rows


def _scan_files(root: str, rels: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Worker: each file's candidate names and kinds."""
    out = []
    for rel in rels:
        try:
            with open(os.path.join(root, rel), "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        out.append((rel, sorted(scan_text(rel, data))))
    return out


def _includes_of(root: str, rels: list[str]) -> list[tuple[str, int, str]]:
    """Worker: the ``#include`` lines of ``rels`` as (file, line, name)."""
    out = []
    for rel in rels:
        try:
            with open(os.path.join(root, rel), "rb") as f:
                data = f.read()
        except OSError:
            continue
        for m in re.finditer(rb"^" + _INCLUDE_RE.pattern, data, re.M):
            out.append((rel, data.count(b"\n", 0, m.start()) + 1, m.group(1).decode("utf-8", "surrogateescape")))
    return out


def _words(root: str, pattern: bytes, rels: list[str]) -> list[str]:
    """Worker: the files among ``rels`` that mention a name of ``pattern``."""
    regex = re.compile(pattern)
    out = []
    for rel in rels:
        try:
            with open(os.path.join(root, rel), "rb") as f:
                if regex.search(f.read()):
                    out.append(rel)
        except OSError:
            continue
    return out


class TreeIndex:
    """The definition index of one tree, opened from the cache or built."""

    def __init__(self, root: Path, srcarch: str, jobs: int, listing: Listing | None = None) -> None:
        self.root = root
        self.srcarch = srcarch
        self.jobs = jobs
        self.listing = listing or list_tree(root, srcarch)
        self.pool: ProcessPoolExecutor | None = None
        self.db: sqlite3.Connection | None = None
        self.memory: dict[str, list[tuple[str, str]]] | None = None
        self.scanned = 0
        self._includes: dict[str, list[tuple[str, int]]] | None = None
        #: how the index was had: "cache", "updated", "git grep", "scan"
        self.how = ""

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
        """Keep ``text`` under ``name``, atomically (best effort: a read-only cache is no error)."""
        with _quiet_oserror():
            d = self.cache_dir
            d.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=d, prefix=".keep-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, d / name)

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
                out[n] = sorted(self.memory.get(n, ()))
            return out
        assert self.db is not None
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            rows = self.db.execute(
                "SELECT d.name, f.path, d.kind FROM defs d JOIN files f ON f.id = d.file"
                f" WHERE d.name IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            for name, path, kind in rows:
                out[name].append((path, kind))
        for n in out:
            out[n].sort()
        return out

    def mentioning(self, names: Iterable[str], words: bool = True) -> list[str]:
        """The C files that mention one of ``names`` (as a word, or anywhere), in tree order."""
        wanted = sorted(set(names))
        if not wanted:
            return []
        found = self._git_grep(["-l", *(["-w"] if words else []), "-F", *[a for n in wanted for a in ("-e", n)]])
        if found is not None:
            listed = set(self.listing.files)
            return sorted({line.decode("utf-8", "surrogateescape") for line in found.split(b"\0") if line} & listed)
        alternatives = b"|".join(re.escape(n.encode()) for n in wanted)
        pattern = rb"\b(?:" + alternatives + rb")\b" if words else alternatives
        files = list(self.listing.files)
        pool = self._pool(len(files) >= SCAN_PARALLEL_MIN)
        if pool is None:
            return _words(str(self.root), pattern, files)
        chunks = _chunks(files, self.jobs)
        parts = pool.map(_words, [str(self.root)] * len(chunks), [pattern] * len(chunks), chunks)
        return sorted(f for part in parts for f in part)

    def includes(self) -> dict[str, list[tuple[str, int]]]:
        """Every ``#include`` of the tree: the name as written -> (file, line); read once."""
        if self._includes is not None:
            return self._includes
        out: dict[str, list[tuple[str, int]]] = {}
        found = self._git_grep(["-n", "-P", "-o", "-e", _INCLUDE])
        if found is not None:
            for line in found.split(b"\n"):
                path, _, rest = line.partition(b"\0")
                number, _, text = rest.partition(b"\0")
                m = _INCLUDE_RE.match(text)
                if m and number.isdigit():
                    rel = path.decode("utf-8", "surrogateescape")
                    out.setdefault(m.group(1).decode("utf-8", "surrogateescape"), []).append((rel, int(number)))
        else:
            files = list(self.listing.files)
            pool = self._pool(len(files) >= SCAN_PARALLEL_MIN)
            chunks = _chunks(files, self.jobs)
            parts = (
                [_includes_of(str(self.root), files)]
                if pool is None
                else pool.map(_includes_of, [str(self.root)] * len(chunks), chunks)
            )
            for part in parts:
                for rel, at, named in part:
                    out.setdefault(named, []).append((rel, at))
        listed = set(self.listing.files)
        self._includes = {k: sorted(p for p in v if p[0] in listed) for k, v in out.items()}
        return self._includes

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
                for n, kind in rows:
                    self.memory.setdefault(n, []).append((rel, kind))
            self.scanned = len(self.listing.files)
            self.how = "scan"
            return
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.cache_dir / "index.sqlite", timeout=60)
            self._refresh(self.db)
        except (OSError, sqlite3.Error):
            # No usable cache (read-only, full, corrupt): build in memory.
            if self.db is not None:
                self.db.close()
            self.db = sqlite3.connect(":memory:")
            self._refresh(self.db)

    def _refresh(self, db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS files(id INTEGER PRIMARY KEY, path TEXT UNIQUE, size INT, mtime INT)")
        db.execute("CREATE TABLE IF NOT EXISTS defs(name TEXT, file INTEGER, kind TEXT)")
        stored = {p: (i, s, m) for i, p, s, m in db.execute("SELECT id, path, size, mtime FROM files")}
        now = self.listing.stamps
        changed = [p for p, st in now.items() if stored.get(p, (0, -1, -1))[1:] != st]
        gone = [p for p in stored if p not in now]
        if not changed and not gone:
            self.how = "cache"
            return
        full = not stored or len(changed) > RESCAN_MAX
        with db:
            if full:
                db.execute("DROP INDEX IF EXISTS defs_name")
                db.execute("DELETE FROM files")
                db.execute("DELETE FROM defs")
                ids = {p: i for i, p in enumerate(self.listing.files, 1)}
                db.executemany("INSERT INTO files VALUES (?, ?, ?, ?)", ((i, p, *now[p]) for p, i in ids.items()))
                rows = self._scan_all()
                self.scanned = len(now)
            else:
                for p in changed + gone:
                    if p in stored:
                        db.execute("DELETE FROM defs WHERE file = ?", (stored[p][0],))
                        db.execute("DELETE FROM files WHERE id = ?", (stored[p][0],))
                db.executemany("INSERT INTO files(path, size, mtime) VALUES (?, ?, ?)", ((p, *now[p]) for p in changed))
                ids = dict(db.execute("SELECT path, id FROM files"))
                rows = self._scan(changed)
                self.scanned = len(changed)
                self.how = "updated"
            db.executemany("INSERT INTO defs VALUES (?, ?, ?)", ((n, ids[p], k) for n, p, k in rows if p in ids))
            # Built after the rows: one sort, not a b-tree insert per row.
            db.execute("CREATE INDEX IF NOT EXISTS defs_name ON defs(name)")

    def _scan_all(self) -> Iterable[tuple[str, str, str]]:
        rows = self._git_scan()
        if rows is not None:
            self.how = "git grep"
            return rows
        self.how = "scan"
        return self._scan(list(self.listing.files))

    def _scan(self, rels: list[str]) -> Iterator[tuple[str, str, str]]:
        pool = self._pool(len(rels) >= SCAN_PARALLEL_MIN)
        root = str(self.root)
        if pool is None:
            parts: Iterable[list[tuple[str, list[tuple[str, str]]]]] = [_scan_files(root, rels)]
        else:
            chunks = _chunks(rels, self.jobs)
            parts = pool.map(_scan_files, [root] * len(chunks), chunks)
        return ((n, rel, kind) for part in parts for rel, rows in part for n, kind in rows)

    def _git_scan(self) -> list[tuple[str, str, str]] | None:
        """The candidate names of every listed file: ``git grep -P`` for heads and
        for macros, side by side, each file's matches under its name (``--heading``)."""
        g = git()
        if g is None:
            return None
        spec = self._pathspec()
        base = [g, "grep", "--no-index", "-P", "-I", "-o", "--no-color", "--heading", "--break"]
        jobs = {"heads": [*base, "-e", _HEAD, "--", *spec], "defines": [*base, "-e", _DEFINE, "--", "*.h", *spec[2:]]}
        try:
            procs = {
                k: subprocess.Popen(
                    cmd, cwd=self.root, env=_git_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
                )
                for k, cmd in jobs.items()
            }
            outs = _drain_all(procs)
            if any(p.wait() not in (0, 1) for p in procs.values()):
                return None
        except OSError:
            return None
        listed = set(self.listing.files)
        rows: list[tuple[str, str, str]] = []
        for kind, out in outs.items():
            for group in out.split(b"\n\n"):
                path, _, body = group.partition(b"\n")
                rel = path.decode("utf-8", "surrogateescape")
                if rel not in listed:
                    continue
                if kind == "defines":
                    rows.extend((n.decode("ascii"), rel, "m") for n in _DEFINED_NAMES.findall(body))
                    continue
                header = rel.endswith(".h")
                rows.extend(
                    (n.decode("ascii"), rel, "f") for static, n in _HEAD_NAMES.findall(body) if header or not static
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
        except (OSError, subprocess.SubprocessError):
            return None
        if out.returncode not in (0, 1):  # 1: nothing found
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
        if self.db is not None:
            self.db.close()
            self.db = None


def _drain_all(procs: dict[str, subprocess.Popen[bytes]]) -> dict[str, bytes]:
    """Every process's whole output, each pipe read by a thread of its own so that all run at once."""
    import threading

    outs: dict[str, bytes] = {}

    def read(key: str, p: subprocess.Popen[bytes]) -> None:
        outs[key] = p.stdout.read() if p.stdout is not None else b""

    threads = [threading.Thread(target=read, args=item) for item in procs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outs


def _chunks(items: list[str], jobs: int) -> list[list[str]]:
    size = max(64, len(items) // (jobs * 4) + 1)
    return [items[i : i + size] for i in range(0, len(items), size)]


class _quiet_oserror:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is not None and issubclass(kind, OSError)
