"""Times `ptfree extract` + `ptfree check` against GNU cflow on the same files, in the same run.

    python3 benchmarks/bench_extract.py [--runs N] [--files N] [--cflow-timeout S]

On two trees (the x86 fixture, and a generated tree of the fixture plus
--files unrelated kernel-like C files, see gentree.py) it times:

(a) ptfree: one ``extract`` of the four teardown entries, then one ``check``
    of the model written, each a fresh ``python3 -m ptfree_cli``;
(b) cflow per combination: one cflow run per combination of the k Kconfig
    options the extracted model's guards name (2^k runs, -DCONFIG_X=1 for
    each option set to y), which is what answering "which configurations
    reach which free" takes with a tool that sees one configuration;
(c) one cflow run (every option off).

cflow gets every .c file of the tree (a cflow user does not know where the
functions are) and the tree's include directories.  (b) is measured in full
where it fits (--sweep-limit seconds for one sweep); otherwise it is the sum
over sampled combinations, scaled to 2^k, and says so.  A cflow run longer
than --cflow-timeout is killed and counted as that long: the ratios are
then bounds, and the line says so.  Goals: (b)/(a) >= 10, (a)/(c) <= 3.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gentree import FIXTURE, generate

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = ["free_pte", "free_pte_range", "free_pmd_range", "free_pud_range"]
INCLUDES = ["arch/x86/include", "include"]
#: x86-64 has at least 4 levels; ptfree's rules assume the same (x86-64.yaml atoms).
CONSTANT = ["-DCONFIG_PGTABLE_LEVELS=4"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
PTFREE = [sys.executable, "-m", "ptfree_cli"]

#: Run in a fresh process: extraction with ProcessPoolExecutor wrapped, to see
#: whether it made a pool and how many workers it started.
PROBE = """
import json, sys
from pathlib import Path
from ptfree_cli import extract as ex
from ptfree_cli import sourcetree as st
from ptfree_cli import treeindex as ti
from ptfree_cli.loader import load_rules
from ptfree_cli.models import shipped_rules

pools = []

class Counting(ti.ProcessPoolExecutor):
    # extract keeps one pool for the whole run and shuts it down at the end.
    def shutdown(self, *a, **k):
        pools.append(len(getattr(self, "_processes", None) or {}))
        return super().shutdown(*a, **k)

ti.ProcessPoolExecutor = Counting
r = ex.extract(Path(sys.argv[1]), sys.argv[2:], load_rules(shipped_rules()))
print(json.dumps({"pools": pools, "cpus": ti.os.cpu_count(), "min": st.PARALLEL_MIN}))
"""


def run(cmd: list[str], cwd: Path | None = None, timeout: float | None = None, ok: tuple[int, ...] = (0,)) -> float:
    """Wall time of ``cmd``; ``timeout`` when it was killed for taking longer."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return float(timeout or 0)
    if proc.returncode not in ok:
        err = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise SystemExit(f"{' '.join(cmd[:6])} ... failed ({proc.returncode}): {' | '.join(err)}")
    return time.perf_counter() - start


def ptfree_once(tree: Path, out: Path) -> float:
    extract = [*PTFREE, "extract", "--source", str(tree), *(a for e in ENTRIES for a in ("-e", e))]
    t = run([*extract, "--force", "-o", str(out)])
    # check exits 1 when the model violates the policy (the fixture does): still a result.
    return t + run([*PTFREE, "check", str(out)], ok=(0, 1))


