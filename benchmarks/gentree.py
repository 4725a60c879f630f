"""Generates a large kernel-like tree for the extraction benchmark.

    python3 benchmarks/gentree.py DIR [--files N]

Copies the x86 fixture (tests/fixtures/extract/x86: the free path) into DIR
and adds N unrelated C files of our own (3,000 by default) in 100
subsystem directories, each with a Makefile (``obj-$(CONFIG_GEN_...)``
lines), a header of prototypes, and shared headers with static inline
functions, structs, macros and ``#ifdef CONFIG_GEN_...`` blocks.  Every file
defines ten or so functions calling each other, the header inlines and the
global functions of other files of its directory.  About one file in 30 also
calls a helper that the fixture's free path calls but does not define
(``virt_to_page``, ``free_page``, ...), as real drivers do: ptfree has to
parse those files to find out they define nothing it needs; the rest it
only scans for names.  Nothing generated defines a function of the free
path, so the extracted model is the fixture's.  No kernel code: the bodies
are random.  A seeded generator makes the tree the same for the same N and
seed.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "extract" / "x86"

_TOPS = ["drivers", "fs", "net", "sound", "block", "crypto", "lib", "arch/x86/gen"]
_PREFIXES = ["blk", "nvme", "ext", "sk", "usb", "pci", "irq", "dma", "snd", "xfs", "tcp", "crc", "hid", "i2c", "spi"]
_OBJS = ["req", "queue", "dev", "buf", "ctx", "entry", "node", "map", "ring", "desc", "slot", "chan", "cmd", "hdr"]
_VERBS = ["alloc", "init", "probe", "submit", "flush", "get", "put", "update", "scan", "reset", "poll", "sync", "fill"]
#: Functions the fixture's free path calls without defining them: ptfree
#: searches the tree for each, so files that mention one get parsed.
_FREE_PATH_HELPERS = ["virt_to_page(ptr)", "free_page((unsigned long)ptr)", "page_to_pfn(ptr)", "__pa(ptr)"]
#: Kconfig options of the generated code (never the free path's).
_OPTIONS = 200
_SHARED_HEADERS = 200


def _shared_header(i: int, rng: random.Random) -> str:
    opt = f"CONFIG_GEN_{rng.randrange(_OPTIONS)}"
    lines = [
        "/* SPDX-License-Identifier: MIT */",
        f"/* ptfree benchmark: generated shared header {i}. */",
        f"#ifndef _GEN_H{i}_H",
        f"#define _GEN_H{i}_H",
        "",
    ]
    if i:
        lines += [f"#include <linux/gen/h{rng.randrange(i)}.h>", ""]
    lines += [
        f"struct gen{i}_obj {{",
        "\tunsigned long flags;",
        "\tint count;",
        f"\tstruct gen{i}_obj *next;",
        "};",
        "",
        f"#define GEN{i}_MASK(x) ((x) & 0x{rng.randrange(1, 0xFFFF):x}UL)",
        f"#define GEN{i}_SHIFT {rng.randrange(1, 12)}",
        "",
    ]
    for j in range(4):
        lines += [
            f"static inline int gen{i}_inline_{j}(struct gen{i}_obj *o, int v)",
            "{",
            f"\tif (o->flags & GEN{i}_MASK(v))",
            f"\t\treturn v << GEN{i}_SHIFT;",
            f"\treturn o->count + {rng.randrange(100)};" if j == 0 else f"\treturn gen{i}_inline_{j - 1}(o, v + 1);",
            "}",
            "",
        ]
    lines += [
        f"#ifdef {opt}",
        f"extern int gen{i}_enabled(struct gen{i}_obj *o);",
        "#else",
        f"static inline int gen{i}_enabled(struct gen{i}_obj *o) {{ return 0; }}",
        "#endif",
        "",
        f"#endif /* _GEN_H{i}_H */",
        "",
    ]
    return "\n".join(lines)


def _body(rng: random.Random, callees: list[str], inlines: list[tuple[int, int]], helper: str | None) -> list[str]:
    out = ["\tint ret = 0;", "\tunsigned long i;", "\tvoid *ptr = (void *)arg;", ""]
    for _ in range(rng.randint(2, 4)):
        kind = rng.random()
        if kind < 0.5 and callees:
            out.append(f"\tret += {rng.choice(callees)}(arg + {rng.randrange(8)});")
        elif kind < 0.75 and inlines:
            h, j = rng.choice(inlines)
            out += [
                f"\tif (arg > {rng.randrange(64)}) {{",
                f"\t\tstruct gen{h}_obj o = {{ .flags = arg, .count = ret }};",
                f"\t\tret |= gen{h}_inline_{j}(&o, (int)arg);",
                "\t}",
            ]
        else:
            out += [
                f"\tfor (i = 0; i < {rng.randint(2, 32)}; i++)",
                f"\t\tret ^= (int)(i * {rng.randrange(3, 97)});",
            ]
    if rng.random() < 0.3 and callees:
        out += [
            f"#ifdef CONFIG_GEN_{rng.randrange(_OPTIONS)}",
            f"\tret += {rng.choice(callees)}(ret);",
            "#endif",
        ]
    if helper:
        out.append(f"\t(void){helper};")
    out += ["\treturn ret;"]
    return out


def generate(dest: Path, files: int = 3000, seed: int = 1) -> dict[str, int]:
    """Writes the tree into ``dest`` (which must not exist); returns counts of what was written."""
    rng = random.Random(seed * 1_000_003 + files)
    shutil.copytree(FIXTURE, dest)
    hdir = dest / "include" / "linux" / "gen"
    hdir.mkdir(parents=True)
    for i in range(_SHARED_HEADERS):
        (hdir / f"h{i}.h").write_text(_shared_header(i, rng))
    ndirs = 100
    per_dir = -(-files // ndirs)
    written = helpers = 0
    lines_total = 0
    makefiles = 0
    for d in range(ndirs):
        top = _TOPS[d % len(_TOPS)]
        prefix = _PREFIXES[d % len(_PREFIXES)]
        sub = dest / top / f"{prefix}{d}"
        sub.mkdir(parents=True, exist_ok=True)
        count = min(per_dir, files - written)
        if count <= 0:
            break
        # Plan the functions of the directory first: the global ones go in its header.
        plan: list[list[tuple[str, bool]]] = []
        for f in range(count):
            fns = []
            for n in range(rng.randint(8, 14)):
                name = f"{prefix}{d}_{rng.choice(_OBJS)}_{rng.choice(_VERBS)}_{f}_{n}"
                fns.append((name, rng.random() < 0.4))
            plan.append(fns)
        globals_ = [name for fns in plan for name, exported in fns if exported]
        proto = [f"/* ptfree benchmark: generated prototypes of {top}/{prefix}{d}. */", f"#ifndef _GEN_D{d}_H"]
        proto += [f"#define _GEN_D{d}_H", ""] + [f"int {g}(unsigned long arg);" for g in globals_] + ["", "#endif", ""]
        (hdir / f"d{d}.h").write_text("\n".join(proto))
        objs = []
        for f, fns in enumerate(plan):
            shared = sorted(rng.sample(range(_SHARED_HEADERS), 3))
            inlines = [(h, rng.randrange(4)) for h in shared]
            helper = rng.choice(_FREE_PATH_HELPERS) if rng.random() < 1 / 30 else None
            helpers += helper is not None
            text = [
                "// SPDX-License-Identifier: MIT",
                f"/* ptfree benchmark: generated file {f} of {top}/{prefix}{d}; not kernel code. */",
                *(f"#include <linux/gen/h{h}.h>" for h in shared),
                f"#include <linux/gen/d{d}.h>",
                "",
            ]
            # Each function calls functions defined before it in the file
            # or global ones of the directory: a DAG, as cflow likes it.
            for n, (name, exported) in enumerate(fns):
                earlier = [x for x, _ in fns[:n]]
                callees = earlier + rng.sample(globals_, min(2, len(globals_)))
                guarded = rng.random() < 0.15
                if guarded:
                    text.append(f"#ifdef CONFIG_GEN_{rng.randrange(_OPTIONS)}")
                text.append(f"{'' if exported else 'static '}int {name}(unsigned long arg)")
                text.append("{")
                text += _body(rng, callees, inlines, helper if n == len(fns) - 1 else None)
                text.append("}")
                if guarded:
                    text.append("#else")
                    text.append(f"{'' if exported else 'static '}int {name}(unsigned long arg) {{ return 0; }}")
                    text.append("#endif")
                text.append("")
            stem = f"{prefix}{d}_{f}"
            (sub / f"{stem}.c").write_text("\n".join(text))
            lines_total += len(text)
            objs.append(f"{stem}.o")
            written += 1
        mk = [f"# ptfree benchmark: generated Makefile of {top}/{prefix}{d}."]
        for k in range(0, len(objs), 6):
            mk.append(f"obj-$(CONFIG_GEN_{rng.randrange(_OPTIONS)}) += {' '.join(objs[k : k + 6])}")
        (sub / "Makefile").write_text("\n".join(mk) + "\n")
        makefiles += 1
    return {
        "c_files": written,
        "headers": _SHARED_HEADERS + ndirs,
        "makefiles": makefiles,
        "lines": lines_total,
        "helper_files": helpers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--files", type=int, default=3000)
    args = parser.parse_args()
    print(generate(args.dest, args.files))


if __name__ == "__main__":
    main()
