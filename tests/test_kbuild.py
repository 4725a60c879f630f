"""Kbuild makefiles: the guard under which a file is built, its cites and the warnings.

Each scenario is a small tree under tests/fixtures/kbuild/<scenario>/ whose
makefiles were written for these tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ptfree_cli import guards
from ptfree_cli.errors import Location
from ptfree_cli.guards import FALSE, TRUE, Expr, Not, Sym
from ptfree_cli.kbuild import BuildGuard, Kbuild, KbuildWarning

FIXTURES = Path(__file__).parent / "fixtures" / "kbuild"


def P(text: str) -> Expr:
    return guards.parse(text)


def L(file: str, line: int = 0, col: int = 1) -> Location:
    return Location(file, line, col if line else 0)


def tree(name: str) -> Kbuild:
    return Kbuild(FIXTURES / name)


# -- one directory ----------------------------------------------------------------

MM = "mm/Makefile"


@pytest.mark.parametrize(
    ("path", "guard", "lines"),
    [
        ("mm/core.c", TRUE, [3]),  # obj-y :=
        ("mm/util.c", TRUE, [3]),
        ("mm/split.c", TRUE, [4]),  # on a continuation line, after a comment-free break
        ("mm/swapfile.c", Sym("SWAP"), [6]),
        ("mm/pt_reclaim.c", Sym("PT_RECLAIM"), [7]),
        ("mm/modular.c", TRUE, [8]),  # obj-m: m reads as y
        ("mm/libpart.c", TRUE, [9]),  # lib-y
        ("mm/twice.c", P("A || B"), [10, 11]),  # two lines: OR, both cited
        ("mm/cont_b.c", Sym("D"), [13]),
        ("mm/cont_c.c", Sym("D"), [13]),
        ("mm/never.c", FALSE, [16]),  # obj-n: listed, never built
        ("mm/walk.S", TRUE, [4]),  # any source of walk.o
    ],
)
def test_object_lists_of_one_directory(path: str, guard: Expr, lines: list[int]) -> None:
    kb = tree("basic")
    assert kb.guard_of(path) == BuildGuard(guard, tuple(L(MM, n) for n in lines))
    assert kb.warnings == ()


def test_headers_are_always_built_and_cite_nothing() -> None:
    kb = tree("basic")
    assert kb.guard_of("mm/internal.h") == BuildGuard(TRUE, ())
    assert kb.warnings == ()


@pytest.mark.parametrize("name", ["commented", "in_define", "in_recipe", "generated"])
def test_comments_define_blocks_recipes_and_flags_do_not_list_files(name: str) -> None:
    kb = tree("basic")
    assert kb.guard_of(f"mm/{name}.c") == BuildGuard(TRUE, ())
    assert kb.warnings == (KbuildWarning(L(MM), f"mm/{name}.c is not built by mm/Makefile; assumed built"),)


# -- composite objects ---------------------------------------------------------------

HV = "hv/Makefile"


@pytest.mark.parametrize(
    ("path", "guard", "lines"),
    [
        ("hv/vmbus_drv.c", Sym("HYPERV"), [2, 5]),  # foo-y :=, cited with foo.o's own line
        ("hv/connection.c", Sym("HYPERV"), [2, 5]),  # continuation of foo-y
        ("hv/channel.c", Sym("HYPERV"), [2, 7]),  # foo-objs
        ("hv/hv_debugfs.c", P("HYPERV && HYPERV_TESTING"), [2, 8]),  # foo-$(CONFIG_Y)
        ("hv/hv_util.c", Sym("HYPERV_UTILS"), [3, 9]),
        # a part of two composites: OR of both derivations
        ("hv/shared.c", P("HYPERV && HYPERV_TESTING || HYPERV_UTILS && HYPERV_TESTING"), [2, 3, 8, 10]),
    ],
)
def test_parts_of_composite_objects_are_built_when_the_composite_is(path: str, guard: Expr, lines: list[int]) -> None:
    kb = tree("composite")
    assert kb.guard_of(path) == BuildGuard(guard, tuple(L(HV, n) for n in lines))
    assert kb.warnings == ()


def test_a_part_of_a_composite_nothing_lists_is_not_built_by_the_makefile() -> None:
    kb = tree("composite")
    assert kb.guard_of("hv/lonely.c") == BuildGuard(TRUE, ())
    assert kb.warnings == (KbuildWarning(L(HV), "hv/lonely.c is not built by hv/Makefile; assumed built"),)


# -- make conditionals ---------------------------------------------------------------

KERNEL = "kernel/Makefile"


@pytest.mark.parametrize(
    ("name", "guard", "cites"),
    [
        ("always", "y", [(1, 1)]),
        ("smp", "SMP", [(3, 1), (4, 1)]),  # ifdef CONFIG_X
        ("numa", "SMP && NUMA", [(3, 1), (5, 3), (6, 1)]),  # ifeq ($(CONFIG_X),y), nested
        ("flat", "SMP && !NUMA", [(3, 1), (5, 3), (7, 3), (8, 1)]),  # its else
        ("nommu", "!MMU", [(12, 1), (13, 1)]),  # ifndef
        ("pv", "PARAVIRT", [(16, 1), (17, 1)]),  # ifneq ($(CONFIG_X),)
        ("noxen", "!PARAVIRT && !XEN", [(16, 1), (18, 1), (19, 1)]),  # else ifeq ($(CONFIG_X),)
        ("xen_only", "!(PARAVIRT || !XEN)", [(16, 1), (18, 1), (20, 1), (21, 1)]),
        ("quiet", "!TRACE && DEBUG", [(24, 1), (25, 1)]),  # ifneq ($(CONFIG_X),y) around obj-$(CONFIG_Y)
        ("neither", "!(A || B)", [(28, 1), (29, 1)]),  # ifeq ($(CONFIG_A)$(CONFIG_B),)
    ],
)
def test_make_conditionals_on_kconfig_variables(name: str, guard: str, cites: list[tuple[int, int]]) -> None:
    kb = tree("conditionals")
    assert kb.guard_of(f"kernel/{name}.c") == BuildGuard(P(guard), tuple(L(KERNEL, n, c) for n, c in cites))
    assert kb.warnings == ()


def test_unbalanced_make_conditionals_are_warned_about_and_reading_goes_on() -> None:
    kb = tree("unbalanced")
    f = "sound/Makefile"
    assert kb.guard_of("sound/first.c") == BuildGuard(TRUE, (L(f, 1),))
    assert kb.guard_of("sound/snd.c") == BuildGuard(Sym("SND"), (L(f, 4), L(f, 5)))
    assert kb.guard_of("sound/nosnd.c") == BuildGuard(Not(Sym("SND")), (L(f, 4), L(f, 6), L(f, 7)))
    assert kb.guard_of("sound/third.c") == BuildGuard(FALSE, (L(f, 4), L(f, 6), L(f, 8), L(f, 9)))
    assert kb.warnings == (
        KbuildWarning(L(f, 2), "extraneous 'endif'"),
        KbuildWarning(L(f, 3), "extraneous 'else'"),
        KbuildWarning(L(f, 4), "missing 'endif'"),
        KbuildWarning(L(f, 8), "only one 'else' per conditional"),
    )


# -- subst m,y and directories -------------------------------------------------------------


def test_subst_m_y_reads_as_the_option_for_a_directory_and_a_file() -> None:
    kb = tree("subst")
    assert kb.guard_of("arch/x86/hyperv/hv_init.c") == BuildGuard(
        Sym("HYPERV"), (L("arch/x86/Kbuild", 1), L("arch/x86/hyperv/Makefile", 1))
    )
    assert kb.guard_of("arch/x86/hyperv/hv_vtl.c") == BuildGuard(
        P("HYPERV && HYPERV_VTL"), (L("arch/x86/Kbuild", 1), L("arch/x86/hyperv/Makefile", 2))
    )
    assert kb.guard_of("arch/x86/xen/enlighten.c") == BuildGuard(
        Sym("XEN"), (L("arch/x86/Kbuild", 2), L("arch/x86/xen/Makefile", 1))
    )
    # arch/x86/ itself: its parent has no makefile, so it is built, silently
    assert kb.warnings == ()


def test_a_directory_chain_through_two_levels_conjoins_every_step_root_first() -> None:
    kb = tree("dirchain")
    assert kb.guard_of("drivers/virt/coco/tdx.c") == BuildGuard(
        P("VIRT_DRIVERS && COCO && TDX_GUEST"),
        (
            L("Kbuild", 2),
            L("drivers/Makefile", 1),
            L("drivers/virt/Makefile", 2),
            L("drivers/virt/coco/Makefile", 1),
        ),
    )
    assert kb.guard_of("drivers/virt/core.c") == BuildGuard(
        Sym("VIRT_DRIVERS"), (L("Kbuild", 2), L("drivers/Makefile", 1), L("drivers/virt/Makefile", 1))
    )
    assert kb.warnings == ()


def test_a_file_in_a_directory_without_a_makefile_is_listed_by_the_makefile_above() -> None:
    kb = tree("dirchain")
    assert kb.guard_of("drivers/virt/coco/sub/sev.c") == BuildGuard(
        P("VIRT_DRIVERS && COCO && SEV_GUEST"),
        (
            L("Kbuild", 2),
            L("drivers/Makefile", 1),
            L("drivers/virt/Makefile", 2),
            L("drivers/virt/coco/Makefile", 2),
        ),
    )
    # nothing lists it and its directory has no makefile: no opinion, no warning
    assert kb.guard_of("drivers/virt/coco/sub/other.c") == BuildGuard(TRUE, ())
    assert kb.warnings == ()


def test_a_directory_its_parent_makefile_does_not_list_is_assumed_built_with_a_warning() -> None:
    kb = tree("dirchain")
    assert kb.guard_of("fs/inode.c") == BuildGuard(TRUE, (L("fs/Makefile", 1),))
    assert kb.warnings == (KbuildWarning(L("Kbuild"), "fs/ is not listed in Kbuild; assumed built"),)
    assert str(kb.warnings[0].loc) == "Kbuild"


def test_kbuild_is_read_instead_of_makefile() -> None:
    kb = tree("kbuild_over_makefile")
    x86 = "arch/x86/Kbuild"
    assert kb.guard_of("arch/x86/mm/init.c") == BuildGuard(TRUE, (L(x86, 2), L("arch/x86/mm/Makefile", 1)))
    quiet = kb.warnings
    assert quiet == ()
    # listed only in arch/x86/Makefile, which kbuild does not read when Kbuild exists
    assert kb.guard_of("arch/x86/from_makefile.c") == BuildGuard(TRUE, ())
    assert kb.warnings == (
        KbuildWarning(L(x86), "arch/x86/from_makefile.c is not built by arch/x86/Kbuild; assumed built"),
    )


def test_unlisted_file_and_unlisted_directory() -> None:
    kb = tree("unlisted")
    assert kb.guard_of("lib/listed.c") == BuildGuard(TRUE, (L("lib/Makefile", 1),))
    assert kb.guard_of("lib/included.c") == BuildGuard(TRUE, ())
    assert kb.guard_of("lib/zstd/compress.c") == BuildGuard(TRUE, (L("lib/zstd/Makefile", 1),))
    assert kb.warnings == (
        KbuildWarning(L("lib/Makefile"), "lib/included.c is not built by lib/Makefile; assumed built"),
        KbuildWarning(L("lib/Makefile"), "lib/zstd/ is not listed in lib/Makefile; assumed built"),
    )


def test_the_guard_of_an_unlisted_file_keeps_its_directory_guard() -> None:
    kb = tree("dirchain")
    assert kb.guard_of("drivers/virt/unlisted.c") == BuildGuard(
        Sym("VIRT_DRIVERS"), (L("Kbuild", 2), L("drivers/Makefile", 1))
    )
    assert kb.warnings == (
        KbuildWarning(
            L("drivers/virt/Makefile"), "drivers/virt/unlisted.c is not built by drivers/virt/Makefile; assumed built"
        ),
    )


# -- opaque conditions ------------------------------------------------------------------

NET = "net/Makefile"


@pytest.mark.parametrize(
    ("name", "atom", "cites", "where"),
    [
        ("arch_only", "ifeq ($(ARCH),x86)", [1, 2], (1, 1)),
        ("called", "$(call fixture-option,-fno-thing)", [4], (4, 5)),
        ("var", "ifdef SOME_VAR", [5, 6], (5, 1)),
        ("module_only", "ifeq ($(CONFIG_X),m)", [10, 11], (10, 1)),
    ],
)
def test_conditions_that_cannot_be_read_are_atoms_warned_about_where_used(
    name: str, atom: str, cites: list[int], where: tuple[int, int]
) -> None:
    kb = tree("opaque")
    assert kb.guard_of(f"net/{name}.c") == BuildGuard(Sym(f"make:{atom}"), tuple(L(NET, n) for n in cites))
    assert kb.warnings == (KbuildWarning(L(NET, *where), f"opaque Kbuild condition kept as an atom: {atom}"),)


def test_the_else_of_an_opaque_condition_is_its_negation() -> None:
    kb = tree("opaque")
    assert kb.guard_of("net/novar.c") == BuildGuard(Not(Sym("make:ifdef SOME_VAR")), (L(NET, 5), L(NET, 7), L(NET, 8)))
    assert kb.warnings == (KbuildWarning(L(NET, 5), "opaque Kbuild condition kept as an atom: ifdef SOME_VAR"),)


def test_a_file_no_opaque_condition_decides_gets_no_warning_about_one() -> None:
    kb = tree("opaque")
    assert kb.guard_of("net/plain.c") == BuildGuard(TRUE, (L(NET, 13),))
    assert kb.warnings == ()


# -- the instance: caching, order, paths ------------------------------------------------------


def test_warnings_are_sorted_without_repeats_whatever_the_order_of_questions() -> None:
    first, second = tree("unlisted"), tree("unlisted")
    for path in ("lib/zstd/compress.c", "lib/included.c", "lib/included.c", "lib/zstd/compress.c"):
        first.guard_of(path)
    for path in ("lib/included.c", "lib/zstd/compress.c"):
        second.guard_of(path)
    assert first.warnings == second.warnings
    assert len(first.warnings) == 2


def test_paths_are_normalised_and_must_stay_inside_the_tree() -> None:
    kb = tree("basic")
    assert kb.guard_of("./mm//swapfile.c") == kb.guard_of("mm/swapfile.c")
    for bad in ("../mm/swapfile.c", "/etc/passwd", "."):
        with pytest.raises(ValueError, match="not a file inside"):
            kb.guard_of(bad)


def test_a_tree_without_makefiles_builds_everything_silently(tmp_path: Path) -> None:
    kb = Kbuild(tmp_path)
    assert kb.guard_of("mm/memory.c") == BuildGuard(TRUE, ())
    assert kb.guard_of("top.c") == BuildGuard(TRUE, ())
    assert kb.warnings == ()


def test_makefile_syntax_variants(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "Makefile").write_text(
        "override obj-y += overridden.o\n"
        "export obj-${CONFIG_BRACES} += braces.o\n"
        "obj-$(CONFIG_A)$(CONFIG_B) += both.o\n"
        "obj-y != echo shell.o\n"
        "obj-y += $(addprefix sub/, hidden.o) ./dotted.o\n"
        "obj-y\t+=\tescaped.o \\# not a comment\n"
        "obj-$(CONFIG_Y) += a.o # trailing comment \\\n"
        "obj-y += continued_comment.o\n"
        "ifeq '$(CONFIG_Q)' 'y'\n"
        "obj-y += quoted.o\n"
        "endif\n"
    )
    kb = Kbuild(tmp_path)
    f = "d/Makefile"
    assert kb.guard_of("d/overridden.c") == BuildGuard(TRUE, (L(f, 1),))
    assert kb.guard_of("d/braces.c") == BuildGuard(Sym("BRACES"), (L(f, 2),))
    assert kb.guard_of("d/both.c") == BuildGuard(Sym("make:$(CONFIG_A)$(CONFIG_B)"), (L(f, 3),))
    assert kb.guard_of("d/dotted.c") == BuildGuard(TRUE, (L(f, 5),))
    assert kb.guard_of("d/escaped.c") == BuildGuard(TRUE, (L(f, 6),))
    assert kb.guard_of("d/a.c") == BuildGuard(Sym("Y"), (L(f, 7),))
    assert kb.guard_of("d/quoted.c") == BuildGuard(Sym("Q"), (L(f, 9), L(f, 10)))
    for hidden in ("shell", "hidden", "continued_comment"):
        assert kb.guard_of(f"d/{hidden}.c") == BuildGuard(TRUE, ())
    assert kb.warnings == (
        KbuildWarning(L(f), "d/continued_comment.c is not built by d/Makefile; assumed built"),
        KbuildWarning(L(f), "d/hidden.c is not built by d/Makefile; assumed built"),
        KbuildWarning(L(f), "d/shell.c is not built by d/Makefile; assumed built"),
        KbuildWarning(L(f, 3, 5), "opaque Kbuild condition kept as an atom: $(CONFIG_A)$(CONFIG_B)"),
    )


def test_a_list_variable_included_in_obj_y_builds_its_objects_under_their_guards(tmp_path: Path) -> None:
    # mm/Makefile's idiom: mmu-$(CONFIG_MMU) := memory.o ...; obj-y := ... $(mmu-y)
    (tmp_path / "mm").mkdir()
    (tmp_path / "mm" / "Makefile").write_text(
        "mmu-y\t\t\t:= nommu.o\n"
        "mmu-$(CONFIG_MMU)\t:= highmem.o memory.o \\\n\t\t\t   mmu_gather.o\n"
        "obj-y\t\t\t:= filemap.o $(mmu-y)\n"
    )
    kb = Kbuild(tmp_path)
    got = kb.guard_of("mm/mmu_gather.c")
    assert got.guard == guards.parse("MMU")
    assert [str(c) for c in got.cites] == ["mm/Makefile:2:1", "mm/Makefile:4:1"]
    assert kb.guard_of("mm/filemap.c").guard == TRUE
    # `:=` replaces: where MMU holds, mmu-y no longer holds nommu.o.
    assert kb.guard_of("mm/nommu.c").guard == guards.parse("!MMU")
    assert kb.warnings == ()
