"""C source of one file, read with tree-sitter-c: definitions, call sites, ops-table installs.

This is the only module that imports tree_sitter.  The preprocessor layer
(:mod:`ptfree_cli.cpp`) says which guard holds on each line; here the
directive lines are blanked (so both arms of an ``#if`` parse, each as
written) and the C that remains is parsed for real.  Line numbers are kept:
blanking replaces characters by spaces, never removes a newline.

Nothing here knows about Kconfig or the model; :mod:`ptfree_cli.extract`
turns these facts into a guarded call graph.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import tree_sitter
import tree_sitter_c

from ptfree_cli import cpp
from ptfree_cli.errors import Location

SiteKind = Literal["call", "hook", "defer", "pointer"]


@dataclass(frozen=True)
class Branch:
    """An ``if`` around a call site: its condition as written, and which arm."""

    text: str
    taken: bool
    line: int


@dataclass(frozen=True)
class Site:
    """A call site.  ``callee`` is a function name, or for a hook the ops
    member (``pv_ops.mmu.tlb_remove_table``), or for a pointer call its text."""

    callee: str
    kind: SiteKind
    line: int
    col: int
    branches: tuple[Branch, ...] = ()


@dataclass(frozen=True)
class Definition:
    """A function, a function-like macro (``macro``) or ``#define a b`` (``alias``)."""

    name: str
    path: str
    line: int
    col: int
    end_line: int
    kind: Literal["function", "macro", "alias"]
    sites: tuple[Site, ...]
    #: ``static`` in a .c file: visible to that file only
    static: bool = False


@dataclass(frozen=True)
class Install:
    """An ops-table member set to a function, or (``copy``) to another table's
    member: ``table.member = target``.  ``installer`` is the enclosing
    function, or the variable whose initializer it is."""

    table: str
    member: str
    target: str
    path: str
    line: int
    col: int
    installer: str
    kind: Literal["initializer", "assignment", "copy"]
    branches: tuple[Branch, ...] = ()


@dataclass(frozen=True)
class CRules:
    """What the C reader needs from the rules file (picklable, for workers)."""

    #: deferral function -> 0-based index of its callback argument (``call_rcu``: 1)
    defer: tuple[tuple[str, int], ...] = ()
    #: call-macro pattern (fnmatch) -> (ops table, index of the member argument)
    indirect: tuple[tuple[str, str, int], ...] = ()
    #: attribute macros tree-sitter cannot know are macros (``__init``)
    attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileFacts:
    path: str
    conditionals: cpp.Conditionals
    definitions: tuple[Definition, ...]
    installs: tuple[Install, ...]
    warnings: tuple[tuple[Location, str], ...] = field(default=())


_PARSER: Any = None


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))
    return _PARSER


def _blank(text: str, lines: frozenset[int], attributes: tuple[str, ...]) -> bytes:
    out = text.split("\n")
    for n in lines:
        if 0 < n <= len(out):
            out[n - 1] = " " * len(out[n - 1])
    joined = "\n".join(out)
    if attributes:
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(a) for a in sorted(attributes)) + r")\b")
        joined = pattern.sub(lambda m: " " * len(m.group(0)), joined)
    return joined.encode("utf-8", "surrogateescape")


def _text(node: Any) -> str:
    return " ".join(node.text.decode("utf-8", "replace").split())


def _declared_name(node: Any) -> str | None:
    """The identifier a declarator declares (through pointers, arrays, parentheses)."""
    while node is not None:
        if node.type in ("identifier", "field_identifier"):
            return str(node.text.decode())
        node = node.child_by_field_name("declarator")
    return None


def _path(node: Any) -> tuple[str, list[str]] | None:
    """``a.b.c`` or ``a->b.c`` as (root, [b, c]); None for anything else."""
    parts: list[str] = []
    while node.type == "field_expression":
        f = node.child_by_field_name("field")
        parts.append(f.text.decode())
        node = node.child_by_field_name("argument")
    if node.type != "identifier":
        return None
    return node.text.decode(), parts[::-1]


