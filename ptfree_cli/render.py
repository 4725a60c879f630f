"""Everything ptfree prints: plain text, rich output for terminals, and JSON.

This is the only module that imports rich (lazily: plain output and JSON
never load it).  Plain output is the seed's style: two spaces per level,
annotations in square brackets after the name, labelled groups under a
``[label:]`` line, every line at most 80 columns.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from ptfree_cli import guards

if TYPE_CHECKING:  # only the commands that check or diff need these
    from ptfree_cli.check import CheckResult, Matrix
    from ptfree_cli.diff import ModelDiff
    from ptfree_cli.errors import Location
    from ptfree_cli.explain import Explanation
    from ptfree_cli.model import Call, Model
    from ptfree_cli.verify import Verification
    from ptfree_cli.walk import EntryTree, Node

WIDTH = 80
FORMATS = ("rich", "plain", "json")


def annotations_of(node: Node) -> list[str]:
    """The bracketed annotations of a line, in print order."""
    out: list[str] = []
    if node.condition:
        out.append(node.condition)
    out.extend(node.notes)
    if node.rcu_callback:
        out.append("RCU callback")
    if node.leaf:
        out.append(f"leaf: {' or '.join(node.leaf)}")
    if node.see_above:
        out.append("see above")
    return out


def _line(depth: int, name: str, notes: Sequence[str]) -> list[str]:
    """One tree line, wrapped so that no line passes ``WIDTH`` columns."""
    indent = "  " * depth
    lines = [indent + name]
    cont = indent + "    "
    for note in notes:
        piece = f"[{note}]"
        if len(lines[-1]) + 1 + len(piece) <= WIDTH:
            lines[-1] += " " + piece
            continue
        for chunk in textwrap.wrap(piece, WIDTH - len(cont), break_on_hyphens=False) or [piece]:
            lines.append(cont + chunk)
    return lines


def _groups(children: Sequence[Node]) -> Iterable[tuple[str | None, list[Node]]]:
    """Consecutive children with the same label, in order."""
    group: list[Node] = []
    label: str | None = None
    for child in children:
        if group and child.label != label:
            yield label, group
            group = []
        label = child.label
        group.append(child)
    if group:
        yield label, group


def node_lines(node: Node, depth: int = 0) -> list[str]:
    lines = _line(depth, node.function, annotations_of(node))
    for label, group in _groups(node.children):
        inner = depth + 1
        if label is not None:
            lines.extend(_line(depth + 1, f"[{label}:]", []))
            inner += 1
        for child in group:
            lines.extend(node_lines(child, inner))
    return lines


def entry_lines(tree: EntryTree) -> list[str]:
    if tree.root is None:
        return _line(0, tree.entry.function, [f"not in this configuration: needs {tree.missing}"])
    return node_lines(tree.root)


def plain(trees: Sequence[EntryTree]) -> str:
    """Entry trees as plain text, one blank line between entries."""
    return "\n\n".join("\n".join(entry_lines(t)) for t in trees) + "\n"


def node_json(node: Node) -> dict[str, Any]:
    return {
        "function": node.function,
        "condition": node.condition,
        "guard": node.guard,
        "label": node.label,
        "notes": list(node.notes),
        "leaf": list(node.leaf),
        "see_above": node.see_above,
        "via": node.via,
        "file": node.file,
        "rcu_callback": node.rcu_callback,
        "children": [node_json(c) for c in node.children],
    }


def trees_json(meta: dict[str, Any], trees: Sequence[EntryTree]) -> str:
    doc = dict(meta)
    doc["entries"] = [
        {
            "entry": t.entry.function,
            "role": t.entry.role,
            "level": t.entry.level,
            "exists": t.root is not None,
            "missing": t.missing,
            "leaves": list(t.leaves),
            "tree": node_json(t.root) if t.root is not None else None,
        }
        for t in trees
    ]
    return dumps(doc)


def dumps(doc: Any) -> str:
    """JSON text, stable byte for byte: fixed key order as built, two-space indent."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


_LEAF_STYLE = {"rcu": "bold green", "ipi_sync": "bold yellow", "tlb_batched": "bold red", "direct": "bold red"}


