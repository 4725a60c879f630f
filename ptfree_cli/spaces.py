"""Sets of environments, the currency of every walk: the interface and its explicit form.

An environment gives every option a value (``"y"``/``"n"``) and every
runtime axis an alternative.  Walks and checks only ever ask a few things of
a set of environments (its intersection with a guard, whether it is empty,
its projection onto a few names), so they take any :class:`Space`:
:class:`Explicit` holds a list (one configuration's runtime choices, or the
brute-force oracle of the tests); :class:`ptfree_cli.symbolic.Symbolic`
holds a BDD and scales to models no list could hold.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ptfree_cli import guards
from ptfree_cli.guards import Expr
from ptfree_cli.model import Model

Env = Mapping[str, str]
#: A set of environments, in whatever form the space keeps it.
Set = Any


class Space(Protocol):
    """What walks and checks need of a set of environments."""

    model: Model

    @property
    def top(self) -> Set:
        """Every environment of the space."""

    def cond(self, expr: Expr) -> Set:
        """The environments in which ``expr`` holds."""

    def meet(self, a: Set, b: Set) -> Set: ...

    def join(self, a: Set, b: Set) -> Set: ...

    def minus(self, a: Set, b: Set) -> Set: ...

    def empty(self, a: Set) -> bool: ...

    def points(self, a: Set, names: Sequence[str]) -> set[tuple[str, ...]]:
        """The values ``names`` take in ``a`` (a projection)."""

    def project(self, a: Set, names: Sequence[str]) -> Set:
        """Every environment of the space that agrees on ``names`` with one of ``a``."""

    def shadow(self, names: Sequence[str]) -> Set:
        """Every environment whose values on ``names`` some valid environment
        has: the valid set seen through ``names`` only.  Cheaper to meet with
        than the valid set when the other names do not matter."""

    def products(self, a: Set, names: Sequence[str]) -> list[dict[str, frozenset[str]]]:
        """``a`` projected onto ``names`` as a list of products (name -> the
        values it may take; a name left out is free), without enumerating
        every point where the representation allows."""

    def pick(self, a: Set) -> dict[str, str] | None:
        """One environment of ``a`` (the first in a fixed order), or None."""


def runtime_envs(model: Model, values: Mapping[str, bool], fixed: Mapping[str, str]) -> list[dict[str, str]]:
    """The environments of one configuration: its option values with every
    available alternative of each runtime axis (``fixed`` ones pinned)."""
    env = {k: "y" if v else "n" for k, v in values.items()}
    choices = [
        [fixed[a.name]]
        if a.name in fixed
        else [alt.name for alt in a.alternatives if guards.evaluate(alt.available, env)]
        for a in model.axes
    ]
    out = []
    for picked in itertools.product(*choices):
        full = dict(env)
        full.update(zip((a.name for a in model.axes), picked, strict=True))
        out.append(full)
    return out


class Explicit:
    """A space given as a list of environments; a set is a frozenset of indices."""

    def __init__(self, model: Model, envs: Iterable[Env]) -> None:
        self.model = model
        self.envs = list(envs)
        self._top = frozenset(range(len(self.envs)))
        self._cache: dict[Expr, frozenset[int]] = {}

    @property
    def top(self) -> frozenset[int]:
        return self._top

    def cond(self, expr: Expr) -> frozenset[int]:
        hit = self._cache.get(expr)
        if hit is None:
            hit = frozenset(i for i, e in enumerate(self.envs) if guards.evaluate(expr, e))
            self._cache[expr] = hit
        return hit

    def meet(self, a: frozenset[int], b: frozenset[int]) -> frozenset[int]:
        return a & b

    def join(self, a: frozenset[int], b: frozenset[int]) -> frozenset[int]:
        return a | b

    def minus(self, a: frozenset[int], b: frozenset[int]) -> frozenset[int]:
        return a - b

    def empty(self, a: frozenset[int]) -> bool:
        return not a

    def points(self, a: frozenset[int], names: Sequence[str]) -> set[tuple[str, ...]]:
        return {tuple(self.envs[i][n] for n in names) for i in a}

    def project(self, a: frozenset[int], names: Sequence[str]) -> frozenset[int]:
        pts = self.points(a, names)
        return frozenset(i for i, e in enumerate(self.envs) if tuple(e[n] for n in names) in pts)

    def shadow(self, names: Sequence[str]) -> frozenset[int]:
        return self._top

    def products(self, a: frozenset[int], names: Sequence[str]) -> list[dict[str, frozenset[str]]]:
        return [{n: frozenset([v]) for n, v in zip(names, p, strict=True)} for p in sorted(self.points(a, names))]

    def pick(self, a: frozenset[int]) -> dict[str, str] | None:
        return dict(self.envs[min(a)]) if a else None
