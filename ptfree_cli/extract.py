"""Extraction: from a kernel tree's C, Kbuild and Kconfig to a guarded call graph, written as a model.

The walk starts at the entry points and follows the page table through
the tree: a call is followed when an argument carries the table (the rules
name the types that can), and only the files that may define a followed
name are parsed (:mod:`ptfree_cli.sourcetree`, :mod:`ptfree_cli.treeindex`).
A definition's guard is the ``#if`` guard of its line
(:mod:`ptfree_cli.cpp`) and the Kbuild guard of its file
(:mod:`ptfree_cli.kbuild`), or for a header the guards of the lines that
include it; a call's guard adds the runtime branches the rules map to
axes.  Functions named by the rules (leaves, waits) end the walk; what
reaches none of them is pruned.  The options the guards use are read from
the tree's Kconfig (:mod:`ptfree_cli.kconfig_tree`), in a worker process
beside the walk for a big tree.  A big tree's finished extraction is kept
in the user's cache, keyed by everything it read.

The result is model text (:mod:`ptfree_cli.emit`), read back by the loader
so that what is written is what every other command reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ptfree_cli import guards, treeindex
from ptfree_cli.errors import Location, ModelError, PtfreeError
from ptfree_cli.guards import TRUE, Expr
from ptfree_cli.model import Axis, Call, Default, Entry, Function, Hook, Model, Option
from ptfree_cli.rules import BranchRule, Rules, Sink

if TYPE_CHECKING:
    from ptfree_cli import cpp, csource, kbuild, kconfig_tree, sourcetree, tidy
else:
    # Loaded when first used: a tree whose extraction is kept answers without
    # the C parser, the preprocessor and Kconfig readers (a tenth of a second).
    cpp, csource, kbuild, kconfig_tree, sourcetree, tidy = (
        treeindex.lazy_module(f"ptfree_cli.{m}")
        for m in ("cpp", "csource", "kbuild", "kconfig_tree", "sourcetree", "tidy")
    )


@dataclass(frozen=True)
class Extraction:
    """A model read back from the text written for it, and what the walk saw."""

    model: Model
    text: str
    warnings: tuple[tuple[Location, str], ...]
    parsed: int
    files: int
    unresolved: tuple[str, ...]


class _Extractor:
    def __init__(self, root: Path, rules: Rules, srcarch: str, jobs: int, index: treeindex.TreeIndex) -> None:
        self.root = root
        self.rules = rules
        self.srcarch = srcarch
        self.tree = sourcetree.SourceTree(root, srcarch, rules, jobs, index)
        self.kbuild = kbuild.Kbuild(root)
        self.sinks = rules.sink_map
        #: no carriers named: every call is followed (the small trees of the tests)
        self.follow_all = rules.carriers is None
        self.warnings: list[tuple[Location, str]] = []
        self.atom_values: dict[str, Expr] = {name: value for name, value, _ in rules.atoms}
        self.rule_atoms = dict(self.atom_values)
        #: number atoms (CONFIG_PGTABLE_LEVELS > 4) and what the tree's Kconfig makes of them
        self.numbers_env: dict[str, Expr] = {}
        self.kconfig: kconfig_tree.KconfigTree | None = None
        self.atom_text: dict[str, tuple[str, Location]] = {}
        self.resolving: set[str] = set()
        #: header -> the guard under which it is included
        self.included: dict[str, Expr] = {}
        self.branch_rules: dict[tuple[str, str], BranchRule] = {(b.function, b.text): b for b in rules.branches}
        self.installer_guard = {name: g for name, g, _ in rules.installers}
        #: atom -> the option that stands for it in the model
        self.atom_names: dict[str, Expr] = {}
        self.kconfig_warnings: tuple[kconfig_tree.KconfigWarning, ...] = ()
        self.extra_options: tuple[str, ...] = ()
        #: options a guard or a kept option names that no Kconfig file read defines
        self.undefined: list[str] = []
        #: told what is being done (a progress line on a terminal)
        self.say: Callable[[str], None] = lambda _text: None
        self.jobs = jobs
        self.kconfig_future: Any = None
        #: where the walk is, for an error that has no better place
        self.current = Location(str(root))
        #: function -> the definitions read for it (their files' warnings are reported)
        self.used_defs: dict[str, list[csource.Definition]] = {}

    def warn(self, loc: Location, message: str) -> None:
        self.warnings.append((loc, message))

    # -- guards -----------------------------------------------------------

    def file_guard(self, rel: str) -> Expr:
        """Where a file's code is compiled: a .c file's Kbuild guard; a header's
        is the ``#if`` guards of its ``#include`` lines, when it is included by
        a few other headers only (asm-generic/pgtable-nop4d.h, for 4-level
        page tables): a header a .c file includes is taken as compiled
        everywhere, which spares reading the Makefiles of every includer."""
        if not rel.endswith(".h"):
            return self.kbuild.guard_of(rel).guard
        if rel in self.included:
            return self.included[rel]
        self.included[rel] = TRUE  # an #include cycle reads as unconditional
        sites = self.tree.includers(rel)
        if not sites or any(not f.endswith(".h") for f, _ in sites):
            return TRUE
        value = tidy.dedupe(guards.disj(*[self.line_guard(f, line) for f, line in sites]))
        self.included[rel] = value
        return value

    def line_guard(self, rel: str, line: int) -> Expr:
        conditionals = self.tree.conditionals(rel)
        for a in conditionals.atoms:
            self.atom_text.setdefault(a.name, (a.text, a.loc))
        self.current = Location(str(self.root / rel), line)
        here = conditionals.guard_at(line)
        if tidy.depth(here) > tidy.MAX_GUARD_DEPTH:
            # A model cannot hold it (the loader's limit): one atom, said so.
            name = f"cpp:guard of {rel}:{line}"
            self.atom_text.setdefault(name, (f"the #if guard of {rel}:{line}", Location(rel, line)))
            self.warn(Location(rel, line), f"#if guard nested more than {tidy.MAX_GUARD_DEPTH} deep: kept as one atom")
            here = guards.Sym(name)
        return self.resolve_atoms(tidy.dedupe(guards.conj(self.file_guard(rel), here)))

    def resolve_atoms(self, e: Expr) -> Expr:
        names = [n for n in guards.names(e) if cpp.is_atom(n) or kconfig_tree.opaque(n)]
        if not names:
            return e
        env: dict[str, Expr] = {}
        for n in names:
            value = self.atom_value(n)
            if value is not None:
                env[n] = value
        return tidy.replace_names(e, env) if env else e

    def atom_value(self, name: str) -> Expr | None:
        if _NUMBER_ATOM.match(name):
            return None  # settled once the tree's Kconfig is read (settle_numbers)
        if name in self.atom_values:
            return self.atom_values[name]
        if not name.startswith("defined:") or name in self.resolving:
            return None
        macro = name[len("defined:") :]
        self.tree.need([macro])
        every = self.tree.macros.get(macro, [])
        # The generic-fallback idiom (#ifndef X, #define X, #endif): the
        # fallback itself does not make X defined before it; other #defines do.
        defs = [m for m in every if name not in set(guards.names(m.guard))]
        if not every:
            return None
        self.resolving.add(name)
        value = tidy.dedupe(
            guards.disj(*[self.resolve_atoms(guards.conj(self.file_guard(m.loc.file), m.guard)) for m in defs])
        )
        self.resolving.discard(name)
        self.atom_values[name] = value
        return value

    def branch_guard(self, function: str, branches: Sequence[csource.Branch]) -> tuple[Expr, str | None, list[str]]:
        """The runtime guard the rules give ``branches``, their label, and the unmapped conditions."""
        guard: Expr = TRUE
        label: str | None = None
        unmapped: list[str] = []
        for b in branches:
            rule = self.branch_rules.get((function, b.text))
            if rule is None:
                unmapped.append(_branch_text(b))
                continue
            if b.taken:
                guard = guards.conj(guard, rule.then)
                label = rule.label or label
            else:
                guard = guards.conj(guard, rule.otherwise if rule.otherwise is not None else guards.neg(rule.then))
                label = rule.else_label or label
        return guard, label, unmapped

    # -- the walk ---------------------------------------------------------

    def defined_entries(self) -> list[str]:
        """The entries the rules name that the tree defines, in the rules' order.

        :raises PtfreeError: when it defines none of them.
        """
        named = [n for n, _ in self.rules.entries]
        self.tree.parse(r.file for _, r in self.rules.entries if r.file)
        self.tree.need_entries(named)
        found = [n for n in named if self.entry_defs(n)]
        if not found:
            listed = ", ".join(named) or "none"
            raise PtfreeError(
                f"the tree defines none of the entries the rules name ({listed})", Location(str(self.root))
            )
        return found

    def entry_defs(self, name: str) -> list[csource.Definition]:
        """An entry's definitions: in the file its rule names, if it names one."""
        rule = dict(self.rules.entries).get(name)
        defs = self.visible(name, None)
        return [d for d in defs if d.path == rule.file] if rule is not None and rule.file else defs

    def visible(self, name: str, caller_file: str | None) -> list[csource.Definition]:
        """The definitions a call from ``caller_file`` can reach: a static
        function or a macro of another .c file cannot be, nor a header off
        the include path; an entry point (no caller) reaches all."""
        defs = self.tree.defs.get(name, [])
        return sorted(
            (
                d
                for d in defs
                if caller_file is None
                or d.path == caller_file
                or (
                    self.tree.visible(d.path, caller_file)
                    and not (d.path.endswith(".c") and (d.static or d.kind != "function"))
                )
            ),
            key=lambda d: (d.path, d.line),
        )

    def run(self, entries: Sequence[str]) -> tuple[dict[str, Function], dict[str, Hook], list[str]]:
        """Follow the table from ``entries``: a call is followed when an argument carries it.

        Each function is read once; it is read again when a later call hands
        it a parameter that carries the table which no earlier call did.
        """
        functions: dict[str, Function] = {}
        hooks: dict[str, Hook] = {}
        unresolved: list[str] = []
        #: name -> the parameters (by position) that carry the table into it
        carried: dict[str, frozenset[int]] = {}
        #: name -> its definitions, fixed by the first call that asked
        resolved: dict[str, list[csource.Definition]] = {}
        frontier: list[_Step] = [_Step(e, None, None, _EVERY) for e in entries]
        rules = dict(self.rules.entries)
        self.tree.parse(rules[e].file or "" for e in entries if e in rules)
        self.tree.need_entries(entries)
        stop = set(self.rules.stop)
        while frontier:
            self.say(
                f"following the table from {', '.join(entries)}: {len(functions)} functions read, "
                f"{len(self.tree.facts)} of {len(self.tree.files)} files parsed"
                + ("" if self.tree.index.how else " (indexing the tree: once, then kept in the cache)")
            )
            # Sinks are looked up too: only to cite where they are defined.
            todo = [st for st in frontier if st.name not in resolved and st.name not in stop]
            self.tree.need({st.name for st in todo if "." not in st.name}, {st.file for st in todo})
            # An ops table is set where it is named: its initializer, the
            # assignments to it, and the tables copied into it.
            tables = {st.name.split(".", 1)[0] for st in todo if "." in st.name}
            self.tree.need_mentions(tables)
            self.tree.need_mentions({c.target.split(".", 1)[0] for t in tables for c in self.copies_into(t)})
            nxt: list[_Step] = []
            for st in frontier:
                name = st.name
                if name in stop:
                    continue
                before = carried.get(name)
                now = st.carried if before is None else before | st.carried
                if before is not None and now == before:
                    continue
                carried[name] = now
                if name in self.sinks:
                    functions[name] = self.sink(self.sinks[name])
                    continue
                if "." in name:
                    hook, targets = self.hook(name, st.where, now)
                    if hook is not None:
                        hooks[name] = hook
                        nxt.extend(targets)
                    continue
                if name not in resolved:
                    resolved[name] = self.entry_defs(name) if st.where is None else self.visible(name, st.file)
                defs = resolved[name]
                if not defs:
                    unresolved.append(name)
                    continue
                fn, callees = self.function(name, defs, now)
                functions[name] = fn
                nxt.extend(callees)
            frontier = nxt
        return functions, hooks, unresolved

    def sink(self, s: Sink) -> Function:
        defs = self.visible(s.name, None)
        # Cited where it does its work: a definition under no #if first
        # (smp_call_function() in kernel/smp.c, not the !SMP stub in smp.h).
        defs.sort(key=lambda d: (d.kind != "function", self.tree.facts[d.path].conditionals.guard_at(d.line) != TRUE))
        file = defs[0].path if defs else "(not read: named by a leaf or wait rule)"
        return Function(
            s.name,
            file,
            guard=s.guard,
            leaf=s.leaf,
            ipi=s.wait == "ipi",
            rcu_sync=s.wait == "gp",
            note=s.note,
            at=f"{defs[0].path}:{defs[0].line}" if defs else None,
        )

    def tainted(self, d: csource.Definition, carried: frozenset[int]) -> dict[str, csource.Carry]:
        """The variables of ``d`` that carry the table, given the parameters that do, and what each carries."""
        last = len(d.params) - 1
        names: dict[str, csource.Carry] = {
            p.name: p.carry
            for i, p in enumerate(d.params)
            if p.carry and p.name and (i in carried or (d.variadic and i == last and _beyond(carried, i)))
        }
        grown = True
        while grown:
            grown = False
            for var, kind, idents in d.flows:
                if var not in names and not names.keys().isdisjoint(idents):
                    names[var] = kind
                    grown = True
        return names

    def follows(self, s: csource.Site, tainted: dict[str, csource.Carry]) -> frozenset[int] | None:
        """Which arguments of ``s`` carry the table, or None when the call is not followed.

        Followed: a wait; a leaf whose freed argument carries it (any leaf
        without ``arg``); a call with no arguments (it can still wait); a call
        or deferral an argument of which carries the table itself or the
        gather holding it.  An entry that only points at the table (a pmd)
        rides along a call followed for another reason, but does not make a
        call followed: pmd_clear() writes it, it frees nothing.  Every call,
        when the rules name no carriers.
        """
        if self.follow_all:
            return _EVERY if s.kind != "defer" else frozenset({0})
        positions = frozenset(i for i, idents in enumerate(s.args) if not tainted.keys().isdisjoint(idents))
        sink = self.sinks.get(s.callee)
        if sink is not None:
            if sink.leaf is not None and sink.arg is not None and sink.arg not in positions:
                return None
            return positions
        tables = any(tainted.get(n) == "table" for idents in s.args for n in idents)
        if s.kind == "defer":
            return frozenset({0}) if tables else None
        if not s.args or tables:
            return positions
        return None

    def function(
        self, name: str, defs: list[csource.Definition], carried: frozenset[int]
    ) -> tuple[Function, list[_Step]]:
        arms = [(d, self.line_guard(d.path, d.line)) for d in defs]
        if name not in self.used_defs:
            self.used_defs[name] = list(defs)
        guard = tidy.tautology(tidy.dedupe(guards.disj(*[g for _, g in arms])))
        calls: list[Call] = []
        callees: list[_Step] = []
        for d, arm in arms:
            if arm == guards.FALSE:
                continue  # an arm no configuration compiles calls nothing
            tainted = self.tainted(d, carried)
            for s in d.sites:
                loc = Location(d.path, s.line, s.col)
                positions = self.follows(s, tainted)
                if positions is None:
                    continue
                if s.kind == "pointer":
                    self.warn(loc, f"{name}() calls through a pointer no rule names: {s.callee}; not followed")
                    continue
                runtime, label, unmapped = self.branch_guard(name, s.branches)
                site_guard = tidy.dedupe(guards.conj(self.line_guard(d.path, s.line), runtime))
                calls.append(
                    Call(
                        target=s.callee,
                        hook=s.kind == "hook",
                        guard=tidy.relative(site_guard, guard),
                        label=label,
                        note="; ".join(unmapped) or None,
                        defer="rcu" if s.kind == "defer" else None,
                        file=d.path,
                        at=f"{d.path}:{s.line}",
                        loc=loc,
                    )
                )
                callees.append(_Step(s.callee, d.path, loc, positions))
        # Cited where it is compiled: not at an arm no configuration has.
        first = next((d for d, g in arms if g != guards.FALSE), defs[0])
        kinds = sorted({d.kind for d in defs})
        note = (
            None
            if kinds == ["function"]
            else "defined as "
            + " and ".join(
                {"function": "a function", "macro": "a function-like macro", "alias": "an alias macro"}[k]
                for k in kinds
            )
        )
        fn = Function(name, first.path, guard=guard, calls=tuple(calls), note=note, at=f"{first.path}:{first.line}")
        return fn, callees

    def hook(self, name: str, where: Location | None, carried: frozenset[int]) -> tuple[Hook | None, list[_Step]]:
        table, member = name.split(".", 1)
        installs = [i for i in self.tree.installs.get(member.rsplit(".", 1)[-1], []) if i.kind != "copy"]
        targets: list[Call] = []
        # Direct: table.member = f, in an assignment or the table's own initializer.
        found = [(i, i) for i in installs if i.table == table and i.member == member]
        # Copied: V.member = f in V's initializer, then table.prefix = V.prefix somewhere.
        copies = self.copies_into(table)
        for i in installs:
            if i.table == table:
                continue
            for c in copies:
                src_var, _, src_path = c.target.partition(".")
                if (
                    src_var == i.table
                    and member == c.member + i.member[len(src_path) :]
                    and i.member.startswith(src_path)
                ):
                    found.append((i, c))
        seen: set[tuple[str, str, int]] = set()
        for install, via in sorted(found, key=lambda p: (p[1].path, p[1].line, p[0].path, p[0].line)):
            key = (install.target, via.path, via.line)
            if key in seen:
                continue
            seen.add(key)
            installer = via.installer if via.kind != "initializer" else install.installer
            runtime = self.installer_guard.get(installer)
            if runtime is None:
                self.warn(
                    Location(via.path, via.line, via.col),
                    f"no rule maps installer {installer} of {name} to a runtime alternative; target kept unguarded",
                )
                runtime = TRUE
            g = guards.conj(self.line_guard(install.path, install.line), runtime)
            if via is not install:
                g = guards.conj(g, self.line_guard(via.path, via.line))
            note = "; ".join(_branch_text(b) for b in via.branches) or None
            targets.append(
                Call(
                    install.target,
                    guard=tidy.dedupe(g),
                    note=note,
                    file=via.path,
                    installer=installer,
                    at=f"{via.path}:{via.line}",
                    loc=Location(via.path, via.line, via.col),
                )
            )
        if not targets:
            self.warn(where or Location(name), f"no function is installed in {name}; the hook is not followed")
            return None, []
        file = where.file if where else targets[0].file or ""
        hook = Hook(name, file, tuple(targets), at=f"{where.file}:{where.line}" if where else None)
        # A target is looked up where its initializer or assignment is.
        return hook, [_Step(t.target, t.loc.file, t.loc, carried) for t in targets]

    def shallow(
        self, functions: dict[str, Function], hooks: dict[str, Hook]
    ) -> tuple[dict[str, Function], dict[str, Hook]]:
        """Guards deeper than a model holds (a function in a hundred #if arms) as one atom each."""

        def cap(e: Expr, what: str, at: str | None) -> Expr:
            if tidy.depth(e) <= tidy.MAX_GUARD_DEPTH:
                return e
            path, _, line = (at or "?:0").rpartition(":")
            loc = Location(path, int(line) if line.isdigit() else 0)
            self.warn(loc, f"the guard of {what} is nested more than {tidy.MAX_GUARD_DEPTH} deep: kept as one atom")
            name = f"cpp:guard of {what}"
            self.atom_text.setdefault(name, (f"the guard of {what}", loc))
            return guards.Sym(name)

        fs = {
            n: replace(
                f,
                guard=cap(f.guard, f"{n}()", f.at),
                calls=tuple(replace(c, guard=cap(c.guard, f"{n}() -> {c.target}", c.at)) for c in f.calls),
            )
            for n, f in functions.items()
        }
        hs = {
            n: replace(h, targets=tuple(replace(t, guard=cap(t.guard, f"{n} = {t.target}", t.at)) for t in h.targets))
            for n, h in hooks.items()
        }
        return fs, hs

    # -- options and axes ---------------------------------------------------

    def options(self, functions: dict[str, Function], hooks: dict[str, Hook]) -> tuple[list[Option], list[Axis]]:
        """The Kconfig options and runtime axes the guards name, atoms as options of their own."""
        exprs = _guards(functions, hooks)
        axis_map = {a.name: a for a in self.rules.axes}
        used_axes = [a for a in self.rules.axes if any(n == a.name for e in exprs for n in guards.names(e))]
        for a in used_axes:
            exprs += [alt.available for alt in a.alternatives]
        names = {n for e in exprs for n in guards.names(e) if n not in axis_map}
        kconfig = self.root / "Kconfig"
        self.say(f"reading the Kconfig of {len(names)} options")
        if not kconfig.is_file():
            self.warn(Location(str(self.root)), "no Kconfig at the top of the tree: every option is left free")
            tree = None
        else:
            tree = self.read_kconfig()
            self.kconfig_warnings = tree.warnings
        assume = {n: (v, loc) for n, v, loc in self.rules.assume}
        out: dict[str, Option] = {}
        pending = sorted(n for n in names | set(self.extra_options) if not _is_atom(n)) + sorted(assume)
        wanted = kconfig_tree.closure(tree, pending) if tree is not None else ()
        for n in wanted:
            assert tree is not None
            o = tree.options[n]
            o = replace(
                o,
                depends_on=self.resolve_atoms(o.depends_on),
                prompt_if=self.resolve_atoms(o.prompt_if),
                defaults=tuple(
                    replace(d, value=self.resolve_atoms(d.value), cond=self.resolve_atoms(d.cond)) for d in o.defaults
                ),
                selects=tuple(replace(s, cond=self.resolve_atoms(s.cond)) for s in o.selects),
                at=f"{o.loc.file}:{o.loc.line}",
            )
            out[n] = o
        for n in pending:
            if n in out:
                continue
            if tree is None:
                out[n] = Option(n, prompt=f"{n} (no Kconfig read)", note="the tree has no Kconfig; left free")
            else:
                out[n] = Option(n, note="not defined in the Kconfig files read; Kconfig reads it as n")
                self.undefined.append(n)
        for n, (value, _loc) in assume.items():
            base = out.get(n, Option(n))
            out[n] = replace(
                base,
                prompt=None,
                prompt_if=TRUE,
                depends_on=TRUE,
                selects=(),
                defaults=(Default(guards.Const(value)),),
                note=f"assumed {'y' if value else 'n'} by the rules (assume:)",
            )
        # Selected symbols missing from the closure (a select of an undefined symbol) are dropped.
        known = set(out)
        for n, o in list(out.items()):
            out[n] = replace(o, selects=tuple(s for s in o.selects if s.symbol in known))
        atoms: dict[str, str] = {}
        every = exprs + [e for o in out.values() for e in _option_exprs(o)]
        for atom in sorted({n for e in every for n in guards.names(e) if _is_atom(n)}):
            atoms[atom] = self.atom_option(atom, set(out) | set(atoms.values()))
            text, loc = self.atom_text.get(atom, (atom.split(":", 1)[1], Location("?")))
            out[atoms[atom]] = Option(
                atoms[atom],
                prompt=f"opaque condition: {text}",
                note=f"{loc}: kept as an atom ({atom}); settle it under atoms: in an annotations file",
            )
        if atoms:
            env: dict[str, Expr] = {a: guards.Sym(o) for a, o in atoms.items()}
            out = {n: _map_option(o, env) for n, o in out.items()}
            self.atom_names = env
        return list(out.values()), used_axes

    def reader_warnings(self, kept: set[str]) -> None:
        """The warnings of the C, #if and Kbuild readers about what the model uses."""
        for rel in self.tree.skipped:
            self.warn(Location(rel), f"not read: not a regular file, or larger than {sourcetree.MAX_FILE_BYTES} bytes")
        spans: dict[str, list[tuple[int, int]]] = {}
        for name in kept:
            for d in self.used_defs.get(name, []):
                spans.setdefault(d.path, []).append((d.line, d.end_line))
        settled = set(self.atom_values) - set(self.atom_names)
        for path in sorted(spans):
            facts = self.tree.facts[path]
            for loc, message in facts.warnings:
                if any(a <= loc.line <= b for a, b in spans[path]):
                    self.warn(loc, message)
            atoms = {a.text: a.name for a in facts.conditionals.atoms}
            for w in facts.conditionals.warnings:
                prefix = "opaque #if condition kept as an atom: "
                if w.message.startswith(prefix):
                    # Settled by the rules: nothing left to say.
                    if atoms.get(w.message[len(prefix) :]) in settled:
                        continue
                    if atoms.get(w.message[len(prefix) :]) not in self.atom_names:
                        continue
                self.warn(w.loc, w.message)
        for kw in self.kbuild.warnings:
            self.warn(kw.loc, kw.message)
        for problem in dict.fromkeys(self.tree.index.problems):
            self.warn(Location(str(self.root)), f"{problem}: ptfree read the files itself instead, which is slower")
        # Of the Kconfig warnings, those about what the model holds: an atom
        # it kept; the sourced files not found, once, with the symbols a
        # guard needs that no Kconfig read defines (they may be there).
        missing = [kw for kw in self.kconfig_warnings if kw.message.startswith("sourced file not found")]
        for kw2 in self.kconfig_warnings:
            atom = kw2.message.rsplit("read as the opaque atom ", 1)[-1] if "opaque atom" in kw2.message else None
            if atom is not None and atom in self.atom_names:
                self.warn(kw2.loc, kw2.message)
        where = Location("Kconfig")
        if missing:
            shown = "; ".join(f"{kw.message.split(': ', 1)[1]} (sourced at {kw.loc})" for kw in missing[:3])
            more = f"; and {len(missing) - 3} more" if len(missing) > 3 else ""
            where = missing[0].loc
        for name in self.undefined:
            why = f"; sourced but not found: {shown}{more}" if missing else ""
            self.warn(where, f"{name} is not defined in the Kconfig files read: read as n{why}")
        if missing and not self.undefined:
            files = "file" if len(missing) == 1 else "files"
            self.warn(
                where,
                f"{len(missing)} Kconfig {files} sourced but not found ({shown}{more}); "
                "every option the model needs is defined in those read",
            )

    def read_kconfig(self) -> kconfig_tree.KconfigTree:
        """The tree's Kconfig: read (in a worker process, beside the walk, for
        a big tree), or as kept in the cache when no file read has changed."""
        if self.kconfig is None:
            self.kconfig = self._read_kconfig()
        return self.kconfig

    def settle_numbers(
        self, functions: dict[str, Function], hooks: dict[str, Hook]
    ) -> tuple[dict[str, Function], dict[str, Hook]]:
        """``#if CONFIG_PGTABLE_LEVELS > 4`` as the tree's Kconfig says: the
        defaults of a number no user can set, as a condition over options
        (``X86_5LEVEL`` in 6.12; always true in 7.x, where 5 is the x86-64
        default); where the tree does not define it, as the rules say."""
        exprs = _guards(functions, hooks)
        atoms = sorted({n for e in exprs for n in guards.names(e) if _NUMBER_ATOM.match(n)})
        if not atoms:
            return functions, hooks
        numbers = self.read_kconfig().numbers if (self.root / "Kconfig").is_file() else {}
        env: dict[str, Expr] = {}
        for atom in atoms:
            m = _NUMBER_ATOM.match(atom)
            assert m is not None
            symbol, op, number = m.group(1), m.group(2), int(m.group(3))
            if symbol in numbers:
                env[atom] = _number_is(numbers[symbol], op, number)
            elif atom in self.rule_atoms:
                env[atom] = self.rule_atoms[atom]
        self.numbers_env = env
        return _map_guards(functions, hooks, lambda e: tidy.replace_names(e, env))

    def cited(self, f: Function, fixed: dict[str, str]) -> Function:
        """``f`` cited at its first definition some configuration compiles,
        now that numbers and fixed options are known (pgtable-nop4d.h's
        p4d_free_tlb is never compiled on a 5-level x86-64)."""
        defs = self.used_defs.get(f.name, [])
        if len(defs) < 2:
            return f
        for d in defs:
            arm = tidy.replace_names(self.line_guard(d.path, d.line), self.numbers_env)
            if guards.substitute(arm, fixed) != guards.FALSE:
                return f if f.at == f"{d.path}:{d.line}" else replace(f, file=d.path, at=f"{d.path}:{d.line}")
        return f

    def _read_kconfig(self) -> kconfig_tree.KconfigTree:
        if self.kconfig_future is not None:
            options, others, files, warnings, numbers = self.kconfig_future.result()
        else:
            big = len(self.tree.files) >= treeindex.SCAN_PARALLEL_MIN
            kept = str(self.tree.index.cache_dir / f"kconfig-{self.srcarch}.json") if big else None
            options, others, files, warnings, numbers = _kept_kconfig(str(self.root), self.srcarch, kept)
        return kconfig_tree.KconfigTree(
            MappingProxyType(options), MappingProxyType(others), files, warnings, MappingProxyType(numbers)
        )

    def start_kconfig(self) -> None:
        """Read a big tree's Kconfig in a process of its own while the walk goes on."""
        if len(self.tree.files) < treeindex.SCAN_PARALLEL_MIN or self.jobs < 2 or not (self.root / "Kconfig").is_file():
            return
        pool = self.tree.index.workers()
        assert pool is not None
        kept = str(self.tree.index.cache_dir / f"kconfig-{self.srcarch}.json")
        self.kconfig_future = pool.submit(_kept_kconfig, str(self.root), self.srcarch, kept)

    def close(self) -> None:
        self.tree.close()

    def atom_option(self, atom: str, taken: set[str]) -> str:
        base = "ATOM_" + (re.sub(r"[^A-Za-z0-9]+", "_", atom.split(":", 1)[1]).strip("_").upper() or "X")[:48]
        name, i = base, 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        return name

    def copies_into(self, table: str) -> list[csource.Install]:
        """``table.x = V.x`` copies, as parsed so far."""
        return [i for f in self.tree.facts.values() for i in f.installs if i.kind == "copy" and i.table == table]


