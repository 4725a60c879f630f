"""Shared fixtures: the in-process CLI runner and golden files.

Golden files live in tests/golden/; run ``PTFREE_UPDATE_GOLDEN=1 pytest`` to
rewrite them after an intended change, then review the diff.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ptfree_cli.cli import main

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"
CONFIGS = Path(__file__).parent.parent / "configs"


def git_commit(tree: Path, tag: str | None = None) -> None:
    """Make ``tree`` a git checkout of one commit (fixed author and date), tagged ``tag``."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00",
    }
    steps = [["init", "-q"], ["add", "."], ["commit", "-qm", "tree"]] + ([["tag", tag]] if tag else [])
    for cmd in steps:
        subprocess.run(["git", "-C", str(tree), *cmd], check=True, env=env)


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``ptfree ARGS`` in-process with a fixed terminal width and no colour."""
    runner = CliRunner()
    base = {"COLUMNS": "80", "NO_COLOR": "1"}
    base.update(env or {})
    return runner.invoke(main, list(args), env=base, catch_exceptions=False)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """ptfree's cache of tree indexes goes to a directory of the test run, never the user's."""
    monkeypatch.setenv("PTFREE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ptfree-cache"))


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("PTFREE_UPDATE_GOLDEN"):
            path.write_text(text)
        assert path.exists(), f"missing golden file {path}; run with PTFREE_UPDATE_GOLDEN=1"
        assert text == path.read_text()

    return check


# Hypothesis budgets: "ci" (the default) keeps the suite within minutes;
# HYPOTHESIS_PROFILE=long runs every property test with 20x the examples.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", deadline=None)
settings.register_profile("long", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
