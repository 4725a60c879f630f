"""How `ptfree check` scales: N options, M functions, symbolic all the way.

    python3 benchmarks/bench_scale.py [--quick]

For N = 10, 20, 40, 80 options and M = 100, 1000, 5000 functions (a model
from genmodel.py each), times `ptfree check` in a fresh process and prints
the time, the growth per doubling of N (the goal is at most 2x; brute
force over 2^N configurations would double with every option), and the ratio
to the bare import floor (Python importing ptfree's dependencies).  Not a
test: a measurement to quote.
"""

from __future__ import annotations

import argparse
import compileall
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genmodel import generate

ROOT = Path(__file__).resolve().parent.parent
FLOOR = [sys.executable, "-c", "import click, networkx, yaml, dd.autoref"]


def seconds(cmd: list[str], runs: int = 1) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="M = 100 and 1000 only")
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "ptfree_cli", quiet=1)
    floor = seconds(FLOOR, 5)
    print(f"import floor: {floor * 1000:.0f} ms")
    ns = [10, 20, 40, 80]
    ms = [100, 1000] if args.quick else [100, 1000, 5000]
    print(f"{'M':>6} {'N':>4} {'check':>9} {'x per 2N':>9} {'x floor':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for m in ms:
            prev = None
            for n in ns:
                path = Path(tmp) / f"synthetic-{n}-{m}.yaml"
                path.write_text(generate(n, m))
                t = seconds([sys.executable, "-m", "ptfree_cli", "check", "-m", str(path), "--format", "json"])
                growth = f"{t / prev:.2f}" if prev else "-"
                print(f"{m:>6} {n:>4} {t:>8.2f}s {growth:>9} {t / floor:>8.1f}")
                prev = t
    print("goal: x per 2N <= 2.0")


if __name__ == "__main__":
    main()