@dataclass(frozen=True)
class _Step:
    """A call the walk follows: the callee, the file and place of the call,
    and which of its arguments carry the table."""

    name: str
    file: str | None
    where: Location | None
    carried: frozenset[int]


#: An entry point: every parameter that can carry a table does.
_EVERY = frozenset(range(64))


def _beyond(carried: frozenset[int], i: int) -> bool:
    return any(j >= i for j in carried)


def _kept_kconfig(
    root: str, srcarch: str, kept: str | None
) -> tuple[
    dict[str, Option],
    dict[str, tuple[str, Location]],
    tuple[str, ...],
    tuple[kconfig_tree.KconfigWarning, ...],
    dict[str, tuple[tuple[int, Expr], ...]],
]:
    """The tree's Kconfig, from ``kept`` (a JSON file of the cache) when no file
    read then has changed size or time, else read (and kept there).  Runs in a
    worker: it returns plain data, and only the cache's own file is written."""
    tree = None
    if kept is not None:
        try:
            doc = json.loads(Path(kept).read_text(encoding="utf-8"))
            if doc["code"] == treeindex.code_version() and doc["stamps"] == _stamps(Path(root), doc["tree"]["files"]):
                tree = kconfig_tree.load(doc["tree"])
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            tree = None  # nothing kept, or something else: read again
    if tree is None:
        tree = kconfig_tree.read_kconfig(Path(root), srcarch=srcarch)
        if kept is not None:
            doc = {
                "code": treeindex.code_version(),
                "stamps": _stamps(Path(root), tree.files),
                "tree": kconfig_tree.dump(tree),
            }
            treeindex.keep_file(Path(kept), json.dumps(doc))
    return dict(tree.options), dict(tree.others), tree.files, tree.warnings, dict(tree.numbers)