class _Reader:
    def __init__(self, path: str, rules: CRules) -> None:
        self.path = path
        self.rules = rules
        self.defer = dict(rules.defer)
        self.tables = {t for _, t, _ in rules.indirect}
        self.warnings: list[tuple[Location, str]] = []

    def loc(self, node: Any, line_offset: int = 0) -> Location:
        return Location(self.path, node.start_point[0] + 1 + line_offset, node.start_point[1] + 1)

    def indirect(self, name: str) -> tuple[str, int] | None:
        for pattern, table, index in self.rules.indirect:
            if fnmatch.fnmatchcase(name, pattern):
                return table, index
        return None

    def branches(self, node: Any, stop: Any) -> tuple[Branch, ...]:
        out: list[Branch] = []
        child, parent = node, node.parent
        while parent is not None and parent != stop:
            if parent.type == "if_statement":
                cond = parent.child_by_field_name("condition")
                text = _text(cond)
                if text.startswith("(") and text.endswith(")"):
                    text = text[1:-1].strip()
                if child == parent.child_by_field_name("consequence"):
                    out.append(Branch(text, True, cond.start_point[0] + 1))
                elif child == parent.child_by_field_name("alternative"):
                    out.append(Branch(text, False, cond.start_point[0] + 1))
            child, parent = parent, parent.parent
        return tuple(out[::-1])

    def sites(self, body: Any, line_offset: int = 0, at: tuple[int, int] | None = None) -> list[Site]:
        out: list[Site] = []
        for call in _walk(body, "call_expression", "macro_type_specifier"):
            if call.type == "macro_type_specifier":
                # `f(container_of(p, struct s, m));` at the start of a
                # statement reads as a declaration with a typeof-like type:
                # still a call of f.
                name_node = call.named_children[0] if call.named_children else None
                if name_node is not None and name_node.type == "identifier" and call.parent.type != "declaration":
                    line, col = at or (call.start_point[0] + 1 + line_offset, call.start_point[1] + 1)
                    out.append(Site(name_node.text.decode(), "call", line, col, self.branches(call, body)))
                continue
            fn = call.child_by_field_name("function")
            args = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
            line, col = at or (call.start_point[0] + 1 + line_offset, call.start_point[1] + 1)
            br = self.branches(call, body)
            if fn.type == "identifier":
                name = fn.text.decode()
                if name in self.defer:
                    i = self.defer[name]
                    if i < len(args) and args[i].type == "identifier":
                        out.append(Site(args[i].text.decode(), "defer", line, col, br))
                    else:
                        shown = _text(args[i]) if i < len(args) else "(missing)"
                        self.warnings.append(
                            (Location(self.path, line, col), f"{name}() callback is not a function name: {shown}")
                        )
                    continue
                ind = self.indirect(name)
                if ind is not None:
                    table, i = ind
                    if i < len(args):
                        member = "".join(_text(args[i]).split())
                        out.append(Site(f"{table}.{member}", "hook", line, col, br))
                        continue
                out.append(Site(name, "call", line, col, br))
            else:
                p = _path(fn)
                if p is not None and p[0] in self.tables and p[1]:
                    out.append(Site(".".join([p[0], *p[1]]), "hook", line, col, br))
                else:
                    out.append(Site(_text(fn), "pointer", line, col, br))
        return out

    def initializer(self, var: str, init: Any, prefix: list[str], out: list[Install], installer: str) -> None:
        for pair in init.named_children:
            if pair.type != "initializer_pair":
                continue
            path = list(prefix)
            value = pair.child_by_field_name("value")
            for d in pair.children_by_field_name("designator"):
                if d.type == "field_designator":
                    path.append(d.named_children[0].text.decode())
                elif d.type == "subscript_designator":
                    path[-1:] = [f"{path[-1]}[{_text(d.named_children[0])}]"] if path else []
            if value is None or not path:
                continue
            if value.type == "initializer_list":
                self.initializer(var, value, path, out, installer)
            elif value.type == "identifier":
                line, col = value.start_point[0] + 1, pair.start_point[1] + 1
                out.append(
                    Install(var, ".".join(path), value.text.decode(), self.path, line, col, installer, "initializer")
                )


