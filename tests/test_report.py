"""ptfree report --html: one self-contained page, deterministic, opened in a real headless browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import DATA, run

ROOT = DATA.parent.parent
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _verdict(page: str) -> str:
    found = re.findall(r'<span id="verdict" class="(?:ok|fail)">([^<]*)</span>', page)
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(("model", "verdict"), [("v7.2", "ok"), ("v6.12", "FAIL")])
def test_report_writes_the_page_with_the_check_verdict_and_exits_0(tmp_path: Path, model: str, verdict: str) -> None:
    out = tmp_path / "report.html"
    result = run("report", "--html", str(out), "-m", model)
    assert result.exit_code == 0
    assert result.stdout == ""
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>\n")
    assert _verdict(page) == verdict
    assert f"<title>ptfree report: {verdict}</title>" in page


def test_failing_report_lists_each_violation_with_class_condition_and_path(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    run("report", "--html", str(out), "-m", "series-v2")
    page = out.read_text()
    assert (
        "<tr><td>free_pte_range</td><td>forbidden</td><td>tlb_batched</td>"
        "<td>!PT_RECLAIM &amp;&amp; backend=native</td>"
        "<td>free_pte_range -&gt; pte_free_tlb -&gt; __pte_free_tlb -&gt; ___pte_free_tlb -&gt; "
        "paravirt_tlb_remove_table -&gt; tlb_remove_page</td></tr>\n"
    ) in page
    assert '<tr class="unsafe">' in page


def test_report_page_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    run("report", "--html", str(out), "--all-models")
    page = out.read_text()
    without_namespaces = re.sub(r'\sxmlns(?::\w+)?="[^"]*"', "", page)
    assert "http://" not in without_namespaces
    assert "https://" not in without_namespaces
    assert "<script" not in page
    assert "<link" not in page


def test_report_is_byte_identical_across_runs(tmp_path: Path) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    run("report", "--html", str(first), "--all-models")
    run("report", "--html", str(second), "--all-models")
    assert first.read_bytes() == second.read_bytes()


def test_report_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("keep me\n")
    result = run("report", "--html", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"{out}: error: exists; pass --force to replace it\n"
    assert out.read_text() == "keep me\n"
    assert run("report", "--html", str(out), "--force").exit_code == 0
    assert _verdict(out.read_text()) == "ok"


def test_report_without_graphviz_says_there_is_no_picture(tmp_path: Path) -> None:
    from ptfree_cli import html
    from ptfree_cli.loader import load_model
    from ptfree_cli.models import locate
    from ptfree_cli.policy import DEFAULT

    page = html.report([load_model(locate("v7.2"))], DEFAULT, lambda model: None)
    assert "<p>Graphviz&#x27;s dot is not installed: no picture</p>" in page
    assert "<svg" not in page


def test_report_opens_in_headless_chromium_without_console_errors(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: apt-get install chromium (as .ci/run does)")
    try:
        from playwright.sync_api import ConsoleMessage, sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing: pip install '.[test]'")
    out = tmp_path / "report.html"
    assert run("report", "--html", str(out), "-m", "v6.12").exit_code == 0
    errors: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", on_console)
            page.goto(out.resolve().as_uri())
            verdict = page.inner_text("#verdict")
            page.screenshot(path=str(ARTIFACTS / "report.png"))
        finally:
            browser.close()
    assert errors == []
    assert verdict == "FAIL"
    assert (ARTIFACTS / "report.png").read_bytes().startswith(b"\x89PNG")