#: ``#if CONFIG_X > 4`` and the like: a number symbol compared with a number.
_NUMBER_ATOM = re.compile(r"cpp:CONFIG_(\w+) *(==|!=|>=|<=|>|<) *(\d+)$")


def _number_is(defaults: tuple[tuple[int, Expr], ...], op: str, number: int) -> Expr:
    """Where the value the defaults give (the first whose condition holds; 0
    when none does) compares with ``number`` as ``op`` says, as a condition."""
    import operator

    compare: Callable[[int, int], bool] = {
        "==": operator.eq,
        "!=": operator.ne,
        ">=": operator.ge,
        "<=": operator.le,
        ">": operator.gt,
        "<": operator.lt,
    }[op]
    out: Expr = guards.Const(compare(0, number))
    for value, cond in reversed(defaults):
        out = guards.disj(guards.conj(cond, guards.Const(compare(value, number))), guards.conj(guards.neg(cond), out))
    return out


def _guards(functions: dict[str, Function], hooks: dict[str, Hook]) -> list[Expr]:
    """Every guard of the functions, their calls, the hooks and their targets."""
    out = [e for f in functions.values() for e in (f.guard, *(c.guard for c in f.calls))]
    return out + [e for h in hooks.values() for e in (h.guard, *(t.guard for t in h.targets))]


