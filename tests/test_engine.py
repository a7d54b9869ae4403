"""The engine: gradients against finite differences, stepping against fast runs, exact undo."""

from __future__ import annotations

import numpy as np
import pytest

import core.engine as engine
from core.activations import make_activation
from core.engine import Session, StepKind
from core.losses import LOSSES
from core.network import forward_layer
from core.scenario import LayerSpec, Scenario
from tests.helpers import lecture_session


def random_scenario(
    widths: tuple[int, ...],
    samples: int,
    loss: str,
    activation: str = "identity",
    seed: int = 0,
    learning_rate: float = 0.01,
    batch_size: int | None = None,
) -> Scenario:
    rng = np.random.default_rng(seed)
    layers = tuple(
        LayerSpec(
            weights=rng.normal(size=(units, inputs)),
            biases=rng.normal(size=units),
            activation=make_activation(activation if index < len(widths) - 2 else "identity"),
        )
        for index, (inputs, units) in enumerate(zip(widths, widths[1:]))
    )
    targets = rng.normal(size=(samples, widths[-1]))
    if loss == "cross_entropy":
        targets = np.eye(widths[-1])[rng.integers(0, widths[-1], size=samples)]
    return Scenario(
        title="random",
        loss=LOSSES[loss],
        learning_rate=learning_rate,
        inputs=rng.normal(size=(samples, widths[0])),
        targets=targets,
        layers=layers,
        seed=seed,
        batch_size=batch_size,
    )


def loss_at(scenario: Scenario, weights: list[np.ndarray], biases: list[np.ndarray]) -> float:
    values = scenario.inputs
    for layer, spec in enumerate(scenario.layers):
        _, values = forward_layer(weights[layer], biases[layer], spec.activation, values)
    return scenario.loss.value(values, scenario.targets)


def finite_difference_gradients(scenario: Scenario, step: float = 1e-6):
    """Central differences of the loss with respect to every weight and bias."""
    weights = [layer.weights.copy() for layer in scenario.layers]
    biases = [layer.biases.copy() for layer in scenario.layers]
    results = []
    for arrays in (weights, biases):
        per_layer = []
        for array in arrays:
            gradient = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                original = array[index]
                array[index] = original + step
                plus = loss_at(scenario, weights, biases)
                array[index] = original - step
                minus = loss_at(scenario, weights, biases)
                array[index] = original
                gradient[index] = (plus - minus) / (2 * step)
            per_layer.append(gradient)
        results.append(per_layer)
    return results


CASES = [
    ((3, 1), 1, "sse", "identity"),
    ((3, 1), 4, "mse", "identity"),
    ((2, 3, 2), 1, "sse", "identity"),
    ((2, 3, 2), 3, "half_sse", "tanh"),
    ((4, 5, 3, 2), 5, "mse", "sigmoid"),
    ((2, 4, 3), 2, "cross_entropy", "tanh"),
    ((3, 4, 2), 6, "half_sse", "leaky_relu"),
    ((3, 4, 2), 3, "sse", "relu"),
]


