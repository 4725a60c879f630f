"""Reads a model file: YAML to :class:`~ptfree_cli.model.Model`, with every check.

This is the only module that imports yaml.  It composes the document into
nodes (no Python objects are constructed from tags, and aliases are
refused), so every error can name the ``file:line:col`` of the node at
fault.  Once :func:`load_model` returns, the model is valid: names resolve,
guards parse and mention only known options and alternatives, there is no
call cycle, and every entry point exists in some valid configuration.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import yaml

from ptfree_cli import guards, kconfig
from ptfree_cli.errors import GuardSyntaxError, Location, ModelError
from ptfree_cli.guards import TRUE, And, Cmp, Expr, Not, Or, Sym
from ptfree_cli.model import (
    LEAF_CLASSES,
    LEAF_KINDS,
    LEVELS,
    ROLES,
    WAITS,
    Alternative,
    Axis,
    Call,
    Commit,
    Default,
    Entry,
    Evidence,
    Function,
    Hook,
    Model,
    Option,
    Select,
)

if TYPE_CHECKING:  # policies are read only by the commands that check
    from ptfree_cli.policy import Policy
    from ptfree_cli.rules import Rules

FORMAT_VERSION = 1
#: Model files larger than this are refused before parsing.
MAX_BYTES = 4 * 1024 * 1024
#: Longer lines are refused before parsing (a model's longest is about 200
#: characters): scanning one and locating errors in it would take seconds.
MAX_LINE = 1024 * 1024
#: Deeper YAML nesting is refused (a model needs about 8 levels): composing is recursive.
MAX_DEPTH = 64
#: Deeper guard expressions are refused: evaluating them is recursive.
MAX_EXPR_DEPTH = 64

_OPTION_NAME = re.compile(r"[A-Z0-9_]+\Z")
_AXIS_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_FUNC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_HOOK_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*(\[[A-Za-z0-9_]+\])?[A-Za-z0-9_.]*\Z")
_COMMIT_ID = re.compile(r"[0-9a-f]{12,40}\Z")

#: Every key a model may hold, per kind of mapping: (allowed, required).
#: The JSON Schema and docs/model-format.md are tested against this table.
KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "model": (
        ("ptfree", "model", "title", "kernel", "options", "runtime", "entries", "functions", "hooks"),
        ("ptfree", "model", "kernel", "functions", "entries"),
    ),
    "kernel": (("version", "base", "tree", "commits", "evidence"), ("version",)),
    "commit": (("id", "subject", "note"), ("id", "subject")),
    "evidence": (("file", "blob", "commit", "status", "note"), ("file", "status")),
    "axis": (("title", "alternatives"), ("alternatives",)),
    "alternative": (("label", "if", "condition", "file"), ()),
    "option": (
        ("type", "prompt", "prompt_if", "depends_on", "selects", "defaults", "def_bool", "file", "note", "at"),
        (),
    ),
    "default": (("value", "if"), ("value",)),
    "select": (("symbol", "if"), ("symbol",)),
    "function": (("file", "if", "calls", "leaf", "ipi", "rcu_sync", "note", "commit", "at"), ("file",)),
    "call": (("call", "hook", "if", "label", "note", "defer", "file", "commit", "at"), ()),
    "hook": (("file", "if", "targets", "note", "at"), ("file", "targets")),
    "target": (("call", "if", "note", "file", "commit", "installer", "at"), ("call",)),
    "entry": (("role", "level"), ("role",)),
}

#: The same for policy files (docs/policy.md).
POLICY_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "policy": (("ptfree-policy", "name", "roles", "waivers"), ("ptfree-policy",)),
    "role": (("allow", "require"), ()),
    "waiver": (("if", "allow", "reason", "models", "entries"), ("if", "allow", "reason")),
}


def _compose(text: str, file: str) -> yaml.Node | None:
    """The node tree of a one-document YAML text, built without recursion.

    Events come from libyaml when PyYAML has it (several times faster than
    the pure-Python scanner), else from PyYAML's own parser; tags are
    resolved as SafeLoader resolves them.  Aliases are refused (a model never
    needs them, and that rules out "billion laughs" expansion), and so is
    nesting deeper than :data:`MAX_DEPTH`.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)

    def where(event: Any) -> Location:
        return Location(file, event.start_mark.line + 1, event.start_mark.column + 1)

    try:
        loader.get_event()  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()  # document start
        root: yaml.Node | None = None
        # Open collections, each with the key waiting for its value.
        stack: list[list[Any]] = []
        while True:
            event = loader.get_event()
            node: yaml.Node
            if isinstance(event, yaml.AliasEvent):
                raise ModelError("YAML aliases (*name) are not allowed in a model", where(event))
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                done = stack.pop()[0]
                done.end_mark = event.end_mark
                continue
            if isinstance(event, yaml.DocumentEndEvent):
                break
            if isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                # libyaml's marks are its own Mark type, with the same fields.
                start: Any = event.start_mark
                end: Any = event.end_mark
                node = yaml.ScalarNode(tag, event.value, start, end, style=event.style)
            else:
                kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
                tag = event.tag
                if tag is None or tag == "!":
                    tag = loader.resolve(kind, None, event.implicit)
                node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
            if not stack:
                root = node
            else:
                parent = stack[-1]
                if isinstance(parent[0], yaml.SequenceNode):
                    parent[0].value.append(node)
                elif parent[1] is None:
                    parent[1] = node
                else:
                    parent[0].value.append((parent[1], node))
                    parent[1] = None
            if not isinstance(node, yaml.ScalarNode):
                if len(stack) >= MAX_DEPTH:
                    raise ModelError(f"YAML nested more than {MAX_DEPTH} levels deep", where(event))
                stack.append([node, None])
        if not loader.check_event(yaml.StreamEndEvent):
            event = loader.get_event()
            raise ModelError(
                "malformed YAML: expected a single document in the stream, but found another document",
                where(event),
            )
        return root
    finally:
        loader.dispose()