def _map_guards(
    functions: dict[str, Function], hooks: dict[str, Hook], f: Callable[[Expr], Expr]
) -> tuple[dict[str, Function], dict[str, Hook]]:
    """Every guard of the functions, their calls and the hooks' targets mapped by ``f``."""
    fs = {
        n: replace(fn, guard=f(fn.guard), calls=tuple(replace(c, guard=f(c.guard)) for c in fn.calls))
        for n, fn in functions.items()
    }
    hs = {n: replace(h, targets=tuple(replace(t, guard=f(t.guard)) for t in h.targets)) for n, h in hooks.items()}
    return fs, hs


def _stamps(root: Path, files: Iterable[str]) -> list[list[object]]:
    """Each file's path, size and modification time (-1 when it is gone)."""
    out: list[list[object]] = []
    for f in files:
        try:
            st = (root / f).stat()
            out.append([f, st.st_size, st.st_mtime_ns])
        except OSError:
            out.append([f, -1, -1])
    return out


def _branch_text(b: csource.Branch) -> str:
    """An ``if`` arm as a note: ``if (cond)``, or ``if !(cond)`` for its else."""
    return f"if ({b.text})" if b.taken else f"if !({b.text})"


def _is_atom(name: str) -> bool:
    return cpp.is_atom(name) or kconfig_tree.opaque(name) or name.startswith("make:")