@pytest.mark.parametrize("widths, samples, loss, activation", CASES)
@pytest.mark.parametrize("seed", [1, 2])
def test_gradients_match_finite_differences(widths, samples, loss, activation, seed):
    scenario = random_scenario(widths, samples, loss, activation, seed=seed)
    session = Session(scenario)
    session.to_end_of_backward()
    numeric_w, numeric_b = finite_difference_gradients(scenario)
    for layer in range(len(scenario.layers)):
        np.testing.assert_allclose(session.current.grad_w[layer], numeric_w[layer], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(session.current.grad_b[layer], numeric_b[layer], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("widths, samples, loss, activation", CASES)
def test_sample_contributions_add_up(widths, samples, loss, activation):
    session = Session(random_scenario(widths, samples, loss, activation))
    session.to_end_of_backward()
    snapshot = session.current
    for layer in range(len(widths) - 1):
        np.testing.assert_allclose(snapshot.grad_w_samples[layer].sum(axis=0), snapshot.grad_w[layer])
        np.testing.assert_allclose(snapshot.grad_b_samples[layer].sum(axis=0), snapshot.grad_b[layer])
    assert snapshot.sample_losses.sum() == pytest.approx(snapshot.loss)


def assert_same_parameters(first: Session, second: Session) -> None:
    for a, b in zip(first.current.weights + first.current.biases, second.current.weights + second.current.biases):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("widths, samples, loss, activation", CASES)
def test_fast_run_equals_stepping_bit_for_bit(widths, samples, loss, activation):
    scenario = random_scenario(widths, samples, loss, activation, learning_rate=0.05)
    stepped, fast = Session(scenario), Session(scenario)
    for _ in range(6):
        while True:
            stepped.step_forward()
            if stepped.current.position == len(stepped.plan):
                break
    assert fast.run(6) == 6
    assert_same_parameters(stepped, fast)
    assert stepped.loss_history() == fast.loss_history()


def test_headless_train_equals_session():
    from core.report import train

    scenario = random_scenario((2, 3, 2), 4, "mse", "tanh", learning_rate=0.1, batch_size=3)
    session = Session(scenario)
    session.run(9)
    report = train(scenario, 9)
    assert [record.loss for record in report.records] == session.loss_history()
    for ref in session.names.parameters.values():
        array = session.current.weights if ref.kind == "weights" else session.current.biases
        index = (ref.row, ref.column) if ref.kind == "weights" else (ref.row,)
        assert report.final_parameters[ref.name] == array[ref.layer][index]


def snapshot_arrays(snapshot):
    fields = ("weights", "biases", "z", "a", "grad_a", "grad_z", "grad_w", "grad_b", "grad_w_samples", "grad_b_samples")
    return [(name, index, array) for name in fields for index, array in enumerate(getattr(snapshot, name))]


def assert_snapshots_equal(first, second) -> None:
    assert (first.iteration, first.position, first.step) == (second.iteration, second.position, second.step)
    assert first.loss == second.loss or (first.loss != first.loss and second.loss != second.loss)
    for (name, index, a), (_, _, b) in zip(snapshot_arrays(first), snapshot_arrays(second)):
        if a is None or b is None:
            assert a is None, name
            assert b is None, name
        else:
            assert np.array_equal(a, b, equal_nan=True), f"{name}[{index}]"


def test_step_back_then_forward_is_identity():
    session = lecture_session("example3")
    seen = [session.current]
    for _ in range(3 * len(session.plan)):
        session.step_forward()
        seen.append(session.current)
    # Walk all the way back, checking every earlier snapshot, then forward again.
    for expected in reversed(seen[:-1]):
        assert session.step_back()
        assert_snapshots_equal(session.current, expected)
    assert not session.step_back()
    for expected in seen[1:]:
        session.step_forward()
        assert_snapshots_equal(session.current, expected)


def test_step_back_after_fast_run_rebuilds_earlier_iterations():
    scenario = random_scenario((2, 3, 2), 3, "mse", "sigmoid", learning_rate=0.2)
    fast, stepped = Session(scenario), Session(scenario)
    fast.run(5)
    stepped_states = [stepped.current]
    for _ in range(5 * len(stepped.plan)):
        stepped.step_forward()
        stepped_states.append(stepped.current)
    # The first iteration starts at position 0, which has no counterpart after an update.
    expected = [state for state in stepped_states if state.position > 0 or state.iteration == 0]
    for state in reversed(expected[:-1]):
        assert fast.step_back()
        assert_snapshots_equal(fast.current, state)


def test_sparse_checkpoints_rebuild_exactly(monkeypatch):
    monkeypatch.setattr(engine, "MAX_CHECKPOINTS", 8)
    scenario = random_scenario((2, 2, 1), 2, "sse", "tanh", learning_rate=0.05)
    sparse, reference = Session(scenario), Session(scenario)
    sparse.run(40)
    assert len(sparse._checkpoints) <= 9
    for _ in range(3 * len(sparse.plan)):
        sparse.step_back()
    monkeypatch.setattr(engine, "MAX_CHECKPOINTS", 4096)
    reference.run(37)
    reference.to_end_of_iteration()
    for _ in range(len(reference.plan)):
        reference.step_back()
    assert_snapshots_equal(sparse.current, reference.current)


def test_plan_of_two_layers():
    plan = lecture_session("example3").plan
    assert [(step.kind, step.layer) for step in plan] == [
        (StepKind.FORWARD, 0),
        (StepKind.FORWARD, 1),
        (StepKind.LOSS, None),
        (StepKind.OUTPUT_GRADIENT, None),
        (StepKind.BACKWARD, 1),
        (StepKind.BACKWARD, 0),
        (StepKind.UPDATE, None),
    ]
    assert [step.phase for step in plan] == [
        "forward", "forward", "loss", "backward", "backward", "backward", "update"
    ]


def test_first_layer_has_no_input_gradient():
    session = lecture_session("example3")
    session.to_end_of_backward()
    # The loss does not depend on the data, so dL/dx is never computed.
    assert session.current.grad_a[0] is not None  # dL/du
    assert len(session.current.grad_a) == 2


def test_jumps_land_on_phase_boundaries():
    session = lecture_session("example3")
    assert session.to_end_of_forward().step.kind is StepKind.LOSS
    assert session.to_end_of_backward().step == session.plan[-2]
    assert session.to_end_of_iteration().step.kind is StepKind.UPDATE
    # From the end of an iteration, a jump goes into the next one.
    assert session.to_end_of_forward().iteration == 1


def test_run_finishes_a_partial_iteration_first():
    session = lecture_session("example3")
    session.step_forward()
    assert session.run(3) == 3
    assert session.current.iteration == 2
    assert session.current.position == len(session.plan)
    assert len(session.loss_history()) == 3


def test_run_stops_when_asked():
    session = lecture_session("example3")
    polls = []

    def stop_after_four() -> bool:
        polls.append(1)
        return len(polls) > 4

    done = session.run(1000, should_stop=stop_after_four)
    assert done == 4
    assert session.current.position == len(session.plan)
    assert len(session.loss_history()) == 4


def test_learning_rate_change_applies_to_pending_update():
    session = lecture_session("example1")
    session.to_end_of_backward()
    session.set_learning_rate(0.1)
    session.step_forward()
    assert session.current.update.learning_rate == 0.1
    assert session.current.weights[0][0, 0] == pytest.approx(0.1 - 0.1 * 0.2)
    # Stepping back across the update and forward again replays it with the same rate.
    session.step_back()
    session.step_forward()
    assert session.current.weights[0][0, 0] == pytest.approx(0.08)
    with pytest.raises(ValueError, match="positive"):
        session.set_learning_rate(0.0)


def test_reset_restores_start_and_rate():
    session = lecture_session("example3")
    session.set_learning_rate(0.5)
    session.run(3)
    session.reset()
    assert session.current.iteration == 0
    assert session.current.position == 0
    assert session.learning_rate == 0.0001
    assert session.loss_history() == []
    assert np.array_equal(session.current.weights[0], session.scenario.layers[0].weights)


def test_loss_history_grows_only_with_new_iterations():
    session = lecture_session("example3")
    session.to_end_of_forward()
    assert len(session.loss_history()) == 1
    for _ in range(5):
        session.step_back()
        session.step_forward()
    assert len(session.loss_history()) == 1
    session.to_end_of_iteration()
    session.to_end_of_forward()
    assert len(session.loss_history()) == 2


def test_divergence_is_a_state_not_an_error(recwarn):
    session = lecture_session("example3")
    session.set_learning_rate(1.0)
    session.run(200, stop_on_divergence=True)
    assert session.diverged_at is not None
    assert not session.current.is_finite
    assert not [warning for warning in recwarn if issubclass(warning.category, RuntimeWarning)]
    assert session.step_back()
    session.reset()
    assert session.diverged_at is None


def test_snapshots_are_read_only():
    session = lecture_session("example3")
    session.to_end_of_iteration()
    with pytest.raises(ValueError):
        session.current.weights[0][0, 0] = 1.0
    with pytest.raises(ValueError):
        session.current.a[0][0, 0] = 1.0
