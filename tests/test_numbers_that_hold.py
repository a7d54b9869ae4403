"""Small cases that backpropagation code commonly gets wrong, each with its value worked by hand."""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from core.engine import Session, Snapshot, StepKind
from core.loader import load_scenario, parse_scenario

SCENARIOS = Path(__file__).parent.parent / "scenarios"

ONE_WEIGHT = """
learning_rate = 0.1
[data]
inputs = [[1]]
targets = [[3]]
[[layers]]
weights = [[2]]
biases = [0]
"""

TWO_PATHS = """
loss = "half_sse"
learning_rate = 0.1
[data]
inputs = [[1]]
targets = [[0, 0]]
[[layers]]
weights = [[1]]
biases = [0]
[[layers]]
weights = [[2], [3]]
biases = [0, 0]
"""

BATCH_BIASES = """
loss = "mse"
learning_rate = 0.1
[data]
inputs = [[1], [2], [3]]
targets = [[0, 0], [0, 0], [0, 0]]
[[layers]]
weights = [[1], [1]]
biases = [0, 0]
"""

CHAIN = """
loss = "half_sse"
learning_rate = 0.5
[data]
inputs = [[1]]
targets = [[0]]
[[layers]]
weights = [[1]]
biases = [0]
[[layers]]
weights = [[2]]
biases = [0]
"""

# Two hidden tanh neurons, momentum, and two samples: every snapshot field is in use.
NONLINEAR = """
loss = "mse"
learning_rate = 0.05
[optimizer]
name = "momentum"
momentum = 0.9
[data]
inputs = [[1, -2], [0.5, 3]]
targets = [[1, 0], [0, 1]]
[[layers]]
weights = [[0.3, -0.2], [0.1, 0.4]]
biases = [0.1, -0.1]
activation = "tanh"
[[layers]]
weights = [[0.5, -0.6], [0.2, 0.7]]
biases = [0, 0.2]
"""


def session_from(text: str) -> Session:
    return Session(parse_scenario(text))


def step_until(session: Session, kind: StepKind) -> Snapshot:
    while session.current.step is None or session.current.step.kind is not kind:
        session.step_forward()
    return session.current


# Replaying and ordering


def test_replayed_backward_pass_not_accumulated():
    session = session_from(ONE_WEIGHT)
    step_until(session, StepKind.BACKWARD)

    for _ in range(5):
        # Step back over the backward step and dL/dŷ, then compute both again.
        assert session.step_back()
        assert session.step_back()
        session.step_forward()
        snapshot = session.step_forward()
        assert snapshot.grad_w[0].tolist() == [[-2.0]]
        assert snapshot.grad_b[0].tolist() == [-2.0]

    snapshot = session.to_end_of_iteration()

    assert snapshot.weights[0][0, 0] == pytest.approx(2.2)
    assert snapshot.biases[0][0] == pytest.approx(0.2)

    snapshot = session.to_end_of_forward()

    assert snapshot.a[0][0, 0] == pytest.approx(2.4)
    assert snapshot.loss == pytest.approx(0.36)


def test_hidden_neuron_sums_both_paths():
    session = session_from(TWO_PATHS)

    snapshot = session.to_end_of_backward()

    # dL/dŷ = ŷ - y = (2, 3), so dL/dh = 2·2 + 3·3.
    assert snapshot.grad_a[1].tolist() == [[2.0, 3.0]]
    assert snapshot.grad_a[0].tolist() == [[13.0]]
    assert snapshot.grad_w[0].tolist() == [[13.0]]


def test_batch_keeps_one_bias_per_neuron():
    session = session_from(BATCH_BIASES)

    snapshot = session.to_end_of_backward()

    # Loss (1/3)·Σ 2x² over x = 1, 2, 3; dL/db = (2/3)·Σ x; dL/dW = (2/3)·Σ x².
    assert snapshot.loss == pytest.approx(28 / 3)
    assert snapshot.grad_b[0].shape == (2,)
    assert snapshot.grad_b[0].tolist() == pytest.approx([4.0, 4.0])
    assert snapshot.grad_w[0].shape == (2, 1)
    assert snapshot.grad_w[0][:, 0].tolist() == pytest.approx([28 / 3, 28 / 3])

    snapshot = session.to_end_of_iteration()

    assert snapshot.biases[0].shape == (2,)
    assert snapshot.biases[0].tolist() == pytest.approx([-0.4, -0.4])


def test_duplicated_samples_leave_mse_unchanged():
    original = load_scenario(SCENARIOS / "example2.toml")
    doubled = dataclasses.replace(
        original,
        inputs=np.concatenate([original.inputs, original.inputs]),
        targets=np.concatenate([original.targets, original.targets]),
    )

    expected = Session(original).to_end_of_backward()
    found = Session(doubled).to_end_of_backward()

    # Example 2: loss 0.9166667, dL/dw = (-2, -0.5, 1/6), dL/db = -1 for the three samples.
    assert found.loss == pytest.approx(11 / 12, rel=1e-12)
    assert found.loss == pytest.approx(expected.loss, rel=1e-12)
    np.testing.assert_allclose(found.grad_w[0], [[-2.0, -0.5, 1 / 6]], rtol=1e-12)
    np.testing.assert_allclose(found.grad_w[0], expected.grad_w[0], rtol=1e-12)
    np.testing.assert_allclose(found.grad_b[0], [-1.0], rtol=1e-12)
    np.testing.assert_allclose(found.grad_b[0], expected.grad_b[0], rtol=1e-12)


