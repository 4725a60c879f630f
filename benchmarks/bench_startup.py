"""Times `ptfree path` against importing its dependencies, in the same run.

    python3 benchmarks/bench_startup.py [--runs N]

Prints the median wall time of each and their ratio; the goal is a ratio of
at most 1.3: resolving a path should cost little more than Python loading
click, rich, networkx and yaml.  Both are measured in one run on one machine,
so the ratio means something where absolute times do not.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASELINE = [sys.executable, "-c", "import click, rich, networkx, yaml"]
PTFREE = [sys.executable, "-m", "ptfree_cli", "path", "--config", "PARAVIRT=n,PT_RECLAIM=y", "--format", "plain"]


def once(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def paired(runs: int) -> tuple[float, float, float]:
    """Median times of both commands and the median of their per-pair
    ratios; the two run alternately, so a busy machine slows both alike."""
    base, ours, ratios = [], [], []
    for _ in range(runs):
        b = once(BASELINE)
        o = once(PTFREE)
        base.append(b)
        ours.append(o)
        ratios.append(o / b)
    return statistics.median(base), statistics.median(ours), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    # The dependencies were byte-compiled when pip installed them; compile
    # ptfree too (PYTHONDONTWRITEBYTECODE may be set), so that both sides
    # load bytecode and the ratio compares like with like.
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "ptfree_cli", quiet=1)
    paired(2)  # warm the caches of both
    base, ours, ratio = paired(args.runs)
    print(f"baseline (import click, rich, networkx, yaml): {base * 1000:.1f} ms")
    print(f"ptfree path --config PARAVIRT=n,PT_RECLAIM=y:  {ours * 1000:.1f} ms")
    print(f"ratio: {ratio:.2f} (median of paired runs; goal <= 1.3)")


if __name__ == "__main__":
    main()
