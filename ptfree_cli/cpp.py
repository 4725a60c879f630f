"""C preprocessor conditionals of one file: the guard on every line, macro definitions, opaque atoms.

:func:`scan` reads a C file the way the preprocessor's first phases do
(backslash-newline splices, ``/* */`` and ``//`` comments, string and
character literals, directives only where ``#`` starts a logical line) and
says, for every physical line, which guard holds there: the conjunction of
the conditions of every enclosing ``#if`` arm.  An ``#elif E`` arm is
``!(earlier arms) && E``, an ``#else`` arm ``!(earlier arms)``.  The lines of
a directive itself get the guard around it.

``#if`` expressions are tokenized and parsed by recursive descent (C's
grammar and precedences, nothing evaluated) and read as guards:
``CONFIG_FOO``, ``defined(CONFIG_FOO)``, ``IS_ENABLED(CONFIG_FOO)``,
``IS_BUILTIN`` and ``IS_REACHABLE`` are the Kconfig symbol ``FOO`` (``m``
is read as ``y``, so ``IS_MODULE`` is false); ``!``, ``&&``, ``||``,
``?:``, parentheses and integer literals are boolean structure.  Anything
else is an *atom*, a :class:`~ptfree_cli.guards.Sym` the caller resolves or
keeps: ``defined:NAME`` for ``defined(NAME)`` of a macro that is not a
Kconfig symbol, ``cpp:TEXT`` for any other sub-expression (a comparison,
arithmetic, a bare identifier, a call of a function-like macro), one atom
per maximal non-boolean sub-expression.

Nothing here raises on bad input: an unparsable expression becomes one atom
and a warning; unbalanced ``#else``/``#elif``/``#endif`` and a missing
``#endif`` are warned about and skipped.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ptfree_cli.errors import Location
from ptfree_cli.guards import FALSE, TRUE, And, Const, Expr, Not, Sym, conj, disj, neg

__all__ = [
    "Atom",
    "Conditionals",
    "CppWarning",
    "MacroDef",
    "is_atom",
    "parse_condition",
    "scan",
]

#: Parentheses and ``?:`` nested deeper than this in one ``#if`` are refused
#: (a syntax error) rather than left to exhaust Python's stack.
MAX_NESTING = 32


@dataclass(frozen=True)
class Atom:
    """An ``#if`` condition that is not a Kconfig symbol.

    ``name`` is the :class:`~ptfree_cli.guards.Sym` name used for it:
    ``defined:NAME`` for ``defined(NAME)``/``#ifdef NAME`` of a macro that
    is not ``CONFIG_``, ``cpp:TEXT`` for anything else.  ``text`` is the C
    text as written (whitespace normalised), ``macro`` the NAME of a
    ``defined:`` atom, ``loc`` the first place it was seen.
    """

    name: str
    text: str
    macro: str | None
    loc: Location


@dataclass(frozen=True)
class MacroDef:
    """A ``#define``: ``params`` is None for an object-like macro (``...`` is kept)."""

    name: str
    params: tuple[str, ...] | None
    body: str
    guard: Expr
    loc: Location
    end_line: int


@dataclass(frozen=True)
class CppWarning:
    loc: Location
    message: str


@dataclass(frozen=True)
class Conditionals:
    """What :func:`scan` found in one file.

    ``guards[i]`` is the guard in force on physical line ``i + 1``;
    ``directive_lines`` are the 1-based lines that belong to a directive
    (its continuation lines, and comments before its ``#`` on its logical
    line, included); ``macros`` every ``#define`` in file order; ``atoms``
    every atom, unique by name, in first-seen order.
    """

    path: str
    guards: tuple[Expr, ...]
    directive_lines: frozenset[int]
    macros: tuple[MacroDef, ...]
    atoms: tuple[Atom, ...]
    warnings: tuple[CppWarning, ...]

    def guard_at(self, line: int) -> Expr:
        """The guard on 1-based ``line``; past the last line, the last line's guard."""
        if line < 1:
            raise ValueError(f"line numbers start at 1, not {line}")
        if line > len(self.guards):
            return self.guards[-1] if self.guards else TRUE
        return self.guards[line - 1]


def is_atom(name: str) -> bool:
    """Whether a guard symbol name is an atom of this module (``defined:`` or ``cpp:``)."""
    return name.startswith(("defined:", "cpp:"))


# -- text helpers -----------------------------------------------------------

