"""Check policies: which leaf classes each entry role may reach, and waivers.

Pure data; :func:`ptfree_cli.loader.load_policy` reads policy files.  The
default policy is the project's gate: from every entry point, in every valid
configuration and runtime alternative, every leaf is ``rcu``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ptfree_cli.errors import Location
from ptfree_cli.guards import Expr
from ptfree_cli.model import ROLES

_NOWHERE = Location("<default policy>")


@dataclass(frozen=True)
class RoleRule:
    """For one entry role: the classes allowed, and those that must be reached."""

    allow: tuple[str, ...] = ("rcu",)
    require: tuple[str, ...] = ()
    loc: Location = _NOWHERE


@dataclass(frozen=True)
class Waiver:
    """Allows ``allow`` where ``condition`` holds, for a reason.

    ``models`` limits it to some model names (empty: all); ``entries`` to
    some entry points (empty: all).
    """

    condition: Expr
    allow: str
    reason: str
    models: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    loc: Location = _NOWHERE
    #: Where the condition is written, for errors about the names in it.
    cond_loc: Location = _NOWHERE

    def applies_to(self, model: str, entry: str) -> bool:
        return (not self.models or model in self.models) and (not self.entries or entry in self.entries)


@dataclass(frozen=True)
class Policy:
    name: str = "default"
    roles: dict[str, RoleRule] = field(default_factory=lambda: {r: RoleRule() for r in ROLES})
    waivers: tuple[Waiver, ...] = ()
    source: str = "<default policy>"

    def rule(self, role: str) -> RoleRule:
        return self.roles.get(role, RoleRule())


DEFAULT = Policy()
