"""Kbuild makefiles of a source tree: the Kconfig guard under which a .c file is built.

Kbuild builds ``d/f.c`` when ``d/``'s makefile (``Kbuild`` if present,
else ``Makefile``) lists ``f.o`` in ``obj-y``, ``obj-m``, ``lib-y`` or
``obj-$(CONFIG_X)`` (which expands to ``obj-y``/``obj-m`` exactly when
``X`` is enabled: ``m`` reads as ``y`` here), or lists it as a part of a
composite object (``foo-y``, ``foo-objs``, ``foo-$(CONFIG_Y)``) that is
itself listed; and when kbuild descends into ``d/`` at all, which the
parent directory's makefile decides with ``obj-$(CONFIG_X) += d/``.  The
guard of a file is the conjunction along that chain, each step cited.

Makefile conditionals (``ifdef``, ``ifndef``, ``ifeq``, ``ifneq``,
``else``, ``endif``) on ``CONFIG_`` variables are read exactly; anything
else that decides whether a line counts (another variable, a function
call) is kept as an opaque atom ``make:TEXT`` and warned about where it
is used.  ``+=`` adds to a list; ``:=`` and ``=`` replace it where their
line counts (``mmu-y := nommu.o`` then ``mmu-$(CONFIG_MMU) := memory.o``
builds nommu.o only without MMU).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from ptfree_cli.errors import Location
from ptfree_cli.guards import FALSE, TRUE, And, Expr, Not, Sym, conj, disj, neg

__all__ = ["BuildGuard", "Kbuild", "KbuildWarning"]


@dataclass(frozen=True)
class KbuildWarning:
    loc: Location
    message: str


@dataclass(frozen=True)
class BuildGuard:
    """``guard`` is TRUE when the file is always built; ``cites`` are the
    makefile lines that decided it, from the top directory down."""

    guard: Expr
    cites: tuple[Location, ...]


def _and(*exprs: Expr) -> Expr:
    """``a && b && ...`` as one flat left-associative chain, repeats left out."""
    seen: list[Expr] = []
    for e in exprs:
        stack = [e]
        while stack:
            x = stack.pop()
            if isinstance(x, And):
                stack.append(x.right)
                stack.append(x.left)
            elif x not in seen:
                seen.append(x)
    return conj(*seen)


def _squash(text: str) -> str:
    return " ".join(text.split())


# -- reading one makefile -------------------------------------------------------


@dataclass(frozen=True)
class _Mention:
    """One line listing an object: the guard under which it counts, the
    lines that decide it, and the opaque atoms (location, text) it uses."""

    guard: Expr
    cites: tuple[Location, ...]
    atoms: tuple[tuple[Location, str], ...] = ()
    #: the list it is in, ``obj`` or ``lib``, for an entry of ``objs``
    var: str = ""


@dataclass
class _Makefile:
    path: str  # relative to the root
    objs: dict[str, list[_Mention]] = field(default_factory=dict)  # obj-/lib- entries: "a.o", "d/"
    part_of: dict[str, list[tuple[str, _Mention]]] = field(default_factory=dict)  # "a.o" -> [(composite, line)]
    warnings: list[KbuildWarning] = field(default_factory=list)


@dataclass
class _Frame:
    """One open make conditional."""

    loc: Location
    outer: Expr
    prev: Expr  # some earlier arm's condition held
    cond: Expr
    guard: Expr
    cites: list[Location]
    atoms: list[tuple[Location, str]]
    seen_else: bool = False


_CONDITIONAL = re.compile(r"(?P<kw>ifdef|ifndef|ifeq|ifneq)(?=[\s(\"']|$)\s*(?P<arg>.*)", re.S)
_ELSE = re.compile(r"else(?=\s|$)\s*(?P<rest>.*)", re.S)
_ENDIF = re.compile(r"endif(?=\s|$)")
_DEFINE = re.compile(r"(?:(?:override|export)\s+)*define(?=\s|$)")
_ENDEF = re.compile(r"endef(?=\s|$)")
_PREFIXES = re.compile(r"(?:(?:override|export|private)\s+)*")
_OPERATOR = re.compile(r":::=|::=|:=|\+=|\?=|!=|=")
_REF = (
    r"\$\(CONFIG_(?P<a>[A-Za-z0-9_]+)\)"
    r"|\$\{CONFIG_(?P<b>[A-Za-z0-9_]+)\}"
    r"|\$\(subst\s+m\s*,\s*y\s*,\s*\$[({]CONFIG_(?P<c>[A-Za-z0-9_]+)[)}]\s*\)"
    r"|\$\(CONFIG_(?P<d>[A-Za-z0-9_]+):m=y\)"
)
_CONFIG_REF = re.compile(_REF)
_CONFIG_REFS = re.compile(rf"(?:{_REF})+")


def _ref_names(text: str) -> list[str] | None:
    """The Kconfig names of ``text`` when it is only ``$(CONFIG_X)`` references, run together."""
    if not _CONFIG_REFS.fullmatch(text):
        return None
    return [next(g for g in m.groups() if g is not None) for m in _CONFIG_REF.finditer(text)]


def _statements(text: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, text) of each logical line: continuations joined, comments removed."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        first = i
        logical = lines[i].rstrip("\r")
        while logical.endswith("\\") and i + 1 < len(lines):
            i += 1
            logical = logical[:-1].rstrip() + " " + lines[i].rstrip("\r").lstrip()
        i += 1
        yield first + 1, len(logical) - len(logical.lstrip()) + 1, logical


def _uncomment(text: str) -> str:
    k = 0
    while (k := text.find("#", k)) >= 0:
        if k == 0 or text[k - 1] != "\\":
            return text[:k]
        k += 1
    return text


def _close(text: str, start: int) -> int:
    """Index just past the reference or parenthesis opening at ``start`` (``$(``, ``${`` or ``(``); -1 if unclosed."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _assignment(text: str) -> tuple[str, int, str, str] | None:
    """``(variable, its offset, value, operator)`` when ``text`` assigns a variable."""
    start = _PREFIXES.match(text)
    i = start.end() if start else 0
    begin = i
    while i < len(text):
        c = text[i]
        if c == "$" and text[i + 1 : i + 2] in ("(", "{"):
            end = _close(text, i + 1)
            if end < 0:
                return None
            i = end
            continue
        if c.isspace() or _OPERATOR.match(text, i):
            break
        if c in ":#":
            return None
        i += 1
    var = text[begin:i]
    while i < len(text) and text[i].isspace():
        i += 1
    op = _OPERATOR.match(text, i)
    if not var or op is None or op.group(0) == "!=":  # "!=": a shell command's output
        return None
    return var, begin, text[op.end() :], op.group(0)


def _words(value: str) -> Iterator[tuple[str, bool]]:
    """The words of a list, each with whether it holds a variable reference."""
    i = 0
    while i < len(value):
        if value[i].isspace():
            i += 1
            continue
        start, ref = i, False
        while i < len(value) and not value[i].isspace():
            if value[i] == "$" and value[i + 1 : i + 2] in ("(", "{"):
                end = _close(value, i + 1)
                i = end if end > 0 else len(value)
                ref = True
            else:
                i += 1
        yield value[start:i], ref


_LIST_REF = re.compile(r"\$[({]([A-Za-z0-9_]+)-(?:y|objs)[)}]")


def _split_var(var: str) -> tuple[str, str, int] | None:
    """``obj-SUFFIX``, ``lib-SUFFIX`` or ``NAME-SUFFIX`` as (prefix, suffix, offset of suffix)."""
    for prefix in ("obj", "lib"):
        if var.startswith(prefix + "-"):
            return prefix, var[len(prefix) + 1 :], len(prefix) + 1
    if var.endswith((")", "}")):
        # the suffix is the last reference: find where it opens
        depth = 0
        for k in range(len(var) - 1, -1, -1):
            if var[k] in ")}":
                depth += 1
            elif var[k] in "({":
                depth -= 1
                if depth == 0:
                    if k >= 2 and var[k - 1] == "$" and var[k - 2] == "-":
                        return var[: k - 2], var[k - 1 :], k - 1
                    return None
        return None
    k = var.rfind("-")
    if k <= 0 or "$" in var[:k]:
        return None
    return var[:k], var[k + 1 :], k + 1


def _suffix_guard(suffix: str) -> Expr | None:
    """The guard under which ``obj-SUFFIX`` is ``obj-y``; None when it cannot be read."""
    if suffix in ("y", "m", "objs"):
        return TRUE
    if suffix in ("", "n"):
        return FALSE
    names = _ref_names(suffix)
    if names is not None and len(names) == 1:
        return Sym(names[0])
    return None


def _equality(arg: str) -> tuple[str, str] | None:
    """The two sides of ``ifeq (a,b)``, ``ifeq 'a' 'b'`` or ``ifeq "a" "b"``."""
    arg = arg.strip()
    if arg.startswith("("):
        end = _close(arg, 0)
        if end != len(arg):
            return None
        inner = arg[1:-1]
        depth = 0
        for k, c in enumerate(inner):
            if c in "({":
                depth += 1
            elif c in ")}":
                depth -= 1
            elif c == "," and depth == 0:
                return inner[:k].strip(), inner[k + 1 :].strip()
        return None
    m = re.fullmatch(r"""(["'])(.*?)\1\s+(["'])(.*?)\3""", arg, re.S)
    return (m.group(2), m.group(4)) if m else None


def _condition(kw: str, arg: str) -> Expr | None:
    """What a make conditional tests, read as a guard; None when it cannot be read."""
    if kw in ("ifdef", "ifndef"):
        m = re.fullmatch(r"CONFIG_([A-Za-z0-9_]+)", arg.strip())
        if m is None:
            return None
        return Sym(m.group(1)) if kw == "ifdef" else Not(Sym(m.group(1)))
    sides = _equality(arg)
    if sides is None:
        return None
    for refs, literal in (sides, sides[::-1]):
        names = _ref_names(refs)
        if names is None:
            continue
        if literal == "":
            nonempty = disj(*(Sym(n) for n in names))
            return neg(nonempty) if kw == "ifeq" else nonempty
        if literal == "y" and len(names) == 1:
            return Sym(names[0]) if kw == "ifeq" else Not(Sym(names[0]))
    return None


class _Reader:
    """Reads one makefile's text into a :class:`_Makefile`."""

    def __init__(self, path: str) -> None:
        self.out = _Makefile(path)
        self.stack: list[_Frame] = []

    def loc(self, line: int, col: int) -> Location:
        return Location(self.out.path, line, col)

    def warn(self, loc: Location, message: str) -> None:
        self.out.warnings.append(KbuildWarning(loc, message))

    def context(self) -> tuple[Expr, list[Location], list[tuple[Location, str]]]:
        cites: list[Location] = []
        atoms: list[tuple[Location, str]] = []
        for f in self.stack:
            cites += f.cites
            atoms += f.atoms
        return (self.stack[-1].guard if self.stack else TRUE), cites, atoms

    def read_condition(self, kw: str, arg: str, loc: Location, frame: _Frame) -> Expr:
        cond = _condition(kw, arg)
        if cond is None:
            text = _squash(f"{kw} {arg}")
            frame.atoms.append((loc, text))
            cond = Sym(f"make:{text}")
        return cond

    def read(self, text: str) -> _Makefile:
        in_define = 0
        recipe = False
        for line, col, raw in _statements(text):
            stripped = raw.strip()
            if in_define:
                if _DEFINE.match(stripped):
                    in_define += 1
                elif _ENDEF.match(stripped):
                    in_define -= 1
                continue
            if recipe and raw.startswith("\t"):
                continue
            body = _uncomment(raw).strip()
            if not body:
                continue
            loc = self.loc(line, col)
            if _DEFINE.match(body):
                in_define = 1
                continue
            recipe = False
            if not self.directive(body, loc):
                assigned = _assignment(body)
                if assigned is not None:
                    self.assign(*assigned, line, col)
                elif ":" in body:
                    recipe = True  # a rule: the tab-indented lines after it are its recipe
        for frame in self.stack:
            self.warn(frame.loc, "missing 'endif'")
        return self.out

    def directive(self, body: str, loc: Location) -> bool:
        """Apply a conditional directive; False when ``body`` is not one."""
        if m := _CONDITIONAL.match(body):
            outer = self.stack[-1].guard if self.stack else TRUE
            frame = _Frame(loc, outer, FALSE, TRUE, TRUE, [loc], [])
            frame.cond = self.read_condition(m.group("kw"), m.group("arg"), loc, frame)
            frame.guard = _and(outer, frame.cond)
            self.stack.append(frame)
            return True
        if m := _ELSE.match(body):
            if not self.stack:
                self.warn(loc, "extraneous 'else'")
                return True
            frame = self.stack[-1]
            if frame.seen_else:
                self.warn(loc, "only one 'else' per conditional")
            frame.prev = TRUE if frame.seen_else else disj(frame.prev, frame.cond)
            frame.cites.append(loc)
            rest = m.group("rest").strip()
            again = _CONDITIONAL.match(rest)
            if again:
                at = Location(loc.file, loc.line, loc.col + len(body) - len(rest))
                frame.cond = self.read_condition(again.group("kw"), again.group("arg"), at, frame)
            else:
                frame.cond = TRUE
                frame.seen_else = True
            frame.guard = _and(frame.outer, neg(frame.prev), frame.cond)
            return True
        if _ENDIF.match(body):
            if not self.stack:
                self.warn(loc, "extraneous 'endif'")
            else:
                self.stack.pop()
            return True
        return False

    def assign(self, var: str, offset: int, value: str, op: str, line: int, col: int) -> None:
        split = _split_var(var)
        if split is None:
            return
        prefix, suffix, at = split
        every = list(_words(value))
        words = [w for w, ref in every if not ref and w.endswith((".o", "/"))]
        words = [w[2:] if w.startswith("./") else w for w in words]
        if prefix in ("obj", "lib"):
            # `obj-y += $(mmu-y)` (mm/Makefile): the objects of a list
            # variable are built as the parts of a composite would be.
            words += [m.group(1) + ".o" for w, ref in every if ref and (m := _LIST_REF.fullmatch(w))]
        if not words:
            return
        guard, cites, atoms = self.context()
        cond = _suffix_guard(suffix)
        if cond is None:
            text = _squash(suffix)
            atoms = [*atoms, (self.loc(line, col + offset + at), text)]
            cond = Sym(f"make:{text}")
        mention = _Mention(_and(guard, cond), (*cites, self.loc(line, col)), tuple(atoms))
        if op in (":=", "::=", ":::=", "="):
            # `mmu-$(CONFIG_MMU) := memory.o ...` after `mmu-y := nommu.o`:
            # where this line counts, it replaces what the list held.
            self.overwrite(prefix, mention.guard)
        if prefix in ("obj", "lib"):
            for w in words:
                self.out.objs.setdefault(w, []).append(replace(mention, var=prefix))
        else:
            for w in words:
                if w.endswith(".o"):
                    self.out.part_of.setdefault(w, []).append((prefix, mention))

    def overwrite(self, prefix: str, where: Expr) -> None:
        """Entries of list ``prefix`` made so far hold only where ``where`` does not."""
        keep = neg(where)

        def cut(m: _Mention) -> _Mention:
            return replace(m, guard=_and(m.guard, keep))

        if prefix in ("obj", "lib"):
            for w, ms in self.out.objs.items():
                self.out.objs[w] = [cut(m) if m.var == prefix else m for m in ms]
        else:
            for w, parts in self.out.part_of.items():
                self.out.part_of[w] = [(p, cut(m)) if p == prefix else (p, m) for p, m in parts]


# -- the tree -------------------------------------------------------------------------


def _parent(d: str) -> str:
    return posixpath.dirname(d)


class Kbuild:
    """The Kbuild makefiles under ``root``, read when first needed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._makefiles: dict[str, _Makefile | None] = {}
        self._dirs: dict[str, BuildGuard] = {}
        self._files: dict[str, BuildGuard] = {}
        self._warnings: dict[tuple[Location, str], None] = {}

    @property
    def warnings(self) -> tuple[KbuildWarning, ...]:
        """Every warning so far, sorted by location, without repeats."""
        return tuple(KbuildWarning(loc, message) for loc, message in sorted(self._warnings))

    def _warn(self, loc: Location, message: str) -> None:
        self._warnings.setdefault((loc, message), None)

    def _makefile(self, d: str) -> _Makefile | None:
        if d in self._makefiles:
            return self._makefiles[d]
        found: _Makefile | None = None
        for name in ("Kbuild", "Makefile"):
            rel = posixpath.join(d, name)
            path = self.root / rel
            if not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as e:
                self._warn(Location(rel), f"cannot read {rel}: {e.strerror}")
                break
            found = _Reader(rel).read(text)
            for w in found.warnings:
                self._warn(w.loc, w.message)
            break
        self._makefiles[d] = found
        return found

    def _derive(self, mk: _Makefile, entry: str, seen: frozenset[str] = frozenset()) -> list[_Mention]:
        """Every way ``mk`` lists ``entry``: directly, or as a part of a listed composite."""
        out = list(mk.objs.get(entry, ()))
        for composite, part in mk.part_of.get(entry, ()):
            whole = composite + ".o"
            if whole in seen or whole == entry:
                continue
            for m in self._derive(mk, whole, seen | {entry}):
                out.append(_Mention(_and(m.guard, part.guard), m.cites + part.cites, m.atoms + part.atoms))
        return out

    def _combine(self, mentions: list[_Mention]) -> tuple[Expr, list[Location]]:
        """OR of the mentions' guards, their cites in file order; their atoms are warned about."""
        cites: set[Location] = set()
        for m in mentions:
            cites.update(m.cites)
            for loc, text in m.atoms:
                self._warn(loc, f"opaque Kbuild condition kept as an atom: {text}")
        return disj(*(m.guard for m in mentions)), sorted(cites)

    def _nearest(self, d: str, entry: str) -> tuple[str, list[_Mention]] | None:
        """For ``d``, which has no makefile: the directory of the nearest
        makefile above it, and how that makefile lists ``d/entry``."""
        a = d
        while a:
            a = _parent(a)
            mk = self._makefile(a)
            if mk is not None:
                key = posixpath.join(d[len(a) + 1 :] if a else d, entry)
                return a, self._derive(mk, key)
        return None

    def _through(self, found: tuple[str, list[_Mention]] | None) -> BuildGuard | None:
        """The guard of what :meth:`_nearest` found, when it found a listing."""
        if found is None or not found[1]:
            return None
        up = self._dir_guard(found[0])
        guard, cites = self._combine(found[1])
        return BuildGuard(_and(up.guard, guard), (*up.cites, *cites))

    def _dir_guard(self, d: str) -> BuildGuard:
        """The guard under which kbuild descends into directory ``d`` ("" is the root)."""
        if d in self._dirs:
            return self._dirs[d]
        result = BuildGuard(TRUE, ())
        if d:
            parent = _parent(d)
            mk = self._makefile(parent)
            if mk is not None:
                mentions = self._derive(mk, posixpath.basename(d) + "/")
                if mentions:
                    up = self._dir_guard(parent)
                    guard, cites = self._combine(mentions)
                    result = BuildGuard(_and(up.guard, guard), (*up.cites, *cites))
                else:
                    self._warn(Location(mk.path), f"{d}/ is not listed in {mk.path}; assumed built")
            elif parent:
                result = self._through(self._nearest(parent, posixpath.basename(d) + "/")) or result
        self._dirs[d] = result
        return result

    def guard_of(self, relpath: str) -> BuildGuard:
        """The guard under which the file ``relpath`` (relative to the root) is built.

        A header is always TRUE.  A file its directory's makefile does not
        list is assumed built (it may be ``#include``d by another .c) with a
        warning; its directory's guard still applies.

        :raises ValueError: when ``relpath`` is not inside the tree.
        """
        rel = posixpath.normpath(relpath.replace("\\", "/"))
        if rel.startswith(("../", "/")) or rel in ("..", "."):
            raise ValueError(f"{relpath} is not a file inside {self.root}")
        if rel in self._files:
            return self._files[rel]
        result = BuildGuard(TRUE, ())
        if not rel.endswith(".h"):
            d, base = posixpath.split(rel)
            obj = (base.rsplit(".", 1)[0] if "." in base else base) + ".o"
            mk = self._makefile(d)
            if mk is not None:
                up = self._dir_guard(d)
                mentions = self._derive(mk, obj)
                if mentions:
                    guard, cites = self._combine(mentions)
                    result = BuildGuard(_and(up.guard, guard), (*up.cites, *cites))
                else:
                    self._warn(Location(mk.path), f"{rel} is not built by {mk.path}; assumed built")
                    result = up
            elif d:
                result = self._through(self._nearest(d, obj)) or result
        self._files[rel] = result
        return result
