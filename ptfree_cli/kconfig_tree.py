"""Kconfig files of a source tree: read the definitions of its symbols as model options.

:func:`read_kconfig` follows ``source`` statements from a top file and returns
every bool and tristate symbol as a :class:`~ptfree_cli.model.Option`, the
dataclass the YAML models produce, so that :func:`ptfree_cli.kconfig.resolve`
computes values with them; :func:`closure` says which of them a set of symbols
needs.  Kconfiglib stopped at kernel 5.13 and cannot read current trees, so
this is our own reader; kconfiglib is only the oracle of its tests.

The semantics are kconfiglib's (its menu-node propagation), read two-valued as
everywhere in ptfree: ``m`` is ``y``, except in a condition, where Kconfig
itself reads ``m`` as ``m && MODULES``.  What cannot be computed without a
compiler or a shell (``$(success,...)``, ``$(cc-option,...)``), comparisons
with int, hex and string symbols and ``<``/``>`` comparisons become opaque
atoms, ``Sym("kconfig:<text>")`` (see :func:`opaque`), each with a warning.
Symbols that are used but never defined (or defined without a type) read as
``n`` and are folded out of the expressions, so that every name left in an
option is an option of the tree or an opaque atom.  Nothing here raises on odd
input except an unreadable top file; everything else is a
:class:`KconfigWarning`.
"""

from __future__ import annotations

import bisect
import glob
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from ptfree_cli import guards
from ptfree_cli.errors import Location, ModelError
from ptfree_cli.guards import FALSE, TRUE, And, Cmp, Const, Expr, Not, Or, Sym
from ptfree_cli.model import Default, Option, Select

__all__ = ["KconfigTree", "KconfigWarning", "closure", "opaque", "read_kconfig"]

_OPAQUE_PREFIX = "kconfig:"


@dataclass(frozen=True)
class KconfigWarning:
    """Something read but not modelled exactly, or not understood and skipped."""

    loc: Location
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: warning: {self.message}"


@dataclass(frozen=True)
class KconfigTree:
    """The symbols of a tree: bool/tristate ones as options, the others by
    type only; and for an int or hex symbol the user cannot set whose
    defaults are numbers (``PGTABLE_LEVELS``), those defaults in order:
    (number, condition)."""

    options: Mapping[str, Option]
    others: Mapping[str, tuple[str, Location]]
    files: tuple[str, ...]
    warnings: tuple[KconfigWarning, ...]
    numbers: Mapping[str, tuple[tuple[int, Expr], ...]] = field(default_factory=lambda: MappingProxyType({}))


def opaque(name: str) -> bool:
    """Whether ``name`` is an atom standing for a Kconfig expression we cannot compute."""
    return name.startswith(_OPAQUE_PREFIX)


# -- expressions as read, before the symbol types are known -------------------
#
# Whether ``A = B`` is a comparison of two bools, of a bool with a constant or
# of an int symbol with a number depends on definitions that may come later in
# the tree, so expressions are kept in this form until everything is read.
# Nodes compare by identity: lowering memoises on them, and a frame's condition
# is one object shared by every symbol inside it.


class _Operand(NamedTuple):
    text: str  # after macro expansion; as written when it cannot be expanded
    quoted: bool
    unexpanded: str | None = None  # the top-level macro that could not be expanded


@dataclass(eq=False, slots=True)
class _Atom:
    left: _Operand
    op: str | None  # None for a bare operand
    right: _Operand | None
    line: _Line
    start: int  # offset in the line
    end: int
    cond: bool  # in a condition, where Kconfig reads m as m && MODULES
    malformed: bool = False  # already warned about when it was read

    # Only an atom that becomes opaque needs these: computed then.
    @property
    def source(self) -> str:
        """As written, whitespace runs collapsed: the opaque atom's name."""
        return " ".join(self.line.text[self.start : self.end].split())

    @property
    def loc(self) -> Location:
        return self.line.loc(self.start)


@dataclass(eq=False, slots=True)
class _RNot:
    operand: _Raw


@dataclass(eq=False, slots=True)
class _RAnd:
    left: _Raw
    right: _Raw


@dataclass(eq=False, slots=True)
class _ROr:
    left: _Raw
    right: _Raw


_Raw = Const | _Atom | _RNot | _RAnd | _ROr


def _rand(left: _Raw, right: _Raw) -> _Raw:
    if left == TRUE or right == FALSE:
        return right
    if right == TRUE or left == FALSE:
        return left
    return _RAnd(left, right)


# -- lines and tokens ---------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """A logical line: physical lines joined at a trailing backslash."""

    file: str
    text: str
    starts: tuple[int, ...]  # offset in ``text`` where each physical line starts
    first: int  # line number of the first physical line

    def loc(self, offset: int) -> Location:
        k = bisect.bisect_right(self.starts, offset) - 1 if len(self.starts) > 1 else 0
        return Location(self.file, self.first + k, offset - self.starts[k] + 1)


def _indent(line: str) -> int:
    expanded = line.expandtabs()
    return len(expanded) - len(expanded.lstrip())


class _Lines:
    def __init__(self, file: str, text: str) -> None:
        raw = text.split("\n")
        if raw and raw[-1] == "":
            raw.pop()
        self.file = file
        self.raw = [line[:-1] if line.endswith("\r") else line for line in raw]
        self.i = 0

    def next(self) -> _Line | None:
        raw = self.raw
        if self.i >= len(raw):
            return None
        first = self.i
        parts: list[str] = []
        starts: list[int] = []
        offset = 0
        while True:
            line = raw[self.i]
            self.i += 1
            starts.append(offset)
            if line.endswith("\\") and self.i < len(raw):
                parts.append(line[:-1])
                offset += len(line) - 1
                continue
            parts.append(line)
            break
        return _Line(self.file, "".join(parts), tuple(starts), first + 1)

    def skip_help(self) -> None:
        """Skip a help text: from the first non-blank line up to the first
        non-blank line indented less than it, as kconfiglib and the C tools do;
        its lines are raw text, so ``config FOO`` or ``if`` in them is prose."""
        raw = self.raw
        i = self.i
        while i < len(raw) and not raw[i].strip():
            i += 1
        if i < len(raw) and (indent := _indent(raw[i])) > 0:
            i += 1
            while i < len(raw) and (not raw[i].strip() or _indent(raw[i]) >= indent):
                i += 1
        self.i = i


