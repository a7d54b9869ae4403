"""Check a parameter's analytic gradient against a central finite difference of the loss."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.engine import Session
from core.naming import ParameterRef
from core.network import backward_layer, forward_layer


@dataclass(frozen=True)
class GradientCheck:
    """dL/dparameter from backpropagation beside (L(p + h) - L(p - h)) / 2h."""

    name: str  # the parameter, such as "w7"
    analytic: float
    numeric: float
    relative_difference: float  # |analytic - numeric| / max(|analytic|, |numeric|); 0 when both are 0
    step: float  # h

    def agrees(self, relative: float = 1e-5, absolute: float = 1e-7) -> bool:
        """True when the two gradients match within `relative`, or within `absolute` near zero."""
        difference = abs(self.analytic - self.numeric)
        return difference <= absolute or self.relative_difference <= relative


def relative_difference(analytic: float, numeric: float) -> float:
    """Return |a - n| / max(|a|, |n|), 0 when both are 0, and NaN when either is not finite."""
    if not (math.isfinite(analytic) and math.isfinite(numeric)):
        return math.nan
    scale = max(abs(analytic), abs(numeric))
    return 0.0 if scale == 0.0 else abs(analytic - numeric) / scale


def gradient_check(session: Session, reference: ParameterRef, step: float = 1e-6) -> GradientCheck:
    """Compare dL/d(reference) with a central finite difference over this iteration's batch.

    Both use the parameters at the start of the current iteration, which after
    the update step are the ones the update record kept. The analytic value is
    the snapshot's gradient once the backward pass has computed it, and is
    computed here with the engine's own layer functions before that.
    """
    if not (step > 0 and math.isfinite(step)):
        raise ValueError(f"finite-difference step must be a positive finite number, got {step!r}")
    snapshot = session.current
    weights = snapshot.update.weights if snapshot.update is not None else snapshot.weights
    biases = snapshot.update.biases if snapshot.update is not None else snapshot.biases
    weights = [array.copy() for array in weights]
    biases = [array.copy() for array in biases]
    arrays = weights if reference.kind == "weights" else biases
    index = (reference.row, reference.column) if reference.kind == "weights" else (reference.row,)

    with np.errstate(all="ignore"):
        analytic = _snapshot_gradient(session, reference)
        if analytic is None:
            analytic = _backpropagated_gradient(session, weights, biases, reference)

        original = arrays[reference.layer][index]
        arrays[reference.layer][index] = original + step
        loss_plus = _batch_loss(session, weights, biases)
        arrays[reference.layer][index] = original - step
        loss_minus = _batch_loss(session, weights, biases)
        arrays[reference.layer][index] = original
        numeric = (loss_plus - loss_minus) / (2.0 * step)

    return GradientCheck(
        reference.name, analytic, numeric, relative_difference(analytic, numeric), step
    )


def _snapshot_gradient(session: Session, reference: ParameterRef) -> float | None:
    snapshot = session.current
    gradients = snapshot.grad_w if reference.kind == "weights" else snapshot.grad_b
    array = gradients[reference.layer] if reference.layer < len(gradients) else None
    if array is None:
        return None
    if reference.kind == "weights":
        return float(array[reference.row, reference.column])
    return float(array[reference.row])


def _forward(session: Session, weights: list, biases: list) -> tuple[list, list]:
    """Return z and a per layer for this iteration's batch."""
    values = [session.current.inputs]
    zs = []
    for layer, activation in enumerate(session.activations):
        z, a = forward_layer(weights[layer], biases[layer], activation, values[-1])
        zs.append(z)
        values.append(a)
    return zs, values


def _batch_loss(session: Session, weights: list, biases: list) -> float:
    _, values = _forward(session, weights, biases)
    return session.scenario.loss.value(values[-1], session.current.targets)


def _backpropagated_gradient(
    session: Session, weights: list, biases: list, reference: ParameterRef
) -> float:
    zs, values = _forward(session, weights, biases)
    grad_a = session.scenario.loss.gradient(values[-1], session.current.targets)
    for layer in range(len(weights) - 1, reference.layer - 1, -1):
        _, grad_w, grad_b, grad_a = backward_layer(
            weights[layer], session.activations[layer], values[layer], zs[layer],
            values[layer + 1], grad_a, layer > 0,
        )
    if reference.kind == "weights":
        return float(grad_w[reference.row, reference.column])
    return float(grad_b[reference.row])
