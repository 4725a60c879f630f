"""Times ptfree on Debian's whole 6.12 tree against one git grep pass over it, in the same run.

    python3 benchmarks/bench_realtree.py [--tree NAME] [--runs N]

The tree comes from tests/realtree/fetch.py (fetched into its cache when
missing); a git checkout of it is the real-tree tests' scratch repository
(made when missing).  Each command is a fresh ``python3 -m ptfree_cli``;
"cold" runs with an empty ptfree cache (PTFREE_CACHE_DIR), "warm" with the
cache the cold run left.  The reference is one ``git grep -lw`` of the entry
names over the same tree (``--no-index`` for the plain directory).  Peak
RSS is each command's own (its process and the workers it waited for).

Goals (issue "Whole real kernel trees"):
  cold, plain directory     <= 10 x the git grep pass
  cold, git checkout        <=  5 x the git grep pass
  warm (cache present)      <= 1.5 x `ptfree check` on the shipped model
  peak RSS                  <= 1 GB in every case
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "realtree"))
import fetch  # noqa: E402

PTFREE = [sys.executable, "-m", "ptfree_cli"]
ENTRIES = ["free_pte_range", "free_pmd_range", "free_pud_range"]
GB = 1024 * 1024 * 1024


def _tree_rss(root: int) -> int:
    """The resident bytes of ``root`` and every process below it, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parents[int(d)] = int(fields[1])
            rss[int(d)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(c for c, p in parents.items() if p == pid)
    return total


def timed(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS in bytes of one command, its worker processes
    included (their sum, sampled every 20 ms)."""
    start = time.perf_counter()
    p = subprocess.Popen(
        cmd, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, stdout=subprocess.DEVNULL
    )
    peak = 0
    while p.poll() is None:
        peak = max(peak, _tree_rss(p.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if p.returncode not in (0, 1):
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return wall, peak


def checkout_of(tree: Path, name: str) -> Path:
    repo = fetch.cache_dir() / "checkouts" / name
    if not (repo / ".git").is_dir():
        if repo.exists():
            shutil.rmtree(repo)
        repo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-al", str(tree), str(repo)], check=True)
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e"}
        env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@e")
        for cmd in (["init", "-q"], ["add", "-f", "-A", "."], ["commit", "-qm", "tree"]):
            subprocess.run(["git", "-C", str(repo), *cmd], check=True, env=env)
    return repo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", default="6.12", help="which Debian tree (default 6.12)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement; the median is kept")
    args = parser.parse_args()
    assert fetch.main([args.tree]) == 0
    tree = fetch.tree_dir(args.tree)
    repo = checkout_of(tree, args.tree)
    model = {"6.1": "v6.1", "6.12": "v6.12"}.get(args.tree, "v7.2")
    grep = ["git", "grep", "-l", "-w", *[a for e in ENTRIES for a in ("-e", e)], "--", "*.c", "*.h"]
    extract = [*PTFREE, "extract", *[a for e in ENTRIES for a in ("-e", e)], "-o", os.devnull, "--force"]

    def median(
        cmd: list[str], cwd: Path | None = None, fresh: bool = False, cache: str = "", before: Any = None
    ) -> tuple[float, int]:
        walls, peaks = [], []
        for _ in range(args.runs):
            if before is not None:
                before()
            d = tempfile.mkdtemp(prefix="ptfree-bench-") if fresh else cache
            try:
                wall, peak = timed(cmd, cwd, {"PTFREE_CACHE_DIR": d} if d else None)
            finally:
                if fresh:
                    shutil.rmtree(d, ignore_errors=True)
            walls.append(wall)
            peaks.append(peak)
        return statistics.median(walls), max(peaks)

    # Warm the page cache first: every measurement reads a tree already in memory.
    subprocess.run(["git", "-C", str(tree), "grep", "--no-index", "-q", "-e", "zzzz_none", "--", "*.c", "*.h"])
    ref_plain, _ = median(["git", "grep", "--no-index", *grep[2:]], cwd=tree)
    ref_git, _ = median(grep, cwd=repo)
    cold_plain = median([*extract, "-s", str(tree)], fresh=True)
    cold_git = median([*extract, "-s", str(repo)], fresh=True)
    cache = tempfile.mkdtemp(prefix="ptfree-bench-warm-")
    try:
        timed([*extract, "-s", str(tree)], env={"PTFREE_CACHE_DIR": cache})
        warm = median([*extract, "-s", str(tree)], cache=cache)
        verify_warm = median([*PTFREE, "verify", "-m", model, "-s", str(tree)], cache=cache)

        # The index and the Kconfig kept, the extraction not: a tree whose C
        # changed since the last run.
        def forget() -> None:
            for result in Path(cache).glob("trees/*/result-*.json"):
                result.unlink()

        index_only = median([*extract, "-s", str(tree)], cache=cache, before=forget)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    check, _ = median([*PTFREE, "check", "-m", model])

    cpus = os.cpu_count()
    print(
        f"Debian {fetch.version_of(args.tree)}: {len(list(tree.rglob('*')))} paths; {cpus} cores; median of {args.runs}"
    )
    print(f"  reference: git grep -lw of the entries: plain {ref_plain:.2f} s, checkout {ref_git:.2f} s")
    print(f"  reference: ptfree check -m {model}: {check:.2f} s")
    rows = [
        ("cold, plain directory", cold_plain, ref_plain, 10.0),
        ("cold, git checkout", cold_git, ref_git, 5.0),
        ("warm (result kept)", warm, check, 1.5),
    ]
    ok = True
    for label, (wall, peak), ref, goal in rows:
        ratio = wall / ref
        met = ratio <= goal and peak <= GB
        ok &= met
        print(
            f"  {label:24} {wall:6.2f} s  {ratio:5.1f}x (goal <= {goal:g}x)  peak {peak / 2**20:5.0f} MiB  "
            + ("met" if met else "NOT met")
        )
    wall, peak = index_only
    print(
        f"  {'index kept, no result':24} {wall:6.2f} s  {wall / ref_plain:5.1f}x the plain pass  "
        f"peak {peak / 2**20:5.0f} MiB"
    )
    wall, peak = verify_warm
    print(f"  {'verify, warm':24} {wall:6.2f} s  {wall / check:5.1f}x check  peak {peak / 2**20:5.0f} MiB")
    print(f"  own RSS of this script: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
