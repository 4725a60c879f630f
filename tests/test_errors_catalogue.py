"""docs/errors.md lists every error and warning ptfree can print.

One way: the message templates are read from the code (the syntax tree of
every module of ptfree_cli: each ``raise`` of a ptfree exception, each
``fail``/``bad`` call of the loader, each warning), and the fixed words of
each must be in the catalogue, so that a new message without an entry fails
here.  The other way: every example of the catalogue that starts with
``$ ptfree`` is run, and must print exactly the line shown, with the exit
code shown.
"""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import CONFIGS, run

ROOT = CONFIGS.parent
PACKAGE = ROOT / "ptfree_cli"
CATALOGUE = ROOT / "docs" / "errors.md"

EXCEPTIONS = {"PtfreeError", "ModelError", "ConfigError", "LookupFailed", "GuardSyntaxError"}


@dataclass(frozen=True)
class Template:
    """A message as the code writes it: its fixed pieces, in order, with the
    place of the code that raises it."""

    site: str
    pieces: tuple[str, ...]


def _pieces(node: ast.expr, names: dict[str, list[ast.expr]]) -> list[tuple[str, ...]]:
    """The fixed text pieces of each message ``node`` can be: a string, an
    f-string (its literal parts), a sum of those, or a name bound to them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(node.value,)]
    if isinstance(node, ast.JoinedStr):
        return [tuple(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _pieces(node.left, names) or [()], _pieces(node.right, names) or [()]
        return [a + b for a in left for b in right]
    if isinstance(node, ast.Name):
        return [p for value in names.get(node.id, []) for p in _pieces(value, {})]
    return []


def _bindings(scope: ast.AST) -> dict[str, list[ast.expr]]:
    """Name -> values assigned (or appended with +=) to it directly in ``scope``."""
    out: dict[str, list[ast.expr]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            out.setdefault(node.target.id, []).append(node.value)
    return out


def _message_arg(node: ast.AST) -> ast.expr | None:
    """The message argument when ``node`` raises or reports one."""
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
        func = node.exc.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in EXCEPTIONS and node.exc.args:
            return node.exc.args[0]
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "fail" and len(node.args) >= 3:
            return node.args[2]  # _Reader.fail(node, key, message)
        if isinstance(func, ast.Name) and func.id in ("bad", "_warn") and node.args:
            return node.args[0]
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "append"
            and (
                (isinstance(func.value, ast.Name) and func.value.id == "warnings")
                or (isinstance(func.value, ast.Attribute) and func.value.attr == "warnings")
            )
            and node.args
        ):
            arg = node.args[0]
            # extraction warnings are (location, message) pairs
            return arg.elts[1] if isinstance(arg, ast.Tuple) and len(arg.elts) == 2 else arg
        if isinstance(func, ast.Attribute) and func.attr == "warn" and len(node.args) >= 2:
            return node.args[1]  # self.warn(location, message) of the extraction readers
        if isinstance(func, ast.Name) and func.id in WARNINGS and len(node.args) >= 2:
            return node.args[1]  # CppWarning(location, message) and its kin
    return None


#: The warning records of the extraction readers: (location, message).
WARNINGS = ("CppWarning", "KbuildWarning", "KconfigWarning")


def templates() -> list[Template]:
    out: list[Template] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        module_names = {
            n.targets[0].id: [n.value]
            for n in tree.body
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
        }
        scopes: list[ast.AST] = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]
        seen: set[int] = set()
        for scope in reversed(scopes):  # innermost functions first: their names shadow
            names = {**module_names, **(_bindings(scope) if scope is not tree else {})}
            for node in ast.walk(scope):
                arg = _message_arg(node)
                if arg is None or id(node) in seen:
                    continue
                seen.add(id(node))
                site = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                out += [Template(site, pieces) for pieces in _pieces(arg, names) if pieces]
    return out


def _words(text: str) -> str:
    return " ".join(text.split())


def fixed_words(template: Template) -> list[str]:
    """The pieces of ``template`` that say something (two letters or more)."""
    return [_words(p) for p in template.pieces if len(re.findall(r"[A-Za-z]", p)) >= 2]


TEMPLATES = templates()


def test_the_template_scan_finds_the_messages_of_every_module_that_reports_errors() -> None:
    modules = {t.site.split(":")[0] for t in TEMPLATES}
    expected = {
        f"ptfree_cli/{m}.py"
        for m in ("loader", "config", "files", "guards", "kconfig", "models", "check", "symbolic", "cli")
    }
    assert expected <= modules
    assert len(TEMPLATES) >= 90
    found = {p for t in TEMPLATES for p in fixed_words(t)}
    # one of each way a message is written: fail(), bad(), f-string, sum, name, +=, warning
    assert {
        "a leaf ends the path: it may not have calls",
        "option",
        "no valid configuration: these constraints clash:",
        "; an inline list gives each option a value, e.g.",
        "overridden by Kconfig:",
        "has no runtime axis '",
        "exists; pass --force to replace it",
    } <= found


def test_the_template_scan_reads_each_way_a_message_is_written() -> None:
    source = """
