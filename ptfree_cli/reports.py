"""Machine-readable check reports: JSON, SARIF 2.1.0, JUnit XML, GitHub workflow commands.

Built from :class:`~ptfree_cli.check.CheckResult` objects; text and rich
output for people live in :mod:`ptfree_cli.render`.  Every report is
deterministic: fixed key order, no timestamps, paths as the user gave them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from ptfree_cli import __version__, guards
from ptfree_cli.check import Case, CheckResult, Step, Violation
from ptfree_cli.diff import ModelDiff
from ptfree_cli.errors import Location
from ptfree_cli.model import Call, Model

if TYPE_CHECKING:  # only extract and verify need these
    from ptfree_cli.extract import Extraction
    from ptfree_cli.verify import Verification

RULES = {
    "forbidden": ("ptfree/forbidden-leaf", "A page-table free the policy does not allow is reachable"),
    "missing": ("ptfree/missing-leaf", "A leaf class the policy requires is not reached"),
    "stale": ("ptfree/stale-waiver", "A waiver allows nothing any more"),
}


def title(v: Violation) -> str:
    verb = "reaches" if v.kind == "forbidden" else "does not reach"
    return f"{v.entry.function} ({v.entry.role}) {verb} {v.leaf_class} when {v.condition}"


def path_text(model: Model, path: Sequence[Step]) -> str:
    """``a -> b -> c``; hooks are transparent, as in trees."""
    return " -> ".join(s.function for s in path if s.function not in model.hook_map)


def guarded_steps(model: Model, path: Sequence[Step]) -> list[tuple[Step, str]]:
    """The calls on ``path`` that have a guard, each with its caller."""
    out = []
    for prev, step in itertools.pairwise(path):
        if step.call is not None and step.call.guard != guards.TRUE:
            out.append((step, prev.function))
    return out


def example(model: Model, env: dict[str, str] | Any) -> str:
    """The options a user sets (prompts) that are y, then the runtime choices."""
    on = [o.name for o in model.options if o.prompt is not None and env[o.name] == "y"]
    rt = [f"{a.name}={env[a.name]}" for a in model.axes]
    return " ".join(on or ["(no option set)"]) + ("; " + " ".join(rt) if rt else "")


def _loc(loc: Location) -> dict[str, Any]:
    return {"file": loc.file, "line": loc.line, "col": loc.col}


def to_json(results: Sequence[CheckResult]) -> str:
    doc = []
    for r in results:
        m = r.model
        doc.append(
            {
                "model": m.name,
                "version": m.version,
                "policy": r.policy.name,
                "ok": r.ok,
                "violations": [
                    {
                        "entry": v.entry.function,
                        "role": v.entry.role,
                        "kind": v.kind,
                        "leaf_class": v.leaf_class,
                        "condition": v.condition,
                        "example": dict(v.witness),
                        "path": [s.function for s in v.path if s.function not in m.hook_map],
                        "guards": [
                            {
                                "caller": caller,
                                "callee": s.function,
                                "guard": guards.format_expr(s.call.guard),
                                "location": _loc(s.call.loc),
                                "source": s.call.file,
                            }
                            for s, caller in guarded_steps(m, v.path)
                            if s.call is not None
                        ],
                    }
                    for v in r.violations
                ],
                "waived": [
                    {
                        "entry": w.entry.function,
                        "leaf_class": w.leaf_class,
                        "condition": w.condition,
                        "reason": w.waiver.reason,
                        "waiver": _loc(w.waiver.loc),
                    }
                    for w in r.waived
                ],
                "stale_waivers": [{"reason": w.reason, "location": _loc(w.loc)} for w in r.stale],
            }
        )
    return json.dumps({"ptfree": __version__, "results": doc}, indent=2) + "\n"


def _physical(loc: Location) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(loc.line, 1)}
    if loc.col > 0:
        region["startColumn"] = loc.col
    return {"physicalLocation": {"artifactLocation": {"uri": loc.file}, "region": region}}


def _kernel(file: str) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": file, "uriBaseId": "KERNEL_SRC"}}}


def sarif(results: Sequence[CheckResult]) -> str:
    """One SARIF 2.1.0 log: a result per violation (and per stale waiver), the
    call path as a code flow through the model file's call lines, each step
    also pointing at the kernel source file it cites."""
    out: list[dict[str, Any]] = []
    for r in results:
        m = r.model
        for v in r.violations:
            rule, _ = RULES[v.kind]
            result: dict[str, Any] = {
                "ruleId": rule,
                "level": "error",
                "message": {"text": f"model {m.name}: {title(v)}"},
                "locations": [_physical(v.entry.loc)],
                "properties": {"model": m.name, "leafClass": v.leaf_class, "condition": v.condition},
            }
            steps = [s for s in v.path if s.function not in m.hook_map]
            if v.path:
                flow = []
                related = []
                for i, s in enumerate(steps):
                    loc = s.call.loc if s.call is not None else v.entry.loc
                    source = s.call.file if s.call is not None else m.function_map[s.function].file
                    where = _physical(loc)
                    where["message"] = {"text": s.function}
                    # The function as the kernel names it (in the file that
                    # defines it), and the kernel file of the call site.
                    defined = m.function_map[s.function].file
                    logical = {"name": s.function, "kind": "function", "fullyQualifiedName": f"{defined}:{s.function}"}
                    where["logicalLocations"] = [logical]
                    if source:
                        text = f"call to {s.function}" if s.call is not None else s.function
                        related.append({"id": i, **_kernel(source), "message": {"text": text}})
                    flow.append({"location": where})
                result["codeFlows"] = [{"threadFlows": [{"locations": flow}]}]
                result["relatedLocations"] = related
            out.append(result)
        for w in r.stale:
            out.append(
                {
                    "ruleId": RULES["stale"][0],
                    "level": "warning",
                    "message": {"text": f"model {m.name}: waiver allows nothing any more ({w.reason})"},
                    "locations": [_physical(w.loc)],
                }
            )
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ptfree",
                        "version": __version__,
                        "rules": [{"id": rid, "shortDescription": {"text": text}} for rid, text in RULES.values()],
                    }
                },
                "originalUriBaseIds": {
                    "KERNEL_SRC": {"description": {"text": "The root of the Linux source tree the model describes"}}
                },
                "results": out,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def junit(results: Sequence[CheckResult], cases: Sequence[Sequence[Case]]) -> str:
    """JUnit XML: a testsuite per model, a testcase per entry point ×
    combination class, failed when a violation happens in it."""
    suites = []
    total = failed = 0
    for r, model_cases in zip(results, cases, strict=True):
        m = r.model
        lines = []
        bad = 0
        for c in model_cases:
            values = " ".join(f"{n}={v}" for n, v in zip(c.columns, c.row.values, strict=True))
            name = f"{c.entry} [{values}]"
            lines.append(f"    <testcase classname={quoteattr('ptfree.' + m.name)} name={quoteattr(name)}>")
            if c.failures:
                bad += 1
                message = "; ".join(title(v) for v in c.failures)
                body = "\n".join(
                    f"{title(v)}\npath: {path_text(m, v.path)}" if v.path else title(v) for v in c.failures
                )
                lines.append(f'      <failure message={quoteattr(message)} type="ptfree">{_text(body)}</failure>')
            lines.append("    </testcase>")
        total += len(model_cases)
        failed += bad
        suites.append(
            f'  <testsuite name={quoteattr("ptfree check " + m.name)} tests="{len(model_cases)}" '
            f'failures="{bad}" errors="0" skipped="0">\n' + "\n".join(lines) + "\n  </testsuite>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="ptfree" tests="{total}" failures="{failed}">\n' + "\n".join(suites) + "\n</testsuites>\n"
    )


def _text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(results: Sequence[CheckResult]) -> str:
    """GitHub Actions workflow commands: an ``::error`` per violation at the
    entry's line in the model file, a ``::warning`` per stale waiver."""
    lines = []
    for r in results:
        m = r.model
        for v in r.violations:
            loc = v.entry.loc
            props = f"file={_escape_property(loc.file)},line={loc.line},col={loc.col},title=ptfree check {m.name}"
            msg = title(v) + (f" via {path_text(m, v.path)}" if v.path else "")
            lines.append(f"::error {props}::{_escape_data(msg)}")
        for w in r.stale:
            props = f"file={_escape_property(w.loc.file)},line={w.loc.line},col={w.loc.col},title=ptfree stale waiver"
            lines.append(f"::warning {props}::{_escape_data(f'model {m.name}: waiver allows nothing: {w.reason}')}")
    return "\n".join(lines) + ("\n" if lines else "")


