"""One self-contained HTML page per run of ``ptfree report``.

For each model: a summary, the check verdict under a policy, the matrix,
the all-configurations trees and the call graph as inline SVG.  Inline CSS
only: no script, no external URL, so that the page can be archived as a CI
artifact and opened anywhere.  Every piece of model text goes through
:func:`html.escape`; the page is deterministic (no timestamps).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from ptfree_cli import check as checking
from ptfree_cli import render, reports, walk
from ptfree_cli.check import CheckResult, Matrix
from ptfree_cli.model import Model
from ptfree_cli.policy import Policy

NO_DOT = "Graphviz's dot is not installed: no picture"

_CSS = """\
body { font-family: sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.6em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
#verdict { display: inline-block; padding: 0.1em 0.6em; border-radius: 0.3em; font-weight: bold; }
.ok { background: #d8f3dc; color: #1b4332; }
.fail { background: #ffd6d6; color: #8b0000; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; font-family: monospace; }
tr.unsafe td { background: #ffe5b4; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
.graph svg { max-width: 100%; height: auto; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _passed(r: CheckResult) -> bool:
    return r.ok and not r.stale


def _summary(m: Model) -> list[str]:
    rows = [
        ("name", m.name),
        ("title", m.title),
        ("version", m.version),
        ("options", str(len(m.options))),
        ("functions", str(len(m.functions))),
        ("entries", str(len(m.entries))),
    ]
    out = ['<table class="summary">']
    out += [f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows]
    out.append("</table>")
    if m.commits:
        out.append("<h4>Commits</h4>")
        out.append("<ul>")
        out += [f"<li><code>{_e(c.id)}</code> {_e(c.subject)}</li>" for c in m.commits]
        out.append("</ul>")
    return out


def _verdict(r: CheckResult) -> list[str]:
    ok = _passed(r)
    mark = "ok" if ok else "fail"
    out = [f'<p>Policy {_e(r.policy.name)}: <span class="{mark}">{"ok" if ok else "FAIL"}</span></p>']
    if r.violations:
        out.append('<table class="violations">')
        out.append("<tr><th>entry</th><th>kind</th><th>class</th><th>condition</th><th>path</th></tr>")
        for v in r.violations:
            cells = (v.entry.function, v.kind, v.leaf_class, v.condition, reports.path_text(r.model, v.path))
            out.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
        out.append("</table>")
    if r.stale:
        out.append("<ul>")
        out += [f"<li>{_e(s.loc)}: stale waiver: allows {_e(s.allow)} ({_e(s.reason)})</li>" for s in r.stale]
        out.append("</ul>")
    return out


def _matrix(t: Matrix) -> list[str]:
    header, rows = render.matrix_rows(t)
    out = ['<table class="matrix">', "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>"]
    for row, cells in zip(t.rows, rows, strict=True):
        cls = "" if row.safe else ' class="unsafe"'
        out.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return out


def _svg(text: str) -> str:
    """The ``<svg>`` element alone: Graphviz's XML declaration, DOCTYPE and
    comments before it do not belong inside HTML."""
    start = text.find("<svg")
    return text[start:].strip() if start >= 0 else ""


def report(models: Sequence[Model], policy: Policy, graph_svg: Callable[[Model], str | None]) -> str:
    """The page for ``models`` checked against ``policy``; ``graph_svg``
    draws a model's call graph as SVG, or returns None when it cannot."""
    results = [checking.check(m, policy) for m in models]
    overall = "ok" if all(_passed(r) for r in results) else "FAIL"
    body: list[str] = [
        "<h1>ptfree report</h1>",
        f'<p>Verdict: <span id="verdict" class="{"ok" if overall == "ok" else "fail"}">{overall}</span>'
        f" (policy {_e(policy.name)}, {len(results)} model{'s' * (len(results) != 1)})</p>",
    ]
    for i, r in enumerate(results):
        m = r.model
        body.append(f'<section id="model-{i}">')
        body.append(f"<h2>{_e(m.name)}: {_e(m.title)}</h2>")
        body += _summary(m)
        body.append("<h3>Check</h3>")
        body += _verdict(r)
        body.append("<h3>Matrix</h3>")
        body.append("<p>Highlighted rows reach a leaf other than rcu.</p>")
        body += _matrix(checking.matrix(m))
        body.append("<h3>All configurations</h3>")
        body.append(f"<pre>{_e(render.plain(walk.all_configurations(m)))}</pre>")
        body.append("<h3>Call graph</h3>")
        svg = graph_svg(m)
        body.append(f'<div class="graph">{_svg(svg)}</div>' if svg is not None else f"<p>{_e(NO_DOT)}</p>")
        body.append("</section>")
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>ptfree report: {overall}</title>",
        f"<style>\n{_CSS}</style>",
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, "</body>", "</html>"]) + "\n"
