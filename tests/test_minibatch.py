"""Mini-batches: each epoch visits every sample once, in an order the seed fixes.

Ten samples with batch_size 3 give four batches per epoch: 3, 3, 3 and 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.engine import Session
from core.loader import parse_scenario

SAMPLES = 10
BATCH_SIZE = 3
BATCHES_PER_EPOCH = 4

TEXT = """
title = "mini-batches"
loss = "mse"
learning_rate = 0.01
seed = {seed}
batch_size = 3
[data]
inputs = {inputs}
targets = {targets}
[[layers]]
weights = [[0.5, -0.25]]
biases = [0.1]
"""


def make_session(seed: int) -> Session:
    inputs = [[float(i), float(i % 3) - 1.0] for i in range(SAMPLES)]
    targets = [[2.0 * i - 1.0] for i in range(SAMPLES)]
    return Session(parse_scenario(TEXT.format(seed=seed, inputs=inputs, targets=targets)))


def batch_indices(session: Session, iterations: int) -> list[list[int]]:
    """The sample indices of the first `iterations` iterations, stepping through each."""
    batches = []
    for _ in range(iterations):
        session.to_end_of_iteration()
        batches.append([int(index) for index in session.current.sample_indices])
    return batches


def epochs(batches: list[list[int]]) -> list[list[int]]:
    return [
        sum(batches[start : start + BATCHES_PER_EPOCH], [])
        for start in range(0, len(batches), BATCHES_PER_EPOCH)
    ]


def test_batch_sizes_within_epoch():
    batches = batch_indices(make_session(seed=1), BATCHES_PER_EPOCH * 3)
    assert [len(batch) for batch in batches] == [3, 3, 3, 1] * 3


def test_each_sample_once_per_epoch():
    batches = batch_indices(make_session(seed=1), BATCHES_PER_EPOCH * 5)
    for order in epochs(batches):
        assert sorted(order) == list(range(SAMPLES))


def test_same_seed_same_order():
    first = batch_indices(make_session(seed=4), BATCHES_PER_EPOCH * 3)
    second = batch_indices(make_session(seed=4), BATCHES_PER_EPOCH * 3)
    assert first == second


def test_different_seed_different_order():
    first = batch_indices(make_session(seed=4), BATCHES_PER_EPOCH * 3)
    second = batch_indices(make_session(seed=5), BATCHES_PER_EPOCH * 3)
    assert first != second


def test_epochs_are_reshuffled():
    # 10! orders: five equal epochs in a row would mean no reshuffling.
    orders = epochs(batch_indices(make_session(seed=2), BATCHES_PER_EPOCH * 5))
    assert len({tuple(order) for order in orders}) > 1


def test_order_survives_reset_and_fast_run():
    session = make_session(seed=3)
    stepped = batch_indices(session, 9)

    session.reset()
    session.run(9)
    assert [int(index) for index in session.current.sample_indices] == stepped[-1]


def test_batch_rows_match_indices():
    session = make_session(seed=1)
    for _ in range(BATCHES_PER_EPOCH + 1):
        session.to_end_of_iteration()
        snapshot = session.current
        np.testing.assert_array_equal(snapshot.inputs, session.scenario.inputs[snapshot.sample_indices])
        np.testing.assert_array_equal(snapshot.targets, session.scenario.targets[snapshot.sample_indices])


@pytest.mark.parametrize("iteration", [0, 3, 5], ids=["full batch", "last batch of one", "second epoch"])
def test_mse_divides_by_batch_size(iteration):
    session = make_session(seed=1)
    for _ in range(iteration):
        session.to_end_of_iteration()
    session.to_end_of_backward()
    snapshot = session.current

    # ŷ = w1·x1 + w2·x2 + b with the iteration's starting parameters.
    rows = snapshot.sample_indices
    inputs = session.scenario.inputs[rows]
    targets = session.scenario.targets[rows]
    w1, w2 = snapshot.weights[0][0]
    b = snapshot.biases[0][0]
    errors = w1 * inputs[:, 0] + w2 * inputs[:, 1] + b - targets[:, 0]
    size = len(rows)
    assert size == (1 if iteration == 3 else BATCH_SIZE)

    assert snapshot.loss == pytest.approx((errors**2).sum() / size, rel=1e-12)
    np.testing.assert_allclose(snapshot.grad_a[-1][:, 0], 2.0 / size * errors, rtol=1e-12)
    assert float(snapshot.grad_b[0][0]) == pytest.approx((2.0 / size * errors).sum(), rel=1e-12)