def diff_json(d: ModelDiff) -> str:
    """A model diff as JSON, both sides' citations included."""

    def call(c: Call | None) -> dict[str, Any] | None:
        if c is None:
            return None
        return {
            "guard": guards.format_expr(c.guard),
            "defer": c.defer,
            "note": c.note,
            "source": c.file,
            "location": _loc(c.loc),
        }

    doc = {
        "old": {"model": d.old.name, "version": d.old.version},
        "new": {"model": d.new.name, "version": d.new.version},
        "columns": list(d.columns),
        "entries_added": list(d.entries_added),
        "entries_removed": list(d.entries_removed),
        "transitions": [
            {"entry": t.entry, "old": list(t.old), "new": list(t.new), "condition": t.condition} for t in d.transitions
        ],
        "calls": [{"caller": e.caller, "callee": e.callee, "old": call(e.old), "new": call(e.new)} for e in d.edges],
        "changes": [
            {
                "kind": c.kind,
                "name": c.name,
                "what": c.what,
                "detail": c.detail,
                "old": _loc(c.old) if c.old else None,
                "new": _loc(c.new) if c.new else None,
            }
            for c in d.changes
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def verify_json(v: Verification, root: str) -> str:
    """The differences of ``ptfree verify`` as JSON (tree paths relative to ``root``)."""
    doc = {
        "model": v.model.name,
        "source": root,
        "tree": v.source.tree,
        "ok": v.ok,
        "differences": [
            {
                "kind": d.kind,
                "subject": d.subject,
                "what": d.what,
                "model": str(d.model_loc) if d.model_loc else None,
                "source": d.source_at,
                "detail": d.detail,
            }
            for d in v.differences
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def extract_json(x: Extraction, root: str) -> str:
    """What ``ptfree extract --format json`` prints: the model text and what the walk saw."""
    doc = {
        "model": x.model.name,
        "source": root,
        "text": x.text,
        "files": x.files,
        "parsed": x.parsed,
        "unresolved": list(x.unresolved),
        "warnings": [{"location": str(loc), "message": m} for loc, m in x.warnings],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
