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
from typing import IO, Any

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
