"""ptfree_cli.config: `.config` files and inline lists, directly and through ``ptfree path --config``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CONFIGS, run

from ptfree_cli import config
from ptfree_cli.errors import ConfigError, Location
from ptfree_cli.loader import load_model
from ptfree_cli.model import Model
from ptfree_cli.models import locate, shipped

V612_OPTIONS = (
    "HYPERV, HYPERVISOR_GUEST, KVM_GUEST, MMU_GATHER_RCU_TABLE_FREE, MMU_GATHER_TABLE_FREE, PARAVIRT, SMP, X86,"
    " X86_64, XEN, XEN_PV"
)


@pytest.fixture(scope="module")
def v612() -> Model:
    return load_model(CONFIGS / "v6.12.yaml")


def parse(model: Model, text: str) -> config.UserConfig:
    return config.parse_config(model, text, ".config")


def config_error(fn: Callable[..., object], *args: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        fn(*args)
    return info.value


# -- .config files ----------------------------------------------------------


def test_config_line_sets_the_option_and_remembers_where(v612: Model) -> None:
    user = parse(v612, "CONFIG_PARAVIRT=y\n")
    assert user.values == {"PARAVIRT": True}
    assert user.origins == {"PARAVIRT": Location(".config", 1, 1)}
    assert user.source == ".config"


def test_config_module_value_reads_as_y(v612: Model) -> None:
    assert parse(v612, "CONFIG_HYPERV=m\n").values == {"HYPERV": True}


def test_config_is_not_set_comment_reads_as_n(v612: Model) -> None:
    user = parse(v612, "CONFIG_SMP=y\n# CONFIG_PARAVIRT is not set\n")
    assert user.values == {"SMP": True, "PARAVIRT": False}
    assert user.origins["PARAVIRT"] == Location(".config", 2, 1)


def test_config_other_lines_and_unknown_symbols_are_ignored(v612: Model) -> None:
    text = (
        "#\n"
        "# Automatically generated file; DO NOT EDIT.\n"
        "#\n"
        "\n"
        'CONFIG_LOCALVERSION=""\n'
        "CONFIG_NR_CPUS=64\n"
        "CONFIG_NOT_IN_THE_MODEL=y\n"
        "# CONFIG_ALSO_UNKNOWN is not set\n"
        "# end of General setup\n"
        "CONFIG_SMP=y\n"
    )
    user = parse(v612, text)
    assert user.values == {"SMP": True}
    assert user.origins == {"SMP": Location(".config", 10, 1)}


def test_config_crlf_line_endings_read_like_lf(v612: Model) -> None:
    user = parse(v612, "CONFIG_SMP=y\r\n# CONFIG_PARAVIRT is not set\r\nCONFIG_HYPERV=m\r\n")
    assert user.values == {"SMP": True, "PARAVIRT": False, "HYPERV": True}
    assert user.origins["HYPERV"] == Location(".config", 3, 1)


def test_config_option_given_twice_takes_the_last_value(v612: Model) -> None:
    user = parse(v612, "CONFIG_SMP=y\n# CONFIG_SMP is not set\n")
    assert user.values == {"SMP": False}
    assert user.origins == {"SMP": Location(".config", 2, 1)}


def test_config_malformed_config_line_is_an_error_at_its_line(v612: Model) -> None:
    exc = config_error(parse, v612, "CONFIG_SMP=y\nCONFIG_PARAVIRT y\n")
    assert exc.message == "malformed line 'CONFIG_PARAVIRT y': expected CONFIG_NAME=value"
    assert exc.location == Location(".config", 2, 1)
    assert str(exc) == ".config:2:1: malformed line 'CONFIG_PARAVIRT y': expected CONFIG_NAME=value"


def test_config_bad_value_for_a_model_option_is_an_error(v612: Model) -> None:
    exc = config_error(parse, v612, "CONFIG_SMP=y\nCONFIG_PARAVIRT=yes\n")
    assert exc.message == "CONFIG_PARAVIRT=yes: the value must be y, m or n"
    assert exc.location == Location(".config", 2, 1)


# -- inline lists -----------------------------------------------------------


def test_inline_list_sets_each_option_with_its_column(v612: Model) -> None:
    user = config.parse_inline(v612, "PARAVIRT=n,SMP=y")
    assert user.values == {"PARAVIRT": False, "SMP": True}
    assert user.origins == {"PARAVIRT": Location("<--config>", 1, 1), "SMP": Location("<--config>", 1, 12)}
    assert user.source == "<--config>"


def test_inline_list_config_prefix_is_optional(v612: Model) -> None:
    assert config.parse_inline(v612, "CONFIG_PARAVIRT=y,SMP=m").values == {"PARAVIRT": True, "SMP": True}


def test_inline_list_spaces_and_empty_items_are_ignored(v612: Model) -> None:
    user = config.parse_inline(v612, " PARAVIRT = y , SMP=n,")
    assert user.values == {"PARAVIRT": True, "SMP": False}
    assert user.origins == {"PARAVIRT": Location("<--config>", 1, 2), "SMP": Location("<--config>", 1, 17)}


def test_inline_list_unknown_option_suggests_the_nearest_at_its_column(v612: Model) -> None:
    exc = config_error(config.parse_inline, v612, "SMP=y, PARAVRT=n")
    assert str(exc) == "<--config>:1:8: unknown option PARAVRT in model v6.12; did you mean PARAVIRT?"


def test_inline_list_unknown_option_with_no_near_name_lists_them_all(v612: Model) -> None:
    exc = config_error(config.parse_inline, v612, "FOO=y")
    assert str(exc) == f"<--config>:1:1: unknown option FOO in model v6.12; its options are {V612_OPTIONS}"


def test_inline_list_bad_value_is_an_error_at_its_item(v612: Model) -> None:
    exc = config_error(config.parse_inline, v612, "PARAVIRT=y,SMP=1")
    assert str(exc) == "<--config>:1:12: SMP=1: the value must be y, m or n"


def test_inline_list_item_without_a_value_is_an_error(v612: Model) -> None:
    exc = config_error(config.parse_inline, v612, "SMP=y,PARAVIRT")
    assert str(exc) == "<--config>:1:7: expected NAME=y|n, found 'PARAVIRT'"


def test_text_with_an_equals_sign_that_is_no_file_reads_as_inline(tmp_path: Path) -> None:
    assert config.looks_inline("PARAVIRT=y")
    assert not config.looks_inline(str(tmp_path / "dot.config"))
    odd = tmp_path / "a=b"
    odd.write_text("")
    assert not config.looks_inline(str(odd))


# -- through the command line -------------------------------------------------

PARAVIRT_GUEST = """\
# Automatically generated file; DO NOT EDIT.
CONFIG_64BIT=y
CONFIG_SMP=y
CONFIG_HYPERVISOR_GUEST=y
CONFIG_PARAVIRT=y
# CONFIG_XEN is not set
CONFIG_HYPERV=m
CONFIG_KVM_GUEST=y
CONFIG_LOCALVERSION=""
"""


def test_path_with_a_config_file_follows_that_configuration(tmp_path: Path) -> None:
    dot_config = tmp_path / ".config"
    dot_config.write_text(PARAVIRT_GUEST)
    result = run("path", "-m", "configs/v6.12.yaml", "--config", str(dot_config), "-e", "free_pte_range")
    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:7] == [
        "free_pte_range",
        "  pte_free_tlb",
        "    __pte_free_tlb",
        "      ___pte_free_tlb",
        "        paravirt_tlb_remove_table",
        "          native_tlb_remove_table [backend: native]",
        "            tlb_remove_page [leaf: tlb_batched]",
    ]
    # HYPERV=m counts as y, so Hyper-V is a backend; XEN is not set, so Xen PV is not.
    assert "          tlb_remove_table [backend: hyperv, kvm]" in lines
    assert "                  free_page_and_swap_cache [leaf: ipi_sync]" in lines
    assert "                        free_page_and_swap_cache [leaf: rcu]" in lines


def test_path_with_paravirt_not_set_batches_the_page_in_the_tlb_gather(tmp_path: Path) -> None:
    dot_config = tmp_path / ".config"
    dot_config.write_text("# CONFIG_PARAVIRT is not set\r\n")
    result = run("path", "-m", "configs/v6.12.yaml", "--config", str(dot_config), "-e", "free_pte_range")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == (
        "free_pte_range\n"
        "  pte_free_tlb\n"
        "    __pte_free_tlb\n"
        "      ___pte_free_tlb\n"
        "        paravirt_tlb_remove_table\n"
        "          tlb_remove_page [leaf: tlb_batched]\n"
    )


def test_path_with_a_bad_config_file_line_exits_2_with_its_location(tmp_path: Path) -> None:
    dot_config = tmp_path / ".config"
    dot_config.write_text("CONFIG_SMP=y\nCONFIG_PARAVIRT=maybe\n")
    result = run("path", "-m", "v6.12", "--config", str(dot_config))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"{dot_config}:2:1: error: CONFIG_PARAVIRT=maybe: the value must be y, m or n\n"


def test_path_with_an_unknown_inline_option_exits_2_listing_the_model_options() -> None:
    default = load_model(locate(None))  # the newest shipped model; its options are listed
    result = run("path", "--config", "FOO=y")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"<--config>:1:1: error: unknown option FOO in model {default.name};"
        f" its options are {', '.join(sorted(default.option_map))}\n"
    )


def test_path_with_an_unknown_inline_option_names_the_model_it_checked_against() -> None:
    result = run("path", "-m", "v6.12", "--config", "FOO=y")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        result.stderr == f"<--config>:1:1: error: unknown option FOO in model v6.12; its options are {V612_OPTIONS}\n"
    )


def test_path_with_a_misspelt_inline_option_exits_2_suggesting_the_nearest() -> None:
    result = run("path", "-m", "v7.0", "--config", "PARAVIRT=n,PT_RECLAM=y")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "<--config>:1:12: error: unknown option PT_RECLAM in model v7.0; did you mean PT_RECLAIM?\n"


def test_path_with_a_missing_config_file_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("path", "--config", "missing.config")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "missing.config: error: no such file\n"


def test_path_with_option_names_but_no_values_hints_at_the_inline_syntax(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("path", "--config", "PARAVIRT,SMP")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "PARAVIRT,SMP: error: no such file; an inline list gives each option a value, e.g. PARAVIRT=y\n"
    )


def test_path_with_a_directory_as_config_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "linux").mkdir()
    result = run("path", "--config", "linux")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "linux: error: is a directory, not a configuration file\n"


def test_path_with_an_unknown_model_name_exits_2_listing_the_shipped_models() -> None:
    result = run("path", "--model", "nosuch")
    assert result.exit_code == 2
    assert result.stdout == ""
    known = ", ".join(name for name, _ in shipped())  # oldest first: v6.12, series-v2, ...
    assert result.stderr == f"ptfree: error: unknown model 'nosuch'; shipped models: {known}\n"


def test_path_with_a_near_model_name_exits_2_suggesting_it() -> None:
    result = run("path", "--model", "v6.13")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "ptfree: error: unknown model 'v6.13'; did you mean v6.1, v6.15, v6.14?\n"
