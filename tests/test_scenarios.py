"""Bundled scenarios: they load, their gradients match finite differences, and their descriptions hold.

The finite differences use a forward pass written here from the formulas,
independent of core.network, so a shared mistake cannot hide.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.bundled import bundled_scenarios
from core.engine import Session
from core.explain import gradient_check
from core.loader import load_scenario, parse_scenario
from core.scenario import Scenario
from tests.helpers import lecture_session

SCENARIO_PATHS = bundled_scenarios()
SCENARIO_FOLDER = SCENARIO_PATHS[0].parent
TEACHING = (
    "example3-batch", "example2-minibatch", "xor", "sigmoid-half-sse", "classification",
    "momentum", "momentum-plain", "adam",
)


def activate(name: str, z: np.ndarray, slope: float) -> np.ndarray:
    if name == "identity":
        return z
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    raise AssertionError(f"no reference for activation {name}")


def reference_loss(scenario: Scenario, weights, biases, inputs, targets) -> float:
    """L for a batch, from the loss formulas as the scenario files name them."""
    values = inputs
    for layer, w, b in zip(scenario.layers, weights, biases):
        values = activate(layer.activation.name, values @ w.T + b, layer.activation.negative_slope)
    n = inputs.shape[0]
    squared = ((values - targets) ** 2).sum()
    name = scenario.loss.name
    if name == "sse":
        return squared
    if name == "mse":
        return squared / n
    if name == "half_sse":
        return 0.5 * squared
    # Cross-entropy of softmax, mean over the samples.
    shifted = values - values.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -(targets * log_p).sum() / n


def finite_difference(session: Session, layer: int, kind: str, index: tuple, h: float = 1e-6) -> float:
    """Central difference of this iteration's loss in one parameter, from the iteration's start."""
    snapshot = session.current
    start = snapshot.update if snapshot.update is not None else snapshot
    weights = [w.copy() for w in start.weights]
    biases = [b.copy() for b in start.biases]
    array = (weights if kind == "weights" else biases)[layer]
    original = array[index]
    array[index] = original + h
    plus = reference_loss(session.scenario, weights, biases, snapshot.inputs, snapshot.targets)
    array[index] = original - h
    minus = reference_loss(session.scenario, weights, biases, snapshot.inputs, snapshot.targets)
    return (plus - minus) / (2 * h)


def assert_gradients_match(session: Session) -> None:
    snapshot = session.current
    for name, reference in session.names.parameters.items():
        if reference.kind == "weights":
            index = (reference.row, reference.column)
            analytic = float(snapshot.grad_w[reference.layer][index])
        else:
            index = (reference.row,)
            analytic = float(snapshot.grad_b[reference.layer][index])
        numeric = finite_difference(session, reference.layer, reference.kind, index)
        assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7), name


@pytest.mark.parametrize("path", SCENARIO_PATHS, ids=lambda path: path.stem)
def test_scenario_loads_with_description(path):
    scenario = load_scenario(path)
    assert scenario.title
    assert len(scenario.description) > 40


def test_teaching_scenarios_are_bundled():
    stems = {path.stem for path in SCENARIO_PATHS}
    for stem in TEACHING:
        assert stem in stems


@pytest.mark.parametrize("path", SCENARIO_PATHS, ids=lambda path: path.stem)
def test_gradients_match_finite_differences_at_start(path):
    session = Session(load_scenario(path))
    session.to_end_of_backward()
    assert_gradients_match(session)


@pytest.mark.parametrize("path", SCENARIO_PATHS, ids=lambda path: path.stem)
def test_gradients_match_finite_differences_later(path):
    session = Session(load_scenario(path))
    session.run(5)
    assert_gradients_match(session)  # the fifth iteration, after its update

    session.to_end_of_backward()
    assert_gradients_match(session)  # the sixth, before its update


@pytest.mark.parametrize("path", SCENARIO_PATHS, ids=lambda path: path.stem)
def test_gradient_check_agrees(path):
    session = Session(load_scenario(path))
    session.run(3)
    for name in session.names.parameters:
        check = gradient_check(session, name)
        assert check.agrees(), check


# What the descriptions promise


def test_xor_converges():
    session = lecture_session("xor")
    session.run(3000)

    assert session.loss_history()[-1] < 0.01
    predictions = np.rint(session.current.a[-1][:, 0])
    np.testing.assert_array_equal(predictions, [0, 1, 1, 0])


def test_xor_needs_the_activation():
    # The same network with identity activations is linear and cannot fit XOR:
    # the best linear fit predicts 0.5 everywhere, a mean squared error of 0.25.
    text = (SCENARIO_FOLDER / "xor.toml").read_text()
    text = text.replace('activation = "tanh"', 'activation = "identity"')
    text = text.replace('activation = "sigmoid"', 'activation = "identity"')
    # A smaller rate, because the linear network diverges with 0.5.
    text = text.replace("learning_rate = 0.5", "learning_rate = 0.05")

    session = Session(parse_scenario(text))
    session.run(3000)
    assert session.loss_history()[-1] > 0.24


def test_classification_loss_decreases():
    session = lecture_session("classification")
    session.run(200)

    losses = session.loss_history()
    assert losses[0] > 1.0
    assert losses[-1] < 0.1 * losses[0]
    assert all(later <= earlier * 1.05 for earlier, later in zip(losses, losses[1:]))
    classes = np.argmax(session.current.a[-1], axis=1)
    np.testing.assert_array_equal(classes, np.argmax(session.current.targets, axis=1))


def test_sigmoid_half_sse_first_loss():
    # Hidden: z = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775 and 0.25·0.05 + 0.3·0.1 + 0.35 = 0.3925.
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    u1, u2 = sigmoid(0.3775), sigmoid(0.3925)
    y1 = sigmoid(0.4 * u1 + 0.45 * u2 + 0.6)
    y2 = sigmoid(0.5 * u1 + 0.55 * u2 + 0.6)
    expected = 0.5 * ((y1 - 0.01) ** 2 + (y2 - 0.99) ** 2)

    session = lecture_session("sigmoid-half-sse")
    session.to_end_of_forward()
    assert session.current.loss == pytest.approx(expected, rel=1e-12)
    assert session.current.loss == pytest.approx(0.298371, abs=1e-6)


def test_sigmoid_half_sse_keeps_biases_fixed():
    # Mazur's example updates only the weights: after one update w5 = 0.35891648
    # (his published value) and the loss is 0.29102777, while the biases stay put.
    session = lecture_session("sigmoid-half-sse")
    session.to_end_of_iteration()
    assert session.current.weights[1][0, 0] == pytest.approx(0.35891648, abs=1e-8)
    assert list(session.current.biases[0]) == [0.35, 0.35]
    assert list(session.current.biases[1]) == [0.6, 0.6]
    session.to_end_of_forward()
    assert session.current.loss == pytest.approx(0.29102777, abs=1e-8)


def test_example3_batch_first_iteration():
    session = lecture_session("example3-batch")
    session.to_end_of_backward()

    # ŷ for x = (3, 2), (1, 1), (0, 2): (12, 7), (7, 9), (-3, 1);
    # L = ((11² + 3²) + (2² + 1²) + (2² + 1²)) / 3 = 140 / 3.
    assert session.current.loss == pytest.approx(140 / 3)
    # dL/dw7 = Σ (2/3)(ŷ1 - y1)·u1 = (2/3)·(11·22 + 2·11 + (-2)·10) = 488/3.
    ref = session.names.parameters["w7"]
    assert float(session.current.grad_w[ref.layer][ref.row, ref.column]) == pytest.approx(488 / 3)


def test_example3_batch_converges():
    session = lecture_session("example3-batch")
    session.run(2000)
    assert session.loss_history()[-1] < 1e-8


def test_example2_minibatch_reaches_example2_solution():
    # Three samples and four parameters: both reach the exact fit of the worked example.
    session = lecture_session("example2-minibatch")
    session.run(3000)

    np.testing.assert_allclose(session.current.weights[0][0], [1.6020314, 1.5549400, 0.5706371], atol=1e-6)
    np.testing.assert_allclose(session.current.biases[0], [0.7802401], atol=1e-6)


def test_momentum_overshoots_then_wins():
    plain = lecture_session("momentum-plain")
    momentum = lecture_session("momentum")
    plain.run(300)
    momentum.run(300)
    plain_losses = plain.loss_history()
    momentum_losses = momentum.loss_history()

    # Iteration 6 (index 5): momentum has overshot, plain descent has not.
    assert momentum_losses[5] > 10
    assert plain_losses[5] < 0.2
    # By iteration 200 momentum is far ahead along the valley floor.
    assert momentum_losses[199] < 1e-5
    assert plain_losses[199] > 1e-3
    assert plain_losses[299] > 1e-4
    assert float(plain.current.biases[0][0]) == pytest.approx(0.95, abs=0.01)


def test_momentum_pair_differs_only_in_optimizer():
    plain = load_scenario(SCENARIO_FOLDER / "momentum-plain.toml")
    momentum = load_scenario(SCENARIO_FOLDER / "momentum.toml")
    adam = load_scenario(SCENARIO_FOLDER / "adam.toml")

    for other in (momentum, adam):
        np.testing.assert_array_equal(plain.inputs, other.inputs)
        np.testing.assert_array_equal(plain.targets, other.targets)
        np.testing.assert_array_equal(plain.layers[0].weights, other.layers[0].weights)
        assert plain.loss == other.loss
    assert plain.learning_rate == momentum.learning_rate
    assert (plain.optimizer.name, momentum.optimizer.name, adam.optimizer.name) == ("sgd", "momentum", "adam")


def test_adam_converges():
    session = lecture_session("adam")
    session.run(200)
    assert session.loss_history()[-1] < 1e-5
