"""The README's promises: its key table matches the app's actions, and its scenario example loads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from core.engine import Session
from core.loader import parse_scenario
from tui.actions import ACTIONS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_key_table_lists_every_action():
    table_keys = set(re.findall(r"^\| (`.+?`(?: or `.+?`| / `.+?`)?) \|", README, flags=re.MULTILINE))
    written = " ".join(table_keys)
    for action in ACTIONS:
        for key in action.key_display.split("/"):
            assert f"`{key}`" in written, f"{key} ({action.name}) is missing from the README's key table"


def test_format_example_loads_and_trains():
    example = re.search(r"This one uses every key:\n\n```toml\n(.*?)```", README, flags=re.DOTALL)
    assert example is not None
    scenario = parse_scenario(example.group(1), source="README.md")
    assert scenario.widths == (2, 3, 1)
    assert scenario.input_names == ("a", "b")
    assert scenario.layers[1].fixed_biases
    assert scenario.optimizer.name == "momentum"
    session = Session(scenario)
    session.run(3)
    assert np.isfinite(session.loss_history()).all()
    # The fixed bias keeps its value through the updates.
    assert session.current.biases[1][0] == 0.0


def test_setup_commands_match_ci():
    ci_script = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    test_command = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"
    assert test_command in README
    # CI runs the README's command, with only pip's --quiet added.
    assert test_command.replace("install -e", "install --quiet -e") in ci_script
