"""Hostile input: nothing in ptfree_cli runs code from its input, and every
hostile file (alias bomb, huge file, huge line, FIFO, unreadable file,
directory, binary garbage) is one located error line, quickly, exit 2.

Also the safe-write guarantees of ``check --output``/``--emit-config``:
names from a model never leave the directory, and an interrupted run
leaves the old report or a complete new one, never a partial one.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CONFIGS, run

from ptfree_cli import config, files, loader
from ptfree_cli.errors import ConfigError, ModelError, PtfreeError

ROOT = CONFIGS.parent
PACKAGE = ROOT / "ptfree_cli"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def assert_one_error(args: tuple[str, ...], expected: str) -> None:
    result = run(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", expected + "\n")


# -- no code execution, no unsafe deserialisation ---------------------------

_FORBIDDEN_CALLS = {
    "eval": "eval(",
    "exec": "exec(",
    "os.system": "os.system",
    "os.popen": "os.popen",
    "yaml.load": "yaml.load( (not safe_load)",
    "yaml.load_all": "yaml.load_all( (not safe_load_all)",
    "yaml.unsafe_load": "yaml.unsafe_load",
    "yaml.unsafe_load_all": "yaml.unsafe_load_all",
    "yaml.full_load": "yaml.full_load",
    "yaml.full_load_all": "yaml.full_load_all",
}
_FORBIDDEN_MODULES = ("pickle", "marshal", "shelve")
_FORBIDDEN_ATTRIBUTES = ("yaml.Loader", "yaml.UnsafeLoader", "yaml.FullLoader", "yaml.CLoader", "yaml.CUnsafeLoader")


def _dotted(node: ast.expr) -> str:
    """``os.system`` for the expression ``os.system``; "" for anything not a dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def unsafe_constructs(source: str, file: str) -> list[str]:
    """``file:line: what`` for every dangerous construct in the Python ``source``.

    Works on the syntax tree, so comments, docstrings and strings that merely
    mention ``eval(`` do not count.
    """
    hits: list[str] = []
    for node in ast.walk(ast.parse(source, file)):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in _FORBIDDEN_CALLS:
                hits.append(f"{file}:{node.lineno}: {_FORBIDDEN_CALLS[name]}")
            for kw in node.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    hits.append(f"{file}:{node.lineno}: shell=True")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in _FORBIDDEN_MODULES:
                    hits.append(f"{file}:{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in _FORBIDDEN_MODULES:
                hits.append(f"{file}:{node.lineno}: from {node.module} import")
            if node.module == "os" and any(a.name in ("system", "popen") for a in node.names):
                hits.append(f"{file}:{node.lineno}: from os import system/popen")
        elif isinstance(node, ast.Attribute) and _dotted(node) in _FORBIDDEN_ATTRIBUTES:
            hits.append(f"{file}:{node.lineno}: {_dotted(node)}")
    return sorted(hits, key=lambda hit: int(hit.split(":")[1]))


def test_no_module_of_ptfree_cli_evaluates_code_or_deserialises_unsafely() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) >= 15  # the scan really covers the package
    hits: list[str] = []
    for path in sources:
        hits += unsafe_constructs(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert hits == []


def test_the_unsafe_construct_scan_finds_each_construct_and_ignores_comments_and_strings() -> None:
    source = '''"""Docstring: eval(x), exec(y), yaml.load(z), pickle, os.system('ls')."""
import os, subprocess, yaml
import pickle
from marshal import loads
# eval(comment) and shell=True in a comment
text = "exec(not code) yaml.unsafe_load os.popen"
eval("1")
exec("2")
yaml.load(text, Loader=yaml.Loader)
yaml.unsafe_load(text)
yaml.full_load(text)
os.system("true")
os.popen("true")
subprocess.run("true", shell=True)
subprocess.run(["true"], shell=False)
yaml.safe_load(text)
'''
    assert unsafe_constructs(source, "m.py") == [
        "m.py:3: import pickle",
        "m.py:4: from marshal import",
        "m.py:7: eval(",
        "m.py:8: exec(",
        "m.py:9: yaml.load( (not safe_load)",
        "m.py:9: yaml.Loader",
        "m.py:10: yaml.unsafe_load",
        "m.py:11: yaml.full_load",
        "m.py:12: os.system",
        "m.py:13: os.popen",
        "m.py:14: shell=True",
    ]


# -- hostile model files -----------------------------------------------------

BILLION_LAUGHS = """\
ptfree: 1
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_a_yaml_alias_bomb_is_refused_at_its_first_alias_quickly_and_in_little_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BILLION_LAUGHS)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ModelError) as info:
            loader.load_model(bomb)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert str(info.value) == f"{bomb}:3:8: YAML aliases (*name) are not allowed in a model"
    assert elapsed < 1.0
    assert peak < 100 * 1024 * 1024
    assert rss_growth < 100 * 1024
    assert_one_error(("validate", "bomb.yaml"), "bomb.yaml:3:8: error: YAML aliases (*name) are not allowed in a model")


def test_a_yaml_merge_key_alias_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "merge.yaml").write_text("base: &base {file: a.c}\nother:\n  <<: *base\n")
    assert_one_error(
        ("validate", "merge.yaml"), "merge.yaml:3:7: error: YAML aliases (*name) are not allowed in a model"
    )


def test_a_model_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (loader.MAX_BYTES + 1))
    expected = f"big.yaml: error: file is {loader.MAX_BYTES + 1} bytes; the limit is 4194304"
    assert loader.MAX_BYTES == 4 * 1024 * 1024
    assert_one_error(("validate", "big.yaml"), expected)
    assert_one_error(("path", "--model", "big.yaml"), expected)


def test_a_model_file_at_the_size_cap_is_read(tmp_path: Path) -> None:
    text = (CONFIGS / "v6.12.yaml").read_bytes()
    lines, rest = divmod(loader.MAX_BYTES - len(text), 100)
    padded = text + (b"#" * 99 + b"\n") * lines + b"#" * (rest - 1) + b"\n"
    (tmp_path / "full.yaml").write_bytes(padded)
    assert len(padded) == loader.MAX_BYTES
    result = run("validate", "full.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "full.yaml: ok\n", "")


def test_a_file_that_grows_past_the_cap_after_its_size_was_checked_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grown = tmp_path / "grown.yaml"
    grown.write_bytes(b"#" * (loader.MAX_BYTES + 10))
    real_stat = Path.stat

    def small_stat(self: Path, **kwargs: bool) -> os.stat_result:
        st = real_stat(self, **kwargs)
        if self.name != "grown.yaml":
            return st
        fields = list(st)
        fields[6] = 100  # st_size as it was "when checked"
        return os.stat_result(fields)

    monkeypatch.setattr(Path, "stat", small_stat)
    assert_one_error(("validate", "grown.yaml"), "grown.yaml: error: file is over 4194304 bytes, the limit")


def test_a_line_over_one_mebibyte_is_refused_where_it_exceeds_the_limit_quickly(tmp_path: Path) -> None:
    head = (CONFIGS / "v6.12.yaml").read_text()
    guard = " && ".join(["PARAVIRT"] * (loader.MAX_LINE // 12 + 1))
    assert len(guard) > loader.MAX_LINE
    text = head.replace("functions:\n", f"functions:\n  huge:\n    file: mm/x.c\n    if: {guard}\n", 1)
    (tmp_path / "long.yaml").write_text(text)
    line = head[: head.index("functions:\n")].count("\n") + 4
    started = time.perf_counter()
    assert_one_error(
        ("validate", "long.yaml"), f"long.yaml:{line}:1048577: error: line is longer than 1048576 characters"
    )
    assert time.perf_counter() - started < 1.0


def test_lines_up_to_the_limit_are_not_refused_by_the_line_guard(tmp_path: Path) -> None:
    text = "ptfree: 1\n# " + "x" * (loader.MAX_LINE - 2) + "\n"
    (tmp_path / "m.yaml").write_text(text)
    # The line guard lets it through; the model is then refused for what it lacks.
    assert_one_error(("validate", "m.yaml"), "m.yaml:1:1: error: missing required key 'model'")


def test_a_line_over_the_limit_in_a_policy_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("ptfree-policy: 1\nname: " + "x" * loader.MAX_LINE + "\n")
    assert_one_error(
        ("check", "-m", "v7.2", "--policy", "p.yaml"), "p.yaml:2:1048577: error: line is longer than 1048576 characters"
    )


# -- files that are not files ------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO named ``pipe`` with no writer: opening it would block, so a
    test that opens it fails after 10 s instead of hanging."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("blocked for 10 s: the FIFO was opened")

    path = tmp_path / "pipe"
    os.mkfifo(path)
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    try:
        yield path
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("fifo")
def test_a_fifo_given_as_the_model_is_refused_without_opening_it() -> None:
    assert_one_error(("validate", "pipe"), "pipe: error: is not a regular file, not a model file")
    assert_one_error(("path", "--model", "pipe"), "pipe: error: is not a regular file, not a model file")


@pytest.mark.usefixtures("fifo")
def test_a_fifo_given_as_config_is_refused_without_opening_it() -> None:
    assert_one_error(
        ("path", "-m", "v6.12", "--config", "pipe"), "pipe: error: is not a regular file, not a configuration file"
    )


def test_a_fifo_is_refused_in_a_subprocess_that_would_hang_if_it_were_opened(fifo: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ptfree_cli", "path", "-m", "v6.12", "--config", "pipe"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        2,
        "",
        "pipe: error: is not a regular file, not a configuration file\n",
    )


def test_a_character_device_given_as_the_model_is_refused() -> None:
    assert_one_error(("validate", "/dev/zero"), "/dev/zero: error: is not a regular file, not a model file")


def _unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> None:
    """``name`` in tmp_path, unreadable: chmod 000, or, for root, whom
    permissions do not stop, an open() that raises PermissionError."""
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0)
    if os.geteuid() == 0:
        real_open = Path.open

        def refuse(self: Path, *args: object, **kwargs: object) -> object:
            if self.name == name:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

        monkeypatch.setattr(Path, "open", refuse)


@pytest.mark.parametrize("command", [("validate",), ("path", "--model")])
def test_an_unreadable_model_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    _unreadable(tmp_path, monkeypatch, "secret.yaml", (CONFIGS / "v6.12.yaml").read_text())
    assert_one_error((*command, "secret.yaml"), "secret.yaml: error: permission denied")


def test_an_unreadable_config_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _unreadable(tmp_path, monkeypatch, "secret.config", "CONFIG_PARAVIRT=y\n")
    assert_one_error(("path", "-m", "v6.12", "--config", "secret.config"), "secret.config: error: permission denied")


def test_a_directory_given_as_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "linux").mkdir()
    assert_one_error(
        ("path", "-m", "v6.12", "--config", "linux"), "linux: error: is a directory, not a configuration file"
    )


# -- .config files that are not UTF-8 ---------------------------------------

V612 = loader.load_model(CONFIGS / "v6.12.yaml")


def test_a_config_that_is_not_utf8_is_read_as_latin1_and_its_config_lines_count(tmp_path: Path) -> None:
    (tmp_path / "latin1.config").write_bytes(
        b'CONFIG_LOCALVERSION="-caf\xe9"\n'
        b'CONFIG_CMDLINE="root=/dev/sda \xff\xfe"\n'
        b"# CONFIG_PARAVIRT is not set\n"
        b"CONFIG_SMP=y\n"
    )
    user = config.read(V612, "latin1.config")
    assert user.values == {"PARAVIRT": False, "SMP": True}
    assert [(str(o)) for o in user.origins.values()] == ["latin1.config:3:1", "latin1.config:4:1"]


def test_binary_garbage_as_config_is_ignored_except_its_config_lines(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 8 + b"\n\x00\x80\x85\xc3(\n" + bytes(range(255, -1, -1))
    (tmp_path / "garbage.config").write_bytes(garbage + b"\nCONFIG_PARAVIRT=n\n" + garbage)
    user = config.read(V612, "garbage.config")
    assert user.values == {"PARAVIRT": False}
    line = (garbage + b"\n").count(b"\n") + 1
    assert str(user.origins["PARAVIRT"]) == f"garbage.config:{line}:1"
    result = run("path", "-m", "v6.12", "--config", "garbage.config")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == run("path", "-m", "v6.12", "--config", "PARAVIRT=n").stdout


def test_a_latin1_byte_that_python_calls_a_line_break_does_not_split_a_config_line(tmp_path: Path) -> None:
    # \x85 (NEL) and \x0c are line breaks to str.splitlines(), not to Kconfig:
    # the CONFIG_PARAVIRT text after them is inside a string value.
    (tmp_path / "nel.config").write_bytes(b'CONFIG_CMDLINE="a\x85CONFIG_PARAVIRT=y \x0cCONFIG_SMP=n"\nCONFIG_XEN=y\n')
    user = config.read(V612, "nel.config")
    assert user.values == {"XEN": True}
    assert str(user.origins["XEN"]) == "nel.config:2:1"


def test_a_malformed_config_line_in_binary_garbage_is_one_located_error(tmp_path: Path) -> None:
    (tmp_path / "bad.config").write_bytes(b"\xff\xfe\x00\nCONFIG_\xe9\xff junk\n")
    with pytest.raises(ConfigError) as info:
        config.read(V612, "bad.config")
    assert str(info.value) == "bad.config:2:1: malformed line 'CONFIG_éÿ junk': expected CONFIG_NAME=value"
    assert_one_error(
        ("path", "-m", "v6.12", "--config", "bad.config"),
        "bad.config:2:1: error: malformed line 'CONFIG_éÿ junk': expected CONFIG_NAME=value",
    )


# -- safe writes: names from a model stay inside the directory ---------------

ODD_NAMES = [
    "../../evil",
    "..",
    ".",
    "",
    "/etc/passwd",
    "a/../../b",
    "..\\..\\windows",
    "nul\x00byte",
    "new\nline",
    "~root",
    "$(reboot)",
    "é/../ü",
    ".hidden",
]


@pytest.mark.parametrize("name", ODD_NAMES, ids=repr)
def test_safe_name_neutralises_names_that_could_leave_or_hide_in_the_directory(tmp_path: Path, name: str) -> None:
    safe = files.safe_name(name, "free_pte_range", "forbidden", "direct")
    assert safe
    assert not safe.startswith(".")
    assert set(safe) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-")
    assert files.inside(tmp_path, safe).resolve().parent == tmp_path.resolve()


def test_safe_name_spells_out_what_it_replaces() -> None:
    assert files.safe_name("../../evil", "f", "forbidden", "direct") == "_.._evil-f-forbidden-direct"
    assert files.safe_name("..") == "_"
    assert files.safe_name("") == "_"


def test_inside_refuses_a_name_that_leaves_the_directory(tmp_path: Path) -> None:
    with pytest.raises(PtfreeError) as info:
        files.inside(tmp_path / "out", "../escape.config")
    assert str(info.value) == f"{tmp_path / 'out'}: refusing to write '../escape.config' outside {tmp_path / 'out'}"


def _renamed_model(tmp_path: Path, name: str) -> Path:
    text = (CONFIGS / "v6.15.yaml").read_text()
    assert text.count("\nmodel: v6.15\n") == 1
    path = tmp_path / "renamed.yaml"
    path.write_text(text.replace("\nmodel: v6.15\n", f"\nmodel: {json.dumps(name)}\n"))
    return path


def _all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def test_emit_config_keeps_fragments_of_a_model_named_to_climb_out_inside_the_directory(tmp_path: Path) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    model = _renamed_model(tmp_path, "../../evil")
    result = run("check", "-m", str(model), "--emit-config", str(work / "out"))
    assert result.exit_code == 1
    written = _all_files(tmp_path)
    fragments = [f for f in written if f.startswith("a/b/out/")]
    assert written == sorted(["renamed.yaml", *fragments])
    assert fragments == [
        f"a/b/out/_.._evil-{entry}-forbidden-{leaf}.config"
        for entry in ("free_pmd_range", "free_pte_range", "free_pud_range")
        for leaf in ("direct", "ipi_sync")
    ]


def test_emit_config_refuses_a_model_name_too_long_for_a_file_name_before_writing_anything(tmp_path: Path) -> None:
    model = _renamed_model(tmp_path, "x" * 300)
    result = run("check", "-m", str(model), "--emit-config", "out")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"out: error: refusing to write '{'x' * 57}...': the name is 341 bytes; the limit is {files.MAX_NAME}\n"
    )
    assert _all_files(tmp_path) == ["renamed.yaml"]


def test_the_longest_allowed_name_can_be_written_atomically(tmp_path: Path) -> None:
    name = "x" * files.MAX_NAME
    files.write_atomic(files.inside(tmp_path, name), "text\n")
    assert (tmp_path / name).read_text() == "text\n"
    assert _all_files(tmp_path) == [name]


def test_write_atomic_reports_a_name_the_file_system_refuses_as_one_error(tmp_path: Path) -> None:
    target = tmp_path / ("y" * 300)
    with pytest.raises(PtfreeError) as info:
        files.write_atomic(target, "text\n")
    assert str(info.value) == f"{target}: cannot write: File name too long"
    assert _all_files(tmp_path) == []


# -- safe writes: an interrupted run leaves the old file or a complete new one


def _check_to(out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ptfree_cli",
        "check",
        "--all-models",
        "--format",
        "sarif",
        "--output",
        str(out),
        "--force",
    ]


SUBPROCESS_ENV = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def test_a_normal_run_replaces_the_report_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    out.write_text("old report\n")
    proc = subprocess.run(_check_to(out), cwd=ROOT, env=SUBPROCESS_ENV, capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", "")
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert [p.name for p in tmp_path.iterdir()] == ["report.sarif"]


def test_killing_a_run_at_any_moment_leaves_the_old_report_or_a_complete_new_one(tmp_path: Path) -> None:
    old = "old report\n"
    out = tmp_path / "report.sarif"
    started = time.perf_counter()
    complete = subprocess.run(_check_to(out), cwd=ROOT, env=SUBPROCESS_ENV, capture_output=True, timeout=60)
    duration = time.perf_counter() - started
    assert complete.returncode == 1
    new = out.read_text()
    outcomes: dict[float, str] = {}
    for delay in (0.05, 0.2, 0.5, duration * 0.8, duration * 0.95, duration * 1.05):
        out.write_text(old)
        proc = subprocess.Popen(_check_to(out), cwd=ROOT, env=SUBPROCESS_ENV, stdout=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        text = out.read_text()
        assert text in (old, new), f"killed after {delay:.2f}s: {len(text)} characters, neither old nor new"
        outcomes[delay] = "old" if text == old else "new"
    assert outcomes[0.05] == "old"  # killed long before it could write


def test_a_new_report_gets_the_mode_a_plain_write_would_give_not_0600(tmp_path: Path) -> None:
    mask = os.umask(0o027)
    try:
        files.write_atomic(tmp_path / "new.txt", "text\n")
    finally:
        os.umask(mask)
    assert oct((tmp_path / "new.txt").stat().st_mode & 0o777) == oct(0o640)


def test_a_replaced_report_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    target.chmod(0o604)
    files.write_atomic(target, "new\n", force=True)
    assert (target.read_text(), oct(target.stat().st_mode & 0o777)) == ("new\n", oct(0o604))


def test_writing_to_a_device_or_fifo_writes_to_it_and_never_replaces_it(tmp_path: Path) -> None:
    import stat
    import threading

    from ptfree_cli.files import write_atomic

    # /dev/null: the bytes go, the device stays (a rename over it, as root,
    # once left a plain file there).
    write_atomic(Path(os.devnull), "discarded\n", force=True)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_atomic(fifo, "through the pipe\n", force=True)
    reader.join(timeout=10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