def test_gradients_complete_before_update():
    session = session_from(CHAIN)

    snapshot = session.to_end_of_iteration()

    # dL/dw2 = ŷ·h = 2 and dL/dw1 = ŷ·w2·x = 4, both with the old w2 = 2.
    # w1 = 0 would mean w2 was updated to 1 before dL/dw1 was computed.
    assert snapshot.weights[1][0, 0] == 1.0
    assert snapshot.weights[0][0, 0] == -1.0


def test_integer_matrices_update_in_place():
    scenario = parse_scenario(CHAIN)

    for layer in scenario.layers:
        assert layer.weights.dtype == np.float64
        assert layer.biases.dtype == np.float64
    assert scenario.inputs.dtype == np.float64
    assert scenario.targets.dtype == np.float64

    session = Session(scenario)
    session.run(3)

    assert session.current.weights[0].dtype == np.float64


# Stepping back is exact


def copy_snapshot(snapshot: Snapshot) -> dict:
    """Deep-copy every field of a snapshot, so later changes cannot hide."""
    return {
        field.name: _copy_value(getattr(snapshot, field.name)) for field in dataclasses.fields(snapshot)
    }


def _copy_value(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return tuple(_copy_value(item) for item in value)
    if isinstance(value, dict):
        return {key: _copy_value(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _copy_value(getattr(value, field.name)) for field in dataclasses.fields(value)}
    return value


def assert_identical(found, expected, path: str = "snapshot") -> None:
    """Compare bit for bit: arrays with np.array_equal, floats with ==, NaN equal to NaN."""
    if isinstance(expected, np.ndarray):
        assert isinstance(found, np.ndarray), path
        assert found.dtype == expected.dtype, path
        assert np.array_equal(found, expected, equal_nan=True), path
    elif isinstance(expected, dict):
        assert found.keys() == expected.keys(), path
        for key in expected:
            assert_identical(found[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, tuple):
        assert len(found) == len(expected), path
        for index, (left, right) in enumerate(zip(found, expected)):
            assert_identical(left, right, f"{path}[{index}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(found, float) and math.isnan(found), path
    else:
        assert found == expected, path


@pytest.mark.parametrize("text", [NONLINEAR, ONE_WEIGHT], ids=["tanh-momentum", "one-weight"])
def test_step_back_restores_every_position(text: str):
    session = session_from(text)
    history = [copy_snapshot(session.current)]
    for _ in range(3 * len(session.plan)):
        history.append(copy_snapshot(session.step_forward()))

    for expected in reversed(history[:-1]):
        assert session.step_back()
        assert_identical(copy_snapshot(session.current), expected)

    assert not session.step_back()


def test_step_back_after_run_restores_stepped_states():
    stepped = session_from(NONLINEAR)
    history = [copy_snapshot(stepped.current)]
    for _ in range(6 * len(stepped.plan)):
        history.append(copy_snapshot(stepped.step_forward()))
    session = session_from(NONLINEAR)

    assert session.run(6) == 6
    assert_identical(copy_snapshot(session.current), history[-1])

    # Back across three iteration boundaries, into iterations run at full speed.
    for expected in reversed(history[-3 * len(stepped.plan) - 1 : -1]):
        assert session.step_back()
        assert_identical(copy_snapshot(session.current), expected)


def test_run_matches_stepping_bit_for_bit():
    stepped = session_from(NONLINEAR)
    for _ in range(20):
        stepped.to_end_of_iteration()
    fast = session_from(NONLINEAR)

    fast.run(20)

    found_parameters = fast.current.weights + fast.current.biases
    expected_parameters = stepped.current.weights + stepped.current.biases
    for found, expected in zip(found_parameters, expected_parameters):
        assert np.array_equal(found, expected)
    assert fast.loss_history() == stepped.loss_history()


def test_rate_change_mid_iteration_applies_to_its_update():
    session = session_from(ONE_WEIGHT)
    session.to_end_of_forward()

    session.set_learning_rate(0.25)
    snapshot = session.to_end_of_iteration()

    assert snapshot.update.learning_rate == 0.25
    # dL/dw = dL/db = -2, so w = 2 + 0.25·2 and b = 0 + 0.25·2.
    assert snapshot.weights[0][0, 0] == 2.5
    assert snapshot.biases[0][0] == 0.5


# Divergence


def diverging_session() -> Session:
    scenario = load_scenario(SCENARIOS / "example3.toml")
    return Session(dataclasses.replace(scenario, learning_rate=0.01))


def test_divergence_reaches_inf_then_nan():
    session = diverging_session()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        session.run(20)

    losses = session.loss_history()
    first_inf = next(index for index, loss in enumerate(losses) if math.isinf(loss))
    assert all(math.isfinite(loss) for loss in losses[:first_inf])
    assert math.isnan(losses[first_inf + 1])
    assert session.diverged_at == first_inf


def test_run_stops_at_first_non_finite_loss():
    session = diverging_session()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        done = session.run(1000, stop_on_divergence=True)

    losses = session.loss_history()
    assert session.diverged_at is not None
    assert done == session.diverged_at + 1
    assert len(losses) == session.diverged_at + 1
    assert not math.isfinite(losses[-1])
    assert all(math.isfinite(loss) for loss in losses[:-1])
    assert not session.current.is_finite


def test_step_back_and_reset_after_divergence():
    session = diverging_session()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        session.run(1000, stop_on_divergence=True)
        diverged_at = session.diverged_at

        for _ in range(len(session.plan) + 1):
            assert session.step_back()

    assert session.current.iteration == diverged_at - 1
    assert math.isfinite(session.current.loss)

    session.reset()

    assert session.current.iteration == 0
    assert session.current.position == 0
    assert session.diverged_at is None
    assert session.current.weights[0].tolist() == [[4.0, 3.0], [1.0, -1.0], [1.0, 1.0]]
