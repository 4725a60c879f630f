"""What the C reader sees in one file (ptfree_cli/csource.py): calls, their
arguments, parameters and what carries a table, ops-table installs."""

from __future__ import annotations

from ptfree_cli import csource
from ptfree_cli.csource import CRules, Param, carrier_pattern

PV = (("PVOP_VCALL[0-9]", "pv_ops", 0),)
CARRIERS = (
    carrier_pattern("struct mmu_gather *"),
    carrier_pattern("struct ptdesc *"),
    carrier_pattern("void *"),
    carrier_pattern("pmd_t", "ref"),
)


def read(text: str, **rules: object) -> csource.FileFacts:
    return csource.read("mm/x.c", text, CRules(**rules))  # type: ignore[arg-type]


def sites(facts: csource.FileFacts, name: str) -> list[tuple[str, str, tuple[tuple[str, ...], ...]]]:
    (d,) = [d for d in facts.definitions if d.name == name]
    return [(s.callee, s.kind, s.args) for s in d.sites]


def test_a_pv_call_names_its_member_with_or_without_the_table_first() -> None:
    facts = read(
        "void old(struct mmu_gather *tlb, void *t) { PVOP_VCALL2(mmu.tlb_remove_table, tlb, t); }\n"
        "void new(struct mm_struct *mm) { PVOP_VCALL1(pv_ops, mmu.exit_mmap, mm); }\n",
        indirect=PV,
    )
    # v6.x: (op, args...); v7.x: (array, op, args...).  The arguments after the member are the call's.
    assert sites(facts, "old") == [("pv_ops.mmu.tlb_remove_table", "hook", (("tlb",), ("t",)))]
    assert sites(facts, "new") == [("pv_ops.mmu.exit_mmap", "hook", (("mm",),))]


def test_an_inline_asm_operand_is_no_call() -> None:
    facts = read('#define PVOP_CALL_ARG1(x) "a" ((unsigned long)(x))\nvoid f(void) { g(); }\n')
    (macro,) = [d for d in facts.definitions if d.name == "PVOP_CALL_ARG1"]
    assert macro.sites == ()
    assert facts.warnings == ()


def test_a_function_installed_through_a_cast_is_installed() -> None:
    facts = read(
        "struct pv_ops_struct pv_ops = {\n"
        "\t.mmu.tlb_remove_table = (void (*)(struct mmu_gather *, void *))tlb_remove_page,\n"
        "\t.mmu.exit_mmap = &paravirt_nop,\n"
        "};\n"
        "void init(void) { pv_ops.mmu.flush = (void *)(xen_flush); }\n",
        indirect=PV,
    )
    assert sorted((i.member, i.target, i.line, i.kind) for i in facts.installs) == [
        ("mmu.exit_mmap", "paravirt_nop", 3, "initializer"),
        ("mmu.flush", "xen_flush", 5, "assignment"),
        ("mmu.tlb_remove_table", "tlb_remove_page", 2, "initializer"),
    ]


def test_parameters_say_what_their_type_can_carry() -> None:
    facts = read(
        "void f(struct mmu_gather *tlb, struct mm_struct *mm, const void *t, pmd_t *pmd, pmd_t v,\n"
        "       void (*cb)(void *), unsigned long addr, ...) { }\n"
        "void g(void) { }\n",
        carriers=CARRIERS,
    )
    f, g = facts.definitions
    assert f.params == (
        Param("tlb", "table"),
        Param("mm", ""),
        Param("t", "table"),
        Param("pmd", "ref"),
        Param("v", "ref"),
        Param("cb", ""),  # a function pointer carries no table
        Param("addr", ""),
    )
    assert f.variadic
    assert g.params == ()


def test_a_variable_of_a_carrier_type_is_given_what_its_value_names() -> None:
    facts = read(
        "void f(struct rcu_head *head, pmd_t *pmd)\n"
        "{\n"
        "\tstruct ptdesc *pt = container_of(head, struct ptdesc, pt_rcu_head);\n"
        "\tstruct mm_struct *mm = other(head);\n"
        "\tpmd_t val;\n"
        "\tvoid *t;\n"
        "\tt = pt;\n"
        "\tget_and_clear(mm, pmd, &val);\n"
        "}\n",
        carriers=CARRIERS,
    )
    (f,) = facts.definitions
    assert f.flows == (
        ("pt", "table", ("container_of", "head", "pt_rcu_head", "ptdesc", "struct")),
        ("t", "table", ("pt",)),
        # `&val` handed to a call: val gets what the other arguments hold.
        ("val", "ref", ("mm", "pmd")),
    )


def test_arguments_name_their_variables_not_the_fields_they_read() -> None:
    facts = read("void f(struct mmu_gather *tlb) { g(tlb->mm, batch->tables[i], &x.y); h(); }\n")
    assert sites(facts, "f") == [("g", "call", (("tlb",), ("batch", "i"), ("x",))), ("h", "call", ())]


def test_a_macro_calling_its_parameter_calls_no_function_of_that_name() -> None:
    facts = read("#define call_it(fn, x) fn(x)\n#define free_it(p) put_page(p)\n")
    by_name = {d.name: d for d in facts.definitions}
    assert by_name["call_it"].sites == ()
    assert [s.callee for s in by_name["free_it"].sites] == ["put_page"]
    assert by_name["free_it"].params == (Param("p", "table"),)
