"""Guard expressions: one small AST, its parser, evaluator and printers.

The syntax is Kconfig's (``&&``, ``||``, ``!``, parentheses, ``SYM``,
``SYM=y``, ``SYM!=n``, the constants ``y`` and ``n``); the C preprocessor's
spellings ``CONFIG_SYM``, ``defined(CONFIG_SYM)`` and
``IS_ENABLED(CONFIG_SYM)`` are read as ``SYM``.  Runtime alternatives use
the same comparison: ``backend=xen_pv``.  As in Kconfiglib, ``&&`` and
``||`` are binary and left-associative, so :func:`format_expr` round-trips:
``parse(format_expr(e)) == e``.

Values are two-valued: an option is ``y`` or ``n`` (tristate ``m`` is read
as ``y`` before it gets here), a runtime axis holds the name of one
alternative.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from ptfree_cli.errors import GuardSyntaxError


@dataclass(frozen=True)
class Const:
    """``y`` (True) or ``n`` (False)."""

    value: bool


@dataclass(frozen=True)
class Sym:
    """A bare option name: true when the option is not ``n``."""

    name: str


@dataclass(frozen=True)
class Cmp:
    """``name=value`` (``equal``) or ``name!=value``: an option or an axis."""

    name: str
    value: str
    equal: bool = True


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or:
    left: Expr
    right: Expr


Expr = Const | Sym | Cmp | Not | And | Or

TRUE = Const(True)
FALSE = Const(False)

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<op>&&|\|\||!=|!|=|\(|\))
    | (?P<word>[A-Za-z0-9_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_CPP_WRAPPERS = ("defined", "IS_ENABLED", "IS_BUILTIN")


_BLANK = re.compile(r"\s*")


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    # Every step matches at ``pos`` without copying the rest of the text, so
    # a long guard costs linear time.
    pos = 0
    while pos < len(text):
        blank = _BLANK.match(text, pos)
        assert blank is not None
        if blank.end() == len(text):
            return
        m = _TOKEN.match(text, pos)
        if m is None:
            start = blank.end()
            raise GuardSyntaxError(f"unexpected character {text[start]!r}", text, start)
        kind = "op" if m.group("op") else "word"
        yield kind, m.group(kind), m.start(kind)
        pos = m.end()


#: Deeper nesting is refused rather than left to exhaust Python's stack.
MAX_DEPTH = 64


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = list(_tokens(text))
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            want = f"{value!r}" if value else "an operand"
            raise GuardSyntaxError(f"expected {want} at end of expression", self.text, len(self.text))
        if value is not None and tok[1] != value:
            raise GuardSyntaxError(f"expected {value!r}, found {tok[1]!r}", self.text, tok[2])
        self.i += 1
        return tok

    def parse(self) -> Expr:
        if not self.toks:
            raise GuardSyntaxError("empty expression", self.text, 0)
        expr = self.or_()
        tok = self.peek()
        if tok is not None:
            raise GuardSyntaxError(f"unexpected {tok[1]!r}", self.text, tok[2])
        return expr

    def or_(self) -> Expr:
        expr = self.and_()
        while (tok := self.peek()) is not None and tok[1] == "||":
            self.i += 1
            expr = Or(expr, self.and_())
        return expr

    def and_(self) -> Expr:
        expr = self.unary()
        while (tok := self.peek()) is not None and tok[1] == "&&":
            self.i += 1
            expr = And(expr, self.unary())
        return expr

    def unary(self) -> Expr:
        tok = self.peek()
        if tok is not None and tok[1] in ("!", "("):
            if self.depth >= MAX_DEPTH:
                raise GuardSyntaxError(f"expression nested more than {MAX_DEPTH} levels deep", self.text, tok[2])
            self.depth += 1
            self.i += 1
            if tok[1] == "!":
                expr: Expr = Not(self.unary())
            else:
                expr = self.or_()
                self.take(")")
            self.depth -= 1
            return expr
        return self.atom()

    def word(self) -> tuple[str, int]:
        kind, value, offset = self.take()
        if kind != "word":
            raise GuardSyntaxError(f"expected a symbol, found {value!r}", self.text, offset)
        if value in _CPP_WRAPPERS:
            self.take("(")
            inner_kind, inner, inner_offset = self.take()
            self.take(")")
            if inner_kind != "word" or not inner.startswith("CONFIG_"):
                raise GuardSyntaxError(f"{value}() takes a CONFIG_ symbol, found {inner!r}", self.text, inner_offset)
            return inner[len("CONFIG_") :], offset
        if value.startswith("CONFIG_"):
            value = value[len("CONFIG_") :]
        return value, offset

    def atom(self) -> Expr:
        name, _offset = self.word()
        tok = self.peek()
        if tok is not None and tok[1] in ("=", "!="):
            self.i += 1
            value, _ = self.word()
            return Cmp(name, value, tok[1] == "=")
        if name in ("y", "n"):
            return Const(name == "y")
        return Sym(name)


def parse(text: str) -> Expr:
    """Parse a guard; raise :class:`GuardSyntaxError` with the offset of the fault.

    >>> format_expr(parse("CONFIG_PARAVIRT && !defined(CONFIG_PT_RECLAIM)"))
    'PARAVIRT && !PT_RECLAIM'
    """
    return _Parser(text).parse()


_PREC = {Or: 1, And: 2}


def format_expr(expr: Expr) -> str:
    """Print ``expr`` in Kconfig syntax; :func:`parse` reads it back unchanged."""
    if isinstance(expr, Const):
        return "y" if expr.value else "n"
    if isinstance(expr, Sym):
        return expr.name
    if isinstance(expr, Cmp):
        return f"{expr.name}{'=' if expr.equal else '!='}{expr.value}"
    if isinstance(expr, Not):
        inner = format_expr(expr.operand)
        return f"!{inner}" if isinstance(expr.operand, (Const, Sym, Cmp, Not)) else f"!({inner})"
    op = "&&" if isinstance(expr, And) else "||"
    prec = _PREC[type(expr)]
    left = format_expr(expr.left)
    right = format_expr(expr.right)
    if _PREC.get(type(expr.left), 9) < prec:
        left = f"({left})"
    if _PREC.get(type(expr.right), 9) <= prec:
        right = f"({right})"
    return f"{left} {op} {right}"


def format_c(expr: Expr, is_option: Callable[[str], bool]) -> str:
    """Print ``expr`` the way an ``#if`` line says it (``defined(CONFIG_X)``).

    Runtime atoms have no preprocessor spelling; they print as ``axis == alt``.
    """
    if isinstance(expr, Const):
        return "1" if expr.value else "0"
    if isinstance(expr, Sym):
        return f"defined(CONFIG_{expr.name})"
    if isinstance(expr, Cmp):
        if is_option(expr.name):
            positive = (expr.value != "n") == expr.equal
            text = f"defined(CONFIG_{expr.name})"
            return text if positive else f"!{text}"
        return f"{expr.name} {'==' if expr.equal else '!='} {expr.value}"
    if isinstance(expr, Not):
        inner = format_c(expr.operand, is_option)
        return f"!{inner}" if isinstance(expr.operand, (Const, Sym, Not)) else f"!({inner})"
    op = "&&" if isinstance(expr, And) else "||"
    prec = _PREC[type(expr)]
    left = format_c(expr.left, is_option)
    right = format_c(expr.right, is_option)
    if _PREC.get(type(expr.left), 9) < prec:
        left = f"({left})"
    if _PREC.get(type(expr.right), 9) <= prec:
        right = f"({right})"
    return f"{left} {op} {right}"


def names(expr: Expr) -> Iterator[str]:
    """Every symbol or axis name in ``expr``, in order, with repeats."""
    if isinstance(expr, (Sym, Cmp)):
        yield expr.name
    elif isinstance(expr, Not):
        yield from names(expr.operand)
    elif isinstance(expr, (And, Or)):
        yield from names(expr.left)
        yield from names(expr.right)


def atoms(expr: Expr) -> Iterator[Sym | Cmp]:
    """Every ``Sym`` and ``Cmp`` node in ``expr``, in order."""
    if isinstance(expr, (Sym, Cmp)):
        yield expr
    elif isinstance(expr, Not):
        yield from atoms(expr.operand)
    elif isinstance(expr, (And, Or)):
        yield from atoms(expr.left)
        yield from atoms(expr.right)


def evaluate(expr: Expr, env: Mapping[str, str]) -> bool:
    """Value of ``expr`` when every name in it has a value in ``env``.

    An option's value is ``"y"`` or ``"n"``; an axis's is an alternative name.

    >>> evaluate(parse("PARAVIRT && backend=kvm"), {"PARAVIRT": "y", "backend": "kvm"})
    True
    """
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Sym):
        return env[expr.name] != "n"
    if isinstance(expr, Cmp):
        return (env[expr.name] == expr.value) == expr.equal
    if isinstance(expr, Not):
        return not evaluate(expr.operand, env)
    if isinstance(expr, And):
        return evaluate(expr.left, env) and evaluate(expr.right, env)
    return evaluate(expr.left, env) or evaluate(expr.right, env)


def substitute(expr: Expr, env: Mapping[str, str]) -> Expr:
    """``expr`` with the names known in ``env`` replaced and constants folded."""
    if isinstance(expr, Const):
        return expr
    if isinstance(expr, (Sym, Cmp)):
        return Const(evaluate(expr, env)) if expr.name in env else expr
    if isinstance(expr, Not):
        inner = substitute(expr.operand, env)
        return Const(not inner.value) if isinstance(inner, Const) else Not(inner)
    left = substitute(expr.left, env)
    right = substitute(expr.right, env)
    if isinstance(expr, And):
        return conj(left, right)
    return disj(left, right)


def conj(*exprs: Expr) -> Expr:
    """``a && b && ...`` with ``y`` dropped and ``n`` absorbing."""
    out: Expr = TRUE
    for e in exprs:
        if isinstance(e, Const):
            if not e.value:
                return FALSE
            continue
        out = e if out == TRUE else And(out, e)
    return out


def disj(*exprs: Expr) -> Expr:
    """``a || b || ...`` with ``n`` dropped and ``y`` absorbing."""
    out: Expr = FALSE
    for e in exprs:
        if isinstance(e, Const):
            if e.value:
                return TRUE
            continue
        out = e if out == FALSE else Or(out, e)
    return out


def neg(expr: Expr) -> Expr:
    """``!expr``, folding constants and double negation."""
    if isinstance(expr, Const):
        return Const(not expr.value)
    if isinstance(expr, Not):
        return expr.operand
    return Not(expr)