def guard_options(model: Path) -> list[str]:
    """The Kconfig options the model's guards name (runtime axes left out)."""
    code = (
        "import json, sys\n"
        "from ptfree_cli import guards, loader\n"
        "m = loader.parse_model(open(sys.argv[1]).read(), 'M.yaml')\n"
        "es = [g for f in m.functions for g in (f.guard, *(c.guard for c in f.calls))]\n"
        "es += [t.guard for h in m.hooks for t in h.targets]\n"
        "opts = {o.name for o in m.options}\n"
        "print(json.dumps(sorted({n for e in es for n in guards.names(e) if n in opts})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(model)], env=ENV, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def cflow_cmd(tree: Path, on: list[str], cfiles: list[str]) -> list[str]:
    defines = [f"-DCONFIG_{o}=1" for o in on]
    includes = [f"-I{i}" for i in INCLUDES if (tree / i).is_dir()]
    return ["cflow", "--cpp=cpp", *CONSTANT, *defines, *includes, *(f"--main={e}" for e in ENTRIES), *cfiles]


def c_files(tree: Path) -> list[str]:
    return sorted(str(p.relative_to(tree)) for p in tree.rglob("*.c"))


def ms(t: float) -> str:
    return f"{t * 1000:9.0f} ms" if t < 10 else f"{t:9.1f} s "


def bench(label: str, tree: Path, args: argparse.Namespace, work: Path) -> None:
    model = work / f"{label}.yaml"
    cfiles = c_files(tree)
    print(f"\n== {label}: {tree} ({len(cfiles)} .c files)")
    ptfree_once(tree, model)  # warm the page cache and write the model
    options = guard_options(model)
    k = len(options)
    combos = [[o for o, v in zip(options, bits, strict=True) if v] for bits in itertools.product((0, 1), repeat=k)]
    print(f"options the guards name (k={k}): {' '.join(options)}; 2^k = {len(combos)} cflow runs")

    info = json.loads(
        subprocess.run(
            [*PTFREE, "extract", "--source", str(tree), *(a for e in ENTRIES for a in ("-e", e)), "--format", "json"],
            env=ENV,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    probe = json.loads(
        subprocess.run(
            [sys.executable, "-c", PROBE, str(tree), *ENTRIES], env=ENV, capture_output=True, text=True, check=True
        ).stdout
    )
    print(
        f"ptfree parsed {info['parsed']} of {info['files']} .c/.h files it lists"
        f" (PARALLEL_MIN = {probe['min']}, {probe['cpus']} cores):"
        + (
            f" process pools {len(probe['pools'])}, workers started {probe['pools']}"
            if probe["pools"]
            else " in-process (no worker processes)"
        )
    )

    timeout = args.cflow_timeout
    first = cflow_cmd(tree, [], cfiles)
    warm = run(first, cwd=tree, timeout=timeout)
    ours: list[float] = []
    # A killed run is a bound; repeating it only costs time.
    one: list[float] = [] if warm < timeout else [warm]
    for _ in range(args.runs):
        if warm < timeout:
            one.append(run(first, cwd=tree, timeout=timeout))
        ours.append(ptfree_once(tree, model))
    a, c = statistics.median(ours), statistics.median(one)
    c_bound = c >= timeout

    # (b): the whole sweep if it should fit in --sweep-limit, else a sample scaled to 2^k.
    if c * len(combos) <= args.sweep_limit:
        start = time.perf_counter()
        for on in combos:
            run(cflow_cmd(tree, on, cfiles), cwd=tree, timeout=timeout)
        b = time.perf_counter() - start
        how = f"all {len(combos)} runs"
    else:
        step = max(1, len(combos) // args.sample)
        sample = combos[::step][: args.sample] if not c_bound else []
        times = [run(cflow_cmd(tree, on, cfiles), cwd=tree, timeout=timeout) for on in sample]
        per = statistics.median(times) if times else c
        b = per * len(combos)
        how = (
            f"{len(times)} sampled runs (median {per:.2f} s) x {len(combos)}"
            if times
            else f"one run (>= {timeout:.0f} s, killed) x {len(combos)}"
        )
    b_bound = c_bound

    print(f"(a) ptfree extract + check:     {ms(a)}  (median of {len(ours)})")
    print(f"(b) cflow per combination:      {ms(b)}  ({how}){'  >= (runs killed)' if b_bound else ''}")
    print(
        f"(c) one cflow run (all off):    {ms(c)}  (median of {len(one)})"
        + (f"  >= (killed at {timeout:.0f} s)" if c_bound else "")
    )
    rb, rc = b / a, a / c
    print(f"ratio vs cflow-per-combination: {'>= ' if b_bound else ''}{rb:.1f}x faster (goal >= 10)")
    print(f"ratio vs one cflow run:         {'<= ' if c_bound else ''}{rc:.2f} (ptfree / cflow; goal <= 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions of (a) and (c)")
    parser.add_argument("--files", type=int, default=3000, help="unrelated C files in the generated tree")
    parser.add_argument("--cflow-timeout", type=float, default=60.0, help="seconds before a cflow run is killed")
    parser.add_argument("--sweep-limit", type=float, default=30.0, help="longest full sweep of (b) to run, seconds")
    parser.add_argument("--sample", type=int, default=3, help="combinations timed when (b) is scaled")
    args = parser.parse_args()
    if shutil.which("cflow") is None:
        print("cflow not found: install GNU cflow (Debian/Ubuntu: apt-get install -y cflow)", file=sys.stderr)
        raise SystemExit(2)
    compileall.compile_dir(ROOT / "ptfree_cli", quiet=1)
    startup = statistics.median(run([*PTFREE, "--version"]) for _ in range(5))
    print(f"ptfree start-up floor (python3 -m ptfree_cli --version): {startup * 1000:.0f} ms; (a) pays it twice")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bench("small", FIXTURE, args, work)
        big = work / "tree"
        t0 = time.perf_counter()
        counts = generate(big, args.files)
        print(f"\ngenerated tree in {time.perf_counter() - t0:.1f} s: {counts}")
        bench("large", big, args, work)


if __name__ == "__main__":
    main()
