"""Fixtures that make app tests and snapshots repeatable."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from textual.widgets import Input

from core.loader import load_scenario
from tui.app import BackpropApp

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(autouse=True)
def fixed_seeds() -> None:
    """Seed the random generators that anything in a test might draw from."""
    random.seed(0)
    np.random.seed(0)


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop text cursors from blinking (the command palette's input), so screenshots do not depend on timing."""
    monkeypatch.setattr(Input.cursor_blink, "_default", False)


@pytest.fixture(autouse=True)
def colour_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run with colour, whatever the developer's shell sets; tests that need NO_COLOR set it themselves."""
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def make_app() -> Callable[..., BackpropApp]:
    """Return a factory of apps on a bundled scenario (by file stem, or None for the picker), without animations."""

    def factory(name: str | None = "example3", **options: Any) -> BackpropApp:
        scenario = load_scenario(SCENARIOS / f"{name}.toml") if name is not None else None
        app = BackpropApp(scenario, **options)
        app.animation_level = "none"
        return app

    return factory
