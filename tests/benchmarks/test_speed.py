"""Benchmarks: the engine's speed and memory against plain NumPy.

Not part of the default test run. Run them with:

    python -m pytest -m benchmark -s tests/benchmarks

Each prints its measurements; the figures are recorded in tests/benchmarks/README.md.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark

HERE = Path(__file__).parent
ITERATIONS = 100_000
ROUNDS = 5
# The engine's whole process may take at most this multiple of the plain loop's CPU time.
MAX_RATIO = 1.5


def _cpu_seconds(command: list[str]) -> tuple[float, str]:
    """Run `command` and return the CPU time (user + system) it used, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return used, completed.stdout


def test_example2_within_ratio_of_plain_numpy():
    engine = [
        sys.executable, "-m", "tui.cli", "example2",
        "--iterations", str(ITERATIONS), "--json", "--record-every", str(ITERATIONS),
    ]
    plain = [sys.executable, str(HERE / "plain_numpy_example2.py"), str(ITERATIONS)]

    engine_times, plain_times = [], []
    for _ in range(ROUNDS):  # alternate, so drifts in machine load hit both alike
        seconds, engine_output = _cpu_seconds(engine)
        engine_times.append(seconds)
        seconds, plain_output = _cpu_seconds(plain)
        plain_times.append(seconds)

    # Both loops must compute the same numbers, or the comparison means nothing.
    final = json.loads(engine_output)["final"]["parameters"]
    plain_values = [float(value) for value in plain_output.split()[1:]]
    assert [final[name] for name in ("w1", "w2", "w3", "b1")] == pytest.approx(plain_values, rel=1e-12)

    ratio = min(engine_times) / min(plain_times)
    print(
        f"\n{ITERATIONS:,} iterations of example 2, best of {ROUNDS} CPU seconds: "
        f"engine {min(engine_times):.3f} s, plain NumPy {min(plain_times):.3f} s, ratio {ratio:.2f}"
    )
    assert ratio <= MAX_RATIO


MEMORY_SCRIPT = """
import sys
from core.bundled import resolve_scenario
from core.engine import Session
from core.loader import load_scenario

def resident_kib():
    # The current resident set size; the peak (ru_maxrss) also counts start-up spikes.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

session = Session(load_scenario(resolve_scenario("example3")))
before = resident_kib()
session.run(int(sys.argv[1]))
session.step_back()
after = resident_kib()
print(before, after, len(session.loss_history()))
"""

# A long interactive run keeps checkpoints sparse, so memory grows with the loss
# history (a Python float and a list slot, about 32 bytes an iteration) and not
# with the parameters of every iteration.
MAX_GROWTH_KIB = 64 * 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux's /proc")
def test_long_session_memory_stays_bounded():
    iterations = 1_000_000
    completed = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(iterations)],
        capture_output=True, text=True, check=True, env={**os.environ},
    )
    before, after, history = (int(value) for value in completed.stdout.split())
    growth = after - before  # KiB
    print(f"\n{iterations:,} iterations of example 3 in a Session: resident memory grew {growth / 1024:.1f} MiB")
    assert history == iterations
    assert growth <= MAX_GROWTH_KIB
