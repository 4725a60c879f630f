"""Generates large synthetic models for the scale benchmark.

    python3 benchmarks/genmodel.py N M > model.yaml

N options in chains (every third depends on the one before; some select a
hidden helper), two runtime axes (a backend with four alternatives gated by
options, a batch path), and M functions in a layered call DAG: each calls two
to three later functions, one call in five under a guard over a few nearby
options (see guard()) or an alternative;
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

    def guard(i: int) -> str:
        # Like the kernel, where the guards along one call path come from the
        # few symbols of one subsystem: function i draws its guards from the
        # options near position i * N / M.  (Guards drawn from all N options
        # at random make every path condition a random function of N
        # variables, which no engine can represent compactly.)
        home = i * n // m
        near = [opts[(home + d) % n] for d in range(-2, 3)]
        kind = rng.random()
        a = rng.choice(near)
        if kind < 0.35:
            return a if rng.random() < 0.5 else f"'!{a}'"
        if kind < 0.6:
            return f"'{a} && !{rng.choice(near)}'"
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
            # As in the kernel, most calls are unconditional; one in five
            # sits under an #ifdef or a runtime branch.
            cond = f"\n        if: {guard(i)}" if rng.random() < 0.2 else ""
            lines.append(f"      - call: f{t}{cond}{extra}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(generate(int(sys.argv[1]), int(sys.argv[2])), end="")