_SQUASH = re.compile(r"""(?P<lit>"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)|(?P<ws>\s+)|[^"'\s]+""", re.S)


def _squash(text: str) -> str:
    """``text`` with each run of whitespace outside literals made one space, ends stripped."""
    return "".join(" " if m.group("ws") else m.group(0) for m in _SQUASH.finditer(text)).strip()


def _conjuncts(expr: Expr) -> list[Expr]:
    """The operands of a tree of ``&&``, left to right."""
    out: list[Expr] = []
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, And):
            stack.append(e.right)
            stack.append(e.left)
        else:
            out.append(e)
    return out


def _is_literal(expr: Expr) -> bool:
    return isinstance(expr, Sym) or (isinstance(expr, Not) and isinstance(expr.operand, Sym))


_CONFIG = re.compile(r"CONFIG_[A-Za-z0-9_]+")

# -- #if expressions: tokens --------------------------------------------------

_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<num>\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.])*)
    | (?P<chr>(?:u8|[uUL])?'(?:[^'\\\n]|\\.)*')
    | (?P<str>(?:u8|[uUL])?"(?:[^"\\\n]|\\.)*")
    | (?P<id>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>\.\.\.|<<=|>>=|&&|\|\||==|!=|<=|>=|<<|>>|\#\#|[-+*/%<>!~^&|?:,()\[\]{}.\#=;])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, chr, str, id, op
    text: str
    start: int
    end: int


class _SyntaxError(Exception):
    pass


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _SyntaxError(f"unexpected character {text[pos]!r}")
        kind = m.lastgroup
        assert kind is not None
        if kind != "ws":
            out.append(_Tok(kind, m.group(0), m.start(), m.end()))
        pos = m.end()
    return out


_INT = re.compile(r"(?P<digits>0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?")


def _int_value(text: str) -> int:
    m = _INT.fullmatch(text)
    if m is None:
        raise _SyntaxError(f"not an integer literal: {text}")
    digits = m.group("digits")
    if digits[:2] in ("0x", "0X", "0b", "0B"):
        return int(digits, 0)
    if digits.startswith("0"):
        if any(c in "89" for c in digits):
            raise _SyntaxError(f"not an octal literal: {text}")
        return int(digits, 8)
    return int(digits)


# -- #if expressions: syntax tree ---------------------------------------------


@dataclass(frozen=True)
class _Leaf:
    """A number, character literal or identifier."""

    tok: _Tok


@dataclass(frozen=True)
class _Defined:
    name: _Tok
    parens: bool
    pos: int


@dataclass(frozen=True)
class _Call:
    name: _Tok
    args: tuple[_Tok, ...]
    raw: str  # the argument text as written, whitespace normalised


@dataclass(frozen=True)
class _Unary:
    ops: tuple[str, ...]  # outermost first
    operand: _Node
    op_pos: tuple[int, ...]  # offset of each operator

    @property
    def pos(self) -> int:
        return self.op_pos[0]


@dataclass(frozen=True)
class _Binary:
    """A left-associative chain of operators of one precedence: ``a + b - c``."""

    ops: tuple[str, ...]
    operands: tuple[_Node, ...]


@dataclass(frozen=True)
class _Ternary:
    cond: _Node
    then: _Node
    other: _Node


@dataclass(frozen=True)
class _Paren:
    inner: _Node
    pos: int


_Node = _Leaf | _Defined | _Call | _Unary | _Binary | _Ternary | _Paren

_PRECEDENCE = {
    "||": 1,
    "&&": 2,
    "|": 3,
    "^": 4,
    "&": 5,
    "==": 6,
    "!=": 6,
    "<": 7,
    ">": 7,
    "<=": 7,
    ">=": 7,
    "<<": 8,
    ">>": 8,
    "+": 9,
    "-": 9,
    "*": 10,
    "/": 10,
    "%": 10,
}
_UNARY = ("!", "~", "-", "+")


def _pos(node: _Node) -> int:
    """Offset of the first character of ``node`` in the expression text."""
    while True:
        if isinstance(node, _Leaf):
            return node.tok.start
        if isinstance(node, _Call):
            return node.name.start
        if isinstance(node, (_Defined, _Unary, _Paren)):
            return node.pos
        node = node.operands[0] if isinstance(node, _Binary) else node.cond


class _ExprParser:
    """Recursive descent over C's conditional-expression grammar."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise _SyntaxError("unexpected end of expression")
        self.i += 1
        return tok

    def expect(self, text: str) -> _Tok:
        tok = self.take()
        if tok.kind != "op" or tok.text != text:
            raise _SyntaxError(f"expected {text!r}, found {tok.text!r}")
        return tok

    def parse(self) -> _Node:
        if not self.toks:
            raise _SyntaxError("empty expression")
        node = self.conditional()
        tok = self.peek()
        if tok is not None:
            raise _SyntaxError(f"unexpected {tok.text!r}")
        return node

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _SyntaxError(f"nested more than {MAX_NESTING} levels deep")

    def conditional(self) -> _Node:
        cond = self.binary(1)
        tok = self.peek()
        if tok is None or tok.kind != "op" or tok.text != "?":
            return cond
        self.i += 1
        self.nest()
        then = self.conditional()
        self.expect(":")
        other = self.conditional()
        self.depth -= 1
        return _Ternary(cond, then, other)

    def binary_op(self) -> int | None:
        tok = self.peek()
        if tok is None or tok.kind != "op":
            return None
        return _PRECEDENCE.get(tok.text)

    def binary(self, min_prec: int) -> _Node:
        left = self.unary()
        while (prec := self.binary_op()) is not None and prec >= min_prec:
            operands = [left]
            ops: list[str] = []
            while self.binary_op() == prec:
                ops.append(self.take().text)
                operands.append(self.binary(prec + 1))
            left = _Binary(tuple(ops), tuple(operands))
        return left

    def unary(self) -> _Node:
        ops: list[str] = []
        where: list[int] = []
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text in _UNARY:
            ops.append(tok.text)
            where.append(tok.start)
            self.i += 1
        operand = self.primary()
        return _Unary(tuple(ops), operand, tuple(where)) if ops else operand

    def primary(self) -> _Node:
        tok = self.take()
        if tok.kind == "op" and tok.text == "(":
            self.nest()
            inner = self.conditional()
            self.expect(")")
            self.depth -= 1
            return _Paren(inner, tok.start)
        if tok.kind == "num":
            _int_value(tok.text)
            return _Leaf(tok)
        if tok.kind == "chr":
            return _Leaf(tok)
        if tok.kind != "id":
            raise _SyntaxError(f"unexpected {tok.text!r}")
        if tok.text == "defined":
            nxt = self.take()
            if nxt.kind == "id":
                return _Defined(nxt, False, tok.start)
            if nxt.kind == "op" and nxt.text == "(":
                name = self.take()
                if name.kind != "id":
                    raise _SyntaxError(f"defined() takes a macro name, found {name.text!r}")
                self.expect(")")
                return _Defined(name, True, tok.start)
            raise _SyntaxError(f"defined takes a macro name, found {nxt.text!r}")
        after = self.peek()
        if after is not None and after.kind == "op" and after.text == "(":
            return self.call(tok)
        return _Leaf(tok)

    def call(self, name: _Tok) -> _Call:
        lparen = self.take()
        depth = 1
        first = self.i
        while True:
            tok = self.take()
            if tok.kind == "op" and tok.text == "(":
                depth += 1
            elif tok.kind == "op" and tok.text == ")":
                depth -= 1
                if depth == 0:
                    args = tuple(self.toks[first : self.i - 1])
                    return _Call(name, args, _squash(self.text[lparen.end : tok.start]))


def _print(node: _Node) -> str:
    """``node`` as C text, whitespace normalised."""
    if isinstance(node, _Leaf):
        return node.tok.text
    if isinstance(node, _Defined):
        return f"defined({node.name.text})" if node.parens else f"defined {node.name.text}"
    if isinstance(node, _Call):
        return f"{node.name.text}({node.raw})"
    if isinstance(node, _Unary):
        out = ""
        for op in node.ops:
            # "- -x", not "--x": keep tokens apart that would fuse
            out += f"{op} " if out and out[-1] == op and op in "+-" else op
        inner = _print(node.operand)
        if out and out[-1] in "+-" and inner[:1] == out[-1]:
            out += " "
        return out + inner
    if isinstance(node, _Binary):
        parts = [_print(node.operands[0])]
        for op, operand in zip(node.ops, node.operands[1:], strict=True):
            parts += [op, _print(operand)]
        return " ".join(parts)
    if isinstance(node, _Ternary):
        return f"{_print(node.cond)} ? {_print(node.then)} : {_print(node.other)}"
    return f"({_print(node.inner)})"


# -- reading an expression as a guard -------------------------------------------

_ENABLED = frozenset({"IS_ENABLED", "IS_BUILTIN", "IS_REACHABLE"})


class _Atoms:
    """The atoms of one file (or one standalone expression) and their warnings."""

    def __init__(self) -> None:
        self.by_name: dict[str, Atom] = {}
        self.warnings: list[CppWarning] = []

    def atom(self, name: str, text: str, macro: str | None, loc: Location) -> Atom:
        known = self.by_name.get(name)
        if known is not None:
            return known
        atom = Atom(name, text, macro, loc)
        self.by_name[name] = atom
        if macro is None:
            self.warnings.append(CppWarning(loc, f"opaque #if condition kept as an atom: {text}"))
        return atom


class _Reading:
    """One expression being read: the atoms it uses, in order."""

    def __init__(self, atoms: _Atoms, locate: Callable[[int], Location]) -> None:
        self.atoms = atoms
        self.locate = locate
        self.used: dict[str, Atom] = {}

    def use(self, atom: Atom) -> Expr:
        self.used.setdefault(atom.name, atom)
        return Sym(atom.name)

    def defined(self, name: str, text: str, pos: int) -> Expr:
        if _CONFIG.fullmatch(name):
            return Sym(name[len("CONFIG_") :])
        return self.use(self.atoms.atom(f"defined:{name}", text, name, self.locate(pos)))

    def opaque(self, node: _Node) -> Expr:
        text = _print(node)
        return self.use(self.atoms.atom(f"cpp:{text}", text, None, self.locate(_pos(node))))

    def truth(self, node: _Node) -> Expr:
        """The guard under which ``node`` is nonzero."""
        if isinstance(node, _Paren):
            return self.truth(node.inner)
        if isinstance(node, _Leaf):
            tok = node.tok
            if tok.kind == "num":
                return Const(_int_value(tok.text) != 0)
            if tok.kind == "id" and _CONFIG.fullmatch(tok.text):
                return Sym(tok.text[len("CONFIG_") :])
            return self.opaque(node)
        if isinstance(node, _Defined):
            return self.defined(node.name.text, _print(node), node.pos)
        if isinstance(node, _Call):
            return self.call(node)
        if isinstance(node, _Unary):
            negations = 0
            for k, op in enumerate(node.ops):
                if op != "!":
                    inner = self.opaque(_Unary(node.ops[k:], node.operand, node.op_pos[k:]))
                    break
                negations += 1
            else:
                inner = self.truth(node.operand)
            for _ in range(negations):
                inner = neg(inner)
            return inner
        if isinstance(node, _Binary):
            if node.ops[0] == "&&":
                return conj(*(self.truth(o) for o in node.operands))
            if node.ops[0] == "||":
                return disj(*(self.truth(o) for o in node.operands))
            return self.opaque(node)
        c = self.truth(node.cond)
        return disj(conj(c, self.truth(node.then)), conj(neg(c), self.truth(node.other)))

    def call(self, node: _Call) -> Expr:
        name = node.name.text
        arg = node.args[0].text if len(node.args) == 1 and node.args[0].kind == "id" else None
        if arg is not None and _CONFIG.fullmatch(arg):
            if name in _ENABLED:
                return Sym(arg[len("CONFIG_") :])
            if name == "IS_MODULE":
                message = f"IS_MODULE({arg}) read as false: ptfree reads m as y"
                self.atoms.warnings.append(CppWarning(self.locate(node.name.start), message))
                return FALSE
        return self.opaque(node)


def _locator(loc: Location, text: str) -> Callable[[int], Location]:
    """Offsets in ``text`` (which starts at ``loc``) as locations."""

    def locate(offset: int) -> Location:
        newline = text.rfind("\n", 0, offset)
        if newline < 0:
            return Location(loc.file, loc.line, loc.col + offset)
        return Location(loc.file, loc.line + text.count("\n", 0, offset), offset - newline)

    return locate


def _unparsable(text: str, atoms: _Atoms, locate: Callable[[int], Location]) -> Atom:
    """The atom (and the warning) for an expression that does not parse."""
    shown = _squash(text)
    where = locate(_lead(text))
    atoms.warnings.append(CppWarning(where, f"cannot parse #if expression: {shown}"))
    name = f"cpp:{shown}"
    known = atoms.by_name.get(name)
    if known is None:
        known = atoms.by_name[name] = Atom(name, shown, None, where)
    return known


def _lead(text: str) -> int:
    """Offset of the first non-blank character of ``text``."""
    return len(text) - len(text.lstrip())


def _read(text: str, atoms: _Atoms, locate: Callable[[int], Location]) -> tuple[Expr, tuple[Atom, ...]]:
    """Read one ``#if`` expression; a syntax error makes the whole text one atom."""
    reading = _Reading(atoms, locate)
    try:
        expr = reading.truth(_ExprParser(text).parse())
    except _SyntaxError:
        reading.used.clear()
        expr = reading.use(_unparsable(text, atoms, locate))
    return expr, tuple(reading.used.values())


def parse_condition(
    text: str, loc: Location, warnings: list[CppWarning] | None = None
) -> tuple[Expr, tuple[Atom, ...]]:
    """Read one ``#if`` expression that starts at ``loc`` as a guard and the atoms it uses.

    Never raises: an expression that does not parse is one ``cpp:`` atom.
    The warnings :func:`scan` would give (opaque atoms, ``IS_MODULE``,
    syntax errors) are appended to ``warnings`` when it is given.

    >>> from ptfree_cli.guards import format_expr
    >>> expr, atoms = parse_condition("defined(CONFIG_X86_64) && CONFIG_PGTABLE_LEVELS > 4", Location("f.h", 3, 5))
    >>> format_expr(expr), atoms[0].name, str(atoms[0].loc)
    ('X86_64 && cpp:CONFIG_PGTABLE_LEVELS > 4', 'cpp:CONFIG_PGTABLE_LEVELS > 4', 'f.h:3:31')
    """
    atoms = _Atoms()
    expr, used = _read(text, atoms, _locator(loc, text))
    if warnings is not None:
        warnings.extend(atoms.warnings)
    return expr, used


# -- scanning a file: directives ------------------------------------------------

_CODE = re.compile(
    r"""
      (?P<splice>\\\r?\n)
    | (?P<nl>\n)
    | (?P<block>/\*)
    | (?P<line>//(?:[^\n\\]|\\\r?\n|\\)*)
    | (?P<str>"(?:[^"\\\n]|\\\r?\n|\\.)*"?)
    | (?P<chr>'(?:[^'\\\n]|\\\r?\n|\\.)*'?)
    | (?P<hash>\#)
    | (?P<ws>[ \t\f\v\r]+)
    | (?P<other>[^\\\n/"'\#\s][^\\\n/"'\#]*|[\s\S])
    """,
    re.VERBOSE,
)
_SPLICE = re.compile(r"\\\r?\n")
_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_GUARD_IFNDEF = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)()\s*")
_GUARD_IF = re.compile(r"\s*!\s*defined\s*(?:\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)|([A-Za-z_][A-Za-z0-9_]*))\s*")


