"""Model text: a :class:`~ptfree_cli.model.Model` written as a model file, deterministically.

The inverse of the loader for everything a model file holds (``ptfree
extract`` writes through it): the same object in, the same bytes out.
Strings are written as JSON strings, which YAML reads as double-quoted
scalars, so no value can change type (``y``, ``1.0``) or break the layout.
"""

from __future__ import annotations

import json
import re

from ptfree_cli import guards
from ptfree_cli.guards import TRUE, Expr
from ptfree_cli.model import Call, Model, Option

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
#: Keys YAML 1.1 would read as something other than a string.
_SPECIAL = frozenset(["y", "n", "yes", "no", "true", "false", "on", "off", "null"])


def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _key(name: str) -> str:
    ok = (_PLAIN_KEY.match(name) or re.fullmatch(r"[0-9]+[A-Z_][A-Z0-9_]*", name)) and name.lower() not in _SPECIAL
    return name if ok else _s(name)


def _e(expr: Expr) -> str:
    return _s(guards.format_expr(expr))


class _Out:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, indent: int, text: str) -> None:
        self.lines.append("  " * indent + text)

    def opt(self, indent: int, key: str, value: str | None) -> None:
        if value is not None:
            self.add(indent, f"{key}: {_s(value)}")


def _option(out: _Out, o: Option) -> None:
    body = _Out()
    if o.type != "bool":
        body.add(0, f"type: {o.type}")
    body.opt(0, "prompt", o.prompt)
    if o.prompt is not None and o.prompt_if != TRUE:
        body.add(0, f"prompt_if: {_e(o.prompt_if)}")
    if o.depends_on != TRUE:
        body.add(0, f"depends_on: {_e(o.depends_on)}")
    if o.selects:
        body.add(0, "selects:")
        for s in o.selects:
            if s.cond == TRUE:
                body.add(1, f"- {_key(s.symbol)}")
            else:
                body.add(1, f"- symbol: {_key(s.symbol)}")
                body.add(2, f"if: {_e(s.cond)}")
    if o.defaults:
        body.add(0, "defaults:")
        for d in o.defaults:
            body.add(1, f"- value: {_e(d.value)}")
            if d.cond != TRUE:
                body.add(2, f"if: {_e(d.cond)}")
    body.opt(0, "file", o.file)
    body.opt(0, "at", o.at)
    body.opt(0, "note", o.note)
    if not body.lines:
        out.add(1, f"{_key(o.name)}:")
        return
    out.add(1, f"{_key(o.name)}:")
    for line in body.lines:
        out.add(2, line)


def _call(out: _Out, indent: int, c: Call, default_file: str, target: bool) -> None:
    head = "call" if target or not c.hook else "hook"
    out.add(indent, f"- {head}: {_key(c.target)}")
    inner = indent + 1
    if c.guard != TRUE:
        out.add(inner, f"if: {_e(c.guard)}")
    out.opt(inner, "label", c.label)
    out.opt(inner, "note", c.note)
    if c.defer:
        out.add(inner, f"defer: {c.defer}")
    if c.file and c.file != default_file:
        out.add(inner, f"file: {_s(c.file)}")
    out.opt(inner, "commit", c.commit)
    if target:
        out.opt(inner, "installer", c.installer)
    out.opt(inner, "at", c.at)


def model_text(model: Model, header: str = "") -> str:
    """The model file for ``model``; ``header`` is a comment put on top."""
    out = _Out()
    for line in header.splitlines():
        out.add(0, f"# {line}".rstrip())
    out.add(0, "ptfree: 1")
    out.add(0, f"model: {_s(model.name)}")
    out.add(0, f"title: {_s(model.title)}")
    out.add(0, "kernel:")
    out.add(1, f"version: {_s(model.version)}")
    out.opt(1, "base", model.base)
    out.opt(1, "tree", model.tree)
    if model.commits:
        out.add(1, "commits:")
        for commit in model.commits:
            out.add(2, f"- id: {_s(commit.id)}")
            out.add(3, f"subject: {_s(commit.subject)}")
            out.opt(3, "note", commit.note)
    if model.options:
        out.add(0, "options:")
        for o in model.options:
            _option(out, o)
    if model.axes:
        out.add(0, "runtime:")
        for a in model.axes:
            out.add(1, f"{a.name}:")
            out.add(2, f"title: {_s(a.title)}")
            out.add(2, "alternatives:")
            for alt in a.alternatives:
                out.add(3, f"{alt.name}:")
                out.add(4, f"label: {_s(alt.label)}")
                if alt.available != TRUE:
                    out.add(4, f"if: {_e(alt.available)}")
                out.opt(4, "condition", alt.condition)
                out.opt(4, "file", alt.file)
    out.add(0, "entries:")
    for e in model.entries:
        out.add(1, f"{_key(e.function)}:")
        out.add(2, f"role: {e.role}")
        out.add(2, f"level: {e.level}")
    out.add(0, "functions:")
    for f in model.functions:
        out.add(1, f"{_key(f.name)}:")
        out.add(2, f"file: {_s(f.file)}")
        out.opt(2, "at", f.at)
        if f.guard != TRUE:
            out.add(2, f"if: {_e(f.guard)}")
        if f.leaf:
            out.add(2, f"leaf: {f.leaf}")
        if f.ipi:
            out.add(2, "ipi: true")
        if f.rcu_sync:
            out.add(2, "rcu_sync: true")
        out.opt(2, "note", f.note)
        out.opt(2, "commit", f.commit)
        if f.calls:
            out.add(2, "calls:")
            for c in f.calls:
                _call(out, 3, c, f.file, target=False)
    if model.hooks:
        out.add(0, "hooks:")
        for h in model.hooks:
            out.add(1, f"{_key(h.name)}:")
            out.add(2, f"file: {_s(h.file)}")
            out.opt(2, "at", h.at)
            if h.guard != TRUE:
                out.add(2, f"if: {_e(h.guard)}")
            out.opt(2, "note", h.note)
            out.add(2, "targets:")
            for t in h.targets:
                _call(out, 3, t, h.file, target=True)
    return "\n".join(out.lines) + "\n"
