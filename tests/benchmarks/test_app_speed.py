"""Benchmark: how long one key press takes in the app for large networks.

Not part of the default test run; see tests/benchmarks/README.md.
"""

from __future__ import annotations

import time

import pytest

from core.loader import parse_scenario
from tui.app import BackpropApp

pytestmark = pytest.mark.benchmark

# 10 inputs, two hidden layers of 40 and one output: 2,121 parameters.
MEDIUM = """
learning_rate = 0.001
seed = 1
[data]
inputs = [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]
targets = [[1]]
[[layers]]
units = 40
init = "random"
[[layers]]
units = 40
init = "random"
[[layers]]
units = 1
init = "random"
"""


def large_scenario_text() -> str:
    """16 inputs, 7 tanh layers of 52 units and one output (17,109 parameters), mini-batches of 100 of 1,000 samples."""
    rows = ", ".join(f"[{', '.join(str((sample * 7 + feature) % 10) for feature in range(16))}]" for sample in range(1000))
    targets = ", ".join(f"[{sample % 10}]" for sample in range(1000))
    layers = '[[layers]]\nunits = 52\ninit = "random"\nactivation = "tanh"\n' * 7
    return (
        f'learning_rate = 0.001\nloss = "mse"\nbatch_size = 100\n[data]\ninputs = [{rows}]\n'
        f'targets = [{targets}]\n{layers}[[layers]]\nunits = 1\ninit = "random"\n'
    )


async def slowest_key(text: str, keys: list[str]) -> float:
    app = BackpropApp(parse_scenario(text, source="benchmark"))
    slowest = 0.0
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for key in keys:
            start = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            slowest = max(slowest, time.perf_counter() - start)
    return slowest


KEYS = ["n", "n", "n", "g", "u", "n", "b", "b"]


async def test_medium_network_steps_quickly():
    seconds = await slowest_key(MEDIUM, KEYS)
    print(f"\n2,121 parameters, 1 sample: slowest key press {seconds:.2f} s")
    assert seconds <= 1.0


async def test_largest_network_stays_usable():
    seconds = await slowest_key(large_scenario_text(), KEYS)
    print(f"\n17,109 parameters, batches of 100: slowest key press {seconds:.2f} s")
    assert seconds <= 5.0
