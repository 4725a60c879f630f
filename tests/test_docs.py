"""The documentation cannot drift: it is generated from, or checked against, the code."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from ptfree_cli import models
from ptfree_cli.loader import KEYS, POLICY_KEYS, RULES_KEYS, load_model

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
SCHEMA = ROOT / "ptfree_cli" / "schema" / "model.schema.json"


def test_cli_reference_is_what_the_click_tree_generates() -> None:
    sys.path.insert(0, str(DOCS))
    try:
        import gen_cli
    finally:
        sys.path.remove(str(DOCS))
    assert (DOCS / "cli.md").read_text() == gen_cli.render(), "run: python3 docs/gen_cli.py > docs/cli.md"


def test_every_command_has_a_section_in_the_cli_reference() -> None:
    from ptfree_cli.cli import main

    text = (DOCS / "cli.md").read_text()
    for name in main.commands:
        assert f"## ptfree {name}\n" in text


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_every_model_key_is_documented_in_the_model_format(kind: str) -> None:
    text = (DOCS / "model-format.md").read_text()
    documented = set(re.findall(r"`([a-z_]+)`", text))
    allowed, _ = KEYS[kind]
    assert set(allowed) <= documented, f"undocumented {kind} keys: {set(allowed) - documented}"


def _schema_object(schema: dict, kind: str) -> dict:  # type: ignore[type-arg]
    return schema if kind == "model" else schema["$defs"][kind]


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_the_json_schema_allows_and_requires_what_the_loader_does(kind: str) -> None:
    schema = json.loads(SCHEMA.read_text())
    obj = _schema_object(schema, kind)
    allowed, required = KEYS[kind]
    assert set(obj["properties"]) == set(allowed)
    assert set(obj.get("required", [])) == set(required)
    assert obj["additionalProperties"] is False


def test_the_json_schema_is_valid_draft_2020_12() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA.read_text()))


@pytest.mark.parametrize("name", models.SHIPPED)
def test_every_shipped_model_satisfies_the_json_schema(name: str) -> None:
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(yaml.safe_load((ROOT / "configs" / f"{name}.yaml").read_text()), schema)


def test_the_shipped_list_is_exactly_the_files_in_configs() -> None:
    assert sorted(models.SHIPPED) == sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))


@pytest.mark.parametrize("name", models.SHIPPED)
def test_models_page_names_each_model_and_every_commit_it_lists(name: str) -> None:
    text = (DOCS / "models.md").read_text()
    model = load_model(ROOT / "configs" / f"{name}.yaml")
    assert model.name == name
    assert f"## {name}:" in text
    for commit in model.commits:
        assert commit.id in text, f"{name}: commit {commit.id} missing from docs/models.md"
        assert commit.subject in text, f"{name}: subject of {commit.id} missing from docs/models.md"


def test_readme_starts_with_exactly_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block is not None and text.index("```sh") < text.index("\n## ")
    commands = block.group(1).strip().splitlines()
    assert commands == [
        "python3 -m pip install . && ptfree path --config PARAVIRT=n,PT_RECLAIM=y",
        "python3 -m pip install '.[test]' && python3 -m pytest",
    ]
    assert "python3 -m pip install '.[test]' && python3 -m pytest" in (ROOT / ".ci" / "run").read_text()


def test_models_page_records_the_verdict_every_model_gets_today() -> None:
    sys.path.insert(0, str(DOCS))
    try:
        import gen_verdicts
    finally:
        sys.path.remove(str(DOCS))
    text = (DOCS / "models.md").read_text()
    start = text.index(gen_verdicts.BEGIN)
    end = text.index(gen_verdicts.END) + len(gen_verdicts.END) + 1
    assert text[start:end] == gen_verdicts.render(), "run: python3 docs/gen_verdicts.py --write"


@pytest.mark.parametrize("kind", sorted(POLICY_KEYS))
def test_every_policy_key_is_documented_and_in_the_policy_schema(kind: str) -> None:
    text = (DOCS / "policy.md").read_text()
    documented = set(re.findall(r"`([a-z_-]+)`", text))
    allowed, required = POLICY_KEYS[kind]
    assert set(allowed) <= documented
    schema = json.loads((ROOT / "ptfree_cli" / "schema" / "policy.schema.json").read_text())
    obj = schema if kind == "policy" else schema["$defs"][kind]
    if kind == "policy":
        assert set(obj["properties"]) == set(allowed)
    elif kind == "role":
        assert set(schema["properties"]["roles"]["properties"]) == {"reclaim", "teardown"}
        assert set(obj["properties"]) == set(allowed)
    else:
        assert set(obj["properties"]) == set(allowed)
    assert set(obj.get("required", [])) == set(required)


@pytest.mark.parametrize("path", sorted((ROOT / "ptfree_cli" / "policies").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_policy_satisfies_the_policy_schema_and_loads(path: Path) -> None:
    import jsonschema

    from ptfree_cli.loader import load_policy

    schema = json.loads((ROOT / "ptfree_cli" / "schema" / "policy.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    assert load_policy(path).name == path.stem


def test_review_walkthrough_shows_what_the_commands_print_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    sys.path.insert(0, str(DOCS))
    try:
        import gen_review
    finally:
        sys.path.remove(str(DOCS))
    assert (DOCS / "review.md").read_text() == gen_review.render(), "run: python3 docs/gen_review.py --write"


def _nav_pages(nav: object, section: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """(titles of the enclosing sections, page path) of every page in an mkdocs nav."""
    if isinstance(nav, str):
        return [(section, nav)]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item, section)]
    assert isinstance(nav, dict), f"unexpected nav item: {nav!r}"
    return [page for title, item in nav.items() for page in _nav_pages(item, (*section, title))]


def test_the_site_nav_lists_every_page_and_only_pages_that_exist() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["docs_dir"] == "docs" and config["strict"] is True
    pages = _nav_pages(config["nav"])
    listed = [path for _, path in pages]
    assert len(listed) == len(set(listed)), "a page is listed twice in the nav"
    for path in listed:
        assert (DOCS / path).is_file(), f"mkdocs.yml nav names {path}, which is not in docs/"
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    evidence = {p for p in on_disk if p.startswith("evidence/")}
    missing = sorted(on_disk - evidence - set(listed))
    assert not missing, f"pages missing from the nav in mkdocs.yml: {missing}"
    # The evidence logs sit together under one top-level entry.
    sections = {section[:1] for section, path in pages if path in evidence}
    assert len(sections) <= 1 and () not in sections, f"evidence pages are spread over {sections}"


@pytest.mark.parametrize("kind", sorted(RULES_KEYS))
def test_every_rules_key_is_documented_in_the_extraction_page(kind: str) -> None:
    text = (DOCS / "extract.md").read_text()
    documented = set(re.findall(r"`([a-z_-]+)`", text))
    allowed, _ = RULES_KEYS[kind]
    assert set(allowed) <= documented, f"undocumented {kind} keys: {set(allowed) - documented}"
