"""Kconfig semantics for the model's options: values, orders and valid configurations.

Options are two-valued.  A tristate option's ``m`` is read as ``y``:
everything on this path is built in when the option is ``m`` too
(``obj-$(subst m,y,$(CONFIG_HYPERV)) += hyperv/`` in arch/x86/Kbuild), so
``m`` and ``y`` lead to the same code.  The rules follow Kconfiglib's
``_tri_value``: a visible option with a user value takes it; otherwise the
first default whose condition (and the option's dependencies) hold; then
``select`` raises the value whatever the dependencies say.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from ptfree_cli import guards
from ptfree_cli.errors import Location, ModelError
from ptfree_cli.guards import Expr
from ptfree_cli.model import Model, Option

#: Enumerating valid configurations walks 2**prompts user assignments.
MAX_PROMPTS = 16


def _env(values: Mapping[str, bool]) -> dict[str, str]:
    return {k: "y" if v else "n" for k, v in values.items()}


def _deps(model: Model) -> dict[str, list[str]]:
    """For each option, the options its value is computed from."""
    deps: dict[str, list[str]] = {o.name: [] for o in model.options}
    for o in model.options:
        exprs: list[Expr] = [o.depends_on, o.prompt_if]
        for d in o.defaults:
            exprs += [d.value, d.cond]
        for e in exprs:
            deps[o.name].extend(n for n in guards.names(e) if n in deps)
        for s in o.selects:
            deps[s.symbol].append(o.name)
            deps[s.symbol].extend(n for n in guards.names(s.cond) if n in deps)
    return deps


def order(model: Model) -> tuple[Option, ...]:
    """Options in an order where each comes after what its value depends on.

    Ties keep the file order, so the result is deterministic.

    :raises ModelError: on a dependency loop, as Kconfig's "recursive
        dependency detected".
    """
    deps = _deps(model)
    done: dict[str, int] = {}
    out: list[Option] = []

    def visit(name: str, trail: list[str]) -> None:
        if done.get(name) == 2:
            return
        if done.get(name) == 1:
            loop = [*trail[trail.index(name) :], name]
            opt = model.option_map[name]
            raise ModelError(f"recursive Kconfig dependency: {' -> '.join(loop)}", opt.loc, f"options.{name}")
        done[name] = 1
        for d in deps[name]:
            visit(d, [*trail, name])
        done[name] = 2
        out.append(model.option_map[name])

    for o in model.options:
        visit(o.name, [])
    return tuple(out)


@dataclass(frozen=True)
class Reason:
    """Why an option has its value: ``user``, ``default``, ``select``, ``unmet``, ``hidden``."""

    kind: str
    detail: str = ""


@dataclass(frozen=True)
class Resolution:
    """Every option's value for one user assignment, with the reasons."""

    values: Mapping[str, bool]
    reasons: Mapping[str, Reason]
    warnings: tuple[str, ...] = field(default=())

    def env(self) -> dict[str, str]:
        return _env(self.values)


def _atoms_text(expr: Expr, values: Mapping[str, bool]) -> str:
    seen: list[str] = []
    for n in guards.names(expr):
        item = f"{n}={'y' if values[n] else 'n'}"
        if item not in seen:
            seen.append(item)
    return ", ".join(seen)


def resolve(model: Model, user: Mapping[str, bool], origins: Mapping[str, Location] | None = None) -> Resolution:
    """Apply Kconfig to ``user`` (option -> wanted value), as ``make olddefconfig``.

    Options not in ``user`` take their defaults.  A user value that Kconfig
    overrides gives a warning naming the dependency or the ``select`` that won.

    >>> r = resolve(model, {"PT_RECLAIM": True, "SMP": False})  # doctest: +SKIP
    >>> r.values["PT_RECLAIM"]  # doctest: +SKIP
    False
    """
    return _resolve(model, _ordered(model), _selectors(model), user, origins or {})


@functools.lru_cache(maxsize=64)
def _ordered(model: Model) -> tuple[Option, ...]:
    return order(model)


