"""The ``ptfree`` command line: the only module that imports click, and the only one that exits.

Heavy modules (yaml, networkx, rich) are imported inside the commands that
need them, so ``ptfree --help`` and shell completion stay fast.

Exit codes: 0 ok; 1 a check failed; 2 bad input or usage.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ptfree_cli import __version__
from ptfree_cli.errors import PtfreeError

if TYPE_CHECKING:
    from ptfree_cli.kconfig import Resolution
    from ptfree_cli.model import Model

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _report(exc: PtfreeError) -> None:
    text = f"{exc.key}: {exc.message}" if exc.key else exc.message
    where = str(exc.location) if exc.location else "ptfree"
    click.echo(f"{where}: error: {text}", err=True)


def _handles_errors(fn: F) -> F:
    """Turn a :class:`PtfreeError` into one located line on stderr and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PtfreeError as exc:
            _report(exc)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper  # type: ignore[return-value]


def _complete_models(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from ptfree_cli.models import SHIPPED

    return [n for n in SHIPPED if n.startswith(incomplete)]


def _model_path(ctx: click.Context) -> Path | None:
    from ptfree_cli.errors import LookupFailed
    from ptfree_cli.models import locate

    name = ctx.params.get("model_name")
    if isinstance(name, tuple):
        name = name[0] if name else None
    try:
        return locate(name)
    except LookupFailed:
        return None


def _complete_entries(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from ptfree_cli.models import quick_keys

    path = _model_path(ctx)
    return [n for n in quick_keys(path, "entries") if n.startswith(incomplete)] if path else []


def _complete_config(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Option names after a comma (NAME=), a file name otherwise."""
    from click.shell_completion import CompletionItem

    from ptfree_cli.models import quick_keys

    if "=" not in incomplete and "," not in incomplete and incomplete[:1] in ("", ".", "/", "~"):
        return [CompletionItem(incomplete, type="file")]
    path = _model_path(ctx)
    head, _, last = incomplete.rpartition(",")
    prefix = f"{head}," if head else ""
    if "=" in last:
        name = last.split("=", 1)[0]
        return [f"{prefix}{name}={v}" for v in ("y", "n")]
    names = quick_keys(path, "options") if path else []
    return [f"{prefix}{n}=" for n in names if n.startswith(last.removeprefix("CONFIG_"))]


def _model_option(fn: F) -> F:
    return click.option(
        "--model",
        "-m",
        "model_name",
        metavar="NAME|FILE",
        shell_complete=_complete_models,
        help="A shipped model (see `ptfree models`) or a model file. Default: the newest shipped model.",
    )(fn)


def _configuration_options(config_help: str) -> Callable[[F], F]:
    """--config, --backend, --batch and --runtime, as path, explain and graph
    take them (read by :func:`_configuration`)."""

    def apply(fn: F) -> F:
        fn = click.option(
            "--runtime", "runtime_items", multiple=True, metavar="AXIS=ALT", help="Fix any runtime axis (repeatable)."
        )(fn)
        fn = click.option("--batch", metavar="fast|slow", help="Fix the mmu_gather batch path.")(fn)
        fn = click.option("--backend", metavar="NAME", help="Fix the paravirt backend (native, xen_pv, hyperv, kvm).")(
            fn
        )
        return click.option(
            "--config", "-c", "config_text", metavar="FILE|LIST", shell_complete=_complete_config, help=config_help
        )(fn)

    return apply


def _format_option(fn: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["rich", "plain", "json"]),
        default=None,
        help="Output format. Default: rich on a terminal, plain when piped or when NO_COLOR is set.",
    )(fn)


def _entry_option(fn: F) -> F:
    return click.option(
        "--entry",
        "-e",
        "entries",
        multiple=True,
        metavar="FUNCTION",
        shell_complete=_complete_entries,
        help="Start from this entry point only (repeatable). Default: every entry point of the model.",
    )(fn)


def _pick_format(fmt: str | None) -> str:
    """rich on a colour terminal, plain otherwise; --color decides first,
    then NO_COLOR, FORCE_COLOR, TERM=dumb and whether stdout is a terminal."""
    if fmt is not None:
        return fmt
    color = (click.get_current_context(silent=True) or click.Context(main)).find_root().params.get("color", "auto")
    if color != "auto":
        return "rich" if color == "always" else "plain"
    if os.environ.get("NO_COLOR"):
        return "plain"
    if os.environ.get("FORCE_COLOR"):
        return "rich"
    if os.environ.get("TERM") == "dumb" or not sys.stdout.isatty():
        return "plain"
    return "rich"


def _load(model_name: str | None) -> Model:
    from ptfree_cli.loader import load_model
    from ptfree_cli.models import locate

    return load_model(locate(model_name))


def _check_entries(model: Model, entries: tuple[str, ...]) -> None:
    from ptfree_cli.errors import LookupFailed
    from ptfree_cli.loader import suggest

    for e in entries:
        if e not in model.entry_map:
            known = sorted(model.entry_map)
            hint = suggest(e, known) or f"; entry points: {', '.join(known)}"
            raise LookupFailed(f"'{e}' is not an entry point of model {model.name}{hint}")


def _warn(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ptfree")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour and rich layout: auto follows the terminal, NO_COLOR, FORCE_COLOR and TERM=dumb.",
)
def main(color: str) -> None:
    """Which function frees a page-table page on x86-64, for each kernel configuration.

    Exit codes: 0 ok, 1 a check failed, 2 bad input or usage.
    """
    if color == "always":
        # rich reads FORCE_COLOR when it builds a console: colour even when
        # the output is a pipe (a pager that shows colour, say).
        os.environ["FORCE_COLOR"] = "1"
        os.environ.pop("NO_COLOR", None)


@main.command()
@_format_option
@_handles_errors
def models(fmt: str | None) -> None:
    """List the shipped models, oldest kernel first."""
    from ptfree_cli import render
    from ptfree_cli.loader import load_model
    from ptfree_cli.models import default_name, shipped

    rows: list[dict[str, Any]] = []
    for name, path in shipped():
        m = load_model(path)
        rows.append({"name": name, "version": m.version, "title": m.title, "default": name == default_name()})
    if _pick_format(fmt) == "json":
        click.echo(render.dumps({"models": rows}), nl=False)
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        mark = " (default)" if r["default"] else ""
        click.echo(f"{r['name']:<{width}}  {r['title']}{mark}")


@main.command()
@_model_option
@_configuration_options(
    "A kernel .config file, or an inline list such as PARAVIRT=n,PT_RECLAIM=y "
    "(CONFIG_ prefix optional). Options left out take their Kconfig defaults."
)
@_entry_option
@_format_option
@_handles_errors
def path(
    model_name: str | None,
    config_text: str | None,
    backend: str | None,
    batch: str | None,
    runtime_items: tuple[str, ...],
    entries: tuple[str, ...],
    fmt: str | None,
) -> None:
    """The concrete path from each entry point under one configuration.

    Runtime choices left open show as labelled branches; every leaf says how
    the page is freed (rcu, ipi_sync, tlb_batched, direct).
    """
    from ptfree_cli import render, walk

    model = _load(model_name)
    _check_entries(model, entries)
    res, runtime = _configuration(model, config_text, backend, batch, runtime_items)
    trees = walk.one_configuration(model, res.values, runtime, entries)
    out = _pick_format(fmt)
    if out == "json":
        meta = {
            "model": model.name,
            "version": model.version,
            "config": {o.name: "y" if res.values[o.name] else "n" for o in model.options},
            "runtime": runtime,
        }
        click.echo(render.trees_json(meta, trees), nl=False)
    elif out == "rich":
        render.rich_trees(trees, sys.stdout)
    else:
        click.echo(render.plain(trees), nl=False)


def _configuration(
    model: Model, config_text: str | None, backend: str | None, batch: str | None, runtime_items: tuple[str, ...]
) -> tuple[Resolution, dict[str, str]]:
    """The configuration the options of path, explain and graph describe:
    Kconfig's values for --config (warnings printed) and the runtime choices
    fixed by --backend, --batch and --runtime."""
    from ptfree_cli import config, kconfig

    user = config.read(model, config_text) if config_text else config.UserConfig({}, {}, "")
    res = kconfig.resolve(model, user.values, user.origins)
    for w in res.warnings:
        _warn(w)
    wanted: list[tuple[str, str, str]] = [("backend", backend, "--backend")] if backend else []
    wanted += [("batch", batch, "--batch")] if batch else []
    for item in runtime_items:
        axis, _, alt = item.partition("=")
        wanted.append((axis.strip(), alt.strip(), "--runtime"))
    return res, _runtime_choices(model, res.env(), wanted)


def _runtime_choices(model: Model, env: dict[str, str], wanted: list[tuple[str, str, str]]) -> dict[str, str]:
    from ptfree_cli import guards
    from ptfree_cli.errors import LookupFailed

    out: dict[str, str] = {}
    for axis_name, alt_name, flag in wanted:
        axis = model.axis_map.get(axis_name)
        if axis is None:
            _warn(
                f"warning: model {model.name} has no runtime axis '{axis_name}' "
                f"(nothing on its path depends on it); {flag} ignored"
            )
            continue
        alt = axis.alternative(alt_name)
        if alt is None:
            known = ", ".join(a.name for a in axis.alternatives)
            raise LookupFailed(f"{flag}: '{alt_name}' is not an alternative of {axis_name} ({known})")
        if not guards.evaluate(alt.available, env):
            raise LookupFailed(
                f"{flag}: {axis_name}={alt_name} is not available in this configuration: "
                f"it needs {guards.format_expr(alt.available)}"
            )
        out[axis_name] = alt_name
    return out


@main.command()
@_model_option
@_entry_option
@_format_option
@_handles_errors
def tree(model_name: str | None, entries: tuple[str, ...], fmt: str | None) -> None:
    """The all-configurations tree from each entry point, ready to paste in a mail.

    Each branch carries the condition under which it is taken, minimised over
    the valid configurations and written as a reviewer would
    (`!CONFIG_PARAVIRT, Xen PV`); a subtree printed before is `[see above]`.
    """
    from ptfree_cli import render, walk

    model = _load(model_name)
    _check_entries(model, entries)
    trees = walk.all_configurations(model, entries)
    out = _pick_format(fmt)
    if out == "json":
        click.echo(render.trees_json({"model": model.name, "version": model.version}, trees), nl=False)
    elif out == "rich":
        render.rich_trees(trees, sys.stdout)
    else:
        click.echo(render.plain(trees), nl=False)


def _models_option(fn: F) -> F:
    return click.option(
        "--model",
        "-m",
        "model_names",
        multiple=True,
        metavar="NAME|FILE",
        shell_complete=_complete_models,
        help="A shipped model or a model file (repeatable). Default: the newest shipped model.",
    )(fn)


def _policy_option(fn: F) -> F:
    return click.option(
        "--policy",
        "-p",
        "policy_name",
        default="default",
        show_default=True,
        metavar="NAME|FILE",
        help="A shipped policy (default, teardown-may-batch) or a policy file.",
    )(fn)


def _load_many(names: tuple[str, ...], every: bool) -> list[Model]:
    from ptfree_cli.models import shipped

    if every:
        names = tuple(n for n, _ in shipped())
    return [_load(n) for n in names] if names else [_load(None)]


@main.command()
@click.argument("model_files", nargs=-1, metavar="[MODEL...]", shell_complete=_complete_models)
@_models_option
@click.option("--all-models", "every", is_flag=True, help="Check every shipped model.")
@_policy_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "junit", "github"]),
    default="text",
    show_default=True,
    help="Report format; text is coloured on a terminal.",
)
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE instead of standard output.")
@click.option(
    "--emit-config",
    "emit_dir",
    metavar="DIR",
    help="Write, per violation, a .config fragment that reproduces it into DIR.",
)
@click.option("--force", is_flag=True, help="Replace files that --output or --emit-config would overwrite.")
@_handles_errors
def check(
    model_files: tuple[str, ...],
    model_names: tuple[str, ...],
    every: bool,
    policy_name: str,
    fmt: str,
    output: str | None,
    emit_dir: str | None,
    force: bool,
) -> None:
    """Fail unless every valid configuration frees page tables as the policy allows.

    MODEL... and --model name shipped models or model files (default: the
    newest shipped model).  The default policy: from every entry point, in every valid combination of
    options and runtime choices, every leaf is rcu. Each violation is shown
    as the smallest condition under which it happens, an example
    configuration, and the call path with the model locations of its guards.
    Stale waivers (that allow nothing any more) fail the check too.

    Exit codes: 0 ok, 1 a violation or a stale waiver, 2 bad input.
    """
    from pathlib import Path

    from ptfree_cli import check as checking
    from ptfree_cli import files, policy, render, reports
    from ptfree_cli.loader import load_policy
    from ptfree_cli.models import locate_policy

    models = _load_many(model_files + model_names, every)
    policy_file = locate_policy(policy_name)
    rules = load_policy(policy_file) if policy_file is not None else policy.DEFAULT
    results = [checking.check(m, rules) for m in models]
    if fmt == "json":
        text = reports.to_json(results)
    elif fmt == "sarif":
        text = reports.sarif(results)
    elif fmt == "junit":
        text = reports.junit(results, [checking.cases(r, checking.matrix(r.model)) for r in results])
    elif fmt == "github":
        text = reports.github(results)
    else:
        text = render.check_text(results)
    writes: list[tuple[Path, str]] = []
    if emit_dir is not None:
        directory = Path(emit_dir)
        for r in results:
            for v in r.violations:
                name = files.safe_name(r.model.name, v.entry.function, v.kind, v.leaf_class) + ".config"
                writes.append((files.inside(directory, name), checking.fragment(r.model, v)))
    if output is not None:
        writes.append((Path(output), text))
    # Refuse before writing anything, so that a refusal leaves no half-done set.
    for target, _ in writes:
        files.may_write(target, force)
    if emit_dir is not None:
        Path(emit_dir).mkdir(parents=True, exist_ok=True)
    for target, content in writes:
        files.write_atomic(target, content, force=force)
    if output is None:
        if fmt == "text" and _pick_format(None) == "rich":
            render.check_rich(results, sys.stdout)
        else:
            click.echo(text, nl=False)
    if not all(r.ok and not r.stale for r in results):
        sys.exit(EXIT_FAILED)


@main.command()
@click.option("--html", "html_file", required=True, metavar="FILE", help="Write the HTML page to FILE.")
@_models_option
@click.option("--all-models", "every", is_flag=True, help="Report on every shipped model.")
@_policy_option
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@_handles_errors
def report(html_file: str, model_names: tuple[str, ...], every: bool, policy_name: str, force: bool) -> None:
    """One self-contained HTML page: summary, check verdict, matrix, trees and graph per model.

    Exits 0 once the page is written, whatever the verdict: `ptfree check` is the gate.
    """
    from pathlib import Path

    from ptfree_cli import export, files, html, policy
    from ptfree_cli.loader import load_policy
    from ptfree_cli.models import locate_policy

    target = Path(html_file)
    files.may_write(target, force)
    models = _load_many(model_names, every)
    policy_file = locate_policy(policy_name)
    rules = load_policy(policy_file) if policy_file is not None else policy.DEFAULT

    def graph_svg(model: Model) -> str | None:
        try:
            return export.render_image(export.dot(model), "svg").decode("utf-8")
        except PtfreeError:
            return None

    files.write_atomic(target, html.report(models, rules, graph_svg), force=force)


@main.command()
@_models_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["rich", "plain", "json", "csv"]),
    default=None,
    help="Output format. Default: rich on a terminal, plain when piped or when NO_COLOR is set.",
)
@_handles_errors
def matrix(model_names: tuple[str, ...], fmt: str | None) -> None:
    """Every valid combination class and the leaf classes each entry point reaches.

    One row per valid combination of the options and runtime choices that
    change some path; rows where a leaf is not rcu are marked with '!'.
    """
    from ptfree_cli import check as checking
    from ptfree_cli import render

    tables = [checking.matrix(m) for m in _load_many(model_names, False)]
    out = fmt or _pick_format(None)
    if out == "json":
        click.echo(render.matrix_json(tables), nl=False)
        return
    for i, t in enumerate(tables):
        if out == "csv":
            click.echo(render.matrix_csv(t), nl=False)
        elif out == "rich":
            render.matrix_rich(t, sys.stdout)
        else:
            if len(tables) > 1:
                click.echo(("\n" if i else "") + f"model {t.model.name}")
            click.echo(render.matrix_plain(t), nl=False)


@main.command()
@click.argument("old", metavar="OLD", shell_complete=_complete_models)
@click.argument("new", metavar="NEW", shell_complete=_complete_models)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["plain", "markdown", "json"]),
    default="plain",
    show_default=True,
    help="plain: ASCII, at most 80 columns, for a mail; markdown: for a review comment.",
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when the models differ, as git diff --exit-code does.")
@_handles_errors
def diff(old: str, new: str, fmt: str, exit_code: bool) -> None:
    """What NEW changes relative to OLD (shipped model names or files).

    First the behaviour: per entry point, the combinations of options and
    runtime choices whose leaf classes change (or whose IPI appears or goes),
    as the smallest condition. Then the structure: calls, functions, hooks
    and Kconfig options added, removed or re-guarded, with the model
    locations of both sides.
    """
    from ptfree_cli import diff as diffing
    from ptfree_cli import render, reports

    result = diffing.diff(_load(old), _load(new))
    if fmt == "json":
        click.echo(reports.diff_json(result), nl=False)
    elif fmt == "markdown":
        click.echo(render.diff_markdown(result), nl=False)
    else:
        click.echo(render.diff_plain(result), nl=False)
    if exit_code and not result.empty:
        sys.exit(EXIT_FAILED)


@main.command()
@_model_option
@_configuration_options("A kernel .config file or an inline list (as for path).")
@_entry_option
@click.option("--format", "fmt", type=click.Choice(["plain", "json"]), default="plain", show_default=True)
@click.argument("target", metavar="TARGET")
@_handles_errors
def explain(
    model_name: str | None,
    config_text: str | None,
    backend: str | None,
    batch: str | None,
    runtime_items: tuple[str, ...],
    entries: tuple[str, ...],
    fmt: str,
    target: str,
) -> None:
    """Why a configuration reaches TARGET (a function or a leaf class), or not.

    Shows each call path from the entry points to TARGET: the guards of a
    path that is taken and the option values that make them hold, or the
    first guard that blocks a path; then Kconfig's reasons for those option
    values (set, default, selected by, unmet dependency).
    """
    from ptfree_cli import explain as explaining
    from ptfree_cli import render
    from ptfree_cli.errors import LookupFailed
    from ptfree_cli.loader import suggest
    from ptfree_cli.model import LEAF_CLASSES

    model = _load(model_name)
    _check_entries(model, entries)
    if target not in LEAF_CLASSES and target not in model.function_map:
        pool = sorted(model.function_map) + list(LEAF_CLASSES)
        raise LookupFailed(
            f"'{target}' is neither a function of model {model.name} nor a leaf class{suggest(target, pool)}"
        )
    res, runtime = _configuration(model, config_text, backend, batch, runtime_items)
    result = explaining.explain(model, res.values, runtime, target, entries, res)
    click.echo(render.explain_json(result) if fmt == "json" else render.explain_plain(result), nl=False)


@main.command()
@_model_option
@_configuration_options("Draw only what this configuration reaches (a .config file or an inline list).")
@_entry_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["dot", "mermaid", "svg", "png"]),
    default="dot",
    show_default=True,
    help="dot and mermaid are text; svg and png need Graphviz's dot.",
)
@click.option("--output", "-o", metavar="FILE", help="Write to FILE (required for png).")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@_handles_errors
def graph(
    model_name: str | None,
    config_text: str | None,
    backend: str | None,
    batch: str | None,
    runtime_items: tuple[str, ...],
    entries: tuple[str, ...],
    fmt: str,
    output: str | None,
    force: bool,
) -> None:
    """The call graph for a design discussion: DOT, Mermaid, SVG or PNG.

    Edges carry their guards (#if syntax), leaves are coloured by class.
    With --config (and runtime choices) only what that configuration
    reaches is drawn, each edge labelled with the runtime condition left.
    """
    from pathlib import Path

    from ptfree_cli import export, files
    from ptfree_cli.errors import LookupFailed

    model = _load(model_name)
    _check_entries(model, entries)
    values = None
    runtime: dict[str, str] = {}
    if config_text is not None or backend or batch or runtime_items:
        res, runtime = _configuration(model, config_text, backend, batch, runtime_items)
        values = dict(res.values)
    if fmt == "png" and output is None:
        raise LookupFailed("--format png writes binary data: give --output FILE")
    text = (
        export.mermaid(model, entries, values, runtime if values is not None else None)
        if fmt == "mermaid"
        else export.dot(model, entries, values, runtime if values is not None else None)
    )
    if fmt in ("svg", "png"):
        data = export.render_image(text, fmt)
        if output is None:
            click.echo(data.decode("utf-8"), nl=False)
        else:
            files.write_atomic_bytes(Path(output), data, force=force)
        return
    if output is None:
        click.echo(text, nl=False)
    else:
        files.write_atomic(Path(output), text, force=force)


def _rules_options(fn: F) -> F:
    fn = click.option(
        "--annotations",
        "annotations",
        metavar="FILE",
        help="A rules file laid over the rules: runtime axes, installers, branches, entries, atoms.",
    )(fn)
    fn = click.option(
        "--rules",
        "rules_file",
        metavar="FILE",
        help="The extraction rules (docs/extract.md). Default: the shipped x86-64 rules.",
    )(fn)
    fn = click.option("--arch", default="x86", show_default=True, help="SRCARCH: which arch/ directory is read.")(fn)
    return click.option(
        "--jobs", "-j", type=click.IntRange(min=1), metavar="N", help="Parse with N processes. Default: every core."
    )(fn)


def _rules(rules_file: str | None, annotations: str | None) -> Any:
    from ptfree_cli import rules as rules_mod
    from ptfree_cli.loader import load_rules
    from ptfree_cli.models import shipped_rules

    rules = load_rules(rules_file or shipped_rules())
    return rules_mod.merge(rules, load_rules(annotations)) if annotations else rules


def _extract(
    source: str,
    entries: tuple[str, ...],
    rules_file: str | None,
    annotations: str | None,
    arch: str,
    jobs: int | None,
    name: str,
    options: tuple[str, ...] = (),
) -> Any:
    """Extract from the tree at ``source``; its warnings go to stderr."""
    from ptfree_cli import extract as extracting
    from ptfree_cli import render

    rules = _rules(rules_file, annotations)
    progress = render.Progress()
    try:
        result = extracting.extract(
            Path(source), entries, rules, name=name, srcarch=arch, jobs=jobs, options=options, progress=progress
        )
    finally:
        progress.close()
    for line in render.extract_warnings(result.warnings, source):
        _warn(line)
    return result


@main.command()
@click.option("--source", "-s", "source", required=True, metavar="DIR", help="The kernel tree to read.")
@click.option(
    "--entry",
    "-e",
    "entries",
    multiple=True,
    metavar="FUNCTION",
    help="Where walks start (repeat). Default: every entry the rules name that the tree defines.",
)
@click.option("--output", "-o", metavar="FILE", help="Write the model to FILE (atomically) instead of standard output.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.option("--name", metavar="NAME", help="The model's name. Default: FILE's stem, or 'extracted'.")
@_rules_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="yaml: the model; json: the model text with the files read, warnings and calls not found.",
)
@_handles_errors
def extract(
    source: str,
    entries: tuple[str, ...],
    output: str | None,
    force: bool,
    name: str | None,
    rules_file: str | None,
    annotations: str | None,
    arch: str,
    jobs: int | None,
    fmt: str,
) -> None:
    """Read a kernel tree and write the model of its free path from the entries.

    C is parsed with tree-sitter, #if guards and Kbuild guards of every
    definition and call are kept, hooks are resolved from initializers and
    assignments, leaves are classified by the rules, and the options the
    guards use are read from the tree's Kconfig. Warnings (what could not be
    followed) go to standard error as FILE:LINE:COL lines. The model is
    loadable by every other command: `ptfree check FILE`, `ptfree diff v6.14 FILE`.
    """
    from ptfree_cli import files

    if output is not None:
        files.may_write(Path(output), force)
    model_name = name or (Path(output).stem if output else "extracted")
    result = _extract(source, entries, rules_file, annotations, arch, jobs, model_name)
    if fmt == "json":
        from ptfree_cli import reports

        text = reports.extract_json(result, source)
    else:
        text = result.text
    if output is None:
        click.echo(text, nl=False)
    else:
        files.write_atomic(Path(output), text, force=force)


@main.command()
@_model_option
@click.option("--source", "-s", "source", required=True, metavar="DIR", help="The kernel tree to compare with.")
@_rules_options
@click.option("--format", "fmt", type=click.Choice(["plain", "json"]), default="plain", show_default=True)
@_handles_errors
def verify(
    model_name: str | None,
    source: str,
    rules_file: str | None,
    annotations: str | None,
    arch: str,
    jobs: int | None,
    fmt: str,
) -> None:
    """Extract the model's entries from a kernel tree and compare; exit 1 when they disagree.

    Calls present in one and not the other, guards that differ (as formulas,
    under the tree's Kconfig), leaf classes, and Kconfig definitions; each
    difference names the model line and the place in the tree.
    """
    from ptfree_cli import render, reports
    from ptfree_cli import verify as verifying

    model = _load(model_name)
    entries = tuple(e.function for e in model.entries)
    options = tuple(o.name for o in model.options)
    result = _extract(source, entries, rules_file, annotations, arch, jobs, f"{model.name}-source", options)
    v = verifying.verify(model, result.model)
    click.echo(reports.verify_json(v, source) if fmt == "json" else render.verify_plain(v, source), nl=False)
    if not v.ok:
        sys.exit(EXIT_FAILED)


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
def validate(files: tuple[str, ...]) -> None:
    """Check model and policy files; print one located error per bad file (exit 2) or `ok`.

    A file with a `ptfree-policy` key is read as a policy, one with
    `ptfree-rules` as extraction rules, any other as a model.
    """
    import re
    from pathlib import Path

    from ptfree_cli.loader import load_model, load_policy, load_rules, read_bytes

    bad = False
    for f in files:
        try:
            head = read_bytes(Path(f))[:4096]
            if re.search(rb"^ptfree-policy\s*:", head, re.M):
                load_policy(f)
            elif re.search(rb"^ptfree-rules\s*:", head, re.M):
                load_rules(f)
            else:
                load_model(f)
        except PtfreeError as exc:
            _report(exc)
            bad = True
            continue
        click.echo(f"{f}: ok")
    if bad:
        sys.exit(EXIT_BAD_INPUT)