class _Tok(NamedTuple):
    kind: str  # "word", "str" (text between the quotes, escapes kept) or "op"
    text: str
    start: int
    end: int


class _Syntax(Exception):
    def __init__(self, detail: str, offset: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.offset = offset


_SPACE = re.compile(r"\s*")
_SLOW = re.compile(r"[\"'#$]")
_PLAIN_TOKEN = re.compile(r"\s*(?:([A-Za-z0-9_/.-]+)|(&&|\|\||!=|<=|>=|[!=<>()]))")
_WORD_RUN = re.compile(r"(?:[A-Za-z0-9_/.-]|\$(?!\())+")
_OP = re.compile(r"&&|\|\||!=|<=|>=|[!=<>()]")
_STRING_SPECIAL = re.compile(r"[\"'\\]|\$\(")
_FIRST_WORD = re.compile(r"[ \t]*([A-Za-z0-9_-]*)")
_ASSIGNMENT = re.compile(r"\s*([A-Za-z0-9_-]+)\s*(:=|\+=|=)\s*(.*)")
_GLOB_MAGIC = re.compile(r"[*?[]")
#: Limits that keep odd input from exhausting Python's stack or memory:
#: parenthesis and ! nesting in an expression, nested macro calls, the text
#: one expansion may produce, and nested source statements.  Real trees stay
#: far below each.
_MAX_DEPTH = 64
_MAX_EXPANSIONS = 50
_MAX_EXPANDED = 1 << 16
_MAX_SOURCE_DEPTH = 64


def _macro_end(s: str, i: int) -> int:
    """The index after the ``)`` closing the ``$(`` at ``i``, or -1."""
    depth = 0
    for j in range(i + 2, len(s)):
        c = s[j]
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return j + 1
            depth -= 1
    return -1


def _tokenize(s: str, i: int) -> list[_Tok]:
    if _SLOW.search(s, i) is None:
        return _tokenize_plain(s, i)
    out: list[_Tok] = []
    n = len(s)
    while True:
        space = _SPACE.match(s, i)
        assert space is not None
        i = space.end()
        if i >= n or s[i] == "#":
            return out
        c = s[i]
        if c in "\"'":
            j = i + 1
            while True:
                m = _STRING_SPECIAL.search(s, j)
                if m is None:
                    raise _Syntax("unterminated string", i)
                if m.group() == c:
                    j = m.end()
                    break
                if m.group() == "\\":
                    j = m.end() + 1
                elif m.group() == "$(":
                    j = _macro_end(s, m.start())
                    if j < 0:
                        raise _Syntax("unterminated macro", m.start())
                else:
                    j = m.end()
            out.append(_Tok("str", s[i + 1 : j - 1], i, j))
            i = j
            continue
        j = i
        while True:
            run = _WORD_RUN.match(s, j)
            if run is not None:
                j = run.end()
            elif s.startswith("$(", j):
                j = _macro_end(s, j)
                if j < 0:
                    raise _Syntax("unterminated macro", i)
            else:
                break
        if j > i:
            out.append(_Tok("word", s[i:j], i, j))
            i = j
            continue
        op = _OP.match(s, i)
        if op is None:
            raise _Syntax(f"unexpected character {c!r}", i)
        out.append(_Tok("op", op.group(), i, op.end()))
        i = op.end()


def _tokenize_plain(s: str, i: int) -> list[_Tok]:
    """The common line, without strings, macros or comments, in one regex pass."""
    out: list[_Tok] = []
    for m in _PLAIN_TOKEN.finditer(s, i):
        if m.start() != i:
            break
        word = m.group(1)
        out.append(_Tok("word", word, m.start(1), m.end()) if word else _Tok("op", m.group(2), m.start(2), m.end()))
        i = m.end()
    rest = _SPACE.match(s, i)
    assert rest is not None
    if rest.end() < len(s):
        raise _Syntax(f"unexpected character {s[rest.end()]!r}", rest.end())
    return out


def _split_args(inner: str) -> list[str]:
    args: list[str] = []
    depth = 0
    start = 0
    for j, c in enumerate(inner):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            args.append(inner[start:j])
            start = j + 1
    args.append(inner[start:])
    return args


class _Unexpandable(Exception):
    def __init__(self, macro: str = "") -> None:
        super().__init__(macro)
        self.macro = macro


@dataclass
class _Var:
    value: str | None  # None: its value needs a macro we cannot expand
    recursive: bool


# -- what is read ---------------------------------------------------------------


@dataclass(eq=False)
class _Block:
    """A menu, choice or comment entry while its properties are read."""

    kind: str
    loc: Location
    parent_dep: _Raw
    depends: list[_Raw] = field(default_factory=list)
    type: str | None = None  # a choice's, given to members that have none


@dataclass(eq=False)
class _Def:
    """One ``config`` or ``menuconfig`` entry: a definition of a symbol."""

    name: str
    loc: Location
    parent_dep: _Raw
    choice: _Block | None
    prompt: str | None = None
    prompt_cond: _Raw = TRUE
    depends: list[_Raw] = field(default_factory=list)
    defaults: list[tuple[_Raw, _Raw, Location]] = field(default_factory=list)
    selects: list[tuple[str, _Raw, Location]] = field(default_factory=list)
    implies: list[tuple[str, _Raw, Location]] = field(default_factory=list)
    _dep: _Raw | None = None

    def dep(self) -> _Raw:
        """Its ``depends on`` lines, then the conditions of the enclosing blocks."""
        if self._dep is None:
            own: _Raw = TRUE
            for d in self.depends:
                own = _rand(own, d)
            self._dep = _rand(own, self.parent_dep)
        return self._dep


@dataclass(frozen=True)
class _Frame:
    kind: str  # "if", "menu" or "choice"
    dep: _Raw
    loc: Location
    choice: _Block | None


@dataclass
class _File:
    lines: _Lines
    base_dep: _Raw
    base_choice: _Block | None
    stack: tuple[str, ...]
    frames: list[_Frame] = field(default_factory=list)
    entry: _Def | _Block | None = None

    def dep(self) -> _Raw:
        return self.frames[-1].dep if self.frames else self.base_dep

    def choice(self) -> _Block | None:
        for frame in reversed(self.frames):
            if frame.kind == "choice":
                return frame.choice
        return self.base_choice


_SOURCES = frozenset(("source", "rsource", "osource", "orsource", "gsource", "grsource"))
_STATEMENTS = frozenset(
    ("config", "menuconfig", "choice", "endchoice", "comment", "menu", "endmenu", "if", "endif", "mainmenu", *_SOURCES)
)
_TYPES = {"bool": "bool", "boolean": "bool", "tristate": "tristate", "int": "int", "hex": "hex", "string": "string"}
_DEF_TYPES = {
    "def_bool": "bool",
    "def_tristate": "tristate",
    "def_int": "int",
    "def_hex": "hex",
    "def_string": "string",
}
_PROPERTIES = frozenset(
    (
        *_TYPES,
        *_DEF_TYPES,
        "prompt",
        "depends",
        "select",
        "imply",
        "default",
        "range",
        "help",
        "---help---",
        "option",
        "modules",
        "transitional",
        "visible",
        "optional",
    )
)
_ENDS = {"endif": "if", "endmenu": "menu", "endchoice": "choice"}
_OPENS = {v: k for k, v in _ENDS.items()}
#: Bare macros that only print or stop the build: no symbol depends on them.
_SIDE_EFFECT_MACROS = ("$(info,", "$(warning-if,", "$(error-if,")
_BOOL_TYPES = ("bool", "tristate")
_TRI_NUM = {"n": 0, "m": 1, "y": 2}


class _Reader:
    def __init__(self, root: Path, srcarch: str, arch: str) -> None:
        self.root = root
        self.env = {"SRCARCH": srcarch, "ARCH": arch, "srctree": "."}
        self.vars: dict[str, _Var] = {}
        self.defs: dict[str, list[_Def]] = {}
        self.first_type: dict[str, str] = {}
        self.files: list[str] = []
        self.read: set[str] = set()
        self.warnings: list[KconfigWarning] = []
        self.warned_choices: set[str] = set()
        self.modules_sym = "MODULES"
        self.kinds: dict[str, str | None] = {}
        self.memo: dict[_Raw, Expr] = {}

    def warn(self, loc: Location, message: str) -> None:
        self.warnings.append(KconfigWarning(loc, message))

    # -- macros -----------------------------------------------------------------

    def expand(self, s: str, args: tuple[str, ...] = (), depth: int = 0) -> str:
        """``s`` with every ``$(...)`` expanded; :class:`_Unexpandable` names the
        top-level macro that cannot be."""
        if "$(" not in s:
            return s
        out: list[str] = []
        size = 0
        i = 0
        while True:
            j = s.find("$(", i)
            if j < 0:
                out.append(s[i:])
                return "".join(out)
            out.append(s[i:j])
            end = _macro_end(s, j)
            if end < 0:
                raise _Unexpandable(s[j:])
            try:
                value = self.call(s[j + 2 : end - 1], args, depth)
            except _Unexpandable:
                raise _Unexpandable(s[j:end]) from None
            out.append(value)
            size += j - i + len(value)
            if size > _MAX_EXPANDED:
                raise _Unexpandable(s[j:end])
            i = end

    def call(self, inner: str, args: tuple[str, ...], depth: int) -> str:
        if depth > _MAX_EXPANSIONS:
            raise _Unexpandable
        parts = [self.expand(p, args, depth + 1) for p in _split_args(inner)]
        name = parts[0]
        if name.isdigit() and len(parts) == 1 and 0 < int(name) < len(args):
            return args[int(name)]
        var = self.vars.get(name)
        if var is not None:
            if var.value is None:
                raise _Unexpandable
            if not var.recursive:
                return var.value
            return self.expand(var.value, tuple(parts), depth + 1)
        if len(parts) == 1 and name in self.env:
            return self.env[name]
        # $(shell,...), $(success,...), $(cc-option,...) and the compiler
        # variables of the environment need a toolchain: not ours to run.
        raise _Unexpandable

    def assign(self, name: str, op: str, value: str) -> None:
        old = self.vars.get(name)
        if op == "+=" and old is None:
            op = "="
        if op == "=":
            self.vars[name] = _Var(value, True)
            return
        # := and += on a := variable expand now, as Kconfig does.
        try:
            expanded: str | None = self.expand(value) if op == ":=" or (old and not old.recursive) else value
        except _Unexpandable:
            expanded = None
        if op == ":=":
            self.vars[name] = _Var(expanded, False)
        elif old is not None:
            old.value = None if old.value is None or expanded is None else f"{old.value} {expanded}"

    def unquote(self, raw: str) -> str:
        """A string's text: ``\\x`` is ``x``, macros expanded."""
        if "\\" not in raw and "$(" not in raw:
            return raw  # most prompts: nothing to do, and there are thousands
        out: list[str] = []
        i = 0
        while i < len(raw):
            c = raw[i]
            if c == "\\" and i + 1 < len(raw):
                out.append(raw[i + 1])
                i += 2
            elif raw.startswith("$(", i):
                end = _macro_end(raw, i)
                if end < 0:
                    raise _Unexpandable(raw[i:])
                out.append(self.expand(raw[i:end]))
                i = end
            else:
                out.append(c)
                i += 1
        return "".join(out)

    def operand(self, tok: _Tok) -> _Operand:
        try:
            if tok.kind == "str":
                return _Operand(self.unquote(tok.text), True)
            return _Operand(self.expand(tok.text), False)
        except _Unexpandable as exc:
            return _Operand(tok.text, tok.kind == "str", exc.macro or tok.text)

    def text_of(self, tok: _Tok) -> str:
        """A prompt or name: expanded where possible, else as written."""
        try:
            return self.unquote(tok.text) if tok.kind == "str" else self.expand(tok.text)
        except _Unexpandable:
            return tok.text

    # -- expressions --------------------------------------------------------------

    def expr(self, line: _Line, toks: list[_Tok], cond: bool) -> _Raw:
        """Parse ``toks`` (not empty); an expression that does not parse is one
        opaque atom, warned about here."""
        try:
            return _ExprParser(self, line, toks, cond).parse()
        except _Syntax as exc:
            return self.malformed_atom(line, toks[0].start, toks[-1].end, cond, exc.detail)

    def malformed_atom(self, line: _Line, start: int, end: int, cond: bool, detail: str) -> _Atom:
        start += len(line.text[start:end]) - len(line.text[start:end].lstrip())
        atom = _Atom(_Operand("", False), None, None, line, start, end, cond, malformed=True)
        self.warn(atom.loc, f"malformed expression ({detail}): read as the opaque atom {_OPAQUE_PREFIX}{atom.source}")
        return atom

    # -- files ----------------------------------------------------------------------

    def source_file(
        self, relpath: str, dep: _Raw, choice: _Block | None, stack: tuple[str, ...], site: Location | None
    ) -> None:
        if site is not None and relpath in stack:
            self.warn(site, f"{relpath} is already being read (recursive source): skipped")
            return
        if site is not None and len(stack) >= _MAX_SOURCE_DEPTH:
            self.warn(site, f"source statements nested more than {_MAX_SOURCE_DEPTH} deep: {relpath} skipped")
            return
        try:
            data = (self.root / relpath).read_bytes()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if site is None:
                raise ModelError(f"cannot read the top Kconfig file: {reason}", Location(relpath)) from None
            self.warn(site, f"cannot read {relpath}: {reason}")
            return
        if relpath not in self.read:
            self.read.add(relpath)
            self.files.append(relpath)
        st = _File(_Lines(relpath, data.decode("utf-8", errors="replace")), dep, choice, (*stack, relpath))
        self.parse(st)

    def parse(self, st: _File) -> None:
        while (line := st.lines.next()) is not None:
            text = line.text
            first = _FIRST_WORD.match(text)
            assert first is not None
            start = first.start(1)
            word = first.group(1)
            if not text[start:].strip() or text[start] == "#":
                continue
            if word not in _STATEMENTS and word not in _PROPERTIES and text.strip(" \t-") == "help":
                word = "help"  # the C tools long accepted -help- and --help--
            if st.entry is not None:
                if word in _PROPERTIES:
                    self.property(st, line, word, start, first.end())
                    continue
                self.finish(st)
            if word in _PROPERTIES:
                self.warn(line.loc(start), f"'{word}' outside a config, menu or choice entry: line skipped")
                if word in ("help", "---help---"):
                    st.lines.skip_help()
            elif word in _STATEMENTS:
                self.statement(st, line, word, start, first.end())
            elif word and (assignment := _ASSIGNMENT.fullmatch(text)) is not None:
                self.assign(*assignment.groups())
            elif text.startswith(_SIDE_EFFECT_MACROS, start):
                pass
            else:
                shown = word or text[start:].split()[0]
                self.warn(line.loc(start), f"unknown statement '{shown}': line skipped")
        self.finish(st)
        for frame in st.frames:
            self.warn(frame.loc, f"'{frame.kind}' is not closed by '{_OPENS[frame.kind]}' in this file")

    def tokens(self, line: _Line, word: str, start: int, pos: int) -> list[_Tok] | None:
        try:
            return _tokenize(line.text, pos)
        except _Syntax as exc:
            self.warn(line.loc(start), f"malformed '{word}' line ({exc.detail}): line skipped")
            return None

    def malformed(self, line: _Line, word: str, start: int, detail: str) -> None:
        self.warn(line.loc(start), f"malformed '{word}' line ({detail}): line skipped")

    def finish(self, st: _File) -> None:
        entry, st.entry = st.entry, None
        if isinstance(entry, _Block) and entry.kind in ("menu", "choice"):
            dep: _Raw = TRUE
            for d in entry.depends:
                dep = _rand(dep, d)
            dep = _rand(dep, entry.parent_dep)
            st.frames.append(_Frame(entry.kind, dep, entry.loc, entry if entry.kind == "choice" else None))

    def statement(self, st: _File, line: _Line, word: str, start: int, pos: int) -> None:
        loc = line.loc(start)
        if word == "if":
            self.if_statement(st, line, start, pos)
            return
        toks = self.tokens(line, word, start, pos)
        if toks is None:
            return
        if word in ("config", "menuconfig"):
            if len(toks) != 1 or toks[0].kind != "word":
                self.malformed(line, word, start, "expected one symbol name")
                return
            name = self.text_of(toks[0])
            d = _Def(name, Location(line.file, line.first, 1), st.dep(), st.choice())
            self.defs.setdefault(name, []).append(d)
            st.entry = d
        elif word in ("menu", "comment", "mainmenu"):
            if len(toks) != 1 or toks[0].kind != "str":
                self.malformed(line, word, start, "expected one quoted title")
            elif word != "mainmenu":
                st.entry = _Block(word, loc, st.dep())
        elif word == "choice":
            if len(toks) > 1:
                self.malformed(line, word, start, "expected at most a name")
                return
            key = self.text_of(toks[0]) if toks else f"{loc}"
            if key not in self.warned_choices:
                self.warned_choices.add(key)
                self.warn(loc, "choice exclusivity is not modelled: its members are read as independent options")
            st.entry = _Block("choice", loc, st.dep())
        elif word in _ENDS:
            if st.frames and st.frames[-1].kind == _ENDS[word]:
                st.frames.pop()
            else:
                self.warn(loc, f"'{word}' without a matching '{_ENDS[word]}': line skipped")
        else:
            self.source(st, line, word, start, toks)

    def if_statement(self, st: _File, line: _Line, start: int, pos: int) -> None:
        # A malformed condition still opens the block its endif closes.
        cond: _Raw
        try:
            toks = _tokenize(line.text, pos)
        except _Syntax as exc:
            cond = self.malformed_atom(line, pos, len(line.text), True, exc.detail)
        else:
            if toks:
                cond = self.expr(line, toks, True)
            else:
                cond = self.malformed_atom(line, start, len(line.text), True, "expected a condition")
        st.frames.append(_Frame("if", _rand(cond, st.dep()), line.loc(start), None))

    def source(self, st: _File, line: _Line, word: str, start: int, toks: list[_Tok]) -> None:
        if len(toks) != 1 or toks[0].kind == "op":
            self.malformed(line, word, start, "expected one path")
            return
        try:
            pattern = self.unquote(toks[0].text) if toks[0].kind == "str" else self.expand(toks[0].text)
        except _Unexpandable as exc:
            self.warn(line.loc(start), f"cannot expand {exc.macro} in a source path: line skipped")
            return
        if word in ("rsource", "orsource", "grsource"):
            pattern = posixpath.join(posixpath.dirname(st.lines.file), pattern)
        pattern = posixpath.normpath(pattern)
        if _GLOB_MAGIC.search(pattern):
            found = sorted(
                posixpath.normpath(p) for p in glob.glob(pattern, root_dir=self.root) if (self.root / p).is_file()
            )
        else:
            found = [pattern] if (self.root / pattern).is_file() else []
        site = line.loc(start)
        if not found and word in ("source", "rsource"):
            self.warn(site, f"sourced file not found: {pattern}")
        for relpath in found:
            self.source_file(relpath, st.dep(), st.choice(), st.stack, site)

    def property(self, st: _File, line: _Line, word: str, start: int, pos: int) -> None:
        entry = st.entry
        assert entry is not None
        if word in ("help", "---help---"):
            st.lines.skip_help()
            return
        toks = self.tokens(line, word, start, pos)
        if toks is None:
            return
        loc = line.loc(start)
        if word == "depends":
            if len(toks) < 2 or toks[0].text != "on" or toks[0].kind != "word":
                self.malformed(line, word, start, "expected 'on' and a condition")
                return
            entry.depends.append(self.expr(line, toks[1:], True))
            return
        if word in ("option", "optional", "visible"):
            # option env=, defconfig_list and allnoconfig_y change no value;
            # 'visible if' hides a menu's prompts without changing values.
            if word == "option" and isinstance(entry, _Def) and [t.text for t in toks] == ["modules"]:
                self.modules_sym = entry.name
            return
        if isinstance(entry, _Block):
            if entry.kind == "choice" and word in (*_TYPES, "prompt", "default"):
                # The choice's default picks a member: exclusivity, not modelled.
                entry.type = _TYPES.get(word, entry.type)
                return
            self.warn(loc, f"'{word}' is only valid in a config entry: line skipped")
            return
        self.config_property(entry, line, word, start, toks, loc)

    def config_property(self, d: _Def, line: _Line, word: str, start: int, toks: list[_Tok], loc: Location) -> None:
        if word == "modules":
            # Marks the symbol whose value allows m; ptfree reads m as y, so it
            # only names the symbol that a condition's m stands for.
            self.modules_sym = d.name
            return
        if word in ("transitional", "range"):
            # A transitional symbol carries an old name's .config value into the
            # defaults of its new name; it has no prompt and is never written
            # out, but its value is computed like any other's.  A range bounds
            # an int or hex symbol, which is not modelled.
            return
        if word in _TYPES or word in _DEF_TYPES:
            self.set_type(d.name, _TYPES.get(word) or _DEF_TYPES[word], loc)
        head, cond = self.split_if(line, toks, word, start)
        if head is None:
            return
        if word in _TYPES or word == "prompt":
            if not head:
                if word == "prompt" or cond is not None:
                    self.malformed(line, word, start, "expected a prompt")
                return
            if len(head) != 1 or head[0].kind == "op":
                self.malformed(line, word, start, "expected one quoted prompt")
                return
            d.prompt = self.text_of(head[0])
            d.prompt_cond = TRUE if cond is None else cond
        elif word in ("select", "imply"):
            if len(head) != 1 or head[0].kind != "word":
                self.malformed(line, word, start, "expected one symbol name")
                return
            (d.selects if word == "select" else d.implies).append(
                (self.text_of(head[0]), TRUE if cond is None else cond, loc)
            )
        else:  # default, def_bool and the other def_* types
            if not head:
                self.malformed(line, word, start, "expected a value")
                return
            d.defaults.append((self.expr(line, head, False), TRUE if cond is None else cond, loc))

    def split_if(self, line: _Line, toks: list[_Tok], word: str, start: int) -> tuple[list[_Tok] | None, _Raw | None]:
        """``VALUE if COND`` as the value's tokens and the parsed condition."""
        for i, tok in enumerate(toks):
            if tok.kind == "word" and tok.text == "if":
                if i + 1 == len(toks):
                    self.malformed(line, word, start, "expected a condition after 'if'")
                    return None, None
                return toks[:i], self.expr(line, toks[i + 1 :], True)
        return toks, None

    def set_type(self, name: str, type_: str, loc: Location) -> None:
        old = self.first_type.setdefault(name, type_)
        if old != type_:
            # As the C tools do: the first type stays.
            self.warn(loc, f"ignoring type redefinition of {name} from {old} to {type_}")

    # -- from what was read to options ------------------------------------------------

    def lower(self, raw: _Raw) -> Expr:
        # Iterative: a chain of a thousand && or nested ifs must not exhaust
        # Python's stack here.
        if isinstance(raw, Const):
            return raw
        memo = self.memo
        done = memo.get(raw)
        if done is not None:
            return done
        if isinstance(raw, _Atom):
            done = memo[raw] = self.lower_atom(raw)
            return done
        stack: list[_Raw] = [raw]
        while stack:
            node = stack[-1]
            if isinstance(node, Const) or node in memo:
                stack.pop()
            elif isinstance(node, _Atom):
                memo[node] = self.lower_atom(node)
                stack.pop()
            else:
                kids = [node.operand] if isinstance(node, _RNot) else [node.left, node.right]
                todo = [k for k in reversed(kids) if not isinstance(k, Const) and k not in memo]
                if todo:
                    stack.extend(todo)
                    continue
                stack.pop()
                vals = [k if isinstance(k, Const) else memo[k] for k in kids]
                if isinstance(node, _RNot):
                    memo[node] = guards.neg(vals[0])
                elif isinstance(node, _RAnd):
                    memo[node] = guards.conj(*vals)
                else:
                    memo[node] = guards.disj(*vals)
        return memo[raw]

    def opaque_atom(self, atom: _Atom, reason: str) -> Expr:
        name = _OPAQUE_PREFIX + atom.source
        self.warn(atom.loc, f"{reason}: read as the opaque atom {name}")
        return Sym(name)

    def kind(self, operand: _Operand) -> str | None:
        """``"option"``, the type of a symbol we do not model, or None for a constant."""
        if operand.quoted:
            return None
        kind = self.kinds.get(operand.text)
        if kind in _BOOL_TYPES:
            return "option"
        return kind

    def lower_atom(self, atom: _Atom) -> Expr:
        if atom.malformed:
            return Sym(_OPAQUE_PREFIX + atom.source)
        for side in (atom.left, atom.right):
            if side is not None and side.unexpanded is not None:
                return self.opaque_atom(atom, f"macro {side.unexpanded} cannot be expanded")
        left = atom.left
        lkind = self.kind(left)
        if atom.op is None or atom.right is None:
            if lkind == "option":
                return Sym(left.text)
            if lkind is None and left.text == "m":
                # Kconfig reads m in a condition as m && MODULES.
                if atom.cond and self.kinds.get(self.modules_sym) in _BOOL_TYPES:
                    return Sym(self.modules_sym)
                return Const(not atom.cond)
            # y is y; n, other constants, undefined and int/hex/string symbols read as n.
            return Const(lkind is None and left.text == "y")
        right = atom.right
        rkind = self.kind(right)
        if lkind is None and rkind is None:
            return Const(_compare(left.text, atom.op, right.text))
        for side, kind in ((left, lkind), (right, rkind)):
            if kind not in (None, "option"):
                return self.opaque_atom(atom, f"{side.text} is a symbol of type {kind}")
        if atom.op not in ("=", "!="):
            return self.opaque_atom(atom, f"'{atom.op}' comparison is not modelled")
        equal = atom.op == "="
        if lkind == "option" and rkind == "option":
            a, b = Sym(left.text), Sym(right.text)
            same = guards.disj(And(a, b), And(Not(a), Not(b)))
            return same if equal else guards.disj(And(a, Not(b)), And(Not(a), b))
        sym, const = (left.text, right.text) if lkind == "option" else (right.text, left.text)
        if const in _TRI_NUM:
            return Cmp(sym, const, equal)
        # A bool compares as the number 0 or 2 with a number, else as its string y or n.
        num = _number(const)
        if num == 2:
            return Cmp(sym, "y", equal)
        if num == 0:
            return Cmp(sym, "n", equal)
        return Const(not equal)

    def build(self) -> KconfigTree:
        for name, defs in self.defs.items():
            kind = self.first_type.get(name)
            if kind is None and any(d.choice is not None for d in defs):
                kind = next(d.choice.type for d in defs if d.choice is not None) or "bool"
            if kind is None:
                self.warn(defs[0].loc, f"{name} has no type: Kconfig reads it as n")
            self.kinds[name] = kind
        parts: dict[str, tuple[Expr, str | None, Expr, list[Select], list[Default]]] = {}
        implied: dict[str, list[Default]] = {}
        others: dict[str, tuple[str, Location]] = {}
        numbers: dict[str, tuple[tuple[int, Expr], ...]] = {}
        for name, defs in self.defs.items():
            kind = self.kinds[name]
            if kind is None:
                continue
            if kind not in _BOOL_TYPES:
                others[name] = (kind, defs[0].loc)
                fixed = self.number_defaults(defs) if kind in ("int", "hex") else None
                if fixed is not None:
                    numbers[name] = fixed
                continue
            parts[name] = self.option_parts(name, defs, implied)
        options: dict[str, Option] = {}
        for name, (depends_on, prompt, prompt_if, selects, defaults) in parts.items():
            extra = implied.get(name, [])
            if len(defaults) + len(extra) > 1:
                for d in extra:
                    self.warn(d.loc, f"imply approximated as a last default: {name} has other defaults")
            first = self.defs[name][0]
            options[name] = Option(
                name=name,
                type="tristate" if self.kinds[name] == "tristate" else "bool",
                prompt=prompt,
                prompt_if=prompt_if,
                depends_on=depends_on,
                selects=tuple(selects),
                defaults=(*defaults, *extra),
                file=first.loc.file,
                loc=first.loc,
            )
        order = {f: i for i, f in enumerate(self.files)}
        warnings = sorted(self.warnings, key=lambda w: (order.get(w.loc.file, len(order)), w.loc.line, w.loc.col))
        return KconfigTree(
            MappingProxyType(options),
            MappingProxyType(others),
            tuple(self.files),
            tuple(warnings),
            MappingProxyType(numbers),
        )

    def number_defaults(self, defs: list[_Def]) -> tuple[tuple[int, Expr], ...] | None:
        """The defaults of a number symbol no user can set, when each is a number: else None."""
        if any(d.prompt is not None for d in defs):
            return None
        out: list[tuple[int, Expr]] = []
        for d in defs:
            dep = self.lower(d.dep())
            for value, cond, _ in d.defaults:
                number = _number(value.left.text) if isinstance(value, _Atom) and value.op is None else None
                if number is None:
                    return None
                out.append((number, guards.conj(self.lower(cond), dep)))
        return tuple(out)

    def option_parts(
        self, name: str, defs: list[_Def], implied: dict[str, list[Default]]
    ) -> tuple[Expr, str | None, Expr, list[Select], list[Default]]:
        deps = [self.lower(d.dep()) for d in defs]
        # With one definition its dependencies already guard every property
        # (resolve checks depends_on); with several, each definition's own
        # must be ANDed into its properties, as kconfiglib propagates them.
        several = len(defs) > 1

        def guarded(cond: _Raw, i: int) -> Expr:
            return guards.conj(self.lower(cond), deps[i]) if several else self.lower(cond)

        prompt: str | None = None
        prompt_ifs: list[Expr] = []
        selects: list[Select] = []
        defaults: list[Default] = []
        for i, d in enumerate(defs):
            if d.prompt is not None:
                prompt = d.prompt if prompt is None else prompt
                prompt_ifs.append(guarded(d.prompt_cond, i))
            defaults.extend(Default(self.lower(v), guarded(c, i), loc) for v, c, loc in d.defaults)
            selects.extend(Select(t, guarded(c, i), loc) for t, c, loc in d.selects if self.kinds.get(t) in _BOOL_TYPES)
            for target, cond, loc in d.implies:
                if self.kinds.get(target) in _BOOL_TYPES:
                    # kconfiglib's weak reverse dependency, name && cond, as a
                    # default: exact when the target has no other default.
                    value = Default(Sym(name), guards.conj(self.lower(cond), deps[i]), loc)
                    implied.setdefault(target, []).append(value)
        depends_on = guards.disj(*deps)
        # A symbol is visible if any of its prompts is: first prompt's text,
        # every prompt's condition.
        prompt_if = guards.disj(*prompt_ifs) if prompt_ifs else TRUE
        return depends_on, prompt, prompt_if, selects, defaults


def _number(text: str) -> int | None:
    if text in _TRI_NUM:
        return _TRI_NUM[text]
    try:
        return int(text, 0)
    except ValueError:
        return None


def _compare(left: str, op: str, right: str) -> bool:
    """Two constants compared as kconfiglib does: as numbers when both are, else as strings."""
    a, b = _number(left), _number(right)
    diff = (a > b) - (a < b) if a is not None and b is not None else (left > right) - (left < right)
    return {"=": diff == 0, "!=": diff != 0, "<": diff < 0, "<=": diff <= 0, ">": diff > 0, ">=": diff >= 0}[op]


class _ExprParser:
    """Kconfig's expression grammar; ``&&`` and ``||`` left-associative, as guards.parse builds them."""

    def __init__(self, reader: _Reader, line: _Line, toks: list[_Tok], cond: bool) -> None:
        self.reader = reader
        self.line = line
        self.toks = toks
        self.cond = cond
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def at(self, *ops: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "op" and tok.text in ops

    def parse(self) -> _Raw:
        out = self.or_()
        tok = self.peek()
        if tok is not None:
            raise _Syntax(f"unexpected {tok.text!r}", tok.start)
        return out

    def or_(self) -> _Raw:
        out = self.and_()
        while self.at("||"):
            self.i += 1
            out = _ROr(out, self.and_())
        return out

    def and_(self) -> _Raw:
        out = self.factor()
        while self.at("&&"):
            self.i += 1
            out = _RAnd(out, self.factor())
        return out

    def factor(self) -> _Raw:
        tok = self.peek()
        if tok is None:
            raise _Syntax("expected an operand at the end", self.toks[-1].end)
        self.i += 1
        if tok.kind == "op":
            if tok.text not in ("!", "("):
                raise _Syntax(f"unexpected {tok.text!r}", tok.start)
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise _Syntax("nested too deeply", tok.start)
            if tok.text == "!":
                out: _Raw = _RNot(self.factor())
            else:
                out = self.or_()
                if not self.at(")"):
                    raise _Syntax("expected ')'", self.toks[self.i - 1].end)
                self.i += 1
            self.depth -= 1
            return out
        left = self.reader.operand(tok)
        end = tok.end
        op: str | None = None
        right: _Operand | None = None
        if self.at("=", "!=", "<", "<=", ">", ">="):
            op = self.toks[self.i].text
            self.i += 1
            rtok = self.peek()
            if rtok is None or rtok.kind == "op":
                raise _Syntax(f"expected an operand after {op!r}", self.toks[self.i - 1].end)
            self.i += 1
            right = self.reader.operand(rtok)
            end = rtok.end
        return _Atom(left, op, right, self.line, tok.start, end, self.cond)


def read_kconfig(root: Path, top: str = "Kconfig", *, srcarch: str = "x86", arch: str | None = None) -> KconfigTree:
    """Read the Kconfig files of the tree at ``root`` from ``top`` (relative to ``root``).

    ``$(SRCARCH)`` and ``$(ARCH)`` expand to ``srcarch`` and ``arch`` (by
    default ``srcarch``), ``$(srctree)`` to the root.

    :raises ModelError: only when ``top`` cannot be read.
    """
    reader = _Reader(root, srcarch, srcarch if arch is None else arch)
    reader.source_file(posixpath.normpath(top), TRUE, None, (), None)
    return reader.build()


def closure(tree: KconfigTree, names: Iterable[str]) -> tuple[str, ...]:
    """The options needed to compute the values of ``names``, in tree order.

    That is the names in their dependencies, prompt conditions, defaults
    (values and conditions), and every option that selects one of them, with
    its select condition, transitively; an ``imply`` is a default, so its
    implier is among the default values.
    """
    options = tree.options
    selectors: dict[str, list[tuple[str, Expr]]] = {}
    for o in options.values():
        for s in o.selects:
            selectors.setdefault(s.symbol, []).append((o.name, s.cond))
    needed: set[str] = set()
    work = [n for n in names if n in options]
    while work:
        name = work.pop()
        if name in needed:
            continue
        needed.add(name)
        o = options[name]
        exprs = [o.depends_on, o.prompt_if]
        for d in o.defaults:
            exprs += [d.value, d.cond]
        for selector, cond in selectors.get(name, ()):
            work.append(selector)
            exprs.append(cond)
        work.extend(n for e in exprs for n in _names(e) if n in options and n not in needed)
    return tuple(n for n in options if n in needed)


def _names(expr: Expr) -> list[str]:
    """guards.names without recursion: what the reader builds can be deep."""
    out: list[str] = []
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, (Sym, Cmp)):
            out.append(e.name)
        elif isinstance(e, Not):
            stack.append(e.operand)
        elif isinstance(e, (And, Or)):
            stack += [e.right, e.left]
    return out


# -- kept between runs ----------------------------------------------------------
#
# A whole kernel's Kconfig is ~1,600 files and takes seconds to read; the
# extractor keeps what was read in its cache as JSON (never pickle: the cache
# is data, not code), with the size and time of every file read.


def _expr_doc(e: Expr) -> list[object]:
    if isinstance(e, Const):
        return ["y" if e.value else "n"]
    if isinstance(e, Sym):
        return ["s", e.name]
    if isinstance(e, Cmp):
        return ["c", e.name, e.value, e.equal]
    if isinstance(e, Not):
        return ["!", _expr_doc(e.operand)]
    return ["&" if isinstance(e, And) else "|", _expr_doc(e.left), _expr_doc(e.right)]


def _expr_of(d: list[object]) -> Expr:
    tag = d[0]
    if tag in ("y", "n"):
        return TRUE if tag == "y" else FALSE
    if tag == "s":
        return Sym(str(d[1]))
    if tag == "c":
        return Cmp(str(d[1]), str(d[2]), bool(d[3]))
    if tag == "!":
        return Not(_expr_of(d[1]))  # type: ignore[arg-type]
    left, right = _expr_of(d[1]), _expr_of(d[2])  # type: ignore[arg-type]
    return And(left, right) if tag == "&" else Or(left, right)


def _loc_doc(loc: Location) -> list[object]:
    return [loc.file, loc.line, loc.col]


def dump(tree: KconfigTree) -> dict[str, object]:
    """``tree`` as JSON-able data; :func:`load` reads it back equal."""
    options = [
        {
            "name": o.name,
            "type": o.type,
            "prompt": o.prompt,
            "prompt_if": _expr_doc(o.prompt_if),
            "depends_on": _expr_doc(o.depends_on),
            "selects": [[s.symbol, _expr_doc(s.cond), _loc_doc(s.loc)] for s in o.selects],
            "defaults": [[_expr_doc(d.value), _expr_doc(d.cond), _loc_doc(d.loc)] for d in o.defaults],
            "file": o.file,
            "note": o.note,
            "loc": _loc_doc(o.loc),
            "at": o.at,
        }
        for o in tree.options.values()
    ]
    return {
        "options": options,
        "others": [[name, kind, _loc_doc(loc)] for name, (kind, loc) in tree.others.items()],
        "files": list(tree.files),
        "warnings": [[_loc_doc(w.loc), w.message] for w in tree.warnings],
        "numbers": [[n, [[v, _expr_doc(c)] for v, c in ds]] for n, ds in tree.numbers.items()],
    }


def load(doc: Mapping[str, object]) -> KconfigTree:
    """The tree :func:`dump` wrote.

    :raises KeyError, TypeError, ValueError, IndexError: when ``doc`` is not what it wrote.
    """

    def loc(d: list[object]) -> Location:
        return Location(str(d[0]), int(d[1]), int(d[2]))  # type: ignore[call-overload]

    options: dict[str, Option] = {}
    for o in doc["options"]:  # type: ignore[attr-defined]
        options[o["name"]] = Option(
            o["name"],
            o["type"],
            o["prompt"],
            _expr_of(o["prompt_if"]),
            _expr_of(o["depends_on"]),
            tuple(Select(s, _expr_of(c), loc(at)) for s, c, at in o["selects"]),
            tuple(Default(_expr_of(v), _expr_of(c), loc(at)) for v, c, at in o["defaults"]),
            o["file"],
            o["note"],
            loc(o["loc"]),
            o["at"],
        )
    others = {str(n): (str(k), loc(at)) for n, k, at in doc["others"]}  # type: ignore[attr-defined]
    return KconfigTree(
        MappingProxyType(options),
        MappingProxyType(others),
        tuple(str(f) for f in doc["files"]),  # type: ignore[attr-defined]
        tuple(KconfigWarning(loc(at), str(m)) for at, m in doc["warnings"]),  # type: ignore[attr-defined]
        MappingProxyType(
            {str(n): tuple((int(v), _expr_of(c)) for v, c in ds) for n, ds in doc["numbers"]}  # type: ignore[attr-defined]
        ),
    )