@functools.lru_cache(maxsize=64)
def _selectors(model: Model) -> Mapping[str, tuple[tuple[str, Expr], ...]]:
    out: dict[str, list[tuple[str, Expr]]] = {o.name: [] for o in model.options}
    for o in model.options:
        for s in o.selects:
            # As in Kconfig, a select also carries the selecting option's own
            # dependencies: an option forced on past them selects nothing.
            out[s.symbol].append((o.name, guards.conj(s.cond, o.depends_on)))
    return {k: tuple(v) for k, v in out.items()}


def _resolve(
    model: Model,
    ordered: tuple[Option, ...],
    selectors: Mapping[str, tuple[tuple[str, Expr], ...]],
    user: Mapping[str, bool],
    origins: Mapping[str, Location],
) -> Resolution:
    values: dict[str, bool] = {}
    reasons: dict[str, Reason] = {}
    env: dict[str, str] = {}
    for o in ordered:
        dep = guards.evaluate(o.depends_on, env)
        visible = o.prompt is not None and dep and guards.evaluate(o.prompt_if, env)
        val = False
        if visible and o.name in user:
            val = user[o.name]
            reason = Reason("user")
        else:
            reason = Reason("default", "no default applies")
            if not dep:
                reason = Reason("unmet", f"depends on {guards.format_expr(o.depends_on)}")
            for d in o.defaults:
                if dep and guards.evaluate(d.cond, env):
                    val = guards.evaluate(d.value, env)
                    cond = "" if d.cond == guards.TRUE else f" if {guards.format_expr(d.cond)}"
                    reason = Reason("default", f"default {guards.format_expr(d.value)}{cond}")
                    break
        by = [s for s, cond in selectors[o.name] if values[s] and guards.evaluate(cond, env)]
        if by and not val:
            val = True
            reason = Reason("select", f"selected by {', '.join(by)}")
        values[o.name] = val
        reasons[o.name] = reason
        env[o.name] = "y" if val else "n"

    warnings: list[str] = []
    for o in model.options:
        if o.name not in user or user[o.name] == values[o.name]:
            continue
        want = "y" if user[o.name] else "n"
        got = "y" if values[o.name] else "n"
        where = f"{origins[o.name]}: " if o.name in origins else ""
        r = reasons[o.name]
        if r.kind == "select":
            why = r.detail
        elif o.prompt is None:
            why = f"{o.name} has no prompt, so Kconfig sets it ({r.detail})"
        elif r.kind == "unmet":
            why = f"{r.detail}, which is n ({_atoms_text(o.depends_on, values)})"
        else:
            why = f"its prompt is hidden ({guards.format_expr(o.prompt_if)} is n)"
        warnings.append(f"{where}warning: {o.name}={want} overridden by Kconfig: {o.name}={got} because {why}")
    return Resolution(values, reasons, tuple(warnings))


def brute_force(model: Model) -> list[dict[str, str]]:
    """Every valid environment of ``model``, by enumerating the 2^prompts user
    assignments (at most ``MAX_PROMPTS``) and every available runtime choice.

    This is the test oracle for :mod:`ptfree_cli.symbolic`, which computes
    the same set without enumerating; nothing else should call it.
    """
    out: list[dict[str, str]] = []
    for values in _valid_configs(model):
        env = _env(values)
        choices = [
            [alt.name for alt in axis.alternatives if guards.evaluate(alt.available, env)] for axis in model.axes
        ]
        for picked in itertools.product(*choices):
            full = dict(env)
            full.update(zip((a.name for a in model.axes), picked, strict=True))
            out.append(full)
    return out


def _valid_configs(model: Model) -> tuple[Mapping[str, bool], ...]:
    prompts = [o.name for o in model.options if o.prompt is not None]
    if len(prompts) > MAX_PROMPTS:
        raise ModelError(
            f"{len(prompts)} options have a prompt; enumerating configurations handles at most {MAX_PROMPTS}",
            Location(model.source),
        )
    ordered = _ordered(model)
    selectors = _selectors(model)
    seen: dict[tuple[bool, ...], Mapping[str, bool]] = {}
    for bits in itertools.product((False, True), repeat=len(prompts)):
        res = _resolve(model, ordered, selectors, dict(zip(prompts, bits, strict=False)), {})
        key = tuple(res.values[o.name] for o in model.options)
        seen.setdefault(key, res.values)
    return tuple(seen[k] for k in sorted(seen))