@dataclass
class _Directive:
    """One directive: its text after ``#`` (splices removed, comments made
    spaces) and where each piece of that text came from."""

    hash_at: int  # source offset of '#'
    first_line: int
    last_line: int = 0
    text: str = ""
    seg_dir: list[int] = field(default_factory=list)  # offsets in text where a piece starts
    seg_src: list[int] = field(default_factory=list)  # source offset of each piece
    name: str = ""
    rest_at: int = 0  # offset in text of what follows the name


class _Source:
    """The physical lines of a file, for offset -> location."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.starts = [0]
        self.starts.extend(m.end() for m in re.finditer("\n", text))
        if not text:
            self.count = 0
        else:
            self.count = len(self.starts) - (1 if text.endswith("\n") else 0)

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def loc(self, offset: int) -> Location:
        line = self.line(offset)
        return Location(self.path, line, offset - self.starts[line - 1] + 1)

    def directive_locator(self, d: _Directive, base: int) -> Callable[[int], Location]:
        """Offsets in ``d.text[base:]`` as source locations (the ``#`` when that text is blank)."""
        blank = not d.text[base:].strip()

        def locate(offset: int) -> Location:
            i = bisect.bisect_right(d.seg_dir, base + offset) - 1
            if i < 0 or blank:
                return self.loc(d.hash_at)
            return self.loc(d.seg_src[i] + (base + offset - d.seg_dir[i]))

        return locate


def _directives(text: str, src: _Source, warnings: list[CppWarning]) -> Iterator[_Directive]:
    """Every directive of ``text``, in order, in one linear pass."""
    pos = 0
    at_start = True  # nothing but whitespace and comments since the last newline
    lead = -1  # offset of the first comment since then, when at_start
    current: _Directive | None = None
    pieces: list[str] = []
    size = 0

    def add(piece: str, at: int) -> None:
        nonlocal size
        assert current is not None
        current.seg_dir.append(size)
        current.seg_src.append(at)
        pieces.append(piece)
        size += len(piece)

    def finish(end: int) -> _Directive:
        nonlocal current, pieces, size
        assert current is not None
        d = current
        d.text = "".join(pieces)
        d.last_line = src.line(end)
        m = _NAME.match(d.text)
        if m is not None:
            d.name, d.rest_at = m.group(1), m.end()
        else:
            d.rest_at = len(d.text)
        current, pieces, size = None, [], 0
        return d

    while pos < len(text):
        m = _CODE.match(text, pos)
        assert m is not None  # the last alternative matches any character
        kind = m.lastgroup
        start, pos = m.start(), m.end()
        if kind == "splice":
            continue
        if kind == "nl":
            if current is not None:
                yield finish(start)
            at_start, lead = True, -1
        elif kind == "block":
            close = text.find("*/", pos)
            if close < 0:
                warnings.append(CppWarning(src.loc(start), "unterminated /* comment"))
                close = len(text) - 2
            pos = close + 2
            if current is not None:
                add(" ", start)
            elif at_start and lead < 0:
                lead = start
        elif kind == "line":
            if current is not None:
                add(" ", start)
            elif at_start and lead < 0:
                lead = start
        elif kind == "ws":
            if current is not None:
                add(m.group(0), start)
        elif kind == "hash" and at_start and current is None:
            current = _Directive(start, src.line(lead if lead >= 0 else start))
            at_start = False
        else:
            at_start = False
            if current is not None:
                piece = m.group(0)
                if kind in ("str", "chr"):
                    piece = _SPLICE.sub("", piece)
                add(piece, start)
    if current is not None:
        yield finish(len(text))


# -- scanning a file: guards ---------------------------------------------------


@dataclass
class _Frame:
    """One open ``#if`` chain."""

    kind: str
    loc: Location
    outer: Expr  # the guard around the chain
    prev: Expr  # some earlier arm's condition holds
    cond: Expr  # the current arm's condition
    added: list[Expr]  # literals this arm added to the guard
    seen_else: bool = False


class _Scanner:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.src = _Source(text, path)
        self.atoms = _Atoms()
        self.warnings = self.atoms.warnings
        self.stack: list[_Frame] = []
        self.guard: Expr = TRUE
        self.active: dict[Expr, int] = {}  # literals in self.guard, counted
        self.macros: list[MacroDef] = []
        self.lines: list[Expr] = []
        self.directive_lines: set[int] = set()
        self.directives = list(_directives(text, self.src, self.warnings))

    def warn(self, loc: Location, message: str) -> None:
        self.warnings.append(CppWarning(loc, message))

    def arm(self, outer: Expr, *parts: Expr) -> tuple[Expr, list[Expr]]:
        """``outer && parts``, flattened, each literal already in force left out."""
        guard = outer
        added: list[Expr] = []
        for part in parts:
            for c in _conjuncts(part):
                if _is_literal(c):
                    if self.active.get(c, 0):
                        continue
                    self.active[c] = self.active.get(c, 0) + 1
                    added.append(c)
                guard = conj(guard, c)
        return guard, added

    def leave(self, frame: _Frame) -> None:
        for c in frame.added:
            self.active[c] -= 1

    def include_guard(self) -> int:
        """Index of the ``#ifndef X`` (or ``#if !defined(X)``) of an include guard, or -1.

        It is one when it is the first directive, ``#define X`` the second,
        and its ``#endif`` the last.
        """
        ds = self.directives
        if len(ds) < 3 or ds[1].name != "define":
            return -1
        rest = ds[0].text[ds[0].rest_at :]
        if ds[0].name == "ifndef":
            first = _GUARD_IFNDEF.fullmatch(rest)
        elif ds[0].name == "if":
            first = _GUARD_IF.fullmatch(rest)
        else:
            return -1
        second = _NAME.match(ds[1].text, ds[1].rest_at)
        if first is None or second is None:
            return -1
        name = first.group(1) or first.group(2)
        if name != second.group(1) or _CONFIG.fullmatch(name):
            return -1
        depth = 0
        for i, d in enumerate(ds):
            if d.name in ("if", "ifdef", "ifndef"):
                depth += 1
            elif d.name == "endif":
                depth -= 1
                if depth == 0:
                    return 0 if i == len(ds) - 1 else -1
        return -1

    def condition(self, d: _Directive) -> Expr:
        """The condition an ``#if``-like directive tests."""
        rest = d.text[d.rest_at :]
        locate = self.src.directive_locator(d, d.rest_at)
        if d.name in ("if", "elif"):
            return _read(rest, self.atoms, locate)[0]
        m = _IDENT.match(rest, _lead(rest))
        if m is None:
            return Sym(_unparsable(rest, self.atoms, locate).name)
        reading = _Reading(self.atoms, locate)
        cond = reading.defined(m.group(0), f"defined({m.group(0)})", m.start())
        return neg(cond) if d.name in ("ifndef", "elifndef") else cond

    def define(self, d: _Directive) -> None:
        rest = d.text[d.rest_at :]
        loc = self.src.loc(d.hash_at)
        m = _IDENT.match(rest, _lead(rest))
        if m is None:
            self.warn(loc, f"cannot parse #define: {_squash(rest)}")
            return
        params: tuple[str, ...] | None = None
        body_at = m.end()
        if rest[body_at : body_at + 1] == "(":
            close = rest.find(")", body_at)
            if close < 0:
                self.warn(loc, f"cannot parse #define: {_squash(rest)}")
                return
            inside = rest[body_at + 1 : close].strip()
            params = tuple(p.strip() for p in inside.split(",")) if inside else ()
            body_at = close + 1
        self.macros.append(MacroDef(m.group(0), params, _squash(rest[body_at:]), self.guard, loc, d.last_line))

    def run(self) -> Conditionals:
        guard_of_include = self.include_guard()
        for index, d in enumerate(self.directives):
            while len(self.lines) < d.first_line - 1:
                self.lines.append(self.guard)
            line_guard = self.step(d, index == guard_of_include)
            while len(self.lines) < d.last_line:
                self.lines.append(line_guard)
            self.directive_lines.update(range(d.first_line, d.last_line + 1))
        while len(self.lines) < self.src.count:
            self.lines.append(self.guard)
        for frame in self.stack:
            self.warn(frame.loc, f"#{frame.kind} without #endif")
        warnings = sorted(self.warnings, key=lambda w: (w.loc.line, w.loc.col))
        return Conditionals(
            self.path,
            tuple(self.lines),
            frozenset(self.directive_lines),
            tuple(self.macros),
            tuple(self.atoms.by_name.values()),
            tuple(warnings),
        )

    def step(self, d: _Directive, include_guard: bool) -> Expr:
        """Apply one directive; return the guard of its own lines."""
        name = d.name
        loc = self.src.loc(d.hash_at)
        if name in ("if", "ifdef", "ifndef"):
            around = self.guard
            cond = TRUE if include_guard else self.condition(d)
            self.guard, added = self.arm(around, cond)
            self.stack.append(_Frame(name, loc, around, FALSE, cond, added))
            return around
        if name in ("elif", "elifdef", "elifndef", "else", "endif"):
            if not self.stack:
                self.warn(loc, f"#{name} without #if")
                return self.guard
            frame = self.stack[-1]
            if name == "endif":
                self.stack.pop()
                self.leave(frame)
                self.guard = frame.outer
                return frame.outer
            if frame.seen_else:
                self.warn(loc, f"#{name} after #else")
            frame.prev = TRUE if frame.seen_else else disj(frame.prev, frame.cond)
            self.leave(frame)
            if name == "else":
                frame.cond = TRUE
                frame.seen_else = True
                self.guard, frame.added = self.arm(frame.outer, neg(frame.prev))
            else:
                frame.cond = self.condition(d)
                self.guard, frame.added = self.arm(frame.outer, neg(frame.prev), frame.cond)
            return frame.outer
        if name == "define":
            self.define(d)
        return self.guard


def scan(text: str, path: str) -> Conditionals:
    """The conditionals of one C file: the guard on every line, its macros and atoms.

    >>> from ptfree_cli.guards import format_expr
    >>> c = scan("#ifdef CONFIG_A\\nx();\\n#else\\ny();\\n#endif\\n", "f.c")
    >>> [format_expr(g) for g in c.guards]
    ['y', 'A', 'y', '!A', 'y']
    """
    return _Scanner(text, path).run()
