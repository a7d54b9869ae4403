"""The lecture's names for inputs, neurons and parameters.

Weights are numbered across the whole network in reading order: all weights
into the first neuron of the first layer, then into its second neuron, and on
through the next layers. Biases are numbered the same way. Inputs are x1..,
hidden neurons u1.. (counted across all hidden layers), outputs ŷ1.. (ŷ when
there is one output), targets y1.. (y).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.scenario import Scenario


@dataclass(frozen=True)
class ParameterRef:
    """The location of a named parameter: layer index, "weights" or "biases", and position."""

    name: str
    layer: int  # 0-based
    kind: str  # "weights" or "biases"
    row: int  # neuron within the layer
    column: int | None  # input within the layer; None for a bias


@dataclass(frozen=True)
class Names:
    """Display names for one scenario's network."""

    inputs: tuple[str, ...]
    neurons: tuple[tuple[str, ...], ...]  # per layer; the last layer is the output
    targets: tuple[str, ...]
    weights: tuple[tuple[tuple[str, ...], ...], ...]  # [layer][neuron][input]
    biases: tuple[tuple[str, ...], ...]  # [layer][neuron]
    parameters: dict[str, ParameterRef]  # by name, in the lecture's order: w1.., then b1..

    def layer_inputs(self, layer: int) -> tuple[str, ...]:
        """Names of the values that feed `layer`."""
        return self.inputs if layer == 0 else self.neurons[layer - 1]

    def find(self, name: str) -> ParameterRef | None:
        return self.parameters.get(name)


def numbered(prefix: str, count: int, start: int = 1) -> tuple[str, ...]:
    return tuple(f"{prefix}{start + index}" for index in range(count))


def make_names(scenario: Scenario) -> Names:
    """Build the lecture's names, replaced by the scenario's own where it gives them."""
    widths = scenario.widths
    inputs = scenario.input_names or numbered("x", widths[0])

    neurons = []
    hidden_count = 0
    for index, width in enumerate(widths[1:]):
        custom = scenario.neuron_names[index] if scenario.neuron_names else None
        if custom:
            neurons.append(custom)
        elif index == len(widths) - 2:
            neurons.append(("ŷ",) if width == 1 else numbered("ŷ", width))
        else:
            neurons.append(numbered("u", width, hidden_count + 1))
        if index < len(widths) - 2:
            hidden_count += width
    outputs = widths[-1]
    targets = ("y",) if outputs == 1 else numbered("y", outputs)

    weights, biases = [], []
    parameters: dict[str, ParameterRef] = {}
    weight_number = bias_number = 1
    for layer, layer_spec in enumerate(scenario.layers):
        layer_weights = []
        for row in range(layer_spec.units):
            row_names = numbered("w", layer_spec.inputs, weight_number)
            weight_number += layer_spec.inputs
            layer_weights.append(row_names)
            for column, name in enumerate(row_names):
                parameters[name] = ParameterRef(name, layer, "weights", row, column)
        weights.append(tuple(layer_weights))
    for layer, layer_spec in enumerate(scenario.layers):
        layer_biases = numbered("b", layer_spec.units, bias_number)
        bias_number += layer_spec.units
        biases.append(layer_biases)
        for row, name in enumerate(layer_biases):
            parameters[name] = ParameterRef(name, layer, "biases", row, None)

    return Names(
        inputs=tuple(inputs),
        neurons=tuple(neurons),
        targets=targets,
        weights=tuple(weights),
        biases=tuple(biases),
        parameters=parameters,
    )
