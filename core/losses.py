"""Loss functions over a batch, with their gradients dL/dŷ.

Every loss returns one term per sample, and the terms add up to the loss, so
the app can show how each sample contributes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Loss:
    """One loss function and the conventions the app states for it."""

    name: str
    formula: str  # L in terms of ŷ and y
    gradient_formula: str  # dL/dŷ for one output of one sample
    convention: str  # sum or mean over samples, and the constant factor

    def sample_terms(self, predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Return each sample's term of the loss, shape (samples,); they add up to L."""
        if self.name == "cross_entropy":
            log_probabilities = _log_softmax(predictions)
            return -(targets * log_probabilities).sum(axis=1) / predictions.shape[0]
        return self._squared_error_terms(predictions - targets)

    def value(self, predictions: np.ndarray, targets: np.ndarray) -> float:
        """Return L for a batch of predictions (samples, outputs)."""
        return float(np.add.reduce(self.sample_terms(predictions, targets)))

    def gradient(self, predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Return dL/dŷ, shape (samples, outputs)."""
        if self.name == "cross_entropy":
            return (softmax(predictions) - targets) / predictions.shape[0]
        return self._squared_error_gradient(predictions - targets)

    def value_and_gradient(self, predictions: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        """Return L and dL/dŷ with the same arithmetic as `value` and `gradient`, sharing ŷ - y."""
        if self.name == "cross_entropy":
            return self.value(predictions, targets), self.gradient(predictions, targets)
        error = predictions - targets
        terms = self._squared_error_terms(error)
        return float(np.add.reduce(terms)), self._squared_error_gradient(error)

    def _squared_error_terms(self, error: np.ndarray) -> np.ndarray:
        squared = np.add.reduce(error * error, axis=1)
        if self.name == "sse":
            return squared
        if self.name == "mse":
            return squared / error.shape[0]
        if self.name == "half_sse":
            return 0.5 * squared
        raise ValueError(f"unknown loss {self.name!r}")

    def _squared_error_gradient(self, error: np.ndarray) -> np.ndarray:
        samples = error.shape[0]
        if self.name == "sse":
            return 2.0 * error
        if self.name == "mse":
            return (2.0 / samples) * error
        if self.name == "half_sse":
            return error
        raise ValueError(f"unknown loss {self.name!r}")


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Return softmax over each row (sample), computed stably."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


LOSSES = {
    "sse": Loss(
        "sse",
        "L = Σ_samples Σ_outputs (ŷ - y)²",
        "dL/dŷ = 2(ŷ - y)",
        "sum over samples and outputs, no factor",
    ),
    "mse": Loss(
        "mse",
        "L = (1/n) Σ_samples Σ_outputs (ŷ - y)²",
        "dL/dŷ = (2/n)(ŷ - y)",
        "mean over the n samples of each sample's summed squared error",
    ),
    "half_sse": Loss(
        "half_sse",
        "L = ½ Σ_samples Σ_outputs (ŷ - y)²",
        "dL/dŷ = ŷ - y",
        "sum over samples and outputs, factor ½ so the 2 cancels",
    ),
    "cross_entropy": Loss(
        "cross_entropy",
        "L = -(1/n) Σ_samples Σ_classes y · log softmax(ŷ)",
        "dL/dŷ = (softmax(ŷ) - y)/n",
        "softmax over the outputs, mean over the n samples",
    ),
}

LOSS_NAMES = tuple(LOSSES)
