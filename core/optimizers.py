"""Update rules that turn gradients into parameter changes.

Every rule updates the parameter arrays and its own state arrays in place.
The engine passes copies when it needs the old values kept, so stepping and
running fast perform the same arithmetic in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OPTIMIZER_NAMES = ("sgd", "momentum", "adam")


@dataclass(frozen=True)
class OptimizerSpec:
    """The optimizer a scenario chose, with its hyperparameters."""

    name: str = "sgd"
    momentum: float = 0.9  # μ, momentum only
    beta1: float = 0.9  # Adam's first-moment decay
    beta2: float = 0.999  # Adam's second-moment decay
    epsilon: float = 1e-8  # Adam's denominator guard

    @property
    def formula(self) -> str:
        """The update rule in the lecture's notation."""
        if self.name == "momentum":
            return "v ← μ·v + dL/dp;  p ← p - η·v"
        if self.name == "adam":
            return (
                "m ← β1·m + (1-β1)·g;  v ← β2·v + (1-β2)·g²;  "
                "p ← p - η·m̂/(√v̂ + ε),  m̂ = m/(1-β1^t),  v̂ = v/(1-β2^t)"
            )
        return "p ← p - η·dL/dp"

    @property
    def convention(self) -> str:
        """What the rule's constants mean, where conventions differ between texts."""
        if self.name == "momentum":
            return (
                f"μ = {self.momentum:g}; the velocity adds raw gradients and η scales "
                "the step, as PyTorch's SGD with momentum does (no dampening)"
            )
        if self.name == "adam":
            return (
                f"β1 = {self.beta1:g}, β2 = {self.beta2:g}, ε = {self.epsilon:g}; "
                "t counts updates from 1, moments start at 0 (Kingma and Ba, 2015)"
            )
        return "plain gradient descent: move each parameter η times its gradient downhill"

    def state_names(self) -> tuple[str, ...]:
        """Names of the per-parameter state arrays this rule keeps."""
        if self.name == "momentum":
            return ("velocity",)
        if self.name == "adam":
            return ("m", "v")
        return ()


OptimizerState = dict[str, list[np.ndarray]]


def initial_state(spec: OptimizerSpec, parameters: list[np.ndarray]) -> OptimizerState:
    """Return zeroed state arrays, one per parameter array for each state name."""
    return {name: [np.zeros_like(p) for p in parameters] for name in spec.state_names()}


def copy_state(state: OptimizerState) -> OptimizerState:
    return {name: [array.copy() for array in arrays] for name, arrays in state.items()}


def apply_update(
    spec: OptimizerSpec,
    parameters: list[np.ndarray],
    gradients: list[np.ndarray],
    state: OptimizerState,
    learning_rate: float,
    update_number: int,
    trainable: list[bool],
) -> None:
    """Update `parameters` and `state` in place; `update_number` counts from 1."""
    for index, (parameter, gradient) in enumerate(zip(parameters, gradients)):
        if not trainable[index]:
            continue
        if spec.name == "sgd":
            parameter -= learning_rate * gradient
        elif spec.name == "momentum":
            velocity = state["velocity"][index]
            velocity *= spec.momentum
            velocity += gradient
            parameter -= learning_rate * velocity
        elif spec.name == "adam":
            m = state["m"][index]
            v = state["v"][index]
            m *= spec.beta1
            m += (1.0 - spec.beta1) * gradient
            v *= spec.beta2
            v += (1.0 - spec.beta2) * gradient * gradient
            m_hat = m / (1.0 - spec.beta1**update_number)
            v_hat = v / (1.0 - spec.beta2**update_number)
            parameter -= learning_rate * m_hat / (np.sqrt(v_hat) + spec.epsilon)
        else:
            raise ValueError(f"unknown optimizer {spec.name!r}")
