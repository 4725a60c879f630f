"""ptfree_cli.loader: every bad model is one located error line, exit 2, nothing on stdout.

Each scenario has its own tiny model in tests/data/.  Both commands that
read a model are checked: ``ptfree validate FILE`` and ``ptfree path
--model FILE``.  Paths are relative to the repository root, which is the
working directory of every test here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import CONFIGS, DATA, run

from ptfree_cli import guards
from ptfree_cli.errors import Location
from ptfree_cli.loader import load_model

ROOT = DATA.parent.parent

# Malformed YAML is described by whichever parser reads it: libyaml where
# PyYAML was built with it (every wheel on PyPI), else PyYAML's own.
LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


# (fixture name, "line:col: error: ..." as printed after the file name)
BAD_MODELS = [
    pytest.param(
        "err_malformed_indent",
        (
            "11:4: error: malformed YAML: did not find expected key"
            if LIBYAML
            else "11:4: error: malformed YAML: expected <block end>, but found '<block mapping start>'"
        )
        + " (while parsing a block mapping at line 9, column 3)",
        id="malformed-yaml-bad-indentation-points-at-the-line-and-the-enclosing-mapping",
    ),
    pytest.param(
        "err_unclosed_bracket",
        (
            "12:4: error: malformed YAML: did not find expected ',' or ']'"
            if LIBYAML
            else "12:4: error: malformed YAML: expected ',' or ']', but got ':'"
        )
        + " (while parsing a flow sequence at line 11, column 12)",
        id="malformed-yaml-unclosed-bracket-names-where-the-bracket-opened",
    ),
    pytest.param(
        "err_unknown_top_key",
        "8:1: error: function: unknown key; expected one of: ptfree, model, title, kernel, options, runtime,"
        " entries, functions, hooks",
        id="unknown-top-level-key-lists-the-allowed-keys",
    ),
    pytest.param(
        "err_unknown_function_key",
        "11:5: error: functions.f.call: unknown key; expected one of: "
        "file, if, calls, leaf, ipi, rcu_sync, note, commit, at",
        id="unknown-key-in-a-function-lists-the-allowed-keys",
    ),
    pytest.param(
        "err_guard_unknown_option",
        "14:21: error: functions.f.if: unknown option or runtime axis 'PARAVRT'; did you mean PARAVIRT?",
        id="guard-naming-an-unknown-option-points-at-it-and-suggests-the-nearest",
    ),
    pytest.param(
        "err_guard_syntax_plain",
        "14:21: error: functions.f.if: bad expression 'PARAVIRT && && PARAVIRT': expected a symbol, found '&&'",
        id="guard-syntax-error-in-a-plain-scalar-points-at-the-bad-token",
    ),
    pytest.param(
        "err_guard_syntax_quoted",
        "14:23: error: functions.f.if: bad expression '!PARAVIRT || )': expected a symbol, found ')'",
        id="guard-syntax-error-in-a-quoted-scalar-points-at-the-bad-token",
    ),
    pytest.param(
        "err_guard_syntax_folded",
        "16:20: error: functions.f.if: bad expression 'PARAVIRT && (PARAVIRT || )': expected a symbol, found ')'",
        id="guard-syntax-error-in-a-folded-scalar-points-at-the-bad-token-on-its-own-line",
    ),
    pytest.param(
        "err_axis_without_value",
        "20:13: error: functions.f.calls[0].if: runtime axis 'backend' needs a value, e.g. backend=native",
        id="runtime-axis-without-a-value",
    ),
    pytest.param(
        "err_unknown_alternative",
        "20:13: error: functions.f.calls[0].if: 'kvm' is not an alternative of axis 'backend' (native, xen_pv)",
        id="unknown-alternative-lists-the-known-ones",
    ),
    pytest.param(
        "err_axis_in_kconfig_expr",
        "8:17: error: options.PARAVIRT.depends_on: runtime axis 'backend' cannot appear in a Kconfig expression",
        id="runtime-axis-in-depends-on",
    ),
    pytest.param(
        "err_call_undefined_function",
        "12:9: error: functions.f.calls[0]: call to undefined function 'tlb_remove_tabel';"
        " did you mean tlb_remove_table?",
        id="call-to-an-undefined-function-suggests-the-nearest",
    ),
    pytest.param(
        "err_call_undefined_hook",
        "12:9: error: functions.f.calls[0]: call to undefined hook 'pv_ops.mmu.tlb_remove_table'",
        id="call-to-an-undefined-hook",
    ),
    pytest.param(
        "err_call_cycle",
        "20:9: error: functions.h.calls[0]: call cycle: g -> h -> g",
        id="call-cycle-is-spelled-out-at-the-call-that-closes-it",
    ),
    pytest.param(
        "err_duplicate_function",
        "11:3: error: functions.f: duplicate key (first defined on line 9)",
        id="duplicate-function-names-the-first-definition",
    ),
    pytest.param(
        "err_function_and_hook_same_name",
        "16:3: error: hooks.g: 'g' is both a function (at tests/data/err_function_and_hook_same_name.yaml:13:3)"
        " and a hook",
        id="function-and-hook-with-the-same-name",
    ),
    pytest.param(
        "err_leaf_with_calls",
        "13:5: error: functions.f.leaf: a leaf ends the path: it may not have calls",
        id="leaf-with-calls",
    ),
    pytest.param(
        "err_unsatisfiable_entry",
        "12:3: error: entries.f: entry point 'f' exists in no valid configuration"
        " (its guard PARAVIRT && !HYPERVISOR_GUEST is never true)",
        id="entry-whose-guard-no-valid-configuration-satisfies",
    ),
    pytest.param(
        "err_entry_not_function",
        "6:3: error: entries.free_pte_rnage: entry point 'free_pte_rnage' is not a function of this model;"
        " did you mean free_pte_range?",
        id="entry-that-is-not-a-function-suggests-the-nearest",
    ),
    pytest.param(
        "err_yaml_alias",
        "12:11: error: YAML aliases (*name) are not allowed in a model",
        id="yaml-alias-is-refused-at-the-star",
    ),
    pytest.param(
        "err_empty",
        "1:1: error: empty file; expected a ptfree model",
        id="empty-file",
    ),
    pytest.param(
        "err_format_version",
        "1:9: error: ptfree: unsupported format version; this ptfree reads 1",
        id="format-version-2",
    ),
    pytest.param(
        "err_commit_not_listed",
        "14:13: error: functions.f.commit: commit 0123456789ac is not listed in kernel.commits",
        id="commit-not-in-kernel-commits",
    ),
]


def assert_one_error(args: tuple[str, ...], expected: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == expected + "\n"


@pytest.mark.parametrize(("name", "error"), BAD_MODELS)
def test_validate_reports_a_bad_model_as_one_located_line_and_exits_2(name: str, error: str) -> None:
    path = f"tests/data/{name}.yaml"
    assert_one_error(("validate", path), f"{path}:{error}")


@pytest.mark.parametrize(("name", "error"), BAD_MODELS)
def test_path_refuses_a_bad_model_with_one_located_line_and_prints_nothing(name: str, error: str) -> None:
    path = f"tests/data/{name}.yaml"
    assert_one_error(("path", "--model", path), f"{path}:{error}")


def test_every_bad_fixture_has_a_scenario() -> None:
    tested = {p.values[0] for p in BAD_MODELS}
    assert {p.stem for p in DATA.glob("err_*.yaml")} == tested


@pytest.mark.parametrize("command", [("validate",), ("path", "--model")])
def test_a_directory_given_as_the_model_is_refused(command: tuple[str, ...]) -> None:
    assert_one_error((*command, "tests/data"), "tests/data: error: is a directory, not a model file")


@pytest.mark.parametrize("command", [("validate",), ("path", "--model")])
def test_a_missing_model_file_is_refused(command: tuple[str, ...]) -> None:
    assert_one_error((*command, "tests/data/nosuch.yaml"), "tests/data/nosuch.yaml: error: no such file")


# -- inputs written by the test (not committed: binary or generated) ---------


def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes) -> str:
    (tmp_path / "bad.yaml").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    return "bad.yaml"


TINY = b"ptfree: 1\nmodel: m\nkernel: {version: v}\nentries: {f: {role: teardown}}\n"


@pytest.mark.parametrize("command", [("validate",), ("path", "--model")])
def test_non_utf8_model_is_refused_at_the_bad_byte_counting_columns_in_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    path = write(tmp_path, monkeypatch, b"ptfree: 1\nmodel: m\ntitle: caf\xc3\xa9 \xff\n")
    assert_one_error((*command, path), "bad.yaml:3:13: error: not valid UTF-8 (byte 0xff)")


def test_nul_character_is_a_located_error_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, monkeypatch, b"ptfree: 1\nmodel: a\x00b\n")
    assert_one_error(
        ("validate", path),
        "bad.yaml:2:9: error: malformed YAML: unacceptable character #x0000: "
        + ("control characters are not allowed" if LIBYAML else "special characters are not allowed"),
    )


def test_yaml_nested_too_deep_is_a_located_error_not_a_recursion_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, monkeypatch, b"ptfree: 1\nmodel: " + b"[" * 5000 + b"]" * 5000 + b"\n")
    result = run("validate", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    # libyaml from PyYAML 6.0.4 on stops flow nesting at 1000 while scanning
    # ahead; older builds leave it to the loader's own limit of 64.
    assert result.stderr in (
        "bad.yaml:2:71: error: YAML nested more than 64 levels deep\n",
        "bad.yaml:2:1007: error: malformed YAML: exceeded maximum nesting depth\n",
    )


def test_block_nesting_too_deep_is_refused_at_the_65th_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "".join(f"{'  ' * i}k{i}:\n" for i in range(100)) + "  " * 100 + "leaf: 1\n"
    path = write(tmp_path, monkeypatch, b"ptfree: 1\nmodel:\n" + body.replace("\n", "\n  ").encode())
    assert_one_error(("validate", path), "bad.yaml:67:131: error: YAML nested more than 64 levels deep")


def test_guard_nested_too_deep_points_at_the_first_level_too_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = "(" * 2000 + "A" + ")" * 2000
    text = TINY + b"options: {A: }\nfunctions: {f: {file: a, if: '" + guard.encode() + b"'}}\n"
    path = write(tmp_path, monkeypatch, text)
    assert_one_error(
        ("validate", path),
        "bad.yaml:6:95: error: functions.f.if: bad expression '" + "(" * 57 + "...': "
        "expression nested more than 64 levels deep",
    )


def test_guard_chain_too_long_is_a_located_error_not_a_recursion_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = " && ".join(["A"] * 5000)
    text = TINY + b"options: {A: }\nfunctions: {f: {file: a, if: '" + guard.encode() + b"'}}\n"
    path = write(tmp_path, monkeypatch, text)
    assert_one_error(
        ("validate", path), "bad.yaml:6:30: error: functions.f.if: expression nested more than 64 levels deep"
    )


def test_guard_syntax_error_column_counts_escapes_and_leading_spaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, monkeypatch, TINY + b'options: {A: }\nfunctions: {f: {file: a, if: "  \\x41 && )"}}\n')
    assert_one_error(
        ("validate", path),
        "bad.yaml:6:41: error: functions.f.if: bad expression 'A && )': expected a symbol, found ')'",
    )


def test_hexadecimal_format_version_is_a_located_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, monkeypatch, b"ptfree: 0x1\n" + TINY[len(b"ptfree: 1\n") :] + b"functions: {f: {file: a}}\n")
    assert_one_error(("validate", path), "bad.yaml:1:9: error: ptfree: expected a decimal integer, found '0x1'")


# -- good models ----------------------------------------------------------


def test_every_shipped_model_validates() -> None:
    paths = sorted(str(p.relative_to(ROOT)) for p in CONFIGS.glob("*.yaml"))
    assert paths, "no shipped models found"
    result = run("validate", *paths)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == "".join(f"{p}: ok\n" for p in paths)


def test_validate_reports_each_file_and_exits_2_if_any_is_bad() -> None:
    result = run("validate", "tests/data/ok_minimal.yaml", "tests/data/err_empty.yaml")
    assert result.exit_code == 2
    assert result.stdout == "tests/data/ok_minimal.yaml: ok\n"
    assert result.stderr == "tests/data/err_empty.yaml:1:1: error: empty file; expected a ptfree model\n"


def test_minimal_model_loads_with_its_functions_hook_and_entry() -> None:
    model = load_model("tests/data/ok_minimal.yaml")
    assert model.name == "ok-minimal"
    assert model.title == "A minimal valid model"
    assert model.version == "v0.1"
    assert [o.name for o in model.options] == ["HYPERVISOR_GUEST", "PARAVIRT"]
    assert [(a.name, [alt.name for alt in a.alternatives]) for a in model.axes] == [("backend", ["native", "xen_pv"])]
    assert [f.name for f in model.functions] == [
        "free_pte_range",
        "native_tlb_remove_table",
        "tlb_remove_table",
        "tlb_remove_page",
        "free_page",
    ]
    assert [(e.function, e.role, e.level) for e in model.entries] == [("free_pte_range", "teardown", "pte")]
    assert model.entries[0].loc == Location("tests/data/ok_minimal.yaml", 25, 3)
    assert [(h.name, [t.target for t in h.targets]) for h in model.hooks] == [
        ("pv_ops.tlb_remove_table", ["native_tlb_remove_table", "tlb_remove_table"])
    ]
    top = model.function_map["free_pte_range"]
    assert [(c.target, c.hook, guards.format_expr(c.guard)) for c in top.calls] == [
        ("tlb_remove_page", False, "!PARAVIRT"),
        ("pv_ops.tlb_remove_table", True, "PARAVIRT"),
    ]
    assert model.function_map["tlb_remove_table"].commit == "0123456789ab"
    assert model.function_map["tlb_remove_table"].calls[0].defer == "rcu"
    assert {f.name: f.leaf for f in model.functions if f.leaf} == {
        "tlb_remove_page": "tlb_batched",
        "free_page": "free",
    }


def test_minimal_model_validates() -> None:
    result = run("validate", "tests/data/ok_minimal.yaml")
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == ("tests/data/ok_minimal.yaml: ok\n", "")
