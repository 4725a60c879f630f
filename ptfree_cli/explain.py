"""Why one configuration reaches a function or a leaf class, or why it does not. Pure.

For each entry point, the call paths to the target in source order: a path
the configuration takes is shown with every guard on it and the values that
make it hold; a path it does not take, with the first guard that blocks it.
The options those guards name come with Kconfig's reasons for their values
(set by the user, a default, selected by another option, an unmet
dependency).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ptfree_cli import check, graph, guards, kconfig
from ptfree_cli.model import LEAF_CLASSES, Call, Model
from ptfree_cli.spaces import Explicit, runtime_envs

#: Paths listed per entry point at most (the rest are counted).
MAX_PATHS = 5


@dataclass(frozen=True)
class Hop:
    """One call on a path, and what its guard says in the configuration."""

    caller: str
    callee: str
    call: Call
    #: "y" (holds), "n" (blocks), or the runtime alternatives under which it holds.
    verdict: str
    #: The options the guard names, with their values.
    values: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Route:
    entry: str
    hops: tuple[Hop, ...]
    #: The first hop that blocks, or None when the configuration takes the route.
    blocked_at: int | None
    #: For leaf-class targets, the class reached at the end, per runtime choice.
    leaf: str | None = None


@dataclass(frozen=True)
class Explanation:
    model: Model
    target: str
    reached: bool
    routes: tuple[Route, ...]
    more: int
    #: option -> (value, Kconfig's reason), for every option the guards name.
    reasons: Mapping[str, tuple[str, str]]
    #: For a leaf-class target: the runtime environments that reach it.
    runtime: tuple[Mapping[str, str], ...] = ()


def _paths(model: Model, start: str, goal: set[str], limit: int) -> tuple[list[list[tuple[str, Call]]], int]:
    """Call paths (as (caller, call) hops) from ``start`` to any of ``goal``, in
    source order; hooks are followed, at most ``limit`` kept, the rest counted."""
    found: list[list[tuple[str, Call]]] = []
    extra = 0

    def dfs(name: str, trail: list[tuple[str, Call]]) -> None:
        nonlocal extra
        if name in goal and trail:
            if len(found) < limit:
                found.append(list(trail))
            else:
                extra += 1
            return
        for c in model.calls_of(name):
            trail.append((name, c))
            dfs(c.target, trail)
            trail.pop()

    if start in goal:
        found.append([])
    else:
        dfs(start, [])
    return found, extra


def explain(
    model: Model,
    values: Mapping[str, bool],
    runtime: Mapping[str, str],
    target: str,
    entries: Sequence[str] = (),
    resolution: kconfig.Resolution | None = None,
) -> Explanation:
    """Explain whether the configuration ``values`` (with ``runtime`` fixed)
    reaches ``target``: a function name or a leaf class."""
    envs = runtime_envs(model, values, runtime)
    env0 = envs[0] if envs else {k: "y" if v else "n" for k, v in values.items()}
    is_class = target in LEAF_CLASSES
    goal = {f.name for f in model.functions if f.leaf is not None} if is_class else {target}
    routes: list[Route] = []
    more = 0
    named: list[str] = []
    reached = False
    reaching: list[Mapping[str, str]] = []
    for entry in [model.entry_map[e] for e in entries] if entries else model.entries:
        paths, extra = _paths(model, entry.function, goal, MAX_PATHS if not is_class else 10**6)
        more += extra
        for trail in paths:
            hops: list[Hop] = []
            blocked: int | None = None
            guard_chain = [model.function_map[entry.function].guard]
            for i, (caller, call) in enumerate(trail):
                callee_guard = model.guard_of(call.target)
                g = guards.conj(call.guard, callee_guard)
                guard_chain.append(g)
                names = [n for n in dict.fromkeys(guards.names(g)) if n in model.option_map]
                named += names
                holds = [e for e in envs if guards.evaluate(g, e)]
                if not holds:
                    verdict = "n"
                elif len(holds) == len(envs):
                    verdict = "y"
                else:
                    alts = sorted({", ".join(f"{a.name}={e[a.name]}" for a in model.axes) for e in holds})
                    verdict = " | ".join(alts)
                hops.append(Hop(caller, call.target, call, verdict, tuple((n, env0[n]) for n in names)))
                if verdict == "n" and blocked is None:
                    blocked = i
            leaf = None
            if blocked is None and is_class:
                classes = {_route_class(model, entry.function, trail, e) for e in envs}
                classes.discard(None)
                leaf = "/".join(c for c in LEAF_CLASSES if c in classes) or None
                if target not in classes:
                    continue
            routes.append(Route(entry.function, tuple(hops), blocked, leaf))
    if is_class:
        for e in envs:
            for entry in [model.entry_map[x] for x in entries] if entries else model.entries:
                if not Explicit(model, [e]).empty(check.reach(model, Explicit(model, [e]), entry.function)[target]):
                    reaching.append({a.name: e[a.name] for a in model.axes})
                    break
        reached = bool(reaching)
        taken = [r for r in routes if r.blocked_at is None]
        routes = (taken + [r for r in routes if r.blocked_at is not None])[:MAX_PATHS]
        more = max(0, len(taken) - MAX_PATHS)
    else:
        reached = any(r.blocked_at is None for r in routes)
        # The paths taken first, then those blocked, each in source order.
        routes = [r for r in routes if r.blocked_at is None] + [r for r in routes if r.blocked_at is not None]
    res = resolution or kconfig.resolve(model, values)
    reasons = {}
    for n in dict.fromkeys(named):
        r = res.reasons[n]
        reasons[n] = ("y" if res.values[n] else "n", _reason_text(r))
    return Explanation(model, target, reached, tuple(routes), more, reasons, tuple(reaching))


def _route_class(model: Model, entry: str, trail: list[tuple[str, Call]], env: Mapping[str, str]) -> str | None:
    """The leaf class at the end of ``trail`` in ``env`` (None if not taken)."""
    one = Explicit(model, [env])
    order = graph.topological_from(graph.build(model), entry)
    waited = {k: {n: not one.empty(x) for n, x in m.items()} for k, m in check.waits(model, one, order).items()}
    rcu = gp = ipi = False
    for caller, call in trail:
        target_guard = model.guard_of(call.target)
        if not guards.evaluate(guards.conj(call.guard, target_guard), env):
            return None
        siblings = model.calls_of(caller)
        # Calls the caller makes before this one may have waited already.
        for earlier in siblings[: siblings.index(call)]:
            eg = model.guard_of(earlier.target)
            if guards.evaluate(guards.conj(earlier.guard, eg), env):
                gp = gp or waited["gp"][earlier.target]
                ipi = ipi or waited["ipi"][earlier.target]
        rcu = rcu or call.defer == "rcu"
    leaf = model.function_map[trail[-1][1].target].leaf if trail else None
    if leaf is None:
        return None
    if leaf != "free":
        return leaf
    return "rcu" if rcu or gp else "ipi_sync" if ipi else "direct"


def _reason_text(r: kconfig.Reason) -> str:
    if r.kind == "user":
        return "set in the configuration"
    return r.detail or r.kind