def rich_trees(trees: Sequence[EntryTree], out: IO[str], width: int | None = None) -> None:
    """Entry trees as rich trees, for a terminal."""
    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    console = Console(file=out, markup=False, highlight=False, width=width, soft_wrap=False)

    def label_of(node: Node, root: bool = False) -> Text:
        text = Text(node.function, style="bold" if root else "")
        if node.condition:
            text.append(f" [{node.condition}]", style="cyan")
        for note in node.notes:
            text.append(f" [{note}]", style="dim")
        if node.rcu_callback:
            text.append(" [RCU callback]", style="green")
        for cls in node.leaf:
            text.append(f" [leaf: {cls}]", style=_LEAF_STYLE[cls])
        if node.see_above:
            text.append(" [see above]", style="italic dim")
        return text

    def add(parent: Tree, node: Node) -> None:
        for label, group in _groups(node.children):
            holder = parent.add(Text(f"[{label}:]", style="magenta")) if label is not None else parent
            for child in group:
                add(holder.add(label_of(child)), child)

    for i, t in enumerate(trees):
        if i:
            console.print()
        if t.root is None:
            console.print(Text(f"{t.entry.function} [not in this configuration: needs {t.missing}]", style="dim"))
            continue
        root = Tree(label_of(t.root, root=True))
        add(root, t.root)
        console.print(root)
        leaves = Text("leaves: ")
        for j, cls in enumerate(t.leaves):
            leaves.append((", " if j else "") + cls, style=_LEAF_STYLE[cls])
        console.print(leaves)


# -- check -----------------------------------------------------------------


def _wrap_path(prefix: str, names: Sequence[str]) -> list[str]:
    """``a -> b -> c`` wrapped at ``WIDTH``, continuation lines under the first name."""
    lines = [prefix]
    pad = " " * len(prefix)
    for i, name in enumerate(names):
        piece = name if i == 0 else f"-> {name}"
        if len(lines[-1]) + 1 + len(piece) > WIDTH and lines[-1] != prefix:
            lines.append(pad + piece)
        else:
            lines[-1] += ("" if lines[-1] == prefix else " ") + piece
    return lines


def check_text(results: Sequence[CheckResult]) -> str:
    """The check verdict for people: per model, each violation with its
    minimal condition, an example configuration, the path and its guards."""
    from ptfree_cli import reports

    out: list[str] = []
    for r in results:
        m = r.model
        verdict = "ok" if r.ok else f"FAIL, {len(r.violations)} violation{'s' * (len(r.violations) != 1)}"
        out.append(f"model {m.name} ({m.title}), policy {r.policy.name}: {verdict}")
        for v in r.violations:
            out.append("")
            out.append(reports.title(v).replace(f" when {v.condition}", ""))
            out.extend(textwrap.wrap(v.condition, WIDTH, initial_indent="  when    ", subsequent_indent=" " * 10))
            out.extend(
                textwrap.wrap(
                    reports.example(m, v.witness), WIDTH, initial_indent="  e.g.    ", subsequent_indent=" " * 10
                )
            )
            if v.path:
                out.extend(_wrap_path("  path    ", [s.function for s in v.path if s.function not in m.hook_map]))
                first = True
                for step, caller in reports.guarded_steps(m, v.path):
                    assert step.call is not None
                    head = "  guards  " if first else " " * 10
                    first = False
                    out.append(f"{head}{step.call.loc}")
                    out.append(f"{' ' * 12}{caller} -> {step.function}")
                    out.extend(
                        textwrap.wrap(
                            f"if {guards.format_expr(step.call.guard)} ({step.call.file})",
                            WIDTH,
                            initial_indent=" " * 12,
                            subsequent_indent=" " * 15,
                        )
                    )
        for w in r.waived:
            out.append("")
            out.append(f"waived: {w.entry.function} reaches {w.leaf_class} when {w.condition}")
            out.append(f"  by {w.waiver.loc}: {w.waiver.reason}")
        for s in r.stale:
            out.append("")
            out.append(f"{s.loc}: stale waiver: allows {s.allow} where nothing reaches it any more ({s.reason})")
        out.append("")
    return "\n".join(out)


# -- matrix ----------------------------------------------------------------


def _cell(classes: Sequence[str]) -> str:
    return "+".join(classes) if classes else "-"


