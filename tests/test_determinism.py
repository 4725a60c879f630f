"""Deterministic output: every command prints the same bytes whatever the
hash seed of the Python process, and a model reads the same whatever the
order of the keys in its YAML mappings.

The first part runs ``python3 -m ptfree_cli`` in subprocesses, each with its
own PYTHONHASHSEED, so that any output that follows the iteration order of a
set or of a dict built from one differs between them.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CONFIGS, run

ROOT = CONFIGS.parent

#: Fixed seeds, and one new each run (it is in the failure message).
SEEDS = ("0", "12345", str(random.randrange(1, 2**32)))

COMMANDS: list[tuple[str, ...]] = [
    ("models",),
    ("path",),
    ("path", "-m", "v6.12", "--config", "PARAVIRT=y", "--format", "json"),
    ("path", "-m", "series-v2", "--config", "PARAVIRT=y,PT_RECLAIM=y", "--backend", "native"),
    ("tree", "-m", "v6.12", "--format", "plain"),
    ("tree", "-m", "series-v2", "--format", "json"),
    *[("check", "--all-models", "--format", fmt) for fmt in ("text", "json", "sarif", "junit", "github")],
    ("matrix", "-m", "v6.12", "-m", "series-v2", "--format", "plain"),
    ("matrix", "-m", "v6.14", "--format", "json"),
    ("matrix", "-m", "v7.0", "--format", "csv"),
    ("validate", *sorted(str(p.relative_to(ROOT)) for p in CONFIGS.glob("*.yaml"))),
]


def _ptfree(args: tuple[str, ...], seed: str) -> tuple[int, bytes, bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update({"PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed, "NO_COLOR": "1", "COLUMNS": "80"})
    proc = subprocess.run(
        [sys.executable, "-m", "ptfree_cli", *args], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def outputs() -> dict[tuple[tuple[str, ...], str], tuple[int, bytes, bytes]]:
    """(command, seed) -> (exit code, stdout, stderr) for every command and seed, run in parallel."""
    jobs = [(args, seed) for args in COMMANDS for seed in SEEDS]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = list(pool.map(lambda job: _ptfree(*job), jobs))
    return dict(zip(jobs, results, strict=True))


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_output_is_byte_identical_whatever_the_hash_seed(
    outputs: dict[tuple[tuple[str, ...], str], tuple[int, bytes, bytes]], args: tuple[str, ...]
) -> None:
    first = outputs[args, SEEDS[0]]
    assert first[0] in (0, 1), first[2].decode()
    assert first[1] != b""
    assert b"Traceback" not in first[2]  # stderr may hold warnings: they are compared too
    for seed in SEEDS[1:]:
        assert outputs[args, seed] == first, f"PYTHONHASHSEED={seed} differs from PYTHONHASHSEED={SEEDS[0]}"


# -- key order in the model file --------------------------------------------

#: Mappings whose key order is the order of the things they name (functions,
#: entry points...): kept.  Every other mapping is a record whose keys are
#: fields, which may come in any order: reversed.
NAMED = {"options", "runtime", "alternatives", "functions", "hooks", "entries"}


def _reorder(value: Any, parent: str = "") -> Any:
    """``value`` with the fields of every record in reverse order; lists and
    the order of named things untouched."""
    if isinstance(value, list):
        return [_reorder(v, parent) for v in value]
    if not isinstance(value, dict):
        return value
    if parent in NAMED:
        return {k: _reorder(v) for k, v in value.items()}
    return {k: _reorder(value[k], k) for k in reversed(list(value))}


def reordered_copy(source: Path, target: Path) -> None:
    data = yaml.safe_load(source.read_text())
    target.write_text(yaml.safe_dump(_reorder(data), sort_keys=False, allow_unicode=True, width=1000))


def test_the_reordering_helper_reverses_fields_and_keeps_names_and_lists_in_order(tmp_path: Path) -> None:
    reordered_copy(CONFIGS / "v6.12.yaml", tmp_path / "m.yaml")
    original = yaml.safe_load((CONFIGS / "v6.12.yaml").read_text())
    copy = yaml.safe_load((tmp_path / "m.yaml").read_text())
    assert copy == original
    assert list(copy) == list(reversed(list(original)))
    assert list(copy["functions"]) == list(original["functions"])
    assert list(copy["entries"]) == list(original["entries"])
    fn = next(f for f in original["functions"].values() if len(f) > 1)
    name = next(n for n, f in original["functions"].items() if f is fn)
    assert list(copy["functions"][name]) == list(reversed(list(fn)))


def _normalised(text: str, model: Path) -> str:
    """``text`` with every ``model:line:col`` (or the model file alone) made ``MODEL``."""
    return re.sub(re.escape(str(model)) + r"(:\d+:\d+)?", "MODEL", text)


def _drop_locations(value: Any) -> Any:
    if isinstance(value, list):
        return [_drop_locations(v) for v in value]
    if isinstance(value, dict):
        return {k: _drop_locations(v) for k, v in value.items() if k not in ("location", "line", "col")}
    return value


@pytest.fixture(scope="module")
def reordered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reordered") / "v6.12-reordered.yaml"
    reordered_copy(CONFIGS / "v6.12.yaml", path)
    return path


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_tree_of_a_model_with_its_keys_reordered_is_the_same(reordered: Path, fmt: str) -> None:
    original = run("tree", "-m", str(CONFIGS / "v6.12.yaml"), "--format", fmt)
    copy = run("tree", "-m", str(reordered), "--format", fmt)
    assert (copy.exit_code, copy.stderr) == (0, "")
    assert original.stdout != ""
    assert _normalised(copy.stdout, reordered) == _normalised(original.stdout, CONFIGS / "v6.12.yaml")


def test_check_text_of_a_model_with_its_keys_reordered_is_the_same_but_for_line_numbers(reordered: Path) -> None:
    model = CONFIGS / "v6.12.yaml"
    original = run("check", "-m", str(model))
    copy = run("check", "-m", str(reordered))
    assert (original.exit_code, copy.exit_code, copy.stderr) == (1, 1, "")
    assert _normalised(original.stdout, model).count("MODEL") >= 9
    assert _normalised(copy.stdout, reordered) == _normalised(original.stdout, model)


def test_check_json_of_a_model_with_its_keys_reordered_is_the_same_but_for_locations(reordered: Path) -> None:
    model = CONFIGS / "v6.12.yaml"
    original = json.loads(_normalised(run("check", "-m", str(model), "--format", "json").stdout, model))
    copy = json.loads(_normalised(run("check", "-m", str(reordered), "--format", "json").stdout, reordered))
    assert original["results"][0]["violations"]
    assert _drop_locations(copy) == _drop_locations(original)