def _option_exprs(o: Option) -> list[Expr]:
    return [o.depends_on, o.prompt_if, *(d.value for d in o.defaults), *(d.cond for d in o.defaults)] + [
        s.cond for s in o.selects
    ]


def _map_option(o: Option, env: dict[str, Expr]) -> Option:
    return replace(
        o,
        depends_on=tidy.replace_names(o.depends_on, env),
        prompt_if=tidy.replace_names(o.prompt_if, env),
        defaults=tuple(
            replace(d, value=tidy.replace_names(d.value, env), cond=tidy.replace_names(d.cond, env)) for d in o.defaults
        ),
        selects=tuple(replace(s, cond=tidy.replace_names(s.cond, env)) for s in o.selects),
    )


def _prune(
    functions: dict[str, Function], hooks: dict[str, Hook], entries: Sequence[str], keep: Iterable[str]
) -> tuple[dict[str, Function], dict[str, Hook]]:
    """Keep what reaches a leaf, a wait or a ``keep`` name; drop calls to anything else."""
    succ: dict[str, list[str]] = {n: [c.target for c in f.calls] for n, f in functions.items()}
    succ.update({n: [t.target for t in h.targets] for n, h in hooks.items()})
    useful = {n for n, f in functions.items() if f.leaf or f.ipi or f.rcu_sync} | (set(keep) & set(succ))
    changed = True
    while changed:
        changed = False
        for n, targets in succ.items():
            if n not in useful and any(t in useful for t in targets):
                useful.add(n)
                changed = True
    useful |= set(entries) & set(succ)
    fs = {
        n: replace(f, calls=tuple(c for c in f.calls if c.target in useful))
        for n, f in functions.items()
        if n in useful
    }
    hs = {
        n: replace(h, targets=tuple(t for t in h.targets if t.target in useful))
        for n, h in hooks.items()
        if n in useful
    }
    return fs, {n: h for n, h in hs.items() if h.targets}