class _Reader:
    """Walks the composed node tree of one file."""

    def __init__(self, file: str, text: str = "") -> None:
        self.file = file
        self.text = text

    def loc(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, node: yaml.Node, key: str, message: str) -> NoReturn:
        raise ModelError(message, self.loc(node), key)

    def mapping(
        self, node: yaml.Node, key: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Key name -> (key node, value node), in file order; unknown or
        repeated keys and missing required ones are errors."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, key, f"expected a mapping, found {_kind(node)}")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for knode, vnode in node.value:
            name = self.key_name(knode, key)
            if name in out:
                prev = out[name][0].start_mark.line + 1
                self.fail(knode, _join(key, name), f"duplicate key (first defined on line {prev})")
            if allowed and name not in allowed:
                self.fail(knode, _join(key, name), f"unknown key; expected one of: {', '.join(allowed)}")
            out[name] = (knode, vnode)
        for name in required:
            if name not in out:
                self.fail(node, key, f"missing required key '{name}'")
        return out

    def named_mapping(self, node: yaml.Node, key: str) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
        """A mapping whose keys are names (functions, options): yields in file order."""
        for name, (knode, vnode) in self.mapping(node, key, ()).items():
            yield name, knode, vnode

    def key_name(self, knode: yaml.Node, key: str) -> str:
        if not isinstance(knode, yaml.ScalarNode) or knode.tag != "tag:yaml.org,2002:str":
            self.fail(knode, key, f"keys must be names, found {_kind(knode)}")
        return str(knode.value)

    def string(self, node: yaml.Node, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (
            "tag:yaml.org,2002:str",
            "tag:yaml.org,2002:int",
        ):
            self.fail(node, key, f"expected a string, found {_kind(node)}")
        return str(node.value).strip()

    def integer(self, node: yaml.Node, key: str) -> int:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:int":
            self.fail(node, key, f"expected an integer, found {_kind(node)}")
        try:
            return int(node.value)
        except ValueError:  # YAML 1.1 also tags 0x10, 0b1 and 1:20 as integers
            self.fail(node, key, f"expected a decimal integer, found {node.value!r}")

    def boolean(self, node: yaml.Node, key: str) -> bool:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            self.fail(node, key, f"expected true or false, found {_kind(node)}")
        return str(node.value).lower() in ("true", "yes", "on", "y")

    def sequence(self, node: yaml.Node, key: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, key, f"expected a list, found {_kind(node)}")
        return list(node.value)

    def choice(self, node: yaml.Node, key: str, allowed: tuple[str, ...]) -> str:
        value = self.string(node, key)
        if value not in allowed:
            self.fail(node, key, f"'{value}' is not one of: {', '.join(allowed)}")
        return value

    def expr(self, node: yaml.Node, key: str) -> Expr:
        """A guard; ``y``/``n`` and YAML booleans are the constants."""
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return guards.Const(self.boolean(node, key))
        text = self.string(node, key)
        raw = str(node.value)  # unstripped: the parser's offsets count in it
        try:
            expr = guards.parse(raw)
        except GuardSyntaxError as exc:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise ModelError(
                f"bad expression {shown!r}: {exc.message}", self.value_loc(node, raw, exc.offset), key
            ) from None
        except RecursionError:
            expr = None
        if expr is None or _expr_depth(expr) > MAX_EXPR_DEPTH:
            self.fail(node, key, f"expression nested more than {MAX_EXPR_DEPTH} levels deep")
        return expr

    def word_loc(self, node: yaml.Node, word: str) -> Location:
        """Where the name ``word`` (maybe written CONFIG_WORD) first occurs in
        the value of scalar ``node``; the node itself if it does not."""
        value = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
        m = re.search(rf"(?<![A-Za-z0-9_.=])(?:CONFIG_)?{re.escape(word)}(?![A-Za-z0-9_.])", value)
        return self.value_loc(node, value, m.start()) if m else self.loc(node)

    def value_loc(self, node: yaml.Node, value: str, offset: int) -> Location:
        """Where character ``offset`` of the value of scalar ``node`` is in the
        file: walks the scalar's source, so quotes, escapes and folded lines
        are accounted for.  ``offset == len(value)`` is just after the last
        character."""
        start, chars = _scalar_source(self.text, node)
        if [c for c, _, _, _ in chars] != [c for c in value if not c.isspace()]:
            # The source does not read back as the value (no text given): assume one plain line.
            quoted = 1 if getattr(node, "style", None) in ("'", '"') else 0
            return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1 + quoted + offset)
        n = sum(1 for c in value[:offset] if not c.isspace())
        if offset < len(value) and not value[offset].isspace():
            _, line, col, _ = chars[n]
        elif n:
            _, line, _, col = chars[n - 1]
        else:
            line, col = start
        return Location(self.file, line, col)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = str(node.tag).rsplit(":", 1)[-1]
    return "nothing" if tag == "null" else f"{'an' if tag[0] in 'aeiou' else 'a'} {tag} ({node.value!r})"


_BREAKS = "\n\x85\u2028\u2029"


def _scalar_source(text: str, node: yaml.Node) -> tuple[tuple[int, int], list[tuple[str, int, int, int]]]:
    """Where the content of scalar ``node`` starts in ``text`` (line, col),
    and each non-space character of its value as (character, line, col,
    col after it), 1-based, read from the source as PyYAML reads it."""
    style = getattr(node, "style", None)
    end = min(node.end_mark.index, len(text))
    i, line, col = node.start_mark.index, node.start_mark.line, node.start_mark.column

    def step(count: int = 1) -> None:
        nonlocal i, line, col
        for _ in range(count):
            ch = text[i]
            i += 1
            if ch in _BREAKS or (ch == "\r" and text[i : i + 1] != "\n"):
                line, col = line + 1, 0
            elif ch != "\ufeff":
                col += 1

    while i < end and text[i] in "!&":  # a tag or an anchor before the value
        while i < end and not text[i].isspace():
            step()
        while i < end and text[i].isspace():
            step()
    if style in ("'", '"'):
        step()
    elif style in (">", "|"):  # the header line ends before the content
        while i < end and text[i] not in _BREAKS + "\r":
            step()
        if i < end:
            step(2 if text[i : i + 2] == "\r\n" else 1)
    start = (line + 1, col + 1)
    chars: list[tuple[str, int, int, int]] = []
    while i < end:
        ch, size = text[i], 1
        if style in ("'", '"') and ch == style:
            if style == "'" and text[i + 1 : i + 2] == "'":
                size = 2
            else:
                break
        elif style == '"' and ch == "\\":
            code = text[i + 1 : i + 2]
            if code in yaml.scanner.Scanner.ESCAPE_REPLACEMENTS:
                ch, size = yaml.scanner.Scanner.ESCAPE_REPLACEMENTS[code], 2
            elif code in yaml.scanner.Scanner.ESCAPE_CODES:
                size = 2 + yaml.scanner.Scanner.ESCAPE_CODES[code]
                try:
                    ch = chr(int(text[i + 2 : i + size], 16))
                except ValueError:
                    break
            else:  # an escaped line break joins the lines
                ch = " "
        if not ch.isspace():
            chars.append((ch, line + 1, col + 1, col + 1 + size))
        step(size)
    return start, chars


def _expr_depth(expr: Expr) -> int:
    """How deeply ``expr`` nests, counted without recursion."""
    deepest, stack = 0, [(expr, 1)]
    while stack:
        e, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(e, Not):
            stack.append((e.operand, depth + 1))
        elif isinstance(e, (And, Or)):
            stack += [(e.left, depth + 1), (e.right, depth + 1)]
    return deepest


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def read_text(path: Path, what: str = "model") -> str:
    """The text of an input file, or a located error saying why it cannot be read."""
    data = read_bytes(path, what)
    file = str(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        col = len(data[line_start : exc.start].decode("utf-8")) + 1  # in characters, as everywhere else
        raise ModelError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", Location(file, line, col)) from None


def read_bytes(path: Path, what: str = "model") -> bytes:
    """The content of an input file, or a located error saying why it cannot be read.

    Anything but a regular file (a directory, a FIFO, a device) is refused
    before it is opened: opening a FIFO would wait for a writer.
    """
    file = str(path)
    try:
        if path.is_dir():
            raise ModelError(f"is a directory, not a {what} file", Location(file))
        if not path.is_file():
            if path.exists():
                raise ModelError(f"is not a regular file, not a {what} file", Location(file))
            raise ModelError("no such file", Location(file))
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ModelError(f"file is {size} bytes; the limit is {MAX_BYTES}", Location(file))
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)  # bounded: the file may grow, or lie about its size (/proc)
    except PermissionError:
        raise ModelError("permission denied", Location(file)) from None
    except OSError as exc:
        raise ModelError(exc.strerror or str(exc), Location(file)) from None
    if len(data) > MAX_BYTES:
        raise ModelError(f"file is over {MAX_BYTES} bytes, the limit", Location(file))
    return data


def load_model(path: str | Path) -> Model:
    """Read, parse and validate the model in ``path``.

    :raises ModelError: with the location of the first problem found.
    """
    path = Path(path)
    return parse_model(read_text(path), str(path))


def parse_model(text: str, file: str) -> Model:
    """Parse and validate model text; ``file`` names it in locations."""
    return _Builder(_Reader(file, text)).build(_document(text, file, "a ptfree model"))


def _document(text: str, file: str, what: str) -> yaml.Node:
    """The root node of ``text``, or a located error saying why there is none."""
    _check_line_lengths(text, file)
    try:
        root = _compose(text, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "malformed YAML"
        cmark = exc.context_mark
        if exc.problem and exc.context and problem.startswith("but "):
            problem = f"{exc.context}, {problem}"
        elif exc.problem and exc.context and cmark and (cmark.line, cmark.column) != (line - 1, col - 1):
            problem += f" ({exc.context} at line {cmark.line + 1}, column {cmark.column + 1})"
        raise ModelError(f"malformed YAML: {problem}", Location(file, line, col)) from None
    except yaml.reader.ReaderError as exc:
        pos = min(max(exc.position, 0), len(text))
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise ModelError(
            f"malformed YAML: unacceptable character {char}: {exc.reason}", Location(file, line, col)
        ) from None
    except yaml.YAMLError as exc:
        raise ModelError(f"malformed YAML: {exc}", Location(file)) from None
    if root is None:
        raise ModelError(f"empty file; expected {what}", Location(file, 1, 1))
    return root


_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # what YAML counts as a line break


def _check_line_lengths(text: str, file: str) -> None:
    """Refuse a line longer than :data:`MAX_LINE`, at its first character too many."""
    if len(text) <= MAX_LINE:
        return
    for lineno, line in enumerate(_LINE_BREAK.split(text), 1):
        if len(line) > MAX_LINE:
            raise ModelError(f"line is longer than {MAX_LINE} characters", Location(file, lineno, MAX_LINE + 1))


def load_policy(path: str | Path) -> Policy:
    """Read and parse the check policy in ``path``.

    Names in waivers (options, entries, models) are checked against each
    model when the policy is applied (:func:`ptfree_cli.check.validate_policy`).

    :raises ModelError: with the location of the first problem found.
    """
    path = Path(path)
    return parse_policy(read_text(path, "policy"), str(path))


def parse_policy(text: str, file: str) -> Policy:
    from ptfree_cli.policy import Policy, RoleRule, Waiver

    r = _Reader(file, text)
    top = _versioned(r, text, "a ptfree policy", "ptfree-policy", POLICY_KEYS["policy"])
    roles: dict[str, RoleRule] = {role: RoleRule() for role in ROLES}
    if "roles" in top:
        for role, knode, vnode in r.named_mapping(top["roles"][1], "roles"):
            key = f"roles.{role}"
            if role not in ROLES:
                r.fail(knode, key, f"unknown entry role; roles are {', '.join(ROLES)}")
            m = r.mapping(vnode, key, *POLICY_KEYS["role"])
            allow = _classes(r, m, "allow", key) if "allow" in m else ("rcu",)
            require = _classes(r, m, "require", key) if "require" in m else ()
            roles[role] = RoleRule(allow, require, r.loc(knode))
    waivers: list[Waiver] = []
    for i, wnode in enumerate(r.sequence(top["waivers"][1], "waivers") if "waivers" in top else []):
        key = f"waivers[{i}]"
        m = r.mapping(wnode, key, *POLICY_KEYS["waiver"])
        reason = r.string(m["reason"][1], f"{key}.reason")
        if not reason:
            r.fail(m["reason"][1], f"{key}.reason", "a waiver needs a reason")
        waivers.append(
            Waiver(
                condition=r.expr(m["if"][1], f"{key}.if"),
                allow=r.choice(m["allow"][1], f"{key}.allow", LEAF_CLASSES),
                reason=reason,
                models=_names(r, m, "models", key),
                entries=_names(r, m, "entries", key),
                loc=r.loc(wnode),
                cond_loc=r.loc(m["if"][1]),
            )
        )
    name = r.string(top["name"][1], "name") if "name" in top else Path(file).stem
    return Policy(name, roles, tuple(waivers), file)


def _versioned(
    r: _Reader, text: str, what: str, version_key: str, keys: tuple[tuple[str, ...], tuple[str, ...]]
) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """The top mapping of a policy or rules file, its format version checked."""
    top = r.mapping(_document(text, r.file, what), "", *keys)
    version = top[version_key][1]
    if r.integer(version, version_key) != FORMAT_VERSION:
        r.fail(version, version_key, f"unsupported format version; this ptfree reads {FORMAT_VERSION}")
    return top


def _classes(r: _Reader, m: dict[str, tuple[yaml.Node, yaml.Node]], field: str, key: str) -> tuple[str, ...]:
    out = []
    for i, node in enumerate(r.sequence(m[field][1], f"{key}.{field}")):
        out.append(r.choice(node, f"{key}.{field}[{i}]", LEAF_CLASSES))
    return tuple(out)


def _names(r: _Reader, m: dict[str, tuple[yaml.Node, yaml.Node]], field: str, key: str) -> tuple[str, ...]:
    if field not in m:
        return ()
    return tuple(r.string(n, f"{key}.{field}[{i}]") for i, n in enumerate(r.sequence(m[field][1], f"{key}.{field}")))


class _Builder:
    def __init__(self, r: _Reader) -> None:
        self.r = r
        self.option_names: set[str] = set()
        self.axes: dict[str, Axis] = {}
        self.axis_names: set[str] = set()
        self.commit_ids: set[str] = set()

    def build(self, root: yaml.Node) -> Model:
        r = self.r
        top = r.mapping(root, "", *KEYS["model"])
        version_node = top["ptfree"][1]
        if r.integer(version_node, "ptfree") != FORMAT_VERSION:
            r.fail(version_node, "ptfree", f"unsupported format version; this ptfree reads {FORMAT_VERSION}")
        name = r.string(top["model"][1], "model")
        title = r.string(top["title"][1], "title") if "title" in top else name
        version, base, commits, evidence = self.kernel(top["kernel"][1])
        kernel_map = r.mapping(top["kernel"][1], "kernel", *KEYS["kernel"])
        tree = r.string(kernel_map["tree"][1], "kernel.tree") if "tree" in kernel_map else None
        self.commit_ids = {c.id for c in commits}

        # Names first, so that expressions anywhere can be checked against them.
        if "options" in top:
            for oname, knode, _ in r.named_mapping(top["options"][1], "options"):
                if not _OPTION_NAME.match(oname):
                    r.fail(knode, f"options.{oname}", "option names are upper case, without CONFIG_")
                self.option_names.add(oname)
        if "runtime" in top:
            self.axis_names = {name for name, _, _ in r.named_mapping(top["runtime"][1], "runtime")}
        axes = self.runtime(top["runtime"][1]) if "runtime" in top else ()
        options = self.options(top["options"][1]) if "options" in top else ()
        functions = self.functions(top["functions"][1])
        hooks = self.hooks(top["hooks"][1]) if "hooks" in top else ()
        entries = self.entries(top["entries"][1])

        model = Model(
            name=name,
            title=title,
            version=version,
            source=r.file,
            options=options,
            axes=axes,
            functions=functions,
            hooks=hooks,
            entries=entries,
            commits=commits,
            evidence=evidence,
            base=base,
            tree=tree,
        )
        self.check_references(model)
        self.check_cycles(model)
        kconfig.order(model)  # raises on a Kconfig dependency loop
        self.check_entries(model)
        return model

    # -- sections ---------------------------------------------------------

    def kernel(self, node: yaml.Node) -> tuple[str, str | None, tuple[Commit, ...], tuple[Evidence, ...]]:
        r = self.r
        m = r.mapping(node, "kernel", *KEYS["kernel"])
        version = r.string(m["version"][1], "kernel.version")
        base = r.string(m["base"][1], "kernel.base") if "base" in m else None
        commits: list[Commit] = []
        seen: dict[str, Commit] = {}
        for i, cnode in enumerate(r.sequence(m["commits"][1], "kernel.commits") if "commits" in m else []):
            key = f"kernel.commits[{i}]"
            c = r.mapping(cnode, key, *KEYS["commit"])
            cid = r.string(c["id"][1], f"{key}.id")
            if not _COMMIT_ID.match(cid):
                r.fail(c["id"][1], f"{key}.id", "a commit id is 12 to 40 lower-case hex digits")
            if cid in seen:
                r.fail(c["id"][1], f"{key}.id", f"duplicate commit (first listed at {seen[cid].loc})")
            commit = Commit(
                cid,
                r.string(c["subject"][1], f"{key}.subject"),
                r.string(c["note"][1], f"{key}.note") if "note" in c else None,
                r.loc(cnode),
            )
            seen[cid] = commit
            commits.append(commit)
        evidence: list[Evidence] = []
        for i, enode in enumerate(r.sequence(m["evidence"][1], "kernel.evidence") if "evidence" in m else []):
            key = f"kernel.evidence[{i}]"
            e = r.mapping(enode, key, *KEYS["evidence"])
            if "blob" not in e and "commit" not in e and "note" not in e:
                r.fail(enode, key, "give a 'blob', a 'commit', or a 'note' saying where the facts come from")
            ref = " at ".join(f"{k} {r.string(e[k][1], f'{key}.{k}')}" for k in ("blob", "commit") if k in e)
            evidence.append(
                Evidence(
                    r.string(e["file"][1], f"{key}.file"),
                    ref,
                    r.choice(e["status"][1], f"{key}.status", ("exact", "read", "derived")),
                    r.string(e["note"][1], f"{key}.note") if "note" in e else None,
                    r.loc(enode),
                )
            )
        return version, base, tuple(commits), tuple(evidence)

    def runtime(self, node: yaml.Node) -> tuple[Axis, ...]:
        r = self.r
        axes: list[Axis] = []
        for aname, knode, vnode in r.named_mapping(node, "runtime"):
            key = f"runtime.{aname}"
            if not _AXIS_NAME.match(aname):
                r.fail(knode, key, "axis names are lower case (they read as 'axis=alternative')")
            if aname in self.option_names:
                r.fail(knode, key, "an axis may not have the name of an option")
            m = r.mapping(vnode, key, *KEYS["axis"])
            alts: list[Alternative] = []
            for alt, aknode, avnode in r.named_mapping(m["alternatives"][1], f"{key}.alternatives"):
                akey = f"{key}.alternatives.{alt}"
                if not _AXIS_NAME.match(alt):
                    r.fail(aknode, akey, "alternative names are lower case")
                am = r.mapping(avnode, akey, *KEYS["alternative"])
                alts.append(
                    Alternative(
                        alt,
                        r.string(am["label"][1], f"{akey}.label") if "label" in am else alt,
                        self.kconfig_expr(am["if"][1], f"{akey}.if") if "if" in am else TRUE,
                        r.string(am["condition"][1], f"{akey}.condition") if "condition" in am else None,
                        r.string(am["file"][1], f"{akey}.file") if "file" in am else None,
                        r.loc(aknode),
                    )
                )
            if not alts:
                r.fail(m["alternatives"][1], f"{key}.alternatives", "an axis needs at least one alternative")
            title = r.string(m["title"][1], f"{key}.title") if "title" in m else aname
            axes.append(Axis(aname, title, tuple(alts), r.loc(knode)))
        self.axes = {a.name: a for a in axes}
        return tuple(axes)

    def options(self, node: yaml.Node) -> tuple[Option, ...]:
        r = self.r
        out: list[Option] = []
        for oname, knode, vnode in r.named_mapping(node, "options"):
            key = f"options.{oname}"
            if vnode.tag == "tag:yaml.org,2002:null":
                out.append(Option(oname, loc=r.loc(knode)))
                continue
            m = r.mapping(vnode, key, *KEYS["option"])
            defaults: list[Default] = []
            if "def_bool" in m:
                defaults.append(
                    Default(self.kconfig_expr(m["def_bool"][1], f"{key}.def_bool"), TRUE, r.loc(m["def_bool"][1]))
                )
            for i, dnode in enumerate(r.sequence(m["defaults"][1], f"{key}.defaults") if "defaults" in m else []):
                dkey = f"{key}.defaults[{i}]"
                d = r.mapping(dnode, dkey, *KEYS["default"])
                defaults.append(
                    Default(
                        self.kconfig_expr(d["value"][1], f"{dkey}.value"),
                        self.kconfig_expr(d["if"][1], f"{dkey}.if") if "if" in d else TRUE,
                        r.loc(dnode),
                    )
                )
            selects: list[Select] = []
            for i, snode in enumerate(r.sequence(m["selects"][1], f"{key}.selects") if "selects" in m else []):
                skey = f"{key}.selects[{i}]"
                cond: Expr = TRUE
                tnode: yaml.Node
                if isinstance(snode, yaml.ScalarNode):
                    target, tnode = r.string(snode, skey), snode
                else:
                    s = r.mapping(snode, skey, *KEYS["select"])
                    tnode = s["symbol"][1]
                    target = r.string(tnode, f"{skey}.symbol")
                    if "if" in s:
                        cond = self.kconfig_expr(s["if"][1], f"{skey}.if")
                if target.startswith("CONFIG_"):
                    target = target[len("CONFIG_") :]
                if target not in self.option_names:
                    self.unknown(tnode, skey, target, "option")
                selects.append(Select(target, cond, r.loc(snode)))
            if "prompt_if" in m and "prompt" not in m:
                r.fail(m["prompt_if"][0], f"{key}.prompt_if", "prompt_if needs a prompt")
            out.append(
                Option(
                    name=oname,
                    type=r.choice(m["type"][1], f"{key}.type", ("bool", "tristate")) if "type" in m else "bool",  # type: ignore[arg-type]
                    prompt=r.string(m["prompt"][1], f"{key}.prompt") if "prompt" in m else None,
                    prompt_if=self.kconfig_expr(m["prompt_if"][1], f"{key}.prompt_if") if "prompt_if" in m else TRUE,
                    depends_on=self.kconfig_expr(m["depends_on"][1], f"{key}.depends_on")
                    if "depends_on" in m
                    else TRUE,
                    selects=tuple(selects),
                    defaults=tuple(defaults),
                    file=r.string(m["file"][1], f"{key}.file") if "file" in m else None,
                    note=r.string(m["note"][1], f"{key}.note") if "note" in m else None,
                    loc=r.loc(knode),
                    at=r.string(m["at"][1], f"{key}.at") if "at" in m else None,
                )
            )
        return tuple(out)

    def functions(self, node: yaml.Node) -> tuple[Function, ...]:
        r = self.r
        out: list[Function] = []
        for fname, knode, vnode in r.named_mapping(node, "functions"):
            key = f"functions.{fname}"
            if not _FUNC_NAME.match(fname):
                r.fail(knode, key, "not a C identifier")
            m = r.mapping(vnode, key, *KEYS["function"])
            file = r.string(m["file"][1], f"{key}.file")
            calls = tuple(
                self.call(cnode, f"{key}.calls[{i}]", file, "call")
                for i, cnode in enumerate(r.sequence(m["calls"][1], f"{key}.calls") if "calls" in m else [])
            )
            leaf = r.choice(m["leaf"][1], f"{key}.leaf", LEAF_KINDS) if "leaf" in m else None
            if leaf is not None and calls:
                r.fail(m["leaf"][0], f"{key}.leaf", "a leaf ends the path: it may not have calls")
            out.append(
                Function(
                    name=fname,
                    file=file,
                    guard=self.expr(m["if"][1], f"{key}.if") if "if" in m else TRUE,
                    calls=calls,
                    leaf=leaf,
                    ipi=r.boolean(m["ipi"][1], f"{key}.ipi") if "ipi" in m else False,
                    rcu_sync=r.boolean(m["rcu_sync"][1], f"{key}.rcu_sync") if "rcu_sync" in m else False,
                    note=r.string(m["note"][1], f"{key}.note") if "note" in m else None,
                    commit=self.commit(m["commit"][1], f"{key}.commit") if "commit" in m else None,
                    loc=r.loc(knode),
                    at=r.string(m["at"][1], f"{key}.at") if "at" in m else None,
                )
            )
        return tuple(out)

    def call(self, node: yaml.Node, key: str, default_file: str, kind: str) -> Call:
        """A call (``kind`` "call") or a hook target (``kind`` "target")."""
        r = self.r
        if isinstance(node, yaml.ScalarNode):
            return Call(r.string(node, key), file=default_file, loc=r.loc(node))
        m = r.mapping(node, key, *KEYS[kind])
        if kind == "call" and ("call" in m) == ("hook" in m):
            r.fail(node, key, "give exactly one of 'call' or 'hook'")
        is_hook = "hook" in m
        target = r.string(m["hook" if is_hook else "call"][1], key)
        defer = r.choice(m["defer"][1], f"{key}.defer", ("rcu",)) if "defer" in m else None
        return Call(
            target=target,
            hook=is_hook,
            guard=self.expr(m["if"][1], f"{key}.if") if "if" in m else TRUE,
            label=r.string(m["label"][1], f"{key}.label") if "label" in m else None,
            note=r.string(m["note"][1], f"{key}.note") if "note" in m else None,
            defer=defer,  # type: ignore[arg-type]
            file=r.string(m["file"][1], f"{key}.file") if "file" in m else default_file,
            commit=self.commit(m["commit"][1], f"{key}.commit") if "commit" in m else None,
            installer=r.string(m["installer"][1], f"{key}.installer") if "installer" in m else None,
            loc=r.loc(node),
            at=r.string(m["at"][1], f"{key}.at") if "at" in m else None,
        )

    def hooks(self, node: yaml.Node) -> tuple[Hook, ...]:
        r = self.r
        out: list[Hook] = []
        for hname, knode, vnode in r.named_mapping(node, "hooks"):
            key = f"hooks.{hname}"
            if not _HOOK_NAME.match(hname):
                r.fail(knode, key, "not a member access such as pv_ops.mmu.tlb_remove_table")
            m = r.mapping(vnode, key, *KEYS["hook"])
            file = r.string(m["file"][1], f"{key}.file")
            targets = tuple(
                self.call(t, f"{key}.targets[{i}]", file, "target")
                for i, t in enumerate(r.sequence(m["targets"][1], f"{key}.targets"))
            )
            if not targets:
                r.fail(m["targets"][1], f"{key}.targets", "a hook needs at least one target")
            out.append(
                Hook(
                    hname,
                    file,
                    targets,
                    self.expr(m["if"][1], f"{key}.if") if "if" in m else TRUE,
                    r.string(m["note"][1], f"{key}.note") if "note" in m else None,
                    r.loc(knode),
                    r.string(m["at"][1], f"{key}.at") if "at" in m else None,
                )
            )
        return tuple(out)

    def entries(self, node: yaml.Node) -> tuple[Entry, ...]:
        r = self.r
        out: list[Entry] = []
        for fname, knode, vnode in r.named_mapping(node, "entries"):
            key = f"entries.{fname}"
            m = r.mapping(vnode, key, *KEYS["entry"])
            out.append(
                Entry(
                    fname,
                    r.choice(m["role"][1], f"{key}.role", ROLES),
                    r.choice(m["level"][1], f"{key}.level", LEVELS) if "level" in m else "pte",
                    r.loc(knode),
                )
            )
        if not out:
            r.fail(node, "entries", "a model needs at least one entry point")
        return tuple(out)

    # -- expressions and names --------------------------------------------

    def commit(self, node: yaml.Node, key: str) -> str:
        cid = self.r.string(node, key)
        if cid not in self.commit_ids:
            self.r.fail(node, key, f"commit {cid} is not listed in kernel.commits")
        return cid

    def kconfig_expr(self, node: yaml.Node, key: str) -> Expr:
        """An expression over options only (Kconfig knows nothing of runtime axes)."""
        return self.expr(node, key, runtime=False)

    def expr(self, node: yaml.Node, key: str, runtime: bool = True) -> Expr:
        e = self.r.expr(node, key)
        for atom in guards.atoms(e):
            self.check_atom(atom, node, key, runtime)
        return e

    def check_atom(self, atom: Sym | Cmp, node: yaml.Node, key: str, runtime: bool) -> None:
        loc = self.r.word_loc(node, atom.name)

        def bad(message: str) -> NoReturn:
            raise ModelError(message, loc, key)

        if atom.name in self.option_names:
            if isinstance(atom, Cmp) and atom.value not in ("y", "n", "m"):
                bad(f"option {atom.name} is compared with {atom.value!r}; options are y, m or n")
            return
        if not runtime and atom.name in self.axis_names:
            bad(f"runtime axis '{atom.name}' cannot appear in a Kconfig expression")
        axis = self.axes.get(atom.name)
        if axis is None:
            self.unknown(node, key, atom.name, "option or runtime axis" if runtime else "option", loc)
        if not isinstance(atom, Cmp):
            bad(f"runtime axis '{atom.name}' needs a value, e.g. {atom.name}={axis.alternatives[0].name}")
        if axis.alternative(atom.value) is None:
            known = ", ".join(a.name for a in axis.alternatives)
            bad(f"'{atom.value}' is not an alternative of axis '{atom.name}' ({known})")

    def unknown(self, node: yaml.Node, key: str, name: str, what: str, loc: Location | None = None) -> NoReturn:
        pool = sorted(self.option_names) + (sorted(self.axes) if "axis" in what else [])
        raise ModelError(f"unknown {what} '{name}'{suggest(name, pool)}", loc or self.r.loc(node), key)

    # -- whole-model checks -----------------------------------------------

    def check_references(self, model: Model) -> None:
        for hook in model.hooks:
            if hook.name in model.function_map:
                raise ModelError(
                    f"'{hook.name}' is both a function (at {model.function_map[hook.name].loc}) and a hook",
                    hook.loc,
                    f"hooks.{hook.name}",
                )
        for _owner, calls, key in _call_lists(model):
            for i, call in enumerate(calls):
                pool: dict[str, Any] = dict(model.hook_map if call.hook else model.function_map)
                if call.target not in pool:
                    what = "hook" if call.hook else "function"
                    raise ModelError(
                        f"call to undefined {what} '{call.target}'{suggest(call.target, sorted(pool))}",
                        call.loc,
                        f"{key}[{i}]",
                    )
        for entry in model.entries:
            if entry.function not in model.function_map:
                raise ModelError(
                    f"entry point '{entry.function}' is not a function of this model"
                    f"{suggest(entry.function, sorted(model.function_map))}",
                    entry.loc,
                    f"entries.{entry.function}",
                )

    def check_cycles(self, model: Model) -> None:
        """Reject a call cycle: walks must end, and the kernel's free path has none."""
        succ: dict[str, tuple[Call, ...]] = {}
        keys: dict[str, str] = {}
        for name, calls, key in _call_lists(model):
            succ[name], keys[name] = calls, key
        state: dict[str, int] = {}
        for start in succ:
            if state.get(start):
                continue
            stack: list[tuple[str, Iterator[tuple[int, Call]]]] = [(start, enumerate(succ[start]))]
            path = [start]
            state[start] = 1
            while stack:
                node, it = stack[-1]
                i, nxt = next(it, (-1, None))
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                    path.pop()
                    continue
                if state.get(nxt.target) == 1:
                    cycle = [*path[path.index(nxt.target) :], nxt.target]
                    raise ModelError(f"call cycle: {' -> '.join(cycle)}", nxt.loc, f"{keys[node]}[{i}]")
                if not state.get(nxt.target):
                    state[nxt.target] = 1
                    stack.append((nxt.target, enumerate(succ[nxt.target])))
                    path.append(nxt.target)

    def check_entries(self, model: Model) -> None:
        # Kconfig turns every user input into a configuration, so there always
        # is one; when every axis has an alternative available everywhere and
        # no entry has a guard, nothing can be empty, and the BDD library
        # need not even be imported (start-up time of ptfree path).
        always = all(any(alt.available == TRUE for alt in axis.alternatives) for axis in model.axes)
        if always and all(model.function_map[e.function].guard == TRUE for e in model.entries):
            return
        # The symbolic space also refuses a model with no valid configuration.
        from ptfree_cli import symbolic

        space = symbolic.space(model)
        for entry in model.entries:
            fn = model.function_map[entry.function]
            if space.empty(space.meet(space.top, space.cond(fn.guard))):
                raise ModelError(
                    f"entry point '{entry.function}' exists in no valid configuration "
                    f"(its guard {guards.format_expr(fn.guard)} is never true)",
                    entry.loc,
                    f"entries.{entry.function}",
                )


def _call_lists(model: Model) -> Iterator[tuple[str, tuple[Call, ...], str]]:
    for f in model.functions:
        yield f.name, f.calls, f"functions.{f.name}.calls"
    for h in model.hooks:
        yield h.name, h.targets, f"hooks.{h.name}.targets"


def suggest(name: str, pool: list[str]) -> str:
    """``"; did you mean A, B?"`` for the nearest known names, or ``""``."""
    import difflib

    close = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name.upper(), [p.upper() for p in pool], n=3, cutoff=0.6)
        close = [p for p in pool if p.upper() in close]
    return f"; did you mean {', '.join(close)}?" if close else ""


#: Every key of a rules file (docs/extract.md), per kind of mapping: (allowed, required).
RULES_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rules": (
        (
            "ptfree-rules",
            "leaves",
            "waits",
            "defer",
            "indirect",
            "carriers",
            "references",
            "attributes",
            "stop",
            "keep",
            "runtime",
            "installers",
            "branches",
            "entries",
            "atoms",
            "assume",
        ),
        ("ptfree-rules",),
    ),
    "leaf": (("leaf", "arg", "if", "note"), ("leaf",)),
    "wait": (("wait", "if", "note"), ("wait",)),
    "indirect": (("table", "member"), ("table", "member")),
    "entry": (("role", "level", "file"), ("role",)),
    "branch": (("function", "if", "then", "else", "label", "else_label"), ("function", "if", "then")),
}


