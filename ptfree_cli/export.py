"""Call-graph pictures: Graphviz DOT, Mermaid flowcharts, and SVG or PNG drawn by Graphviz's ``dot``.

Two views of a model.  The whole model (``values`` None): every function
and hook reachable from the chosen entries, every call edge labelled with
its guard as an ``#if`` line.  One configuration (``values`` given, as
:func:`ptfree_cli.kconfig.resolve` computes them, plus the runtime axes the
user fixed): only what :func:`ptfree_cli.graph.view` keeps, each edge
labelled with the runtime condition left open (``backend: xen_pv, kvm``).

Leaves are coloured by the classes the walks of :mod:`ptfree_cli.walk` give
them (a ``free`` leaf takes every class it ends in, from the path); a
function, hook or call that no valid configuration reaches (or takes) from
the entries is drawn grey, functions and hooks dashed.  Calls from one
caller to one callee with the same label and deferral are drawn as one
edge whose guard is their disjunction.
Output is deterministic: vertices in model order (functions, then hooks),
edges in source order, attributes in a fixed order.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ptfree_cli import conditions, graph, guards, walk
from ptfree_cli.errors import LookupFailed, PtfreeError
from ptfree_cli.guards import Expr
from ptfree_cli.model import LEAF_CLASSES, Model
from ptfree_cli.spaces import Explicit, runtime_envs

#: Image formats :func:`render_image` asks ``dot`` for.
IMAGE_FORMATS = ("svg", "png")
#: Seconds ``dot`` may take before it is given up on.
DOT_TIMEOUT = 60
MISSING_DOT = (
    "Graphviz's dot is not installed; install the graphviz package (apt install graphviz) "
    "to draw svg or png, or export DOT or Mermaid text, which need no Graphviz"
)

#: Leaf class -> (fill, border, text) colours.
LEAF_COLOURS: Mapping[str, tuple[str, str, str]] = {
    "rcu": ("#c8e6c9", "#2e7d32", "#000000"),
    "ipi_sync": ("#ffcc80", "#e65100", "#000000"),
    "tlb_batched": ("#ef9a9a", "#c62828", "#000000"),
    "direct": ("#8e0000", "#4a0000", "#ffffff"),
}
#: Stripe colours of a leaf that ends in several classes: light enough for black text.
STRIPE_COLOURS: Mapping[str, str] = {
    "rcu": "#c8e6c9",
    "ipi_sync": "#ffcc80",
    "tlb_batched": "#ef9a9a",
    "direct": "#e57373",
}
ENTRY_COLOURS = ("#bbdefb", "#0d47a1", "#000000")
UNREACHED_COLOUR = "#9e9e9e"
UNREACHED_NOTE = "no valid configuration reaches it"

#: How an edge's guard is printed; None when the edge needs no condition.
_LabelFn = Callable[[Expr], str | None]


@dataclass(frozen=True)
class Vertex:
    """A function or hook, with the lines printed under its name."""

    name: str
    hook: bool
    lines: tuple[str, ...]
    #: Leaf classes it ends in, safest first; empty for a non-leaf.
    classes: tuple[str, ...]
    entry: bool
    #: Some valid configuration reaches it from the entries.
    reached: bool


@dataclass(frozen=True)
class Arc:
    """One or more calls from ``source`` to ``target``, drawn as one edge."""

    source: str
    target: str
    lines: tuple[str, ...]
    #: The callee runs from an RCU callback (``call_rcu``).
    deferred: bool
    #: Some valid configuration takes it from the entries.
    reached: bool


@dataclass(frozen=True)
class Picture:
    """What both formats draw, in drawing order."""

    title: str
    comments: tuple[str, ...]
    vertices: tuple[Vertex, ...]
    arcs: tuple[Arc, ...]


def picture(
    model: Model,
    entries: Sequence[str] = (),
    values: Mapping[str, bool] | None = None,
    runtime: Mapping[str, str] | None = None,
) -> Picture:
    """The picture of ``model`` from ``entries`` (default: all of them).

    Without ``values``, the whole model; with them (every option's value),
    one configuration, ``runtime`` fixing some axes (``{"backend": "kvm"}``).
    """
    for name in entries:
        if name not in model.entry_map:
            raise LookupFailed(f"'{name}' is not an entry point of model {model.name}")
    chosen = [e.function for e in walk.select_entries(model, entries)]
    if values is None:
        if runtime:
            raise ValueError("runtime choices need option values")
        g = graph.build(model)
        trees = walk.all_configurations(model, chosen)
        title = f"{model.title}: every configuration"
        comments: tuple[str, ...] = (f"model {model.name}", f"entries: {', '.join(chosen)}")
    else:
        fixed = dict(runtime or {})
        env = {o.name: "y" if values[o.name] else "n" for o in model.options}
        env.update(fixed)
        g = graph.view(model, env)
        trees = walk.one_configuration(model, values, fixed, chosen)
        pinned = ", ".join(f"{a}={fixed[a]}" for a in (x.name for x in model.axes) if a in fixed)
        title = f"{model.title}: one configuration" + (f", {pinned}" if pinned else "")
        comments = (
            f"model {model.name}",
            f"entries: {', '.join(chosen)}",
            "config: " + " ".join(f"{o.name}={env[o.name]}" for o in model.options),
            "runtime: " + (pinned or "every available alternative"),
        )
    classes, reached, taken = _walked(g, trees)
    keep: set[str] = set()
    for name in chosen:
        if name in g:
            keep.update(graph.reachable(g, name))
    order = [f.name for f in model.functions] + [h.name for h in model.hooks]
    names = [n for n in order if n in keep]
    vertices = tuple(_vertex(model, n, values is None, classes, reached, set(chosen)) for n in names)
    label = _whole_label(model) if values is None else _runtime_label(model, values, runtime or {})
    arcs = tuple(a for n in names for a in _arcs(g, n, label, taken))
    return Picture(title, comments, vertices, arcs)


def dot(
    model: Model,
    entries: Sequence[str] = (),
    values: Mapping[str, bool] | None = None,
    runtime: Mapping[str, str] | None = None,
) -> str:
    """The picture (see :func:`picture`) as a Graphviz ``digraph``."""
    return _dot(picture(model, entries, values, runtime))


def mermaid(
    model: Model,
    entries: Sequence[str] = (),
    values: Mapping[str, bool] | None = None,
    runtime: Mapping[str, str] | None = None,
) -> str:
    """The picture (see :func:`picture`) as a Mermaid ``flowchart TD``."""
    return _mermaid(picture(model, entries, values, runtime))


def render_image(dot_text: str, fmt: str) -> bytes:
    """``dot_text`` drawn by Graphviz's ``dot`` as ``svg`` or ``png``.

    Raises :class:`PtfreeError` when ``dot`` is not installed, fails or
    takes longer than :data:`DOT_TIMEOUT` seconds.
    """
    if fmt not in IMAGE_FORMATS:
        raise PtfreeError(f"cannot draw '{fmt}': the image formats are {', '.join(IMAGE_FORMATS)}")
    program = shutil.which("dot")
    if program is None:
        raise PtfreeError(MISSING_DOT)
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=dot_text.encode(),
            capture_output=True,
            check=False,
            timeout=DOT_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise PtfreeError(f"Graphviz's dot did not finish within {DOT_TIMEOUT} s") from exc
    except OSError as exc:
        raise PtfreeError(f"Graphviz's dot could not be run: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        first = lines[0].strip() if lines else "no message"
        raise PtfreeError(f"Graphviz's dot failed (exit {done.returncode}): {first}")
    return done.stdout


# --- what to draw ---------------------------------------------------------


def _walked(
    g: graph.Graph, trees: Sequence[walk.EntryTree]
) -> tuple[dict[str, set[str]], set[str], set[tuple[str, str]]]:
    """Leaf classes per function, and the functions, hooks and edges the walks take."""
    classes: dict[str, set[str]] = {}
    reached: set[str] = set()
    taken: set[tuple[str, str]] = set()

    def visit(node: walk.Node) -> None:
        reached.add(node.function)
        if node.leaf:
            classes.setdefault(node.function, set()).update(node.leaf)
        for child in node.children:
            if child.via is None or g.has_edge(node.function, child.function):
                # A child reached both directly and through a hook keeps only
                # the hook's name: the direct edge counts as taken too.
                taken.add((node.function, child.function))
            if child.via is not None:
                reached.add(child.via)
                taken.update({(node.function, child.via), (child.via, child.function)})
            visit(child)

    for t in trees:
        if t.root is not None:
            visit(t.root)
    return classes, reached, taken


def _vertex(
    model: Model, name: str, whole: bool, classes: Mapping[str, set[str]], reached: set[str], entries: set[str]
) -> Vertex:
    hook = model.hook_map.get(name)
    lines: list[str] = []
    if hook is not None:
        if whole and hook.guard != guards.TRUE:
            lines.append(_if(model, hook.guard))
        if name not in reached:
            lines.append(UNREACHED_NOTE)
        return Vertex(name, True, tuple(lines), (), name in entries, name in reached)
    fn = model.function_map[name]
    if whole and fn.guard != guards.TRUE:
        lines.append(_if(model, fn.guard))
    if fn.ipi:
        lines.append("IPI broadcast, waits")
    if fn.rcu_sync:
        lines.append("waits for a grace period")
    got: tuple[str, ...] = ()
    if fn.leaf is not None:
        got = tuple(c for c in LEAF_CLASSES if c in classes.get(name, set()))
        if not got and fn.leaf != "free":
            got = (fn.leaf,)
        lines.append(f"leaf: {' or '.join(got) if got else fn.leaf}")
    if name not in reached:
        lines.append(UNREACHED_NOTE)
        got = ()
    return Vertex(name, False, tuple(lines), got, name in entries, name in reached)


def _if(model: Model, expr: Expr) -> str:
    return "#if " + guards.format_c(expr, model.is_option)


def _whole_label(model: Model) -> _LabelFn:
    def label(expr: Expr) -> str | None:
        return None if expr == guards.TRUE else _if(model, expr)

    return label


def _runtime_label(model: Model, values: Mapping[str, bool], runtime: Mapping[str, str]) -> _LabelFn:
    space = Explicit(model, runtime_envs(model, values, runtime))

    def label(expr: Expr) -> str | None:
        cond = conditions.judge(space, expr, space.top)
        return None if cond.always else conditions.describe_runtime(model, cond)

    return label


def _arcs(g: graph.Graph, name: str, label: _LabelFn, taken: set[tuple[str, str]]) -> Iterator[Arc]:
    """The edges out of ``name`` in ``g``, calls with one target, label and
    deferral merged at the position of the first."""
    merged: dict[tuple[str, str | None, bool], Expr] = {}
    for call in graph.calls(g, name):
        key = (call.target, call.label, call.defer == "rcu")
        merged[key] = guards.disj(merged[key], call.guard) if key in merged else call.guard
    for (target, group, deferred), guard in merged.items():
        lines = [text for text in (label(guard),) if text is not None]
        if group is not None:
            lines.append(f"[{group}]")
        if deferred:
            lines.append("call_rcu")
        yield Arc(name, target, tuple(lines), deferred, (name, target) in taken)


# --- Graphviz DOT ----------------------------------------------------------


def _q(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_label(lines: Sequence[str]) -> str:
    """Lines joined by DOT's ``\\n`` escape, each line's own text kept literal."""
    return '"' + "\\n".join(_q(x)[1:-1] for x in lines) + '"'


def _dot_attrs(pairs: Sequence[tuple[str, str]]) -> str:
    """``[k="v", ...]``; values are already quoted."""
    return "[" + ", ".join(f"{k}={v}" for k, v in pairs) + "]"


def _vertex_attrs(v: Vertex) -> list[tuple[str, str]]:
    style = [] if v.hook or v.classes else ["rounded"]
    fill = border = text = width = None
    if v.entry:
        fill, border, text = ENTRY_COLOURS
        style += ["filled", "bold"]
        width = "2"
    if v.classes:
        # Several classes: one stripe each, safest first; the border is the least safe's.
        fill, border, text = LEAF_COLOURS[v.classes[-1]]
        style.append("filled")
        if len(v.classes) > 1:
            fill = ":".join(STRIPE_COLOURS[c] for c in v.classes)
            text = "#000000"
            style[-1] = "striped"
    if not v.reached:
        border = text = UNREACHED_COLOUR
        style += ["dashed"]
    out = [("label", _dot_label((v.name, *v.lines)))]
    if v.hook:
        out.append(("shape", _q("diamond")))
    if style:
        out.append(("style", _q(",".join(style))))
    for key, value in (("fillcolor", fill), ("color", border), ("fontcolor", text), ("penwidth", width)):
        if value is not None:
            out.append((key, _q(value)))
    return out


def _arc_attrs(a: Arc) -> list[tuple[str, str]]:
    out = [("label", _dot_label(a.lines))] if a.lines else []
    if a.deferred:
        out.append(("style", _q("dashed")))
    if not a.reached:
        out += [("color", _q(UNREACHED_COLOUR)), ("fontcolor", _q(UNREACHED_COLOUR))]
    return out


def _dot(p: Picture) -> str:
    font = ("fontname", _q("Helvetica"))
    lines = [f"// {c}" for c in p.comments]
    lines.append("digraph ptfree {")
    lines.append(f"  graph {_dot_attrs([('label', _q(p.title)), ('labelloc', _q('t')), font])};")
    lines.append(f"  node {_dot_attrs([font, ('fontsize', _q('11')), ('shape', _q('box'))])};")
    lines.append(f"  edge {_dot_attrs([font, ('fontsize', _q('9'))])};")
    for v in p.vertices:
        lines.append(f"  {_q(v.name)} {_dot_attrs(_vertex_attrs(v))};")
    for a in p.arcs:
        attrs = _arc_attrs(a)
        lines.append(f"  {_q(a.source)} -> {_q(a.target)}" + (f" {_dot_attrs(attrs)}" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- Mermaid ---------------------------------------------------------------

#: Characters Mermaid reads as syntax inside a label, as its entity codes.
_MERMAID_ESCAPES = {c: f"#{ord(c)};" for c in '#"|<>&`'}


def _m(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in text)


def _mermaid_label(lines: Sequence[str]) -> str:
    return '"' + "<br/>".join(_m(x) for x in lines) + '"'


def _mermaid(p: Picture) -> str:
    ids = {v.name: f"n{i}" for i, v in enumerate(p.vertices)}
    out = ["---", f"title: {json.dumps(p.title)}", "---", "flowchart TD"]
    out += [f"  %% {c}" for c in p.comments]
    for v in p.vertices:
        label = _mermaid_label((v.name, *v.lines))
        out.append(f"  {ids[v.name]}{{{label}}}" if v.hook else f"  {ids[v.name]}[{label}]")
    grey: list[str] = []
    for i, a in enumerate(p.arcs):
        arrow = "-.->" if a.deferred else "-->"
        label = f"|{_mermaid_label(a.lines)}|" if a.lines else ""
        out.append(f"  {ids[a.source]} {arrow}{label} {ids[a.target]}")
        if not a.reached:
            grey.append(str(i))
    fill, border, text = ENTRY_COLOURS
    out.append(f"  classDef entry fill:{fill},stroke:{border},stroke-width:3px,color:{text}")
    for cls, (fill, border, text) in LEAF_COLOURS.items():
        out.append(f"  classDef {cls} fill:{fill},stroke:{border},color:{text}")
    g = UNREACHED_COLOUR
    out.append(f"  classDef unreached fill:#ffffff,stroke:{g},stroke-dasharray:5 5,color:{g}")
    for v in p.vertices:
        if v.entry:
            out.append(f"  class {ids[v.name]} entry")
        if v.classes:
            # One class per node in Mermaid: the least safe; the label lists them all.
            out.append(f"  class {ids[v.name]} {v.classes[-1]}")
        if not v.reached:
            out.append(f"  class {ids[v.name]} unreached")
    if grey:
        out.append(f"  linkStyle {','.join(grey)} stroke:{g},color:{g}")
    return "\n".join(out) + "\n"
