"""Activation functions a = f(z) and their derivatives f'(z)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Activation:
    """One activation function with the formulas the app shows for it."""

    name: str
    formula: str  # a = f(z), as the explanation panel writes it
    derivative_formula: str  # f'(z)
    negative_slope: float = 0.0  # used by leaky_relu only

    @property
    def is_identity(self) -> bool:
        return self.name == "identity"

    def apply(self, z: np.ndarray) -> np.ndarray:
        """Return a = f(z); identity returns z itself, without a copy."""
        if self.name == "identity":
            return z
        if self.name == "relu":
            return np.maximum(z, 0.0)
        if self.name == "leaky_relu":
            return np.where(z > 0.0, z, self.negative_slope * z)
        if self.name == "sigmoid":
            # exp of a large positive -z overflows to inf and gives 0, the correct limit.
            return 1.0 / (1.0 + np.exp(-z))
        if self.name == "tanh":
            return np.tanh(z)
        raise ValueError(f"unknown activation {self.name!r}")

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Return f'(z), given z and a = f(z)."""
        if self.name == "identity":
            return np.ones_like(z)
        if self.name == "relu":
            # The derivative at z = 0 is taken as 0, as PyTorch and JAX do.
            return (z > 0.0).astype(z.dtype)
        if self.name == "leaky_relu":
            # At z = 0 the slope is negative_slope, the left-hand derivative.
            return np.where(z > 0.0, 1.0, self.negative_slope)
        if self.name == "sigmoid":
            return a * (1.0 - a)
        if self.name == "tanh":
            return 1.0 - a * a
        raise ValueError(f"unknown activation {self.name!r}")

    def __repr__(self) -> str:
        if self.name == "leaky_relu":
            return f"Activation(leaky_relu, negative_slope={self.negative_slope})"
        return f"Activation({self.name})"


_FORMULAS = {
    "identity": ("a = z", "f'(z) = 1"),
    "relu": ("a = max(z, 0)", "f'(z) = 1 if z > 0, else 0 (0 at z = 0)"),
    "leaky_relu": ("a = z if z > 0, else α·z", "f'(z) = 1 if z > 0, else α (α at z = 0)"),
    "sigmoid": ("a = σ(z) = 1 / (1 + e^-z)", "σ'(z) = σ(z)·(1 - σ(z))"),
    "tanh": ("a = tanh(z)", "tanh'(z) = 1 - tanh(z)²"),
}

ACTIVATION_NAMES = tuple(_FORMULAS)


def make_activation(name: str, negative_slope: float = 0.01) -> Activation:
    """Build the activation called `name`; raises KeyError for an unknown name."""
    formula, derivative_formula = _FORMULAS[name]
    if name == "leaky_relu":
        formula = formula.replace("α", f"{negative_slope:g}")
        derivative_formula = derivative_formula.replace("α", f"{negative_slope:g}")
        return Activation(name, formula, derivative_formula, negative_slope)
    return Activation(name, formula, derivative_formula)
