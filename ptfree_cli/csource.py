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

import bisect
import fnmatch
import re
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
    member (``pv_ops.mmu.tlb_remove_table``), or for a pointer call its text.
    ``args`` are the identifiers each argument mentions (for a deferral,
    every argument but the callback; for a hook, those after the member)."""

    callee: str
    kind: SiteKind
    line: int
    col: int
    branches: tuple[Branch, ...] = ()
    args: tuple[tuple[str, ...], ...] = ()


#: What a variable's type can carry: the table itself or the gather holding
#: it (``table``), an entry that points at it (``ref``), or nothing ("").
Carry = Literal["table", "ref", ""]


@dataclass(frozen=True)
class Param:
    """A parameter, and what its type can carry (the rules' ``carriers`` and
    ``references``; a macro's parameters and types C cannot name can carry a table)."""

    name: str
    carry: Carry = "table"


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
    params: tuple[Param, ...] = ()
    #: a variable that can carry a table, what it carries, the names of a value given to it
    flows: tuple[tuple[str, Carry, tuple[str, ...]], ...] = ()
    #: the last parameter is ``...``: arguments from there on go to it
    variadic: bool = False


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
    #: types that can carry a page table, as (base type, least pointer depth, what);
    #: None: every type can (the walk then follows every call)
    carriers: tuple[tuple[str, int, Carry], ...] | None = None


def carrier_pattern(text: str, kind: Carry = "table") -> tuple[str, int, Carry]:
    """``struct page *`` as (``struct page``, 1, kind): a base type and the least pointer depth."""
    depth = text.count("*")
    return " ".join(text.replace("*", " ").split()), depth, kind


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
        if node.type == "parenthesized_declarator":
            node = node.named_children[0] if node.named_children else None
            continue
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
        self._indirect: dict[str, tuple[str, int] | None] = {}
        self.nodes = _Nodes(None)
        self._patterns = [(re.compile(fnmatch.translate(p)), t, i) for p, t, i in rules.indirect]

    def loc(self, node: Any, line_offset: int = 0) -> Location:
        return Location(self.path, node.start_point[0] + 1 + line_offset, node.start_point[1] + 1)

    def indirect(self, name: str) -> tuple[str, int] | None:
        # Per name, once: a file calls thousands of functions, the rules
        # hold a few patterns.
        if name not in self._indirect:
            self._indirect[name] = next(
                ((table, index) for pattern, table, index in self._patterns if pattern.match(name)), None
            )
        return self._indirect[name]

    def carrier(self, type_node: Any, declarator: Any) -> Carry:
        """What a declaration of this type can carry."""
        if self.rules.carriers is None:
            return "table"
        base = _base_type(type_node)
        if base is None:
            return "table"  # typeof(), a macro: C cannot say
        depth = 0
        node = declarator
        while node is not None and node.type not in ("identifier", "field_identifier"):
            if node.type == "function_declarator":
                return ""  # a function pointer
            if node.type in ("pointer_declarator", "array_declarator", "abstract_pointer_declarator"):
                depth += 1
            node = node.child_by_field_name("declarator")
        return next((k for b, d, k in self.rules.carriers if base == b and depth >= d), "")

    def params(self, declarator: Any) -> tuple[tuple[Param, ...], bool]:
        """A function declarator's parameters, and whether it ends in ``...``."""
        plist = declarator.child_by_field_name("parameters") if declarator is not None else None
        out: list[Param] = []
        variadic = False
        for p in plist.named_children if plist is not None else ():
            if p.type == "variadic_parameter":
                variadic = True
            elif p.type == "parameter_declaration":
                d = p.child_by_field_name("declarator")
                name = _declared_name(d)
                if name is None and d is None:
                    # `(void)`, or a type alone: no name to carry anything.
                    if _text(p) != "void":
                        out.append(Param("", ""))
                    continue
                out.append(Param(name or "", self.carrier(p.child_by_field_name("type"), d)))
        return tuple(out), variadic

    def flows(self, body: Any, params: tuple[Param, ...]) -> tuple[tuple[str, Carry, tuple[str, ...]], ...]:
        """What the variables that can carry a table are given: initializers,
        plain assignments, and ``f(x, &v)`` (``v`` is given what ``x`` holds)."""
        carriers: dict[str, Carry] = {p.name: p.carry for p in params if p.carry}
        out: list[tuple[str, Carry, tuple[str, ...]]] = []
        for node in self.nodes.within(body, "declaration", "assignment_expression", "call_expression"):
            if node.type == "declaration":
                t = node.child_by_field_name("type")
                for d in node.children_by_field_name("declarator"):
                    inner = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
                    name = _declared_name(inner)
                    if name is None:
                        continue
                    kind = self.carrier(t, inner)
                    if not kind:
                        carriers.pop(name, None)  # shadows a parameter
                        continue
                    carriers[name] = kind
                    value = d.child_by_field_name("value") if d.type == "init_declarator" else None
                    if value is not None:
                        out.append((name, kind, _idents(value)))
            elif node.type == "assignment_expression":
                left = node.child_by_field_name("left")
                if left.type == "identifier" and left.text.decode() in carriers:
                    name = left.text.decode()
                    out.append((name, carriers[name], _idents(node.child_by_field_name("right"))))
            else:
                args = node.child_by_field_name("arguments")
                outs = [
                    a.named_children[0].text.decode()
                    for a in (args.named_children if args is not None else ())
                    if a.type == "pointer_expression"
                    and a.child_by_field_name("operator") is not None
                    and a.child_by_field_name("operator").type == "&"
                    and a.named_children
                    and a.named_children[0].type == "identifier"
                    and a.named_children[0].text.decode() in carriers
                ]
                if outs:
                    given = tuple(sorted(set(_idents(args)) - set(outs)))
                    out.extend((v, carriers[v], given) for v in outs)
        return tuple(out)

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
        for call in self.nodes.within(body, "call_expression", "macro_type_specifier"):
            if call.type == "macro_type_specifier":
                # `f(container_of(p, struct s, m));` at the start of a
                # statement reads as a declaration with a typeof-like type:
                # still a call of f.
                name_node = call.named_children[0] if call.named_children else None
                if name_node is not None and name_node.type == "identifier" and call.parent.type != "declaration":
                    line, col = at or (call.start_point[0] + 1 + line_offset, call.start_point[1] + 1)
                    inner = call.text.decode("utf-8", "replace")
                    inner = inner[inner.find("(") + 1 : inner.rfind(")")]
                    words = tuple(_words(a) for a in _split_args(inner))
                    out.append(Site(name_node.text.decode(), "call", line, col, self.branches(call, body), words))
                continue
            fn = call.child_by_field_name("function")
            if fn.type in ("string_literal", "concatenated_string"):
                # An inline-asm operand, `"a" (x)`, parses as a call: it is none.
                continue
            args = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
            line, col = at or (call.start_point[0] + 1 + line_offset, call.start_point[1] + 1)
            br = self.branches(call, body)
            if fn.type == "identifier":
                name = fn.text.decode()
                if name in self.defer:
                    i = self.defer[name]
                    if i < len(args) and args[i].type == "identifier":
                        rest = tuple(_idents(a) for j, a in enumerate(args) if j != i)
                        out.append(Site(args[i].text.decode(), "defer", line, col, br, rest))
                    else:
                        shown = _text(args[i]) if i < len(args) else "(missing)"
                        self.warnings.append(
                            (Location(self.path, line, col), f"{name}() callback is not a function name: {shown}")
                        )
                    continue
                ind = self.indirect(name)
                if ind is not None:
                    table, i = ind
                    # `PVOP_VCALL2(pv_ops, mmu.op, ...)` (v7.x) names the
                    # table before the member; v6.x's `PVOP_VCALL2(mmu.op, ...)` does not.
                    if i < len(args) - 1 and args[i].type == "identifier" and args[i].text.decode() == table:
                        i += 1
                    if i < len(args):
                        member = "".join(_text(args[i]).split())
                        rest = tuple(_idents(a) for a in args[i + 1 :])
                        out.append(Site(f"{table}.{member}", "hook", line, col, br, rest))
                        continue
                out.append(Site(name, "call", line, col, br, tuple(_idents(a) for a in args)))
            else:
                p = _path(fn)
                idents = tuple(_idents(a) for a in args)
                if p is not None and p[0] in self.tables and p[1]:
                    out.append(Site(".".join([p[0], *p[1]]), "hook", line, col, br, idents))
                else:
                    out.append(Site(_text(fn), "pointer", line, col, br, idents))
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
            value = _function_value(value)
            if value.type == "initializer_list":
                self.initializer(var, value, path, out, installer)
            elif value.type == "identifier":
                line, col = value.start_point[0] + 1, pair.start_point[1] + 1
                out.append(
                    Install(var, ".".join(path), value.text.decode(), self.path, line, col, installer, "initializer")
                )


def _function_value(node: Any) -> Any:
    """``fn`` of ``(void (*)(void *))fn``, ``&fn`` or ``(fn)``: a function installed through a cast (v6.1's
    ``.mmu.tlb_remove_table = (void (*)(struct mmu_gather *, void *))tlb_remove_page``)."""
    while True:
        if node.type == "cast_expression":
            node = node.child_by_field_name("value")
        elif node.type == "parenthesized_expression" and node.named_children:
            node = node.named_children[0]
        elif node.type == "pointer_expression" and node.child_by_field_name("operator").type == "&":
            node = node.child_by_field_name("argument")
        else:
            return node


_WORD = re.compile(r"(?<!->)(?<!\.)\b([A-Za-z_]\w*)")


def _words(text: str) -> tuple[str, ...]:
    return tuple(sorted(set(_WORD.findall(text))))


def _idents(node: Any) -> tuple[str, ...]:
    """The names an expression mentions, field names after ``.`` and ``->`` aside
    (the words of its text: a macro's arguments may parse as types)."""
    if node.type == "identifier":
        return (node.text.decode(),)
    return _words(node.text.decode("utf-8", "replace"))


def _split_args(text: str) -> list[str]:
    """``a, f(b, c), d`` as its three top-level arguments."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    last = text[start:]
    return [*out, last] if out or last.strip() else out


def _base_type(node: Any) -> str | None:
    """``struct page``, ``pmd_t``, ``void``; None for a type C cannot name (typeof, a macro)."""
    if node is None or node.type == "macro_type_specifier":
        return None
    if node.type in ("struct_specifier", "union_specifier", "enum_specifier"):
        name = node.child_by_field_name("name")
        return f"{node.type.split('_')[0]} {name.text.decode()}" if name is not None else None
    return " ".join(node.text.decode().split())


_QUERY: Any = None
_KINDS = (
    "function_definition",
    "call_expression",
    "macro_type_specifier",
    "assignment_expression",
    "declaration",
    "init_declarator",
    "compound_statement",
)


class _Nodes:
    """The nodes of a parse tree by kind, found once by a tree-sitter query
    (a walk in Python over every node was most of the time of a big file)."""

    def __init__(self, root: Any) -> None:
        self.by_kind: dict[str, tuple[list[int], list[Any]]] = {}
        if root is None:
            return
        global _QUERY
        if _QUERY is None:
            _QUERY = tree_sitter.Query(_parser().language, " ".join(f"({k}) @{k}" for k in _KINDS))
        if hasattr(tree_sitter, "QueryCursor"):  # 0.25 and later
            found = tree_sitter.QueryCursor(_QUERY).captures(root)
        else:  # 0.23, 0.24
            found = _QUERY.captures(root)
        for kind in _KINDS:
            nodes = sorted(found.get(kind, ()), key=lambda n: (n.start_byte, -n.end_byte))
            self.by_kind[kind] = ([n.start_byte for n in nodes], nodes)

    def within(self, node: Any, *kinds: str) -> list[Any]:
        """The nodes of ``kinds`` inside ``node`` (itself included), in source order."""
        out: list[Any] = []
        for kind in kinds:
            starts, nodes = self.by_kind.get(kind, ([], []))
            lo = bisect.bisect_left(starts, node.start_byte)
            hi = bisect.bisect_left(starts, node.end_byte)
            out.extend(n for n in nodes[lo:hi] if n.end_byte <= node.end_byte)
        if len(kinds) > 1:
            out.sort(key=lambda n: (n.start_byte, -n.end_byte))
        return out


def _function_declarator(node: Any) -> Any:
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    return decl


def _function_name(node: Any) -> str | None:
    decl = _function_declarator(node)
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
    r.nodes = nodes = _Nodes(tree.root_node)
    for fn in nodes.within(tree.root_node, "function_definition"):
        name = _function_name(fn)
        body = fn.child_by_field_name("body")
        if name is None or body is None:
            continue
        line, col = fn.start_point[0] + 1, fn.start_point[1] + 1
        static = any(
            c.type == "storage_class_specifier" and c.text == b"static" for c in fn.children
        ) and not path.endswith(".h")
        params, variadic = r.params(_function_declarator(fn))
        definitions.append(
            Definition(
                name,
                path,
                line,
                col,
                fn.end_point[0] + 1,
                "function",
                tuple(r.sites(body)),
                static,
                params,
                r.flows(body, params),
                variadic,
            )
        )
        for a in nodes.within(body, "assignment_expression"):
            left = _path(a.child_by_field_name("left"))
            right = a.child_by_field_name("right")
            if left is None or not left[1]:
                continue
            pos = a.start_point[0] + 1, a.start_point[1] + 1
            br = r.branches(a, body)
            member = ".".join(left[1])
            right = _function_value(right)
            if right.type == "identifier":
                installs.append(Install(left[0], member, right.text.decode(), path, *pos, name, "assignment", br))
            elif right.type == "field_expression" and (src := _path(right)) is not None:
                target = ".".join([src[0], *src[1]])
                installs.append(Install(left[0], member, target, path, *pos, name, "copy", br))
    for decl in nodes.within(tree.root_node, "init_declarator"):
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
        r.nodes = _Nodes(mtree.root_node)
        mbody = next(iter(r.nodes.within(mtree.root_node, "compound_statement")), None)
        sites = r.sites(mbody, at=(m.loc.line, m.loc.col)) if mbody is not None else []
        if mtree.root_node.has_error:
            r.warnings.append((m.loc, f"macro {m.name}() does not parse as C; calls read from what does"))
        # `...` is __VA_ARGS__ in the body; GNU's `args...` is args.
        mparams = tuple(Param("__VA_ARGS__" if p == "..." else p.removesuffix("...")) for p in m.params)
        # `#define call(fn, x) fn(x)` calls whatever the caller names: no function called `fn`.
        named = {p.name for p in mparams}
        sites = [site for site in sites if site.callee not in named]
        flows = r.flows(mbody, mparams) if mbody is not None else ()
        variadic = bool(m.params) and m.params[-1].endswith("...")
        definitions.append(
            Definition(
                m.name, path, m.loc.line, m.loc.col, m.end_line, "macro", tuple(sites), False, mparams, flows, variadic
            )
        )
    return FileFacts(path, cond, tuple(definitions), tuple(installs), tuple(r.warnings))


def _enclosing_function(node: Any) -> str | None:
    n = node.parent
    while n is not None:
        if n.type == "function_definition":
            return _function_name(n)
        n = n.parent
    return None