def _break_cycles(
    functions: dict[str, Function], hooks: dict[str, Hook], entries: Sequence[str], warn: list[tuple[Location, str]]
) -> dict[str, Function]:
    """Drop the back edges of recursion (a model is acyclic), saying which."""
    state: dict[str, int] = {}
    dropped: set[tuple[str, str, int]] = set()

    def succ(n: str) -> list[tuple[str, int]]:
        if n in functions:
            return [(c.target, i) for i, c in enumerate(functions[n].calls)]
        if n in hooks:
            return [(t.target, -1) for t in hooks[n].targets]
        return []

    for e in entries:
        if e in state:
            continue
        stack: list[tuple[str, list[tuple[str, int]]]] = [(e, succ(e))]
        state[e] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                state[node] = 2
                stack.pop()
                continue
            t, i = todo.pop(0)
            if state.get(t) == 1 and i >= 0:
                dropped.add((node, t, i))
                c = functions[node].calls[i]
                warn.append((c.loc, f"recursion {node} -> {t}: the call is dropped (a model has no cycles)"))
            elif t not in state:
                state[t] = 1
                stack.append((t, succ(t)))
    return {
        n: replace(f, calls=tuple(c for i, c in enumerate(f.calls) if (n, c.target, i) not in dropped))
        for n, f in functions.items()
    }


