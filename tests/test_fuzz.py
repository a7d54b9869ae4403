"""Property tests: the loader never raises anything but ScenarioError, and the engine's
numbers hold for random valid networks.

Runs are derandomized, so every run tries the same examples.
"""

from __future__ import annotations

import math
import tempfile
import tomllib
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.activations import ACTIVATION_NAMES
from core.engine import Session
from core.errors import ScenarioError
from core.loader import load_scenario, parse_scenario
from core.losses import LOSS_NAMES
from core.network import forward_layer
from core.optimizers import OPTIMIZER_NAMES
from core.scenario import Scenario
from tests.test_numbers_that_hold import assert_identical, copy_snapshot

SCENARIOS = Path(__file__).parent.parent / "scenarios"
BASE_DOCUMENTS = [tomllib.loads(path.read_text("utf-8")) for path in sorted(SCENARIOS.glob("*.toml"))]

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NETWORKS = settings(FUZZ, max_examples=60)


# Loader fuzzing


def toml_value(value) -> str:
    """Write a Python value as a TOML value, tables inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(key)} = {toml_value(item)}" for key, item in value.items()) + " }"
    raise TypeError(type(value))


def toml_key(key: str) -> str:
    return key if key.replace("_", "").isalnum() and key.isascii() else toml_value(key)


def toml_document(document: dict) -> str:
    return "".join(f"{toml_key(key)} = {toml_value(value)}\n" for key, value in document.items())


def paths_in(value, prefix: tuple = ()) -> list[tuple]:
    """Every path of keys and list indices inside a document, the empty path excluded."""
    paths = []
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return paths
    for key, child in children:
        paths.append((*prefix, key))
        paths.extend(paths_in(child, (*prefix, key)))
    return paths


ODD_VALUES = [
    math.nan, math.inf, -math.inf, True, False, "x", "", "0.5", 0, -1, 0.0, -0.0, 1e300, 10**20,
    2**63 - 1, [], [[]], [1], [[1, 2], [3]], {}, {"a": 1}, [{}], "relu", "cross_entropy", "adam",
]
TEXT_INSERTS = ["", "nan", "inf", "true", '"x"', "[", "]", "[[", "=", "\n", ",", "1e999", "-"]
KEY_NAMES = ["weights", "biases", "units", "init", "name", "momentum", "inputs", "targets", "loss", "weigths", "x"]


def mutate(document: dict, data: st.DataObject) -> None:
    """Apply one random change in place: drop, replace, resize or rename at a random path."""
    path = data.draw(st.sampled_from(paths_in(document)))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    action = data.draw(st.sampled_from(["drop", "replace", "grow", "shrink", "rename", "add"]))
    if action == "drop":
        del parent[key]
    elif action == "replace":
        parent[key] = data.draw(st.sampled_from(ODD_VALUES))
    elif action == "grow" and isinstance(parent[key], list) and parent[key]:
        parent[key].append(parent[key][-1])
    elif action == "shrink" and isinstance(parent[key], list) and parent[key]:
        parent[key].pop()
    elif action == "rename" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from(KEY_NAMES))] = parent.pop(key)
    elif action == "add" and isinstance(parent[key], dict):
        parent[key][data.draw(st.sampled_from(KEY_NAMES))] = data.draw(st.sampled_from(ODD_VALUES))


def assert_valid(scenario: Scenario) -> None:
    """Check what a returned Scenario promises: float64, finite, shapes that chain."""
    assert scenario.inputs.dtype == np.float64
    assert scenario.targets.dtype == np.float64
    assert np.isfinite(scenario.inputs).all()
    assert np.isfinite(scenario.targets).all()
    assert scenario.inputs.shape[0] == scenario.targets.shape[0] >= 1
    width = scenario.inputs.shape[1]
    for layer in scenario.layers:
        assert layer.weights.dtype == np.float64
        assert layer.weights.shape == (layer.biases.shape[0], width)
        assert np.isfinite(layer.weights).all()
        assert np.isfinite(layer.biases).all()
        width = layer.units
    assert width == scenario.targets.shape[1]
    assert scenario.learning_rate > 0


def parse_or_error(text: str) -> Scenario | None:
    try:
        scenario = parse_scenario(text, source="fuzz.toml")
    except ScenarioError as error:
        assert str(error).startswith("fuzz.toml")
        assert "\n" not in str(error)
        return None
    assert_valid(scenario)
    return scenario


@FUZZ
@given(st.binary(max_size=400))
def test_raw_bytes_load_or_raise_scenario_error(data: bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_bytes(data)
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            assert str(error).startswith(str(path))
            assert "\n" not in str(error)
        else:
            assert_valid(scenario)


@FUZZ
@given(st.text(max_size=300))
def test_raw_text_parses_or_raises_scenario_error(text: str):
    parse_or_error(text)


@FUZZ
@given(st.data())
def test_mutated_scenarios_parse_or_raise_scenario_error(data: st.DataObject):
    document = data.draw(st.sampled_from(BASE_DOCUMENTS))
    document = tomllib.loads(toml_document(document))  # a fresh deep copy
    for _ in range(data.draw(st.integers(1, 3))):
        if paths_in(document):
            mutate(document, data)

    scenario = parse_or_error(toml_document(document))

    if scenario is not None:
        session = Session(scenario)
        session.to_end_of_iteration()
        assert session.current.iteration == 0


@FUZZ
@given(st.data())
def test_mutated_text_parses_or_raises_scenario_error(data: st.DataObject):
    text = (SCENARIOS / data.draw(st.sampled_from(["example1.toml", "example3.toml"]))).read_text("utf-8")
    position = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 20))
    insert = data.draw(st.sampled_from(TEXT_INSERTS))

    parse_or_error(text[:position] + insert + text[position + cut :])


# Random valid networks


@st.composite
def network_texts(draw) -> str:
    """Write a valid scenario with 1 to 3 layers of 1 to 4 neurons and 1 to 4 samples.

    Activation, loss and optimizer are drawn from all the app has.
    """
    layer_count = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 4)) for _ in range(layer_count + 1)]
    loss = draw(st.sampled_from(LOSS_NAMES))
    if loss == "cross_entropy":
        widths[-1] = max(widths[-1], 2)
    samples = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    inputs = rng.uniform(-2, 2, size=(samples, widths[0]))
    if loss == "cross_entropy":
        targets = rng.dirichlet(np.ones(widths[-1]), size=samples)  # rows of class probabilities
    else:
        targets = rng.uniform(-2, 2, size=(samples, widths[-1]))
    lines = [
        f'loss = "{loss}"',
        f"learning_rate = {draw(st.sampled_from([0.001, 0.01, 0.1]))}",
        f"seed = {draw(st.integers(0, 1000))}",
    ]
    if samples > 1 and draw(st.booleans()):
        lines.append(f"batch_size = {draw(st.integers(1, samples))}")
    optimizer = draw(st.sampled_from(OPTIMIZER_NAMES))
    lines += ["[optimizer]", f'name = "{optimizer}"']
    lines += ["[data]", f"inputs = {toml_value(inputs.tolist())}", f"targets = {toml_value(targets.tolist())}"]
    for inputs_width, units in zip(widths, widths[1:]):
        lines += [
            "[[layers]]",
            f"weights = {toml_value(rng.uniform(-1.5, 1.5, size=(units, inputs_width)).tolist())}",
            f"biases = {toml_value(rng.uniform(-1, 1, size=units).tolist())}",
            f'activation = "{draw(st.sampled_from(ACTIVATION_NAMES))}"',
        ]
    return "\n".join(lines) + "\n"


@NETWORKS
@given(network_texts(), st.integers(0, 30), st.integers(1, 30))
def test_steps_back_restore_exact_state(text: str, start: int, steps: int):
    session = Session(parse_scenario(text))
    for _ in range(start):
        session.step_forward()
    expected = copy_snapshot(session.current)

    for _ in range(steps):
        session.step_forward()
    for _ in range(steps):
        assert session.step_back()

    assert_identical(copy_snapshot(session.current), expected)


def loss_at(scenario: Scenario, weights: list[np.ndarray], biases: list[np.ndarray]) -> float:
    """The loss computed forward only, independently of the engine's backward pass."""
    values = scenario.inputs
    for layer, layer_weights, layer_biases in zip(scenario.layers, weights, biases):
        _, values = forward_layer(layer_weights, layer_biases, layer.activation, values)
    return scenario.loss.value(values, scenario.targets)


KINKED = {"relu", "leaky_relu"}
STEP = 1e-6


@NETWORKS
@given(network_texts())
def test_gradients_match_central_differences(text: str):
    scenario = parse_scenario(text.replace("batch_size", "# batch_size"))
    session = Session(scenario)
    snapshot = session.to_end_of_backward()
    for layer, z in zip(scenario.layers, snapshot.z):
        if layer.activation.name in KINKED:
            # Within 1e-3 of z = 0 a finite difference may straddle the kink.
            assume(np.abs(z).min() > 1e-3)

    weights = [array.copy() for array in snapshot.weights]
    biases = [array.copy() for array in snapshot.biases]
    analytic = [*snapshot.grad_w, *snapshot.grad_b]
    for parameter, gradient in zip([*weights, *biases], analytic):
        for index in np.ndindex(parameter.shape):
            original = parameter[index]
            parameter[index] = original + STEP
            above = loss_at(scenario, weights, biases)
            parameter[index] = original - STEP
            below = loss_at(scenario, weights, biases)
            parameter[index] = original

            numeric = (above - below) / (2 * STEP)
            assert math.isclose(gradient[index], numeric, rel_tol=1e-5, abs_tol=1e-7), index
