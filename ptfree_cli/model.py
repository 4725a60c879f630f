"""The model: frozen dataclasses for options, runtime axes, functions, hooks and entries.

No I/O happens here; :mod:`ptfree_cli.loader` builds these objects and
validates them, and everything downstream trusts them.  Every object keeps
the :class:`~ptfree_cli.errors.Location` it was read from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from ptfree_cli.errors import Location
from ptfree_cli.guards import TRUE, Expr

LeafClass = Literal["rcu", "ipi_sync", "tlb_batched", "direct"]
#: Leaf classes from safest for a lockless walker to least safe.
LEAF_CLASSES: tuple[LeafClass, ...] = ("rcu", "ipi_sync", "tlb_batched", "direct")
LEAF_KINDS = ("free", *LEAF_CLASSES)
ROLES = ("reclaim", "teardown")
LEVELS = ("pte", "pmd", "pud", "p4d")

_NOWHERE = Location("<builtin>")


@dataclass(frozen=True)
class Select:
    """``select SYMBOL if COND`` on the option that holds it."""

    symbol: str
    cond: Expr = TRUE
    loc: Location = _NOWHERE


@dataclass(frozen=True)
class Default:
    """``default VALUE if COND``; ``value`` is an expression (``y``, ``n``, ``SYM``)."""

    value: Expr
    cond: Expr = TRUE
    loc: Location = _NOWHERE


@dataclass(frozen=True)
class Option:
    """A Kconfig symbol.  ``prompt`` is None for a hidden symbol."""

    name: str
    type: Literal["bool", "tristate"] = "bool"
    prompt: str | None = None
    prompt_if: Expr = TRUE
    depends_on: Expr = TRUE
    selects: tuple[Select, ...] = ()
    defaults: tuple[Default, ...] = ()
    file: str | None = None
    note: str | None = None
    loc: Location = _NOWHERE
    #: ``path:line`` in the kernel tree it was extracted from
    at: str | None = None


@dataclass(frozen=True)
class Alternative:
    """One value of a runtime axis, available when ``available`` holds."""

    name: str
    label: str
    available: Expr = TRUE
    condition: str | None = None
    file: str | None = None
    loc: Location = _NOWHERE


@dataclass(frozen=True)
class Axis:
    """A choice made at boot or run time: the paravirt backend, the batch path."""

    name: str
    title: str
    alternatives: tuple[Alternative, ...]
    loc: Location = _NOWHERE

    def alternative(self, name: str) -> Alternative | None:
        return next((a for a in self.alternatives if a.name == name), None)


@dataclass(frozen=True)
class Call:
    """A call edge, or a hook target; ``hook`` says the target is a hook name."""

    target: str
    hook: bool = False
    guard: Expr = TRUE
    label: str | None = None
    note: str | None = None
    defer: Literal["rcu"] | None = None
    file: str | None = None
    commit: str | None = None
    installer: str | None = None
    loc: Location = _NOWHERE
    at: str | None = None


@dataclass(frozen=True)
class Function:
    """A kernel function (or function-like macro) on the free path.

    ``guard`` is the condition under which it exists; ``leaf`` marks a
    function that ends the path: ``free`` (classified by the path that
    reaches it) or a fixed class; ``ipi`` marks one that broadcasts an IPI
    and waits for it; ``rcu_sync`` one that waits for an RCU grace period
    (``synchronize_rcu``).
    """

    name: str
    file: str
    guard: Expr = TRUE
    calls: tuple[Call, ...] = ()
    leaf: str | None = None
    ipi: bool = False
    rcu_sync: bool = False
    note: str | None = None
    commit: str | None = None
    loc: Location = _NOWHERE
    at: str | None = None

    def waits(self, kind: str) -> bool:
        """Whether calling it waits: ``"ipi"`` for an IPI, ``"gp"`` for a grace period."""
        return self.ipi if kind == "ipi" else self.rcu_sync


#: What a function can wait for before returning; see :meth:`Function.waits`.
WAITS = ("gp", "ipi")


@dataclass(frozen=True)
class Hook:
    """An indirect call through an ops-table member, with its possible targets."""

    name: str
    file: str
    targets: tuple[Call, ...]
    guard: Expr = TRUE
    note: str | None = None
    loc: Location = _NOWHERE
    at: str | None = None


@dataclass(frozen=True)
class Entry:
    """Where a walk starts: ``reclaim`` (empty PTE table reclaim) or ``teardown``."""

    function: str
    role: str
    level: str = "pte"
    loc: Location = _NOWHERE


@dataclass(frozen=True)
class Commit:
    id: str
    subject: str
    note: str | None = None
    loc: Location = _NOWHERE


@dataclass(frozen=True)
class Evidence:
    """Where a file's facts come from and how sure they are."""

    file: str
    ref: str
    status: str
    note: str | None = None
    loc: Location = _NOWHERE


@dataclass(frozen=True, eq=False)
class Model:
    """One kernel version's free path.  Compared and hashed by identity."""

    name: str
    title: str
    version: str
    source: str
    options: tuple[Option, ...]
    axes: tuple[Axis, ...]
    functions: tuple[Function, ...]
    hooks: tuple[Hook, ...]
    entries: tuple[Entry, ...]
    commits: tuple[Commit, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    base: str | None = None
    warnings: tuple[str, ...] = field(default=())
    #: the tree a model was extracted from (``git describe``, or its path)
    tree: str | None = None

    @cached_property
    def option_map(self) -> Mapping[str, Option]:
        return {o.name: o for o in self.options}

    @cached_property
    def axis_map(self) -> Mapping[str, Axis]:
        return {a.name: a for a in self.axes}

    @cached_property
    def function_map(self) -> Mapping[str, Function]:
        return {f.name: f for f in self.functions}

    @cached_property
    def hook_map(self) -> Mapping[str, Hook]:
        return {h.name: h for h in self.hooks}

    @cached_property
    def entry_map(self) -> Mapping[str, Entry]:
        return {e.function: e for e in self.entries}

    def is_option(self, name: str) -> bool:
        return name in self.option_map

    def calls_of(self, name: str) -> tuple[Call, ...]:
        """The calls of a function, or the targets of a hook, in source order."""
        hook = self.hook_map.get(name)
        return hook.targets if hook is not None else self.function_map[name].calls

    def guard_of(self, name: str) -> Expr:
        """The condition under which a function or a hook exists."""
        hook = self.hook_map.get(name)
        return hook.guard if hook is not None else self.function_map[name].guard
