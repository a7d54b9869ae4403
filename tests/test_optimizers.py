"""Optimizers: the first three updates of a one-weight network, worked out by hand.

The network is ŷ = w·x with x = 1, y = 0, the bias fixed at 0 and the loss
L = (ŷ - y)² = w², so dL/dw = 2w. The learning rate is 0.1 throughout.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.engine import Session
from core.loader import parse_scenario

ONE_WEIGHT = """
title = "one weight"
loss = "sse"
learning_rate = 0.1
[optimizer]
{optimizer}
[data]
inputs = [[1]]
targets = [[0]]
[[layers]]
weights = [[1]]
biases = [0]
fixed = ["biases"]
"""


def one_weight_session(optimizer: str) -> Session:
    return Session(parse_scenario(ONE_WEIGHT.format(optimizer=optimizer)))


def stepped_weights(session: Session, updates: int) -> list[float]:
    """w after each of the first `updates` updates, stepping one step at a time."""
    values = []
    for _ in range(updates):
        session.to_end_of_iteration()
        values.append(float(session.current.weights[0][0, 0]))
    return values


def run_weight(session: Session, updates: int) -> float:
    """w after `updates` updates made by the fast path."""
    session.run(updates)
    return float(session.current.weights[0][0, 0])


# Plain gradient descent: w ← w - 0.1·2w = 0.8·w.
SGD_WEIGHTS = [0.8, 0.64, 0.512]

# Momentum μ = 0.9 in the form v ← μ·v + g, w ← w - η·v, with v starting at 0:
#   1: g = 2,    v = 2,                   w = 1 - 0.2     = 0.8
#   2: g = 1.6,  v = 0.9·2 + 1.6 = 3.4,   w = 0.8 - 0.34  = 0.46
#   3: g = 0.92, v = 0.9·3.4 + 0.92 = 3.98, w = 0.46 - 0.398 = 0.062
MOMENTUM_WEIGHTS = [0.8, 0.46, 0.062]


def adam_weights_by_hand() -> list[float]:
    """Adam with β1 = 0.9, β2 = 0.999, ε = 1e-8, written out one update at a time."""
    beta1, beta2, epsilon, rate = 0.9, 0.999, 1e-8, 0.1

    # Update 1: g = 2, m = 0.1·2 = 0.2, v = 0.001·4 = 0.004,
    # m̂ = 0.2/0.1 = 2, v̂ = 0.004/0.001 = 4, so w = 1 - 0.1·2/(2 + ε) ≈ 0.9.
    w1 = 1 - rate * 2 / (2 + epsilon)
    m1 = 0.2
    v1 = 0.004

    # Update 2: g = 2·w1.
    g2 = 2 * w1
    m2 = beta1 * m1 + (1 - beta1) * g2
    v2 = beta2 * v1 + (1 - beta2) * g2**2
    w2 = w1 - rate * (m2 / (1 - beta1**2)) / (math.sqrt(v2 / (1 - beta2**2)) + epsilon)

    # Update 3: g = 2·w2.
    g3 = 2 * w2
    m3 = beta1 * m2 + (1 - beta1) * g3
    v3 = beta2 * v2 + (1 - beta2) * g3**2
    w3 = w2 - rate * (m3 / (1 - beta1**3)) / (math.sqrt(v3 / (1 - beta2**3)) + epsilon)
    return [w1, w2, w3]


def test_sgd_first_three_updates():
    session = one_weight_session('name = "sgd"')
    assert stepped_weights(session, 3) == pytest.approx(SGD_WEIGHTS, rel=1e-12)


def test_momentum_first_three_updates():
    session = one_weight_session('name = "momentum"\nmomentum = 0.9')
    assert stepped_weights(session, 3) == pytest.approx(MOMENTUM_WEIGHTS, rel=1e-12)


def test_momentum_velocity_state():
    session = one_weight_session('name = "momentum"\nmomentum = 0.9')
    session.to_end_of_iteration()
    session.to_end_of_iteration()

    # State order is W1, b1: the weight's velocity is 3.4, the fixed bias's stays 0.
    velocity = session.current.optimizer_state["velocity"]
    assert float(velocity[0][0, 0]) == pytest.approx(3.4)
    assert float(velocity[1][0]) == 0.0


def test_adam_first_three_updates():
    session = one_weight_session('name = "adam"\nbeta1 = 0.9\nbeta2 = 0.999\nepsilon = 1e-8')
    expected = adam_weights_by_hand()
    assert expected[0] == pytest.approx(0.9, abs=1e-8)
    assert stepped_weights(session, 3) == pytest.approx(expected, rel=1e-12)


def test_adam_first_step_is_learning_rate():
    # With bias correction, Adam's first step is η·g/|g| = η whatever g is.
    session = one_weight_session('name = "adam"')
    session.to_end_of_iteration()
    assert float(session.current.weights[0][0, 0]) == pytest.approx(1 - 0.1, abs=1e-8)


@pytest.mark.parametrize(
    ("optimizer", "expected"),
    [
        ('name = "sgd"', SGD_WEIGHTS[2]),
        ('name = "momentum"\nmomentum = 0.9', MOMENTUM_WEIGHTS[2]),
        ('name = "adam"', adam_weights_by_hand()[2]),
    ],
    ids=["sgd", "momentum", "adam"],
)
def test_fast_run_matches_hand_values(optimizer, expected):
    session = one_weight_session(optimizer)
    assert run_weight(session, 3) == pytest.approx(expected, rel=1e-12)


def test_update_record_keeps_state_before():
    session = one_weight_session('name = "momentum"\nmomentum = 0.9')
    session.to_end_of_iteration()
    session.to_end_of_iteration()

    record = session.current.update
    assert record.update_number == 2
    assert float(record.weights[0][0, 0]) == pytest.approx(0.8)
    assert float(record.optimizer_state["velocity"][0][0, 0]) == pytest.approx(2.0)


# Fixed parameters

FIXED = """
title = "fixed parts"
loss = "mse"
learning_rate = 0.05
[optimizer]
{optimizer}
[data]
inputs = [[1, 2], [0, -1], [2, 1]]
targets = [[1], [0], [2]]
[[layers]]
weights = [[0.5, -0.3], [0.2, 0.4]]
biases = [0.1, -0.2]
activation = "tanh"
fixed = ["weights"]
[[layers]]
weights = [[0.7, -0.6]]
biases = [0.3]
fixed = ["biases"]
"""


@pytest.mark.parametrize("optimizer", ['name = "sgd"', 'name = "momentum"', 'name = "adam"'])
def test_fixed_parameters_never_change(optimizer):
    session = Session(parse_scenario(FIXED.format(optimizer=optimizer)))
    scenario = session.scenario
    session.to_end_of_iteration()
    session.run(20)

    snapshot = session.current
    np.testing.assert_array_equal(snapshot.weights[0], scenario.layers[0].weights)
    np.testing.assert_array_equal(snapshot.biases[1], scenario.layers[1].biases)
    # The trainable parts did move.
    assert not np.array_equal(snapshot.biases[0], scenario.layers[0].biases)
    assert not np.array_equal(snapshot.weights[1], scenario.layers[1].weights)


def test_fixed_gradient_still_computed():
    session = Session(parse_scenario(FIXED.format(optimizer='name = "sgd"')))
    session.to_end_of_backward()

    assert np.abs(session.current.grad_w[0]).sum() > 0
    assert np.abs(session.current.grad_b[1]).sum() > 0
