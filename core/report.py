"""Headless training runs: a readable trace and a JSON document.

`train` runs the same arithmetic as the interactive session, without
snapshots, so that long runs cost little more than the arithmetic itself.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from core.engine import BatchSchedule
from core.naming import Names, make_names
from core.network import FastModel, forward_layer
from core.optimizers import initial_state
from core.scenario import Scenario


@dataclass(frozen=True)
class IterationRecord:
    """One iteration as it stood before its update."""

    iteration: int
    loss: float
    samples: list[int]  # indices into the scenario's data
    values: list[np.ndarray]  # a per layer, (samples, units)
    parameters: dict[str, tuple[float, float]]  # name -> (value, gradient)


@dataclass
class TrainingReport:
    """The records and final state of one headless run."""

    scenario: Scenario
    names: Names
    iterations_run: int = 0
    records: list[IterationRecord] = field(default_factory=list)
    final_parameters: dict[str, float] = field(default_factory=dict)
    final_loss: float = math.nan  # over every sample, at the final parameters
    diverged_at: int | None = None  # first iteration whose loss was inf or NaN


def _named_values(names: Names, weights: list[np.ndarray], biases: list[np.ndarray]) -> dict[str, float]:
    values = {}
    for ref in names.parameters.values():
        if ref.kind == "weights":
            values[ref.name] = float(weights[ref.layer][ref.row, ref.column])
        else:
            values[ref.name] = float(biases[ref.layer][ref.row])
    return values


def train(scenario: Scenario, iterations: int, record_every: int = 1) -> TrainingReport:
    """Run `iterations` whole iterations; record every `record_every`-th, the first and the last.

    The run stops after the first iteration whose loss is inf or NaN.
    """
    names = make_names(scenario)
    report = TrainingReport(scenario, names)
    weights = [layer.weights.copy() for layer in scenario.layers]
    biases = [layer.biases.copy() for layer in scenario.layers]
    activations = [layer.activation for layer in scenario.layers]
    trainable = [
        flag for layer in scenario.layers for flag in (not layer.fixed_weights, not layer.fixed_biases)
    ]
    state = initial_state(scenario.optimizer, [array for pair in zip(weights, biases) for array in pair])
    model = FastModel(weights, biases, activations, scenario.loss, scenario.optimizer, state, trainable)
    schedule = BatchSchedule(scenario)
    last = iterations - 1

    with np.errstate(all="ignore"):
        for iteration in range(iterations):
            indices, inputs, targets = schedule.batch(iteration)
            recorded = iteration % record_every == 0 or iteration == last
            before = _named_values(names, weights, biases) if recorded else None

            result = model.run_iteration(inputs, targets, scenario.learning_rate, iteration + 1)
            report.iterations_run = iteration + 1
            diverged = not math.isfinite(result.loss)

            if recorded or diverged:
                gradients = _named_values(names, result.grad_weights, result.grad_biases)
                report.records.append(
                    IterationRecord(
                        iteration=iteration,
                        loss=result.loss,
                        samples=[int(index) for index in indices],
                        values=[values.copy() for values in result.values],
                        parameters={name: (before[name] if before else math.nan, gradients[name]) for name in gradients},
                    )
                )
            if diverged:
                report.diverged_at = iteration
                break

        report.final_parameters = _named_values(names, weights, biases)
        report.final_loss = _loss_at(scenario, weights, biases)
    return report


def _loss_at(scenario: Scenario, weights: list[np.ndarray], biases: list[np.ndarray]) -> float:
    values = scenario.inputs
    for layer, layer_spec in enumerate(scenario.layers):
        _, values = forward_layer(weights[layer], biases[layer], layer_spec.activation, values)
    return scenario.loss.value(values, scenario.targets)


# Output


def nonfinite_text(value: float) -> str:
    """Spell a NaN or infinity as "nan", "inf" or "-inf"."""
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def _json_number(value: float) -> float | str:
    # JSON has no NaN or infinity, so those are written as strings.
    return value if math.isfinite(value) else nonfinite_text(value)


def _json_matrix(array: np.ndarray) -> list[list[float | str]]:
    return [[_json_number(float(value)) for value in row] for row in array]


def report_json(report: TrainingReport) -> str:
    """Return the run as a JSON document; keys are the lecture's names w1.., b1.."""
    scenario = report.scenario
    document = {
        "scenario": scenario.title,
        "loss_function": scenario.loss.name,
        "learning_rate": scenario.learning_rate,
        "optimizer": scenario.optimizer.name,
        "iterations_run": report.iterations_run,
        "diverged_at": report.diverged_at,
        "iterations": [
            {
                "iteration": record.iteration,
                "loss": _json_number(record.loss),
                "samples": record.samples,
                "layers": [{"values": _json_matrix(values)} for values in record.values],
                "parameters": {
                    name: {"value": _json_number(value), "gradient": _json_number(gradient)}
                    for name, (value, gradient) in record.parameters.items()
                },
            }
            for record in report.records
        ],
        "final": {
            "loss": _json_number(report.final_loss),
            "parameters": {name: _json_number(value) for name, value in report.final_parameters.items()},
        },
    }
    return json.dumps(document, ensure_ascii=False)


def format_number(value: float) -> str:
    """Format a number for the trace: integers without a decimal point, else 10 significant digits."""
    if not math.isfinite(value):
        return nonfinite_text(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def report_text(report: TrainingReport) -> str:
    """Return the run as a readable trace."""
    scenario, names = report.scenario, report.names
    lines = [
        scenario.title,
        f"loss {scenario.loss.name}: {scenario.loss.formula}",
        f"optimizer {scenario.optimizer.name}: {scenario.optimizer.formula}, "
        f"learning rate η = {format_number(scenario.learning_rate)}",
        "",
    ]
    for record in report.records:
        lines.append(f"iteration {record.iteration}: loss {format_number(record.loss)}")
        batch = scenario.samples > 1  # name the sample whenever the data set has several
        for layer, values in enumerate(record.values):
            neuron_names = names.neurons[layer]
            for row, sample in zip(values, record.samples):
                label = f"  sample {sample + 1} " if batch else "  "
                pairs = ", ".join(
                    f"{name} = {format_number(float(value))}" for name, value in zip(neuron_names, row)
                )
                lines.append(f"{label}{pairs}")
        width = max(len(name) for name in record.parameters)
        for name, (value, gradient) in record.parameters.items():
            lines.append(
                f"  {name:<{width}}  {format_number(value):>14}   dL/d{name} = {format_number(gradient)}"
            )
        lines.append("")
    lines.append(
        f"after {report.iterations_run} update{'s' if report.iterations_run != 1 else ''}: "
        f"loss {format_number(report.final_loss)}"
    )
    width = max(len(name) for name in report.final_parameters)
    for name, value in report.final_parameters.items():
        lines.append(f"  {name:<{width}}  {format_number(value):>14}")
    if report.diverged_at is not None:
        lines.append(f"diverged at iteration {report.diverged_at}: the loss is no longer a finite number")
    return "\n".join(lines)
