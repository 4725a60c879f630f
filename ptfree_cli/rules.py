"""The extraction rules: leaf classes, waits, deferrals, hooks, and the annotations that map C to runtime axes.

Frozen dataclasses, no I/O: :func:`ptfree_cli.loader.load_rules` reads a
rules file (docs/extract.md describes it) and :func:`merge` lays an
annotations file over the shipped rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TypeVar

from ptfree_cli.errors import Location
from ptfree_cli.guards import TRUE, Expr
from ptfree_cli.model import Axis

_NOWHERE = Location("<builtin>")
_T = TypeVar("_T")


@dataclass(frozen=True)
class Sink:
    """A function the extractor does not read: it ends the path (``leaf``)
    or waits (``wait``: ``ipi`` or ``gp``), under ``guard``.  A leaf with
    ``arg`` frees that (0-based) argument: a call is a page-table free only
    when that argument carries the table."""

    name: str
    leaf: str | None = None
    wait: str | None = None
    guard: Expr = TRUE
    note: str | None = None
    loc: Location = _NOWHERE
    arg: int | None = None


@dataclass(frozen=True)
class Indirect:
    """Calls to macros matching ``pattern`` go through ``table``'s member named by argument ``member``."""

    pattern: str
    table: str
    member: int
    loc: Location = _NOWHERE


@dataclass(frozen=True)
class BranchRule:
    """In ``function``, the arm of ``if (text)`` taken (``then``) or not (``otherwise``) is a runtime alternative."""

    function: str
    text: str
    then: Expr
    otherwise: Expr | None = None
    label: str | None = None
    else_label: str | None = None
    loc: Location = _NOWHERE


@dataclass(frozen=True)
class EntryRule:
    """An entry point: its role, the level of table it frees, and the file
    that defines it (another file's function of the same name is another function)."""

    role: str
    level: str = "pte"
    loc: Location = _NOWHERE
    file: str | None = None


@dataclass(frozen=True)
class Rules:
    sinks: tuple[Sink, ...] = ()
    defer: tuple[tuple[str, int], ...] = ()
    indirect: tuple[Indirect, ...] = ()
    #: the types that can carry a page table (``struct ptdesc *``); None: every type
    carriers: tuple[str, ...] | None = None
    #: the types of an entry that points at a table (``pmd_t``)
    references: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    axes: tuple[Axis, ...] = ()
    #: installer (function, or initialised variable) -> guard over the axes
    installers: tuple[tuple[str, Expr, Location], ...] = ()
    branches: tuple[BranchRule, ...] = ()
    entries: tuple[tuple[str, EntryRule], ...] = ()
    #: opaque atom name -> value (a Kconfig expression, y or n)
    atoms: tuple[tuple[str, Expr, Location], ...] = ()
    #: option -> fixed value (``64BIT: y`` for an x86-64 model)
    assume: tuple[tuple[str, bool, Location], ...] = ()
    files: tuple[str, ...] = field(default=())

    @property
    def sink_map(self) -> dict[str, Sink]:
        return {s.name: s for s in self.sinks}


def merge(base: Rules, over: Rules) -> Rules:
    """``over`` laid on ``base``: mappings merge by name (``over`` wins), lists append."""

    def by_name(a: tuple[_T, ...], b: tuple[_T, ...]) -> tuple[_T, ...]:
        seen = {x[0] for x in b}  # type: ignore[index]
        return tuple(x for x in a if x[0] not in seen) + b  # type: ignore[index]

    sinks = {s.name: s for s in base.sinks} | {s.name: s for s in over.sinks}
    axes = {a.name: a for a in base.axes} | {a.name: a for a in over.axes}
    return replace(
        base,
        sinks=tuple(sinks.values()),
        defer=by_name(base.defer, over.defer),
        indirect=base.indirect + over.indirect,
        carriers=base.carriers
        if over.carriers is None
        else tuple(dict.fromkeys((base.carriers or ()) + over.carriers)),
        references=tuple(dict.fromkeys(base.references + over.references)),
        attributes=tuple(dict.fromkeys(base.attributes + over.attributes)),
        stop=tuple(dict.fromkeys(base.stop + over.stop)),
        keep=tuple(dict.fromkeys(base.keep + over.keep)),
        axes=tuple(axes.values()),
        installers=by_name(base.installers, over.installers),
        branches=base.branches + over.branches,
        entries=by_name(base.entries, over.entries),
        atoms=by_name(base.atoms, over.atoms),
        assume=by_name(base.assume, over.assume),
        files=base.files + over.files,
    )