def matrix_rows(table: Matrix) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a matrix as strings: one column per option or axis,
    one per entry point."""
    header = list(table.columns) + list(table.entries)
    rows = [list(r.values) + [_cell(r.leaves[e]) for e in table.entries] for r in table.rows]
    return header, rows


def matrix_plain(table: Matrix) -> str:
    """The matrix as an aligned text table; rows with a leaf other than rcu
    are marked with ``!`` in the first column."""
    header, rows = matrix_rows(table)
    marks = ["!" if not r.safe else " " for r in table.rows]
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for mark, row in zip(marks, rows, strict=True):
        lines.append(mark + " " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def matrix_csv(table: Matrix) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header, rows = matrix_rows(table)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def matrix_json(tables: Sequence[Matrix]) -> str:
    return dumps(
        {
            "matrices": [
                {
                    "model": t.model.name,
                    "columns": list(t.columns),
                    "entries": list(t.entries),
                    "rows": [
                        {
                            "values": dict(zip(t.columns, r.values, strict=True)),
                            "leaves": {e: list(r.leaves[e]) for e in t.entries},
                            "rcu_only": r.safe,
                        }
                        for r in t.rows
                    ],
                }
                for t in tables
            ]
        }
    )


def matrix_rich(table: Matrix, out: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, markup=False, highlight=False)
    header, rows = matrix_rows(table)
    t = Table(title=f"{table.model.name}: {table.model.title}")
    for h in header:
        t.add_column(h)
    for r, row in zip(table.rows, rows, strict=True):
        cells = [Text(c) for c in row[: len(table.columns)]]
        for e in table.entries:
            text = Text()
            for j, cls in enumerate(r.leaves[e] or ("-",)):
                text.append(("+" if j else "") + cls, style=_LEAF_STYLE.get(cls, "dim"))
            cells.append(text)
        t.add_row(*cells, style=None if r.safe else "on grey19")
    console.print(t)


def check_rich(results: Sequence[CheckResult], out: IO[str]) -> None:
    """The check verdict on a terminal: the plain text, with colour."""
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, markup=False, highlight=False)
    for line in check_text(results).splitlines():
        style = ""
        if line.startswith("model "):
            style = "bold green" if line.endswith(": ok") else "bold red"
        elif line and not line.startswith(" ") and not line.startswith("waived"):
            style = "bold"
        console.print(Text(line, style=style))


# -- diff ------------------------------------------------------------------


def _classes(classes: Sequence[str]) -> str:
    return "+".join(classes) if classes else "(absent)"


def _call_lines(d: ModelDiff) -> list[tuple[str, str, list[str]]]:
    """(sign, caller -> callee, detail lines) per changed call."""
    out = []
    for e in d.edges:
        head = f"{e.caller} -> {e.callee}"
        if e.old is None and e.new is not None:
            out.append(("+", head, _call_detail(d.new, e.new)))
        elif e.new is None and e.old is not None:
            out.append(("-", head, _call_detail(d.old, e.old)))
        elif e.old is not None and e.new is not None:
            was = _guard_c(d.old, e.old.guard)
            now = _guard_c(d.new, e.new.guard)
            out.append(("~", head, [was, f"=> {now}", f"{e.old.loc} => {e.new.loc}"]))
    return out


def _guard_c(model: Model, g: guards.Expr) -> str:
    return "always" if g == guards.TRUE else f"#if {guards.format_c(g, model.is_option)}"


def _call_detail(model: Model, c: Call) -> list[str]:
    lines = [_guard_c(model, c.guard)] if c.guard != guards.TRUE else []
    extra = "; call_rcu callback" if c.defer == "rcu" else ""
    note = f"; {c.note}" if c.note else ""
    lines.append(f"{c.file}{extra}{note}; {c.loc}")
    return lines


def diff_plain(d: ModelDiff) -> str:
    """The diff as mail-ready text: ASCII, at most 80 columns."""
    w = textwrap.TextWrapper(width=WIDTH, break_on_hyphens=False, break_long_words=False)
    out: list[str] = []

    def put(text: str, indent: int, more: int = 4) -> None:
        w.initial_indent = " " * indent
        w.subsequent_indent = " " * (indent + more)
        out.extend(w.wrap(text) or [" " * indent])

    put(f"ptfree diff {d.old.name} -> {d.new.name}", 0)
    put(f"({d.old.title} -> {d.new.title})", 0, 1)
    if d.empty:
        out.append("")
        out.append("no difference")
        return "\n".join(out) + "\n"
    out.append("")
    out.append("Behaviour (leaf classes reached; +IPI: an IPI is sent on the way)")
    for e in d.entries_added:
        put(f"{e}: new entry point", 2)
    for e in d.entries_removed:
        put(f"{e}: entry point removed", 2)
    entry = None
    for t in d.transitions:
        if t.entry != entry:
            put(f"{t.entry}:", 2)
            entry = t.entry
        put(f"{_classes(t.old)} -> {_classes(t.new)}", 4)
        put(f"when {t.condition}", 6)
    if not (d.transitions or d.entries_added or d.entries_removed):
        put("unchanged", 2)
    calls = _call_lines(d)
    if calls:
        out.append("")
        out.append("Calls (+ added, - removed, ~ guard changed)")
        for sign, head, detail in calls:
            put(f"{sign} {head}", 2)
            for line in detail:
                put(line, 6, 3)
    for kind, title in (("function", "Functions"), ("hook", "Hooks"), ("option", "Options (Kconfig)")):
        items = [c for c in d.changes if c.kind == kind]
        if not items:
            continue
        out.append("")
        out.append(title)
        for c in items:
            sign = {"added": "+", "removed": "-", "changed": "~"}[c.what]
            put(f"{sign} {c.name}: {c.detail}", 2, 6)
            where = " => ".join(str(x) for x in (c.old, c.new) if x is not None)
            put(where, 6, 3)
    return "\n".join(out) + "\n"


def diff_markdown(d: ModelDiff) -> str:
    """The diff for a GitHub or GitLab comment."""
    out = [f"### ptfree diff `{d.old.name}` → `{d.new.name}`", "", f"{d.old.title} → {d.new.title}", ""]
    if d.empty:
        return "\n".join([*out, "No difference.", ""])
    out += ["#### Behaviour", "", "Leaf classes reached per entry point (`+IPI`: an IPI is sent on the way).", ""]
    for e in d.entries_added:
        out.append(f"- `{e}`: new entry point")
    for e in d.entries_removed:
        out.append(f"- `{e}`: entry point removed")
    for t in d.transitions:
        out.append(f"- `{t.entry}`: `{_classes(t.old)}` → `{_classes(t.new)}` when `{t.condition}`")
    if not (d.transitions or d.entries_added or d.entries_removed):
        out.append("- unchanged")
    calls = _call_lines(d)
    if calls:
        out += ["", "#### Calls", ""]
        for sign, head, detail in calls:
            word = {"+": "added", "-": "removed", "~": "guard changed"}[sign]
            out.append(f"- {word}: `{head}` — " + "; ".join(f"`{x}`" for x in detail))
    for kind, title in (("function", "Functions"), ("hook", "Hooks"), ("option", "Options (Kconfig)")):
        items = [c for c in d.changes if c.kind == kind]
        if items:
            out += ["", f"#### {title}", ""]
            for c in items:
                where = " → ".join(str(x) for x in (c.old, c.new) if x is not None)
                out.append(f"- {c.what}: `{c.name}`: `{c.detail}` ({where})")
    return "\n".join(out) + "\n"


# -- explain ---------------------------------------------------------------


def explain_plain(e: Explanation) -> str:
    """Why a configuration reaches the target, or the first guard that stops it."""
    model = e.model
    out = [f"ptfree explain: model {model.name}, target {e.target}"]
    if e.runtime:
        choices = "; ".join(" ".join(f"{k}={v}" for k, v in r.items()) for r in e.runtime)
        out.append(f"reached: yes, with {choices}")
    else:
        out.append(f"reached: {'yes' if e.reached else 'no'}")
    for r in e.routes:
        out.append("")
        state = "taken" if r.blocked_at is None else "not taken"
        leaf = f" (ends {r.leaf})" if r.leaf else ""
        out.append(f"from {r.entry}: {state}{leaf}")
        names = [r.entry] + [h.callee for h in r.hops if h.callee not in model.hook_map]
        out.extend(_wrap_path("  path ", names))
        shown = r.hops if r.blocked_at is None else r.hops[r.blocked_at : r.blocked_at + 1]
        for h in shown:
            if h.call.guard == guards.TRUE and r.blocked_at is None:
                continue
            verdict = {"y": "holds", "n": "does not hold"}.get(h.verdict, f"holds with {h.verdict}")
            values = ", ".join(f"{n}={v}" for n, v in h.values)
            head = "  blocked at " if r.blocked_at is not None else "  guard "
            out.append(f"{head}{h.caller} -> {h.callee}")
            target_guard = model.guard_of(h.callee)
            both = (
                h.call.guard if target_guard in (guards.TRUE, h.call.guard) else guards.conj(h.call.guard, target_guard)
            )
            guard = guards.format_expr(both)
            out.extend(
                textwrap.wrap(
                    f"if {guard}: {verdict}" + (f" ({values})" if values else ""),
                    WIDTH,
                    initial_indent="      ",
                    subsequent_indent="         ",
                )
            )
            out.append(f"      {h.call.loc} ({h.call.file})")
    if e.more:
        out.append("")
        out.append(f"({e.more} more path{'s' * (e.more != 1)} not shown)")
    if e.reasons:
        out.append("")
        out.append("Why the options have these values (Kconfig):")
        for name, (value, why) in e.reasons.items():
            out.extend(textwrap.wrap(f"{name}={value}: {why}", WIDTH, initial_indent="  ", subsequent_indent="      "))
    return "\n".join(out) + "\n"


def explain_json(e: Explanation) -> str:
    return dumps(
        {
            "model": e.model.name,
            "target": e.target,
            "reached": e.reached,
            "runtime": [dict(r) for r in e.runtime],
            "routes": [
                {
                    "entry": r.entry,
                    "taken": r.blocked_at is None,
                    "blocked_at": r.blocked_at,
                    "leaf": r.leaf,
                    "hops": [
                        {
                            "caller": h.caller,
                            "callee": h.callee,
                            "guard": guards.format_expr(h.call.guard),
                            "verdict": h.verdict,
                            "values": dict(h.values),
                            "location": str(h.call.loc),
                            "source": h.call.file,
                        }
                        for h in r.hops
                    ],
                }
                for r in e.routes
            ],
            "more": e.more,
            "options": {n: {"value": v, "why": w} for n, (v, w) in e.reasons.items()},
        }
    )


def _in_tree(root: str, at: str | None) -> str:
    return f"{root.rstrip('/')}/{at}" if at else "-"


def verify_plain(v: Verification, root: str) -> str:
    """One line per difference, both locations first (model, then tree), then a verdict."""
    lines = []
    for d in v.differences:
        where = f"{d.model_loc or '-'}: {_in_tree(root, d.source_at)}"
        detail = f" ({d.detail})" if d.detail else ""
        lines.append(f"{where}: {d.kind} {d.subject}: {d.what}{detail}")
    n = len(v.differences)
    if n:
        lines.append(f"{v.model.name} and the source at {root} disagree: {n} difference{'s' if n != 1 else ''}")
    else:
        lines.append(f"{v.model.name} agrees with the source at {root}")
    return "\n".join(lines) + "\n"


def extract_warnings(warnings: Sequence[tuple[Location, str]], root: str) -> list[str]:
    """Extraction warnings as compiler-style lines, paths inside the tree."""
    out = []
    for loc, message in warnings:
        where = str(loc) if loc.file.startswith(root) or loc.file.startswith("/") else f"{root.rstrip('/')}/{loc}"
        out.append(f"{where}: warning: {message}")
    return out


class Progress:
    """A one-line status on standard error for work that takes long: shown
    only on a terminal (rich's own test: not a pipe, not ``NO_COLOR``/``TERM=dumb``
    when colour is off) and only once the work has run ``after`` seconds, so
    that a quick run prints nothing.  Call it with each step's text; close it
    when done (the line is then cleared)."""

    def __init__(self, after: float = 1.0, console: Any = None, clock: Any = None) -> None:
        import time

        self.after = after
        self.clock = clock or time.monotonic
        self.start = self.clock()
        self.console = console
        self.status: Any = None
        self.text = ""

    def __call__(self, text: str) -> None:
        self.text = text
        if self.status is not None:
            self.status.update(text)
            return
        if self.clock() - self.start < self.after:
            return
        if self.console is None:
            from rich.console import Console

            self.console = Console(stderr=True, markup=False, highlight=False)
        if not self.console.is_terminal:
            return
        self.status = self.console.status(text, spinner="dots")
        self.status.start()

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None