def extract(
    root: Path,
    entries: Sequence[str],
    rules: Rules,
    *,
    name: str = "extracted",
    srcarch: str = "x86",
    jobs: int | None = None,
    options: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> Extraction:
    """The model of the free path from ``entries`` in the tree at ``root``.

    Without ``entries``, the walk starts at every entry the rules name that
    the tree defines.  ``options`` are read from the tree's Kconfig too, whether the guards name
    them or not (``verify`` asks for every option of the model it checks).

    ``progress`` is told what is being done, step by step.

    :raises PtfreeError: when ``root`` is not a directory or an entry is not defined.
    """
    if not root.is_dir():
        raise PtfreeError("not a directory", Location(str(root)))
    check_rules(rules)
    say = progress or (lambda _text: None)
    say(f"listing {root}")
    jobs = jobs or os.cpu_count() or 1
    listing = treeindex.list_tree(root, srcarch, jobs)
    described = treeindex.git_describe(root)
    index = treeindex.TreeIndex(root, srcarch, jobs, listing)
    # A big tree's finished extraction is kept, keyed by everything it read:
    # looked up before any reader is loaded.
    key = _result_key(listing, described, rules, entries, name, srcarch, options)
    cache = index if len(listing.files) >= treeindex.SCAN_PARALLEL_MIN else None
    kept = cache.result(key) if cache is not None else None
    if kept is not None:
        result = _from_json(kept, name)
        if result is not None:
            return result
    ex = _Extractor(root, rules, srcarch, jobs, index)
    ex.extra_options = tuple(options)
    ex.say = say
    try:
        ex.start_kconfig()
        if not entries:
            entries = ex.defined_entries()
        functions, hooks, unresolved = ex.run(entries)
        # Still inside: resolving defined(X) atoms may parse more files.
        result = _finish(ex, root, name, entries, functions, hooks, unresolved, described)
    except RecursionError:
        # Guards are capped per line; what still nests too deep (a function
        # in thousands of #if arms) is refused, not shown as a traceback.
        raise PtfreeError("conditions nested too deep to model around here", ex.current) from None
    finally:
        ex.close()
    if cache is not None:
        cache.keep_result(key, _to_json(result))
    return result


def _result_key(
    listing: treeindex.Listing,
    described: str | None,
    rules: Rules,
    entries: Sequence[str],
    name: str,
    srcarch: str,
    options: Sequence[str],
) -> str:
    parts = [treeindex.code_version(), listing.fingerprint, described, repr(rules), list(entries), name, srcarch]
    return hashlib.sha256(json.dumps([*parts, list(options)]).encode()).hexdigest()[:32]


def _to_json(x: Extraction) -> str:
    warnings = [[w.file, w.line, w.col, m] for w, m in x.warnings]
    doc = {"text": x.text, "warnings": warnings, "parsed": x.parsed, "files": x.files, "unresolved": x.unresolved}
    return json.dumps(doc, sort_keys=True)


def _from_json(text: str, name: str) -> Extraction | None:
    """A kept extraction, or None when the cache holds something else (then it is made again)."""
    from ptfree_cli import loader

    try:
        doc = json.loads(text)
        model = loader.parse_model(doc["text"], f"{name}.yaml")
        warnings = tuple((Location(f, line, col), m) for f, line, col, m in doc["warnings"])
        return Extraction(model, doc["text"], warnings, doc["parsed"], doc["files"], tuple(doc["unresolved"]))
    except (ValueError, KeyError, TypeError, PtfreeError):
        return None


def check_rules(rules: Rules) -> None:
    """Every runtime comparison in the rules names an axis of theirs and one of its alternatives.

    :raises ModelError: at the rule that does not.
    """
    axes = {a.name: a for a in rules.axes}
    exprs: list[tuple[Expr, Location]] = [(g, loc) for _, g, loc in rules.installers]
    for b in rules.branches:
        exprs += [(b.then, b.loc)] + ([(b.otherwise, b.loc)] if b.otherwise is not None else [])
    exprs += [(v, loc) for _, v, loc in rules.atoms]
    for e, loc in exprs:
        for atom in guards.atoms(e):
            if not isinstance(atom, guards.Cmp) or not atom.name.islower():
                continue
            axis = axes.get(atom.name)
            if axis is None:
                known = ", ".join(axes) or "none"
                raise ModelError(f"'{atom.name}' is not a runtime axis of the rules (axes: {known})", loc)
            if axis.alternative(atom.value) is None:
                alts = ", ".join(a.name for a in axis.alternatives)
                raise ModelError(f"'{atom.value}' is not an alternative of {atom.name} ({alts})", loc)


def _finish(
    ex: _Extractor,
    root: Path,
    name: str,
    entries: Sequence[str],
    functions: dict[str, Function],
    hooks: dict[str, Hook],
    unresolved: list[str],
    tree: str | None,
) -> Extraction:
    """Prune, break cycles, add options and axes, write the model and read it back."""
    from ptfree_cli import emit, loader

    rules = ex.rules
    for e in entries:
        if e not in functions:
            raise PtfreeError(f"entry {e}() is not defined in any C file of the tree", Location(str(root)))
    functions, hooks = _prune(functions, hooks, entries, rules.keep)
    functions = _break_cycles(functions, hooks, entries, ex.warnings)
    for e in entries:
        f = functions[e]
        if not f.calls and not f.leaf:
            ex.warn(
                Location(f.at.rsplit(":", 1)[0] if f.at else f.file, int(f.at.rsplit(":", 1)[1]) if f.at else 0),
                f"entry {e}() reaches no leaf the rules name",
            )
    functions, hooks = ex.shallow(functions, hooks)
    functions, hooks = ex.settle_numbers(functions, hooks)
    options, axes = ex.options(functions, hooks)
    # The guards as a reader would write them: an option the tree's Kconfig
    # fixes is that constant (MMU is y on x86-64, MMU_GATHER_PAGE_SIZE n),
    # and each guard is its smallest sum of products.  The #if chains as
    # written are at `at:`.
    fixed = tidy.constants(options, axes)
    axis_map = {a.name: a for a in rules.axes}

    def neat(e: Expr) -> Expr:
        return tidy.minimal(guards.substitute(e, fixed), axis_map)

    def kept(owner: str, c: Call, outer: Expr) -> Call | None:
        """``c`` with its guard tidied, or None (said) when Kconfig never allows it."""
        guard = tidy.relative(neat(c.guard), outer)
        if guard != guards.FALSE:
            return replace(c, guard=guard)
        # Said, not silent: a partial tree may define the option in a Kconfig file not read.
        why = ", ".join(f"{n}={fixed[n]}" for n in sorted(set(guards.names(c.guard))) if n in fixed)
        because = f"the tree's Kconfig fixes {why}" if why else "its #if cannot hold under the tree's Kconfig"
        ex.warn(c.loc, f"{owner} -> {c.target} is never taken: {because}")
        return None

    functions = {n: replace(ex.cited(f, fixed), guard=neat(f.guard)) for n, f in functions.items()}
    functions = {
        n: replace(f, calls=tuple(k for c in f.calls if (k := kept(n, c, f.guard)) is not None))
        for n, f in functions.items()
    }
    hooks = {
        n: replace(h, targets=tuple(k for t in h.targets if (k := kept(n, t, TRUE)) is not None))
        for n, h in hooks.items()
    }
    # A call Kconfig never allows is gone: what only it made useful goes too.
    functions, hooks = _prune(functions, hooks, entries, rules.keep)
    functions, hooks = _reachable(functions, hooks, entries)
    if ex.atom_names:
        functions, hooks = _map_guards(functions, hooks, lambda e: tidy.replace_names(e, ex.atom_names))
    options, axes = _needed(options, axes, fixed, functions, hooks, set(ex.extra_options))
    entry_rules = dict(rules.entries)
    model_entries = []
    for e in entries:
        rule = entry_rules.get(e)
        if rule is None:
            ex.warn(Location(str(root)), f"no rule gives the role of entry {e}(); taken as teardown")
        model_entries.append(Entry(e, rule.role if rule else "teardown", rule.level if rule else "pte"))
    model = Model(
        name=name,
        title=f"{name}: extracted by ptfree from {tree or root.name}",
        version=tree or f"the tree at {root}",
        source=f"{name}.yaml",
        options=tuple(options),
        axes=tuple(axes),
        functions=tuple(functions[n] for n in _order(functions, hooks, entries)),
        hooks=tuple(hooks[n] for n in sorted(hooks)),
        entries=tuple(model_entries),
        tree=tree or str(root),
    )
    text = emit.model_text(model)
    parsed = loader.parse_model(text, f"{name}.yaml")
    ex.reader_warnings(set(functions))
    warnings = sorted(set(ex.warnings), key=lambda w: (w[0].file, w[0].line, w[0].col, w[1]))
    return Extraction(
        parsed, text, tuple(warnings), len(ex.tree.facts), len(ex.tree.files), tuple(sorted(set(unresolved)))
    )


def _needed(
    options: list[Option],
    axes: list[Axis],
    fixed: dict[str, str],
    functions: dict[str, Function],
    hooks: dict[str, Hook],
    keep: set[str],
) -> tuple[list[Option], list[Axis]]:
    """The options a choice can change: those the guards and the axes name,
    and what their values depend on (dependencies, defaults, selectors),
    transitively; an option the tree's Kconfig fixes is its value instead
    (X86_LOCAL_APIC is y on x86-64, so what it depends on is not asked).
    ``keep`` (the options of the model verify compares with) stay as they are."""
    by_name = {o.name: o for o in options}
    selectors: dict[str, list[str]] = {}
    for o in options:
        for sel in o.selects:
            selectors.setdefault(sel.symbol, []).append(o.name)
    exprs = _guards(functions, hooks) + [alt.available for a in axes for alt in a.alternatives]
    todo = sorted(
        {n for e in exprs for n in guards.names(e) if n in by_name and n not in fixed} | (keep & set(by_name))
    )
    wanted = set(todo)
    while todo:
        o = by_name[todo.pop()]
        refs = {n for e in _option_exprs(o) for n in guards.names(e) if n not in fixed}
        # A selector stays even when fixed y (X86 selects MMU_GATHER_RCU_TABLE_FREE
        # if PARAVIRT); one fixed n never selects.
        refs |= {n for n in selectors.get(o.name, ()) if fixed.get(n) != "n"}
        for n in sorted(refs):
            if n in by_name and n not in wanted:
                wanted.add(n)
                todo.append(n)
    env = {n: v for n, v in fixed.items() if n not in wanted}

    def fold(e: Expr) -> Expr:
        return tidy.dedupe(guards.substitute(e, env))

    out = [
        replace(
            o,
            depends_on=fold(o.depends_on),
            prompt_if=fold(o.prompt_if),
            defaults=tuple(replace(d, value=fold(d.value), cond=fold(d.cond)) for d in o.defaults),
            selects=tuple(replace(sel, cond=fold(sel.cond)) for sel in o.selects if sel.symbol in wanted),
        )
        for o in options
        if o.name in wanted
    ]
    return out, axes


def _reachable(
    functions: dict[str, Function], hooks: dict[str, Hook], entries: Sequence[str]
) -> tuple[dict[str, Function], dict[str, Hook]]:
    seen: set[str] = set()
    todo = list(entries)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        if n in functions:
            todo.extend(c.target for c in functions[n].calls)
        elif n in hooks:
            todo.extend(t.target for t in hooks[n].targets)
    return (
        {n: f for n, f in functions.items() if n in seen},
        {n: h for n, h in hooks.items() if n in seen and h.targets},
    )


def _order(functions: dict[str, Function], hooks: dict[str, Hook], entries: Sequence[str]) -> list[str]:
    """Functions in walk order from the entries (callers before callees), for a readable file."""
    out: list[str] = []
    seen: set[str] = set()
    todo = list(entries)
    while todo:
        n = todo.pop(0)
        if n in seen:
            continue
        seen.add(n)
        if n in functions:
            out.append(n)
            todo.extend(c.target for c in functions[n].calls)
        elif n in hooks:
            todo.extend(t.target for t in hooks[n].targets)
    return out + sorted(set(functions) - seen)
