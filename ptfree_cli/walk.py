"""Walks the call graph from an entry point into a tree of :class:`Node`.

One walker serves ``path`` (one configuration, runtime choices left open
become labelled branches) and ``tree`` (all configurations, each branch
annotated with the guard under which it is taken).  Both judge every edge
on a *care set*: the environments (option values plus one alternative per
runtime axis) that reach the caller.  An edge that holds in none of them
is dropped; one that holds in all of them needs no annotation.

Children come in source order (the order of ``calls`` in the model); calls
from one caller to the same callee, directly or through a hook, merge into
one child at the position of the first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ptfree_cli import conditions, graph, guards
from ptfree_cli.guards import Expr
from ptfree_cli.model import LEAF_CLASSES, WAITS, Call, Entry, Model
from ptfree_cli.spaces import Explicit, Set, Space, runtime_envs

Describe = Callable[[Space, conditions.Condition, Set], str]


@dataclass(frozen=True)
class Node:
    """One line of a rendered tree."""

    function: str
    #: The condition under which this call is taken, in words; None: always.
    condition: str | None = None
    #: The call's guard as written in the model (Kconfig syntax).
    guard: str | None = None
    #: The group this call sits in (``fastpath``), from the model's ``label``.
    label: str | None = None
    notes: tuple[str, ...] = ()
    #: Leaf classes this function ends in here (empty unless a leaf).
    leaf: tuple[str, ...] = ()
    #: Already printed above with the same subtree.
    see_above: bool = False
    #: The hook the call goes through, if indirect.
    via: str | None = None
    #: Source file of the call site.
    file: str | None = None
    children: tuple[Node, ...] = ()
    #: Called later, from an RCU callback (``call_rcu``), not directly.
    rcu_callback: bool = False


@dataclass(frozen=True)
class EntryTree:
    """The walk from one entry point; ``root`` is None when the entry does not
    exist in the configuration, and ``missing`` then gives its guard."""

    entry: Entry
    root: Node | None
    missing: str | None = None
    leaves: tuple[str, ...] = ()


@dataclass
class _Child:
    target: str
    guard: Expr
    calls: list[Call]
    via: str | None
    defer: bool


#: What a call waited for, per kind (:data:`~ptfree_cli.model.WAITS`): the
#: environments in which it did.
Waited = dict[str, Set]


@dataclass
class _Built:
    node: Node
    #: Where this subtree sent an IPI, or waited for a grace period.
    waited: Waited
    leaves: frozenset[str] = field(default_factory=frozenset)
    #: The whole subtree, as it would print without ``[see above]``.
    shape: tuple[object, ...] = ()


def _children(model: Model, g: graph.Graph, name: str) -> list[_Child]:
    out: dict[str, _Child] = {}
    for call in graph.calls(g, name):
        expansions: list[tuple[Call, Expr, str | None]] = []
        if call.hook:
            hook = model.hook_map[call.target]
            if call.target not in g:
                continue
            for t in graph.calls(g, call.target):
                expansions.append((t, guards.conj(call.guard, hook.guard, t.guard), hook.name))
        else:
            expansions.append((call, call.guard, None))
        for target_call, guard, via in expansions:
            if target_call.target not in g:
                continue
            guard = guards.conj(guard, model.function_map[target_call.target].guard)
            calls = [call] if via is None else [call, target_call]
            prev = out.get(target_call.target)
            if prev is None:
                out[target_call.target] = _Child(
                    target_call.target, guard, calls, via, (call.defer or target_call.defer) == "rcu"
                )
            else:
                prev.guard = guards.disj(prev.guard, guard)
                prev.calls.extend(c for c in calls if c not in prev.calls)
                prev.via = prev.via or via
    return list(out.values())


class _Walker:
    def __init__(self, model: Model, g: graph.Graph, space: Space, describe: Describe) -> None:
        self.model = model
        self.g = g
        self.space = space
        self.describe = describe
        self.printed: dict[str, tuple[object, ...]] = {}

    def judge(self, expr: Expr, care: Set) -> conditions.Condition:
        return conditions.judge(self.space, expr, care)

    def text(self, cond: conditions.Condition, care: Set) -> str | None:
        if cond.always:
            return None
        return self.describe(self.space, cond, care)

    def walk(
        self,
        name: str,
        care: Set,
        rcu: bool,
        before: Waited,
        edge: tuple[str | None, str | None, str | None, tuple[str, ...], str | None, str | None],
        deferred: bool = False,
    ) -> _Built:
        condition, guard_text, label, notes, via, file = edge
        fn = self.model.function_map[name]
        node_notes = list(notes)
        if fn.ipi:
            node_notes.append("IPI broadcast, waits")
        if fn.rcu_sync:
            node_notes.append("waits for a grace period")
        sp = self.space
        none = sp.cond(guards.FALSE)
        own = {kind: care if fn.waits(kind) else none for kind in WAITS}
        if fn.leaf is not None:
            if fn.leaf == "free":
                # A grace period waited for on the way makes the free as safe
                # as an RCU callback; an IPI makes it ipi_sync.
                after_gp = sp.meet(care, before["gp"])
                rest = sp.minus(care, after_gp)
                after_ipi = sp.meet(rest, before["ipi"])
                classes = set()
                if rcu or not sp.empty(after_gp):
                    classes.add("rcu")
                if not rcu and not sp.empty(after_ipi):
                    classes.add("ipi_sync")
                if not rcu and not sp.empty(sp.minus(rest, after_ipi)):
                    classes.add("direct")
            else:
                classes = {fn.leaf}
            leaf = tuple(c for c in LEAF_CLASSES if c in classes)
            node = Node(
                name, condition, guard_text, label, tuple(node_notes), leaf, via=via, file=file, rcu_callback=deferred
            )
            shape: tuple[object, ...] = (name, condition, label, deferred, node.notes, leaf)
            return _Built(node, own, frozenset(leaf), shape)

        kids = [k for k in _children(self.model, self.g, name)]
        judged = []
        for k in kids:
            cond = self.judge(k.guard, care)
            if not cond.never:
                judged.append((k, cond))
        # A labelled group (fastpath, slowpath) states its own condition in
        # its header, so its members are judged within the group.
        groups: dict[str, Expr] = {}
        for k, _ in judged:
            group = _label(k)
            if group is not None:
                groups[group] = guards.disj(groups.get(group, guards.FALSE), k.guard)

        built: list[_Built] = []
        now = dict(before)
        leaves: set[str] = set()
        here = dict(own)
        for k, cond in judged:
            group = _label(k)
            sub = sp.meet(care, sp.cond(k.guard))
            if group is not None:
                group_care = sp.meet(care, sp.cond(groups[group]))
                text = self.text(self.judge(k.guard, group_care), group_care)
            else:
                text = self.text(cond, care)
            child_notes = tuple(c.note for c in k.calls if c.note)
            b = self.walk(
                k.target,
                sub,
                rcu or k.defer,
                dict(now),
                (text, guards.format_expr(k.guard), group, child_notes, k.via, k.calls[-1].file),
                k.defer,
            )
            built.append(b)
            for kind in WAITS:
                now[kind] = sp.join(now[kind], b.waited[kind])
                here[kind] = sp.join(here[kind], b.waited[kind])
            leaves |= b.leaves
        if any(b.node.condition is None and b.node.rcu_callback for b in built):
            node_notes.append("frees via RCU")
        node = Node(
            name,
            condition,
            guard_text,
            label,
            tuple(node_notes),
            (),
            False,
            via,
            file,
            tuple(b.node for b in built),
            deferred,
        )
        body = (tuple(node_notes), tuple(b.shape for b in built))
        # A subtree printed before, identical below this line, is referenced.
        if node.children:
            prev = self.printed.get(name)
            if prev == body:
                node = Node(name, condition, guard_text, label, tuple(notes), (), True, via, file, (), deferred)
            elif prev is None:
                self.printed[name] = body
        shape = (name, condition, label, deferred, *body)
        return _Built(node, here, frozenset(leaves), shape)


def _label(k: _Child) -> str | None:
    labels = {c.label for c in k.calls[:1]}
    return labels.pop() if len(labels) == 1 else None


def _entry_tree(model: Model, g: graph.Graph, entry: Entry, space: Space, describe: Describe) -> EntryTree:
    fn = model.function_map[entry.function]
    care = space.meet(space.top, space.cond(fn.guard))
    if entry.function not in g or space.empty(care):
        return EntryTree(entry, None, guards.format_expr(fn.guard))
    walker = _Walker(model, g, space, describe)
    none = space.cond(guards.FALSE)
    b = walker.walk(entry.function, care, False, dict.fromkeys(WAITS, none), (None, None, None, (), None, fn.file))
    return EntryTree(entry, b.node, None, tuple(c for c in LEAF_CLASSES if c in b.leaves))


def select_entries(model: Model, names: Sequence[str] = ()) -> list[Entry]:
    """The entries named (all of them when ``names`` is empty), in model order."""
    if not names:
        return list(model.entries)
    return [model.entry_map[n] for n in names]


def all_configurations(model: Model, entries: Sequence[str] = (), space: Space | None = None) -> list[EntryTree]:
    """The all-configurations tree from each entry (``ptfree tree``).

    Branches carry the guard under which they are taken, minimised over the
    valid configurations that reach the caller and printed as a reviewer
    writes it.  ``space`` defaults to the model's symbolic space.
    """
    if space is None:
        from ptfree_cli import symbolic

        space = symbolic.space(model)
    g = graph.build(model)
    return [_entry_tree(model, g, e, space, conditions.describe) for e in select_entries(model, entries)]


def one_configuration(
    model: Model,
    values: Mapping[str, bool],
    runtime: Mapping[str, str],
    entries: Sequence[str] = (),
) -> list[EntryTree]:
    """The concrete path from each entry under one configuration (``ptfree path``).

    ``runtime`` fixes some axes (``{"backend": "kvm"}``); the others stay
    open and show as labelled branches.
    """
    fixed: dict[str, str] = {k: "y" if v else "n" for k, v in values.items()}
    fixed.update(runtime)
    g = graph.view(model, fixed)
    space = Explicit(model, runtime_envs(model, values, runtime))

    def describe(space: Space, cond: conditions.Condition, care: Set) -> str:
        return conditions.describe_runtime(space.model, cond)

    return [_entry_tree(model, g, e, space, describe) for e in select_entries(model, entries)]