def _walk(node: Any, *kinds: str) -> Iterator[Any]:
    """The nodes of those kinds under ``node``, in source order."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in kinds:
            yield n
        stack.extend(reversed(n.children))


def _function_name(node: Any) -> str | None:
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    if decl is None:
        return None
    return _declared_name(decl.child_by_field_name("declarator"))


def read(path: str, text: str, rules: CRules) -> FileFacts:
    """Everything ptfree needs from one C file or header."""
    cond = cpp.scan(text, path)
    r = _Reader(path, rules)
    tree = _parser().parse(_blank(text, cond.directive_lines, rules.attributes))
    definitions: list[Definition] = []
    installs: list[Install] = []
    for fn in _walk(tree.root_node, "function_definition"):
        name = _function_name(fn)
        body = fn.child_by_field_name("body")
        if name is None or body is None:
            continue
        line, col = fn.start_point[0] + 1, fn.start_point[1] + 1
        static = any(
            c.type == "storage_class_specifier" and c.text == b"static" for c in fn.children
        ) and not path.endswith(".h")
        definitions.append(
            Definition(name, path, line, col, fn.end_point[0] + 1, "function", tuple(r.sites(body)), static)
        )
        for a in _walk(body, "assignment_expression"):
            left = _path(a.child_by_field_name("left"))
            right = a.child_by_field_name("right")
            if left is None or not left[1]:
                continue
            pos = a.start_point[0] + 1, a.start_point[1] + 1
            br = r.branches(a, body)
            member = ".".join(left[1])
            if right.type == "identifier":
                installs.append(Install(left[0], member, right.text.decode(), path, *pos, name, "assignment", br))
            elif right.type == "field_expression" and (src := _path(right)) is not None:
                target = ".".join([src[0], *src[1]])
                installs.append(Install(left[0], member, target, path, *pos, name, "copy", br))
    for decl in _walk(tree.root_node, "init_declarator"):
        value = decl.child_by_field_name("value")
        if value is None or value.type != "initializer_list":
            continue
        var = _declared_name(decl.child_by_field_name("declarator"))
        if var is not None:
            owner = _enclosing_function(decl)
            r.initializer(var, value, [], installs, owner or var)
    for m in cond.macros:
        body = m.body.strip()
        if m.params is None:
            # `#define name name` (the arch-override idiom) only makes the name
            # defined; the extractor reads that from the conditionals' macros.
            if body != m.name and re.fullmatch(r"[A-Za-z_]\w*", body):
                site = Site(body, "call", m.loc.line, m.loc.col)
                definitions.append(Definition(m.name, path, m.loc.line, m.loc.col, m.end_line, "alias", (site,)))
            continue
        wrapped = f"void __ptfree_macro__(void) {{ {body} ; }}".encode("utf-8", "surrogateescape")
        mtree = _parser().parse(wrapped)
        mbody = next(_walk(mtree.root_node, "compound_statement"), None)
        sites = r.sites(mbody, at=(m.loc.line, m.loc.col)) if mbody is not None else []
        if mtree.root_node.has_error:
            r.warnings.append((m.loc, f"macro {m.name}() does not parse as C; calls read from what does"))
        definitions.append(Definition(m.name, path, m.loc.line, m.loc.col, m.end_line, "macro", tuple(sites)))
    return FileFacts(path, cond, tuple(definitions), tuple(installs), tuple(r.warnings))


def _enclosing_function(node: Any) -> str | None:
    n = node.parent
    while n is not None:
        if n.type == "function_definition":
            return _function_name(n)
        n = n.parent
    return None
