"""A training session that moves one step at a time, forward and back.

An iteration is a fixed plan of steps: forward through each layer, the loss,
dL/dŷ, backward through each layer from the output, and the update. Every
step produces a new immutable Snapshot, so stepping back restores the earlier
one exactly. Earlier iterations are rebuilt on demand from checkpoints of the
parameters at their start, which keeps memory small over long runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from core.naming import Names, make_names
from core.network import FastModel, backward_layer, forward_layer, sample_contributions
from core.optimizers import OptimizerState, apply_update, copy_state, initial_state
from core.scenario import Scenario

MAX_CHECKPOINTS = 4096  # iteration starts kept; older ones are thinned to every other


class StepKind(Enum):
    FORWARD = "forward"
    LOSS = "loss"
    OUTPUT_GRADIENT = "output_gradient"
    BACKWARD = "backward"
    UPDATE = "update"


PHASES = ("forward", "loss", "backward", "update")


@dataclass(frozen=True)
class Step:
    """One step of the plan; `layer` is 0-based for forward and backward steps."""

    kind: StepKind
    layer: int | None = None

    @property
    def phase(self) -> str:
        """Return the part of the iteration this step belongs to: forward, loss, backward or update."""
        if self.kind is StepKind.OUTPUT_GRADIENT:
            return "backward"
        return self.kind.value


def plan_steps(layer_count: int) -> tuple[Step, ...]:
    """Return the steps of one iteration in order."""
    forward = [Step(StepKind.FORWARD, layer) for layer in range(layer_count)]
    backward = [Step(StepKind.BACKWARD, layer) for layer in range(layer_count - 1, -1, -1)]
    return (
        *forward,
        Step(StepKind.LOSS),
        Step(StepKind.OUTPUT_GRADIENT),
        *backward,
        Step(StepKind.UPDATE),
    )


@dataclass(frozen=True, eq=False)
class UpdateRecord:
    """The inputs of an update step: the old parameters, the rate and the optimizer state before it."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    learning_rate: float
    optimizer_state: OptimizerState
    update_number: int  # counts from 1


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The whole state after `position` steps of iteration `iteration`.

    Per-layer tuples hold None until the step that computes them. Arrays are
    read-only. Comparison is by identity, so a snapshot can be a reactive value.
    """

    iteration: int  # 0-based
    position: int  # steps done in this iteration, 0 .. len(plan)
    weights: tuple[np.ndarray, ...]  # per layer (units, inputs)
    biases: tuple[np.ndarray, ...]  # per layer (units,)
    optimizer_state: OptimizerState
    sample_indices: np.ndarray  # which samples of the scenario this iteration uses
    inputs: np.ndarray  # (samples, input features)
    targets: np.ndarray  # (samples, outputs)
    z: tuple[np.ndarray | None, ...]  # per layer (samples, units)
    a: tuple[np.ndarray | None, ...]  # per layer (samples, units), a = f(z)
    loss: float | None = None
    sample_losses: np.ndarray | None = None  # (samples,), adds up to loss
    grad_a: tuple[np.ndarray | None, ...] = ()  # dL/da per layer; last layer: dL/dŷ
    grad_z: tuple[np.ndarray | None, ...] = ()
    grad_w: tuple[np.ndarray | None, ...] = ()  # summed over samples (units, inputs)
    grad_b: tuple[np.ndarray | None, ...] = ()
    grad_w_samples: tuple[np.ndarray | None, ...] = ()  # (samples, units, inputs)
    grad_b_samples: tuple[np.ndarray | None, ...] = ()  # (samples, units)
    update: UpdateRecord | None = None
    step: Step | None = None  # the step that produced this snapshot

    def layer_input(self, layer: int) -> np.ndarray | None:
        """Return the values that feed `layer`: the data for layer 0."""
        return self.inputs if layer == 0 else self.a[layer - 1]

    @property
    def is_finite(self) -> bool:
        """False once any loss, value, gradient or parameter is inf or NaN."""
        arrays = [*self.weights, *self.biases, *self.a, *self.grad_a, *self.grad_w, *self.grad_b]
        if self.loss is not None and not math.isfinite(self.loss):
            return False
        return all(array is None or np.isfinite(array).all() for array in arrays)

    def __repr__(self) -> str:
        step = self.step.kind.value if self.step else "start"
        return f"Snapshot(iteration={self.iteration}, position={self.position}, step={step}, loss={self.loss})"


@dataclass(frozen=True, eq=False)
class _Checkpoint:
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    optimizer_state: OptimizerState


class BatchSchedule:
    """The samples of each iteration: all of them, or a mini-batch.

    With `batch_size`, every epoch visits each sample once, in an order that
    depends only on the scenario's seed and the epoch number.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._epoch = -1
        self._permutation = np.arange(scenario.samples)
        self._all = np.arange(scenario.samples)

    @property
    def batches_per_epoch(self) -> int:
        batch_size = self.scenario.batch_size
        if batch_size is None or batch_size >= self.scenario.samples:
            return 1
        return -(-self.scenario.samples // batch_size)

    def batch(self, iteration: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the sample indices, inputs and targets of `iteration`."""
        scenario = self.scenario
        batches = self.batches_per_epoch
        if batches == 1:
            return self._all, scenario.inputs, scenario.targets
        epoch, batch = divmod(iteration, batches)
        if epoch != self._epoch:
            self._permutation = np.random.default_rng([scenario.seed, epoch]).permutation(scenario.samples)
            self._epoch = epoch
        size = scenario.batch_size
        indices = self._permutation[batch * size : (batch + 1) * size]
        return indices, scenario.inputs[indices], scenario.targets[indices]


class Session:
    """One scenario being trained, with a cursor that moves a step at a time."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.names: Names = make_names(scenario)
        self.plan = plan_steps(len(scenario.layers))
        self.activations = [layer.activation for layer in scenario.layers]
        self.trainable = [
            flag
            for layer in scenario.layers
            for flag in (not layer.fixed_weights, not layer.fixed_biases)
        ]
        self.reset()

    # Public state

    @property
    def current(self) -> Snapshot:
        return self._states[-1]

    @property
    def learning_rate(self) -> float:
        """The rate the next update will use."""
        return self.learning_rate_for(self._pending_update_iteration())

    @property
    def diverged_at(self) -> int | None:
        """The first iteration up to the cursor whose loss was inf or NaN."""
        first = self._first_nonfinite
        if first is not None and first < self._visible_loss_count():
            return first
        return None

    def loss_history(self) -> list[float]:
        """Loss of every iteration up to the cursor, one point per iteration."""
        return self._losses[: self._visible_loss_count()]

    def learning_rate_for(self, iteration: int) -> float:
        rate = self.scenario.learning_rate
        for start, value in self._rate_changes:
            if start <= iteration:
                rate = value
        return rate

    # Moving

    def reset(self) -> None:
        """Return to the scenario's starting state and its learning rate."""
        weights = tuple(layer.weights.copy() for layer in self.scenario.layers)
        biases = tuple(layer.biases.copy() for layer in self.scenario.layers)
        parameters = [array for pair in zip(weights, biases) for array in pair]
        state = initial_state(self.scenario.optimizer, parameters)
        self._checkpoints: dict[int, _Checkpoint] = {0: _Checkpoint(weights, biases, state)}
        self._rate_changes: list[tuple[int, float]] = []
        self._losses: list[float] = []
        self._first_nonfinite: int | None = None  # index into _losses
        self._schedule = BatchSchedule(self.scenario)
        self._states = [self._start_snapshot(0)]

    def step_forward(self) -> Snapshot:
        """Take the next step; after an update the next iteration begins."""
        with np.errstate(all="ignore"):
            snapshot = self.current
            if snapshot.position == len(self.plan):
                next_start = self._start_snapshot(snapshot.iteration + 1)
                self._states = [next_start]
                snapshot = next_start
            self._states.append(self._compute(snapshot, self.plan[snapshot.position]))
        return self.current

    def step_back(self) -> bool:
        """Undo one step, restoring the earlier snapshot exactly; False at the very start."""
        snapshot = self.current
        if snapshot.position > 1 or (snapshot.position == 1 and snapshot.iteration == 0):
            self._states.pop()
            return True
        if snapshot.iteration == 0:
            return False
        self._states = self._rebuild_iteration(snapshot.iteration - 1)
        return True

    def to_end_of_forward(self) -> Snapshot:
        """Step until the loss is computed."""
        return self._step_until(self.plan.index(Step(StepKind.LOSS)) + 1)

    def to_end_of_backward(self) -> Snapshot:
        """Step until every gradient is computed, just before the update."""
        return self._step_until(len(self.plan) - 1)

    def to_end_of_iteration(self) -> Snapshot:
        """Step until the update is applied."""
        return self._step_until(len(self.plan))

    def run(
        self,
        iterations: int,
        should_stop: Callable[[], bool] | None = None,
        stop_on_divergence: bool = False,
    ) -> int:
        """Finish `iterations` whole iterations at full speed; return how many ran.

        A partly stepped iteration is finished first and counts as one. The
        last iteration is stepped, so every panel has its numbers and step
        back works. `should_stop` is polled between iterations.
        """
        if iterations <= 0:
            return 0
        done = 0
        if 0 < self.current.position < len(self.plan):
            self.to_end_of_iteration()
            done = 1
            if stop_on_divergence and self.diverged_at is not None:
                return done

        def stop_requested() -> bool:
            return should_stop is not None and should_stop()

        with np.errstate(all="ignore"):
            first = iteration = self._pending_update_iteration()
            weights = [array.copy() for array in self.current.weights]
            biases = [array.copy() for array in self.current.biases]
            state = copy_state(self.current.optimizer_state)
            model = self._fast_model(weights, biases, state)
            stopped = False
            while done < iterations - 1:
                if stop_requested():
                    stopped = True
                    break
                self._checkpoint(iteration, weights, biases, state)
                loss = self._fast_iteration(iteration, model)
                self._record_loss(iteration, loss)
                iteration += 1
                done += 1
                if stop_on_divergence and not math.isfinite(loss):
                    stopped = True
                    break
            self._checkpoint(iteration, weights, biases, state)

            if done < iterations and not stopped and not stop_requested():
                # The last iteration is stepped, so its snapshots exist for the panels.
                self._states = [self._start_snapshot(iteration)]
                self._step_until(len(self.plan))
                done += 1
            elif iteration > first:
                self._states = self._rebuild_iteration(iteration - 1)
        return done

    def set_learning_rate(self, learning_rate: float) -> None:
        """Use `learning_rate` from the next update on; later history is dropped."""
        if not (learning_rate > 0 and math.isfinite(learning_rate)):
            raise ValueError(f"learning rate must be a positive finite number, got {learning_rate!r}")
        iteration = self._pending_update_iteration()
        self._rate_changes = [(start, rate) for start, rate in self._rate_changes if start < iteration]
        self._rate_changes.append((iteration, learning_rate))
        for later in [key for key in self._checkpoints if key > iteration]:
            del self._checkpoints[later]
        self._truncate_losses(iteration + 1)

    # Internals

    def _pending_update_iteration(self) -> int:
        snapshot = self.current
        return snapshot.iteration + 1 if snapshot.position == len(self.plan) else snapshot.iteration

    def _visible_loss_count(self) -> int:
        snapshot = self.current
        return snapshot.iteration + (1 if snapshot.loss is not None else 0)

    def _step_until(self, position: int) -> Snapshot:
        if self.current.position >= position:
            if self.current.position < len(self.plan):
                return self.current
            self.step_forward()
        while self.current.position < position:
            self.step_forward()
        return self.current

    def _batch(self, iteration: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._schedule.batch(iteration)

    def _fast_model(self, weights: list, biases: list, state: OptimizerState) -> FastModel:
        return FastModel(
            weights, biases, self.activations, self.scenario.loss, self.scenario.optimizer, state,
            self.trainable,
        )

    def _fast_iteration(self, iteration: int, model: FastModel) -> float:
        _, inputs, targets = self._batch(iteration)
        result = model.run_iteration(inputs, targets, self.learning_rate_for(iteration), iteration + 1)
        return result.loss

    def _checkpoint(self, iteration: int, weights: list, biases: list, state: OptimizerState) -> None:
        if iteration in self._checkpoints:
            return
        self._checkpoints[iteration] = _Checkpoint(
            tuple(_frozen(array.copy()) for array in weights),
            tuple(_frozen(array.copy()) for array in biases),
            copy_state(state),
        )
        if len(self._checkpoints) > MAX_CHECKPOINTS:
            self._thin_checkpoints()

    def _thin_checkpoints(self) -> None:
        # Keep iteration 0, the newest quarter, and every other one of the rest.
        keys = sorted(self._checkpoints)
        recent = set(keys[-MAX_CHECKPOINTS // 4 :])
        older = keys[: -MAX_CHECKPOINTS // 4]
        keep = {0, *recent, *older[::2]}
        for key in keys:
            if key not in keep:
                del self._checkpoints[key]

    def _record_loss(self, iteration: int, loss: float) -> None:
        # Losses are recorded in iteration order; recomputing an earlier one drops the later ones.
        self._truncate_losses(iteration)
        self._losses.append(loss)
        if self._first_nonfinite is None and not math.isfinite(loss):
            self._first_nonfinite = iteration

    def _truncate_losses(self, count: int) -> None:
        del self._losses[count:]
        if self._first_nonfinite is not None and self._first_nonfinite >= count:
            self._first_nonfinite = None

    def _start_snapshot(self, iteration: int) -> Snapshot:
        checkpoint = self._checkpoint_at(iteration)
        indices, inputs, targets = self._batch(iteration)
        empty = (None,) * len(self.plan_layers())
        return Snapshot(
            iteration=iteration,
            position=0,
            weights=checkpoint.weights,
            biases=checkpoint.biases,
            optimizer_state=checkpoint.optimizer_state,
            sample_indices=indices,
            inputs=inputs,
            targets=targets,
            z=empty, a=empty, grad_a=empty, grad_z=empty, grad_w=empty, grad_b=empty,
            grad_w_samples=empty, grad_b_samples=empty,
        )

    def plan_layers(self) -> range:
        return range(len(self.scenario.layers))

    def _checkpoint_at(self, iteration: int) -> _Checkpoint:
        """Parameters at the start of `iteration`, replayed from the nearest checkpoint."""
        checkpoint = self._checkpoints.get(iteration)
        if checkpoint is not None:
            return checkpoint
        start = max(key for key in self._checkpoints if key <= iteration)
        base = self._checkpoints[start]
        weights = [array.copy() for array in base.weights]
        biases = [array.copy() for array in base.biases]
        state = copy_state(base.optimizer_state)
        model = self._fast_model(weights, biases, state)
        with np.errstate(all="ignore"):
            for replayed in range(start, iteration):
                self._fast_iteration(replayed, model)
        self._checkpoint(iteration, weights, biases, state)
        return self._checkpoints[iteration]

    def _rebuild_iteration(self, iteration: int) -> list[Snapshot]:
        """Compute every snapshot of `iteration`, from its start to its update."""
        states = [self._start_snapshot(iteration)]
        with np.errstate(all="ignore"):
            for step in self.plan:
                states.append(self._compute(states[-1], step))
        return states

    def _compute(self, snapshot: Snapshot, step: Step) -> Snapshot:
        """Return the snapshot after `step`; the loss history records new losses."""
        position = snapshot.position + 1
        layer = step.layer
        if step.kind is StepKind.FORWARD:
            z, a = forward_layer(
                snapshot.weights[layer], snapshot.biases[layer], self.activations[layer],
                snapshot.layer_input(layer),
            )
            if a is z:
                a = z.copy()
            return replace(
                snapshot, position=position, step=step,
                z=_set(snapshot.z, layer, _frozen(z)), a=_set(snapshot.a, layer, _frozen(a)),
            )
        if step.kind is StepKind.LOSS:
            predictions = snapshot.a[-1]
            terms = self.scenario.loss.sample_terms(predictions, snapshot.targets)
            loss = self.scenario.loss.value(predictions, snapshot.targets)
            self._record_loss(snapshot.iteration, loss)
            return replace(snapshot, position=position, step=step, loss=loss, sample_losses=_frozen(terms))
        if step.kind is StepKind.OUTPUT_GRADIENT:
            gradient = self.scenario.loss.gradient(snapshot.a[-1], snapshot.targets)
            return replace(
                snapshot, position=position, step=step,
                grad_a=_set(snapshot.grad_a, len(self.activations) - 1, _frozen(gradient)),
            )
        if step.kind is StepKind.BACKWARD:
            return self._compute_backward(snapshot, step, position)
        return self._compute_update(snapshot, step, position)

    def _compute_backward(self, snapshot: Snapshot, step: Step, position: int) -> Snapshot:
        layer = step.layer
        inputs = snapshot.layer_input(layer)
        grad_z, grad_w, grad_b, grad_inputs = backward_layer(
            snapshot.weights[layer], self.activations[layer], inputs,
            snapshot.z[layer], snapshot.a[layer], snapshot.grad_a[layer], layer > 0,
        )
        if grad_z is snapshot.grad_a[layer]:
            grad_z = grad_z.copy()
        grad_w_samples, grad_b_samples = sample_contributions(grad_z, inputs)
        grad_a = snapshot.grad_a
        if grad_inputs is not None:
            grad_a = _set(grad_a, layer - 1, _frozen(grad_inputs))
        return replace(
            snapshot, position=position, step=step, grad_a=grad_a,
            grad_z=_set(snapshot.grad_z, layer, _frozen(grad_z)),
            grad_w=_set(snapshot.grad_w, layer, _frozen(grad_w)),
            grad_b=_set(snapshot.grad_b, layer, _frozen(grad_b)),
            grad_w_samples=_set(snapshot.grad_w_samples, layer, _frozen(grad_w_samples)),
            grad_b_samples=_set(snapshot.grad_b_samples, layer, _frozen(grad_b_samples.copy())),
        )

    def _compute_update(self, snapshot: Snapshot, step: Step, position: int) -> Snapshot:
        weights = [array.copy() for array in snapshot.weights]
        biases = [array.copy() for array in snapshot.biases]
        state = copy_state(snapshot.optimizer_state)
        parameters = [array for pair in zip(weights, biases) for array in pair]
        gradients = [array for pair in zip(snapshot.grad_w, snapshot.grad_b) for array in pair]
        learning_rate = self.learning_rate_for(snapshot.iteration)
        update_number = snapshot.iteration + 1
        apply_update(
            self.scenario.optimizer, parameters, gradients, state, learning_rate, update_number,
            self.trainable,
        )
        for arrays in state.values():
            for array in arrays:
                _frozen(array)
        record = UpdateRecord(
            snapshot.weights, snapshot.biases, learning_rate, snapshot.optimizer_state, update_number
        )
        next_weights = tuple(_frozen(array) for array in weights)
        next_biases = tuple(_frozen(array) for array in biases)
        self._checkpoint(snapshot.iteration + 1, list(next_weights), list(next_biases), state)
        return replace(
            snapshot, position=position, step=step, weights=next_weights, biases=next_biases,
            optimizer_state=state, update=record,
        )


def _set(values: tuple, index: int, value: np.ndarray) -> tuple:
    return values[:index] + (value,) + values[index + 1 :]
