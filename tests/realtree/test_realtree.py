"""The real-tree tier: the shipped models against Debian's whole kernel trees.

Debian's linux-source packages (6.1, 6.12, 7.2 and the 7.3 release
candidate) are the oracle: fetch.py downloads and unpacks them into a cache
outside the repository (the first run takes a minute or two; later runs
reuse it).  Every shipped model with a Debian tree must agree with it under
``ptfree verify``; an extraction of the whole tree must give, configuration
by configuration, the leaf classes the shipped model gives; and a git
checkout of the tree must give what the plain directory gives, whatever its
``.gitignore`` says.  Nothing here is skipped: without the trees, it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import fetch
import pytest
from conftest import CONFIGS, run

from ptfree_cli.loader import load_model

#: model -> the Debian tree that must agree with it
AGREES = [("v6.1", "6.1"), ("v6.12", "6.12"), ("v7.2", "7.2"), ("v7.2", "7.3")]


@pytest.fixture(scope="session")
def trees() -> dict[str, Path]:
    """Every Debian tree, fetched once into the cache (a no-op when it is there)."""
    names = sorted({t for _, t in AGREES})
    assert fetch.main(names) == 0
    out = {n: fetch.tree_dir(n) for n in names}
    for n, path in out.items():
        assert (path / "Makefile").is_file() and (path / "mm" / "memory.c").is_file(), n
        assert fetch.version_of(n).startswith(f"linux-source-{n} "), fetch.version_of(n)
    return out


@pytest.mark.parametrize(("model", "tree"), AGREES)
def test_the_shipped_model_agrees_with_debians_whole_tree(trees: dict[str, Path], model: str, tree: str) -> None:
    result = run("verify", "-m", model, "-s", str(trees[tree]))
    assert result.stdout == f"{model} agrees with the source at {trees[tree]}\n", result.stdout
    assert result.exit_code == 0
    # No warning about a Kconfig symbol the tree lacks, nor a hook it cannot follow.
    assert "is not defined in the Kconfig files read" not in result.stderr
    assert "no function is installed in" not in result.stderr


def _matrix(model: str) -> dict[str, object]:
    result = run("matrix", "-m", model, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (m,) = doc["matrices"]
    return m  # type: ignore[no-any-return]


@pytest.mark.parametrize(("model", "tree"), AGREES)
def test_extracting_the_whole_tree_gives_the_models_leaf_classes_configuration_by_configuration(
    trees: dict[str, Path], model: str, tree: str, tmp_path: Path
) -> None:
    entries = [e.function for e in load_model(CONFIGS / f"{model}.yaml").entries]
    out = tmp_path / "extracted.yaml"
    args = ["extract", "-s", str(trees[tree]), "-o", str(out)]
    for e in entries:
        args += ["-e", e]
    result = run(*args)
    assert result.exit_code == 0, result.output
    mine, theirs = _matrix(model), _matrix(str(out))
    assert mine["entries"] == theirs["entries"] == entries
    shared = [c for c in mine["columns"] if c in theirs["columns"]]  # type: ignore[attr-defined]
    # Every row of one matrix meets rows of the other that agree on the
    # columns both have, and those reach the same leaf classes.
    for rows, others in ((mine["rows"], theirs["rows"]), (theirs["rows"], mine["rows"])):
        for row in rows:  # type: ignore[attr-defined]
            key = {c: row["values"][c] for c in shared if c in row["values"]}
            met = [o for o in others if all(o["values"].get(c) == v for c, v in key.items())]  # type: ignore[attr-defined]
            assert met, f"{model}: no row of the other matrix has {key}"
            for o in met:
                assert o["leaves"] == row["leaves"], (model, key, row["values"], o["values"])


@pytest.fixture(scope="session")
def checkout(trees: dict[str, Path]) -> Path:
    """Debian's 6.12 tree committed to a scratch git repository (hard links: no copy)."""
    repo = fetch.cache_dir() / "checkouts" / "6.12"
    if not (repo / ".git").is_dir():
        if repo.exists():
            shutil.rmtree(repo)
        repo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-al", str(trees["6.12"]), str(repo)], check=True)
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t"}
        env.update(
            GIT_COMMITTER_EMAIL="t@e", GIT_AUTHOR_DATE="2026-01-01T00:00:00", GIT_COMMITTER_DATE="2026-01-01T00:00:00"
        )
        for cmd in (
            ["init", "-q"],
            ["add", "-f", "-A", "."],
            ["commit", "-qm", "linux-source-6.12"],
            ["tag", "debian-6.12"],
        ):
            subprocess.run(["git", "-C", str(repo), *cmd], check=True, env=env)
    return repo


def _body(text: str) -> str:
    """A model without what names the tree it came from (title, kernel section)."""
    return text.split("\noptions:\n", 1)[1]


@pytest.mark.parametrize("gitignore", ["debian", "without /*"])
def test_a_git_checkout_of_the_tree_gives_what_the_directory_gives(
    trees: dict[str, Path], checkout: Path, gitignore: str
) -> None:
    ignore = checkout / ".gitignore"
    debian = (trees["6.12"] / ".gitignore").read_text()
    assert "\n/*\n" in debian  # Debian's package ignores everything at the top
    # A new file, not the hard link shared with the plain tree.
    ignore.unlink()
    ignore.write_text(debian if gitignore == "debian" else debian.replace("\n/*\n", "\n"))
    entries = ["-e", "free_pte_range", "-e", "free_pmd_range", "-e", "free_pud_range"]
    plain = run("extract", "-s", str(trees["6.12"]), *entries)
    git = run("extract", "-s", str(checkout), *entries)
    assert plain.exit_code == git.exit_code == 0, git.output
    assert _body(git.stdout) == _body(plain.stdout)
    assert 'tree: "debian-6.12"' in git.stdout
    verify = run("verify", "-m", "v6.12", "-s", str(checkout))
    assert (verify.exit_code, verify.stdout) == (0, f"v6.12 agrees with the source at {checkout}\n")
