"""Generates large synthetic models for the scale benchmark.

    python3 benchmarks/genmodel.py N M > model.yaml

N options in chains (every third depends on the one before; some select a
hidden helper), two runtime axes (a backend with four alternatives gated by
options, a batch path), and M functions in a layered call DAG: each calls two
to three later functions under guards over a few options and alternatives;
some calls defer to an RCU callback, some callees send an IPI, the last
twentieth are leaves.  A seeded random generator makes the output the same
for the same N, M and seed.
"""

from __future__ import annotations

import random
import sys


def generate(n: int, m: int, seed: int = 1) -> str:
    rng = random.Random(seed * 1_000_003 + n * 7919 + m)
    opts = [f"OPT{i}" for i in range(n)]
    lines = ["ptfree: 1", f"model: synthetic-{n}-{m}", "kernel: {version: synthetic}", "options:"]
    for i, name in enumerate(opts):
        lines.append(f"  {name}:")
        lines.append(f"    prompt: option {i}")
        if i % 3 == 1:
            lines.append(f"    depends_on: {opts[i - 1]}")
        if i % 5 == 2 and i + 1 < n:
            lines.append(f"    selects: [HIDDEN{i}]")
    for i in range(n):
        if i % 5 == 2 and i + 1 < n:
            lines.append(f"  HIDDEN{i}:")
            lines.append(f"    depends_on: {opts[i]}")
    alts = ["native", "alpha", "beta", "gamma"]
    lines += ["runtime:", "  backend:", "    alternatives:"]
    for j, alt in enumerate(alts):
        cond = f" {{if: {opts[(j * 7) % n]}}}" if j else " {}"
        lines.append(f"      {alt}:{cond}")
    lines += ["  batch:", "    alternatives:", "      fast: {}", "      slow: {}"]
    lines += ["entries:", "  f0: {role: teardown}", "  f1: {role: reclaim}", "functions:"]

    def guard() -> str:
        kind = rng.random()
        a = rng.choice(opts)
        if kind < 0.35:
            return a if rng.random() < 0.5 else f"'!{a}'"
        if kind < 0.6:
            return f"'{a} && !{rng.choice(opts)}'"
        if kind < 0.8:
            return f"backend={rng.choice(alts)}"
        return f"batch={rng.choice(['fast', 'slow'])}"

    leaves = max(2, m // 20)
    for i in range(m):
        name = f"f{i}"
        lines.append(f"  {name}:")
        lines.append("    file: synthetic.c")
        if i >= m - leaves:
            lines.append(f"    leaf: {'tlb_batched' if i % 4 == 0 else 'free'}")
            continue
        if i % 97 == 50:
            lines.append("    ipi: true")
            continue
        lines.append("    calls:")
        later = range(i + 1, m)
        span = min(len(later), 25)
        targets = sorted(set(rng.sample(list(later[:span]), k=min(span, rng.randint(2, 3)))))
        for t in targets:
            extra = "\n        defer: rcu" if rng.random() < 0.03 else ""
            lines.append(f"      - call: f{t}\n        if: {guard()}{extra}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(generate(int(sys.argv[1]), int(sys.argv[2])), end="")
