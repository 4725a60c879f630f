"""Model text (ptfree_cli/emit.py): what the loader reads back is what was written."""

from __future__ import annotations

import pytest
from conftest import CONFIGS

from ptfree_cli import emit, loader
from ptfree_cli.guards import TRUE
from ptfree_cli.model import Entry, Function, Model, Option


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_model_round_trips_byte_for_byte(path: object) -> None:
    model = loader.load_model(path)  # type: ignore[arg-type]
    text = emit.model_text(model)
    again = loader.parse_model(text, "again.yaml")
    assert emit.model_text(again) == text
    assert [f.name for f in again.functions] == [f.name for f in model.functions]
    assert [(c.target, c.guard, c.defer, c.hook) for f in again.functions for c in f.calls] == [
        (c.target, c.guard, c.defer, c.hook) for f in model.functions for c in f.calls
    ]


def test_values_that_yaml_would_retype_stay_strings() -> None:
    model = Model(
        "y",
        "1.0",
        "no",
        "m.yaml",
        (Option("N", prompt="on"), Option("Y", note="null")),
        (),
        (Function("f", "true", guard=TRUE, leaf="free", note="0x10"),),
        (),
        (Entry("f", "teardown"),),
    )
    again = loader.parse_model(emit.model_text(model), "m.yaml")
    assert (again.name, again.title, again.version) == ("y", "1.0", "no")
    assert again.option_map["N"].prompt == "on"
    assert again.option_map["Y"].note == "null"
    assert (again.functions[0].file, again.functions[0].note) == ("true", "0x10")
