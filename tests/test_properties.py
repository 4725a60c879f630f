"""Properties over generated input: the loader and the .config reader never
crash, and path, matrix and check agree on generated models.

Run longer with ``HYPOTHESIS_PROFILE=long python3 -m pytest tests/test_properties.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_models

from ptfree_cli import check, config, kconfig, walk
from ptfree_cli.errors import ConfigError, ModelError
from ptfree_cli.loader import KEYS, load_model, parse_model
from ptfree_cli.model import Model

CONFIGS = Path(__file__).parent.parent / "configs"

# Keys the loader knows, so that generated documents get past the first check.
_WORDS = sorted({k for allowed, _ in KEYS.values() for k in allowed} | {"A", "B", "f", "g", "backend", "x"})
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(_WORDS), st.text(max_size=12))
_VALUES: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_WORDS), inner, max_size=5)),
    max_leaves=25,
)


@settings(max_examples=150)
@given(st.dictionaries(st.sampled_from(_WORDS), _VALUES, max_size=8))
def test_any_yaml_document_gives_a_model_or_a_located_error(doc: dict[str, Any]) -> None:
    text = yaml.safe_dump(doc, sort_keys=False)
    try:
        parse_model(text, "gen.yaml")
    except ModelError as exc:
        assert exc.location is not None and exc.location.file == "gen.yaml"


@settings(max_examples=60)
@given(st.sampled_from(sorted(CONFIGS.glob("*.yaml"))), st.integers(0, 10_000), st.integers(1, 40))
def test_a_shipped_model_cut_anywhere_gives_a_model_or_a_located_error(path: Path, start: int, length: int) -> None:
    text = path.read_text()
    cut = text[: start % len(text)] + text[start % len(text) + length :]
    try:
        parse_model(cut, "cut.yaml")
    except ModelError as exc:
        assert exc.location is not None and exc.location.file == "cut.yaml"


_LINES = st.one_of(
    st.sampled_from(["CONFIG_PARAVIRT=y", "# CONFIG_SMP is not set", "CONFIG_HYPERV=m", "CONFIG_XEN=n", ""]),
    st.builds(lambda n, v: f"CONFIG_{n}={v}", st.sampled_from(["SMP", "PARAVIRT", "FOO", "X"]), st.text(max_size=6)),
    st.text(max_size=30),
)


@settings(max_examples=200)
@given(st.lists(_LINES, max_size=12), st.sampled_from(["\n", "\r\n"]), st.sampled_from(["utf-8", "latin-1"]))
def test_any_dot_config_gives_values_or_a_located_error(
    tmp_path_factory: Any, lines: list[str], newline: str, encoding: str
) -> None:
    model = load_model(CONFIGS / "v6.12.yaml")
    path = tmp_path_factory.mktemp("cfg") / ".config"
    path.write_bytes(newline.join(lines).encode(encoding, errors="replace"))
    try:
        user = config.read_file(model, path)
    except ConfigError as exc:
        assert exc.location is not None and exc.location.file == str(path)
        return
    assert set(user.values) <= set(model.option_map)


@settings(max_examples=40)
@given(random_models())
def test_path_matrix_and_check_agree_on_generated_models(model: Model) -> None:
    table = check.matrix(model)
    result = check.check(model)
    by_row: dict[tuple[str, ...], dict[str, set[str]]] = {}
    for env in kconfig.brute_force(model):
        values = {o.name: env[o.name] == "y" for o in model.options}
        runtime = {a.name: env[a.name] for a in model.axes}
        row = tuple(env[c] for c in table.columns)
        for tree in walk.one_configuration(model, values, runtime):
            by_row.setdefault(row, {}).setdefault(tree.entry.function, set()).update(tree.leaves)
    assert {r.values for r in table.rows} == set(by_row)
    for r in table.rows:
        for entry in table.entries:
            assert set(r.leaves[entry]) == by_row[r.values].get(entry, set())
    unsafe = {c for r in table.rows for leaves in r.leaves.values() for c in leaves if c != "rcu"}
    assert {v.leaf_class for v in result.violations} == unsafe