def load_rules(path: str | Path) -> Rules:
    """Read an extraction rules file (or annotations file: the same format).

    Names are checked when the rules are used, against the tree and the
    model being built.

    :raises ModelError: with the location of the first problem found.
    """
    path = Path(path)
    return parse_rules(read_text(path, "rules file"), str(path))


def parse_rules(text: str, file: str) -> Rules:
    from ptfree_cli.rules import BranchRule, EntryRule, Indirect, Rules, Sink

    r = _Reader(file, text)
    top = _versioned(r, text, "a ptfree rules file", "ptfree-rules", RULES_KEYS["rules"])

    def section(name: str) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
        return r.named_mapping(top[name][1], name) if name in top else iter(())

    def names(name: str) -> tuple[str, ...]:
        return _names(r, top, name, "")

    sinks: list[Sink] = []
    # leaves: NAME -> class, or {leaf, if, note}; waits: NAME -> ipi|gp, or {wait, if, note}
    for section_name, field, kinds in (("leaves", "leaf", LEAF_KINDS), ("waits", "wait", WAITS)):
        for fname, knode, vnode in section(section_name):
            key = f"{section_name}.{fname}"
            guard: Expr = TRUE
            note = None
            arg = None
            if isinstance(vnode, yaml.ScalarNode):
                value = r.choice(vnode, key, kinds)
            else:
                m = r.mapping(vnode, key, *RULES_KEYS[field])
                value = r.choice(m[field][1], f"{key}.{field}", kinds)
                guard = r.expr(m["if"][1], f"{key}.if") if "if" in m else TRUE
                note = r.string(m["note"][1], f"{key}.note") if "note" in m else None
                arg = r.integer(m["arg"][1], f"{key}.arg") if "arg" in m else None
            leaf, wait = (value, None) if field == "leaf" else (None, value)
            sinks.append(Sink(fname, leaf=leaf, wait=wait, guard=guard, note=note, arg=arg, loc=r.loc(knode)))
    defer = tuple((fname, r.integer(vnode, f"defer.{fname}")) for fname, _, vnode in section("defer"))
    indirect: list[Indirect] = []
    for pattern, knode, vnode in section("indirect"):
        key = f"indirect.{pattern}"
        m = r.mapping(vnode, key, *RULES_KEYS["indirect"])
        table, member = r.string(m["table"][1], f"{key}.table"), r.integer(m["member"][1], f"{key}.member")
        indirect.append(Indirect(pattern, table, member, r.loc(knode)))
    axes: tuple[Axis, ...] = ()
    if "runtime" in top:
        b = _Builder(r)
        b.axis_names = {name for name, _, _ in r.named_mapping(top["runtime"][1], "runtime")}
        b.option_names = _AnyOption()
        axes = b.runtime(top["runtime"][1])
    installers = tuple(
        (name, r.expr(vnode, f"installers.{name}"), r.loc(knode)) for name, knode, vnode in section("installers")
    )
    branches: list[BranchRule] = []
    for i, bnode in enumerate(r.sequence(top["branches"][1], "branches") if "branches" in top else []):
        key = f"branches[{i}]"
        m = r.mapping(bnode, key, *RULES_KEYS["branch"])
        branches.append(
            BranchRule(
                r.string(m["function"][1], f"{key}.function"),
                " ".join(r.string(m["if"][1], f"{key}.if").split()),
                r.expr(m["then"][1], f"{key}.then"),
                r.expr(m["else"][1], f"{key}.else") if "else" in m else None,
                r.string(m["label"][1], f"{key}.label") if "label" in m else None,
                r.string(m["else_label"][1], f"{key}.else_label") if "else_label" in m else None,
                r.loc(bnode),
            )
        )
    entries: list[tuple[str, EntryRule]] = []
    for fname, knode, vnode in section("entries"):
        key = f"entries.{fname}"
        m = r.mapping(vnode, key, *RULES_KEYS["entry"])
        rule = EntryRule(
            r.choice(m["role"][1], f"{key}.role", ROLES),
            r.choice(m["level"][1], f"{key}.level", LEVELS) if "level" in m else "pte",
            r.loc(knode),
            r.string(m["file"][1], f"{key}.file") if "file" in m else None,
        )
        entries.append((fname, rule))
    atoms = tuple((name, r.expr(vnode, f"atoms.{name}"), r.loc(knode)) for name, knode, vnode in section("atoms"))
    assume: list[tuple[str, bool, Location]] = []
    for name, knode, vnode in section("assume"):
        chosen = r.choice(vnode, f"assume.{name}", ("y", "n")) if vnode.tag != "tag:yaml.org,2002:bool" else None
        assume.append((name, chosen == "y" if chosen else r.boolean(vnode, f"assume.{name}"), r.loc(knode)))
    return Rules(
        sinks=tuple(sinks),
        defer=defer,
        indirect=tuple(indirect),
        carriers=names("carriers") if "carriers" in top else None,
        references=names("references"),
        attributes=names("attributes"),
        stop=names("stop"),
        keep=names("keep"),
        axes=axes,
        installers=installers,
        branches=tuple(branches),
        entries=tuple(entries),
        atoms=atoms,
        assume=tuple(assume),
        files=(file,),
    )


class _AnyOption(set[str]):
    """In a rules file, any upper-case name may be an option: the tree says later."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(_OPTION_NAME.match(name))