HINT = "a module constant"
def f(node, key, x):
    raise ModelError(f"first {x} then {key} last", loc)
    r.fail(node, key, "a fail call")
    bad(f"bad {x}")
    message = "assigned"
    message += f"; appended {x}"
    raise ConfigError(message, loc)
    raise PtfreeError("sum " + str(x))
    raise LookupFailed(HINT)
    warnings.append(f"{x}warning: {x} warned")
    _warn("a warning")
    raise ValueError("not ours")
    print("nor this")
"""
    tree = ast.parse(source)
    module_names = {"HINT": [tree.body[0].value]} if isinstance(tree.body[0], ast.Assign) else {}
    fn = tree.body[1]
    names = {**module_names, **_bindings(fn)}
    found = [_pieces(arg, names) for node in ast.walk(fn) if (arg := _message_arg(node)) is not None]
    assert sorted(p for ps in found for p in ps) == sorted(
        [
            ("first ", " then ", " last"),
            ("a fail call",),
            ("bad ",),
            ("assigned",),
            ("; appended ",),
            ("sum ",),
            ("a module constant",),
            ("warning: ", " warned"),
            ("a warning",),
        ]
    )


def test_every_message_the_code_can_print_is_in_the_catalogue() -> None:
    text = _words(CATALOGUE.read_text(encoding="utf-8"))
    missing = sorted({f"{t.site}: {w!r}" for t in TEMPLATES for w in fixed_words(t) if w not in text})
    assert missing == []


# -- the examples, run ------------------------------------------------------


@dataclass(frozen=True)
class Example:
    args: tuple[str, ...]
    exit_code: int
    lines: tuple[str, ...]


def examples() -> list[Example]:
    """Every ``$ ptfree ARGS  # exit N`` of a console block, with the lines after it."""
    out: list[Example] = []
    for block in re.findall(r"```console\n(.*?)```", CATALOGUE.read_text(encoding="utf-8"), re.S):
        current: list[str] | None = None
        for raw in block.splitlines():
            line = raw.strip()
            if line.startswith("$ ptfree "):
                command, _, code = line[len("$ ptfree ") :].partition("  # exit ")
                current = []
                out.append(Example(tuple(shlex.split(command)), int(code), ()))
            elif current is not None and line:
                last = out[-1]
                out[-1] = Example(last.args, last.exit_code, (*last.lines, line))
    return out


EXAMPLES = examples()


def test_the_catalogue_has_examples_that_are_run() -> None:
    assert len(EXAMPLES) >= 8
    assert all(e.lines for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: " ".join(e.args))
def test_each_example_of_the_catalogue_is_what_ptfree_prints(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The examples read as if run from the repository root, where report.txt exists.
    for name in ("tests", "configs"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "report.txt").write_text("an existing report\n")
    monkeypatch.chdir(tmp_path)
    result = run(*example.args)
    assert result.exit_code == example.exit_code
    assert result.stderr == "".join(f"{line}\n" for line in example.lines)
    if example.exit_code == 2:
        assert result.stdout == ""
    assert (tmp_path / "report.txt").read_text() == "an existing report\n"
