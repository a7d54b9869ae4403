"""The arithmetic of one training iteration, shared by stepping and fast runs.

Arrays are float64 with samples in the first axis: values (samples, units),
weights (units, inputs), biases (units,). Stepping and fast running call the
same functions in the same order, so they produce bit-identical numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.activations import Activation
from core.losses import Loss
from core.optimizers import OptimizerSpec, OptimizerState, apply_update


def forward_layer(
    weights: np.ndarray, biases: np.ndarray, activation: Activation, inputs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return z = inputs·Wᵀ + b and a = f(z), both (samples, units)."""
    z = inputs @ weights.T + biases
    a = activation.apply(z)
    return z, a


def backward_layer(
    weights: np.ndarray,
    activation: Activation,
    inputs: np.ndarray,
    z: np.ndarray,
    a: np.ndarray,
    grad_a: np.ndarray,
    need_input_gradient: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Return dL/dz, dL/dW, dL/db and dL/d(inputs) for one layer.

    dL/dW and dL/db are summed over the samples. dL/d(inputs) is None when
    not needed: the first layer's inputs are data, so dL/dx is never used.
    """
    grad_z = grad_a if activation.is_identity else grad_a * activation.derivative(z, a)

    grad_w = grad_z.T @ inputs  # (units, inputs)
    grad_b = np.add.reduce(grad_z, axis=0)  # (units,)

    grad_inputs = grad_z @ weights if need_input_gradient else None  # (samples, inputs)
    return grad_z, grad_w, grad_b, grad_inputs


def sample_contributions(grad_z: np.ndarray, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each sample's dL/dW (samples, units, inputs) and dL/db (samples, units)."""
    return grad_z[:, :, None] * inputs[:, None, :], grad_z


@dataclass
class FastIteration:
    """The loss, values and gradients of one fast iteration, for reports that record it."""

    loss: float
    values: list[np.ndarray]  # a per layer, (samples, units)
    grad_weights: list[np.ndarray]
    grad_biases: list[np.ndarray]


class FastModel:
    """Parameters and optimizer state that fast runs update in place, iteration after iteration."""

    def __init__(
        self,
        weights: list[np.ndarray],
        biases: list[np.ndarray],
        activations: list[Activation],
        loss: Loss,
        optimizer: OptimizerSpec,
        state: OptimizerState,
        trainable: list[bool],
    ) -> None:
        self.weights = weights
        self.biases = biases
        self.activations = activations
        self.loss = loss
        self.optimizer = optimizer
        self.state = state
        self.trainable = trainable
        # Both lists hold the same array objects in the order W1, b1, W2, b2, ...
        self.parameters = [array for pair in zip(weights, biases) for array in pair]

    def run_iteration(
        self, inputs: np.ndarray, targets: np.ndarray, learning_rate: float, update_number: int
    ) -> FastIteration:
        """Run forward, loss, backward and update once; parameters and state change in place."""
        weights, activations = self.weights, self.activations
        layer_count = len(weights)
        zs: list[np.ndarray] = []
        values = [inputs]
        for layer in range(layer_count):
            z, a = forward_layer(weights[layer], self.biases[layer], activations[layer], values[-1])
            zs.append(z)
            values.append(a)

        predictions = values[-1]
        loss_value, grad_a = self.loss.value_and_gradient(predictions, targets)

        gradients: list[np.ndarray] = [None] * (2 * layer_count)  # type: ignore[list-item]
        for layer in range(layer_count - 1, -1, -1):
            _, grad_w, grad_b, grad_a = backward_layer(
                weights[layer], activations[layer], values[layer], zs[layer], values[layer + 1],
                grad_a, layer > 0,
            )
            gradients[2 * layer] = grad_w
            gradients[2 * layer + 1] = grad_b

        apply_update(
            self.optimizer, self.parameters, gradients, self.state, learning_rate, update_number,
            self.trainable,
        )
        return FastIteration(loss_value, values[1:], gradients[0::2], gradients[1::2])
