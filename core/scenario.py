"""The scenario model: a network, its data and how to train it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.activations import Activation
from core.losses import Loss
from core.optimizers import OptimizerSpec


@dataclass(frozen=True)
class LayerSpec:
    """One dense layer: z = W·a_prev + b, then a = f(z)."""

    weights: np.ndarray  # (units, inputs)
    biases: np.ndarray  # (units,)
    activation: Activation
    fixed_weights: bool = False  # computed gradients are shown but never applied
    fixed_biases: bool = False

    @property
    def units(self) -> int:
        return self.weights.shape[0]

    @property
    def inputs(self) -> int:
        return self.weights.shape[1]


@dataclass(frozen=True)
class Scenario:
    """Everything a scenario file describes, validated and converted to float64."""

    title: str
    loss: Loss
    learning_rate: float
    inputs: np.ndarray  # (samples, input features)
    targets: np.ndarray  # (samples, outputs)
    layers: tuple[LayerSpec, ...]
    description: str = ""
    source: Path | None = None
    seed: int = 0
    batch_size: int | None = None  # None: every sample in every iteration
    optimizer: OptimizerSpec = field(default_factory=OptimizerSpec)
    input_names: tuple[str, ...] | None = None  # None: the lecture's defaults
    neuron_names: tuple[tuple[str, ...] | None, ...] | None = None  # per layer

    @property
    def samples(self) -> int:
        return self.inputs.shape[0]

    @property
    def widths(self) -> tuple[int, ...]:
        """Units per layer, inputs first: (2, 3, 2) for example 3."""
        return (self.inputs.shape[1], *(layer.units for layer in self.layers))

    def __repr__(self) -> str:
        shape = "-".join(str(width) for width in self.widths)
        return f"Scenario({self.title!r}, {shape}, loss={self.loss.name}, samples={self.samples})"
