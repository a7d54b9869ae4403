"""Derivations of every number in a session, with the current numbers substituted.

`explain(session, "dL/dw7")` returns the chain-rule line the lecture writes on
the board, `dL/dw7 = dL/dŷ1 · u1 = 22 · 22 = 484`, for the cursor's snapshot.
A quantity that the cursor has not reached yet is explained as far as it is
known, and the explanation names the step that will compute it.

Names are the lecture's (see core.naming): inputs x1.., hidden neurons u1..,
outputs ŷ1.. (ŷ for one output), targets y1.., parameters w1.. and b1.., and
`loss`. For a layer with an activation, `z(u1)` is the neuron's value before
the activation and `u1 = f(z)` the value after it.
"""

from __future__ import annotations

import unicodedata
import weakref
from dataclasses import dataclass

from core import gradcheck
from core.derivations import (
    Cursor,
    backward_sum_line,
    data_lines,
    describe_step,
    loss_lines,
    output_gradient_lines,
    parameter_gradient_lines,
    parameter_lines,
    parameter_value,
    pre_activation_gradient_lines,
    pre_activation_lines,
    value_gradient_lines,
    value_lines,
    weighted_sum,
)
from core.engine import Session, StepKind
from core.explain_text import activation_line, compress_names, join_terms, number, operand
from core.gradcheck import GradientCheck
from core.naming import ParameterRef

STEP_LINES = 8  # what explain_step keeps


@dataclass(frozen=True)
class Explanation:
    """A quantity's derivation: a title such as "dL/dw7" and formula lines with numbers."""

    title: str
    lines: tuple[str, ...]


class UnknownQuantityError(ValueError):
    """A name that no quantity of the session's network has; the message lists the valid names."""

    def __init__(self, name: str, valid_names: list[str]) -> None:
        self.name = name
        self.valid_names = valid_names
        super().__init__(
            f"unknown quantity {name!r}: expected one of {compress_names(valid_names)}"
        )


@dataclass(frozen=True)
class Quantity:
    """Meaning of an explainable name: its kind, layer (0-based) and position in the layer."""

    kind: str  # "input", "value", "loss", "gradient_parameter", ...: see _catalogue
    layer: int | None = None
    row: int | None = None  # neuron within the layer, or input/target column
    parameter: ParameterRef | None = None


# Names


_CATALOGUES: weakref.WeakKeyDictionary[Session, dict[str, Quantity]] = weakref.WeakKeyDictionary()


def _catalogue(session: Session) -> dict[str, Quantity]:
    """Map every explainable name of the session's network to its quantity, in display order."""
    # A session's names and activations never change, so its catalogue is built once.
    catalogue = _CATALOGUES.get(session)
    if catalogue is None:
        catalogue = _CATALOGUES[session] = _build_catalogue(session)
    return catalogue


def _build_catalogue(session: Session) -> dict[str, Quantity]:
    names = session.names
    layer_count = len(session.scenario.layers)
    catalogue: dict[str, Quantity] = {}
    for column, name in enumerate(names.inputs):
        catalogue[name] = Quantity("input", row=column)
    for layer in range(layer_count):
        for row, neuron in enumerate(names.neurons[layer]):
            catalogue[neuron] = Quantity("value", layer, row)
        if not session.activations[layer].is_identity:
            for row, neuron in enumerate(names.neurons[layer]):
                catalogue[f"z({neuron})"] = Quantity("pre_activation", layer, row)
    for column, name in enumerate(names.targets):
        catalogue[name] = Quantity("target", row=column)
    catalogue["loss"] = Quantity("loss")
    for name, reference in names.parameters.items():
        catalogue[name] = Quantity("parameter", reference.layer, reference.row, reference)
    for layer in range(layer_count - 1, -1, -1):
        for row, neuron in enumerate(names.neurons[layer]):
            catalogue[f"dL/d{neuron}"] = Quantity("gradient_value", layer, row)
        if not session.activations[layer].is_identity:
            for row, neuron in enumerate(names.neurons[layer]):
                catalogue[f"dL/dz({neuron})"] = Quantity("gradient_pre_activation", layer, row)
    for name, reference in names.parameters.items():
        catalogue[f"dL/d{name}"] = Quantity("gradient_parameter", reference.layer, reference.row, reference)
    return catalogue


def _normalize(name: str) -> str:
    # ASCII spellings for terminals without ŷ: "yhat1", "dL/dyhat".
    # NFC turns a y followed by a combining circumflex into the single character ŷ.
    text = unicodedata.normalize("NFC", "".join(name.split()))
    text = text.replace("y_hat", "ŷ").replace("yhat", "ŷ")
    return "loss" if text in ("L", "Loss") else text


def explainable_names(session: Session) -> list[str]:
    """Return every name `explain` accepts for this session, inputs first and gradients last."""
    return list(_catalogue(session))


def _resolve(session: Session, name: str) -> tuple[str, Quantity]:
    catalogue = _catalogue(session)
    key = _normalize(name)
    if key not in catalogue and "ŷ" in catalogue and key.endswith("ŷ1"):
        key = key[:-1]  # "ŷ1" of a network with one output
    if key in ("b", "dL/db") and "b2" not in catalogue:
        key += "1"  # the lecture writes a network's only bias as b
    if key not in catalogue:
        raise UnknownQuantityError(name, list(catalogue))
    return key, catalogue[key]


# Public API


def explain(
    session: Session, name: str, sample: int | None = None, *, with_check: bool = False
) -> Explanation:
    """Explain the quantity called `name` at the cursor.

    `sample` picks one sample of the current batch (0-based, clamped to the
    batch); None shows every sample, up to a few lines. Parameter gradients
    are sums over the batch and always show each sample's term. With
    `with_check`, a parameter gradient also gets a finite-difference check.
    """
    key, quantity = _resolve(session, name)
    cursor = Cursor(session, sample)
    title = key if len(cursor.samples) != 1 or cursor.sample_count == 1 else (
        f"{key}, sample {cursor.samples[0] + 1} of {cursor.sample_count}"
    )
    kind = quantity.kind
    if kind == "input":
        lines = data_lines(cursor, key, quantity.row, is_input=True)
    elif kind == "target":
        lines = data_lines(cursor, key, quantity.row, is_input=False)
    elif kind in ("value", "pre_activation"):
        lines = value_lines(cursor, quantity.layer, quantity.row, kind == "pre_activation")
        # Once the backward pass reaches a neuron, its derivative belongs to its story too.
        if kind == "value" and cursor.snapshot.grad_a[quantity.layer] is not None:
            lines += value_gradient_lines(cursor, quantity.layer, quantity.row)
    elif kind == "loss":
        lines = loss_lines(cursor)
    elif kind == "parameter":
        lines = parameter_lines(cursor, quantity.parameter)
    elif kind == "gradient_value":
        lines = value_gradient_lines(cursor, quantity.layer, quantity.row)
    elif kind == "gradient_pre_activation":
        lines = pre_activation_gradient_lines(cursor, quantity.layer, quantity.row)
    else:
        lines = parameter_gradient_lines(cursor, quantity.parameter)
        if with_check and cursor.snapshot.grad_w[quantity.layer] is not None:
            lines.append(check_line(gradient_check(session, key)))
    scenario = session.scenario
    if scenario.batch_size is not None and scenario.batch_size < scenario.samples:
        rows = [str(int(index) + 1) for index in cursor.snapshot.sample_indices]
        noun = "sample" if len(rows) == 1 else "samples"
        lines = [f"this iteration's mini-batch: {noun} {', '.join(rows)} of {scenario.samples}", *lines]
    return Explanation(title, tuple(lines))


def gradient_check(session: Session, name: str, step: float = 1e-6) -> GradientCheck:
    """Compare the analytic dL/d(name) with a central finite difference; `name` is w7 or dL/dw7."""
    key = _normalize(name)
    reference = session.names.find(key.removeprefix("dL/d"))
    if reference is None:
        parameters = list(session.names.parameters)
        raise UnknownQuantityError(name, parameters + [f"dL/d{p}" for p in parameters])
    return gradcheck.gradient_check(session, reference, step)


def check_line(check: GradientCheck) -> str:
    """Format a gradient check as one line: the finite difference beside backpropagation's value."""
    return (
        f"check: (L({check.name} + h) - L({check.name} - h)) / 2h = {number(check.numeric)} "
        f"with h = {check.step:g}; backpropagation gives {number(check.analytic)}, "
        f"relative difference {check.relative_difference:.2g}"
    )


def format_explanation(explanation: Explanation) -> str:
    """Plain text: the title, then each line indented by two spaces."""
    return "\n".join([explanation.title, *("  " + line for line in explanation.lines)])


# The current step


def explain_step(session: Session, sample: int = 0) -> Explanation:
    """Explain the numbers computed by the step that produced the cursor's snapshot.

    A batch shows `sample` (a position in the batch) for per-sample values. The lines are cut to
    about STEP_LINES, most relevant first; `explain` shows any single number.
    """
    snapshot = session.current
    step = snapshot.step
    total = len(session.plan)
    if step is None:
        lines = [
            "Nothing of this iteration is computed yet.",
            f"next: the {describe_step(session.plan[0])}",
        ]
        return Explanation(f"Iteration {snapshot.iteration}, before step 1 of {total}", tuple(lines))

    cursor = Cursor(session, sample)
    if step.kind is StepKind.FORWARD:
        lines = _forward_step_lines(cursor, step.layer)
    elif step.kind is StepKind.LOSS:
        lines = loss_lines(Cursor(session, None))
    elif step.kind is StepKind.OUTPUT_GRADIENT:
        lines = _output_gradient_step_lines(cursor)
    elif step.kind is StepKind.BACKWARD:
        lines = _backward_step_lines(cursor, step.layer)
    else:
        lines = _update_step_lines(cursor)
    if cursor.sample_count > 1 and step.kind in (StepKind.FORWARD, StepKind.OUTPUT_GRADIENT):
        row = int(snapshot.sample_indices[cursor.samples[0]]) + 1
        lines.insert(0, f"sample {row} shown, one of {cursor.sample_count} in this batch")
    title = f"Iteration {snapshot.iteration}, step {snapshot.position} of {total}: {describe_step(step)}"
    return Explanation(title, tuple(_cut(lines)))


def _cut(lines: list[str]) -> list[str]:
    if len(lines) <= STEP_LINES:
        return lines
    hidden = len(lines) - (STEP_LINES - 1)
    return lines[: STEP_LINES - 1] + [f"… {hidden} more lines: select a quantity to see it"]


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def _forward_step_lines(cursor: Cursor, layer: int) -> list[str]:
    snapshot = cursor.snapshot
    activation = cursor.activation(layer)
    sample = cursor.samples[0]
    lines: list[str] = []
    for row, neuron in enumerate(cursor.names.neurons[layer]):
        symbolic, substituted = weighted_sum(cursor, layer, row, sample)
        z = float(snapshot.z[layer][sample, row])
        z_name = neuron if activation.is_identity else f"z({neuron})"
        lines.append(f"{z_name} = {symbolic} = {substituted} = {number(z)}")
        if not activation.is_identity:
            lines.append(activation_line(neuron, activation, z, float(snapshot.a[layer][sample, row])))
    return lines


def _output_gradient_step_lines(cursor: Cursor) -> list[str]:
    outputs = cursor.names.neurons[-1]
    lines: list[str] = []
    for row in range(len(outputs)):
        lines.extend(output_gradient_lines(cursor, row, cursor.samples[0]))
    lines.append(f"from the loss: {cursor.scenario.loss.gradient_formula}")
    return _unique(lines)


def _tuple(items: list[str]) -> str:
    text = join_terms(items, ", ")
    return text if len(items) == 1 else f"({text})"


def _backward_step_lines(cursor: Cursor, layer: int) -> list[str]:
    snapshot = cursor.snapshot
    names = cursor.names
    single = cursor.sample_count == 1
    inputs = names.layer_inputs(layer)
    lines: list[str] = []

    if not cursor.activation(layer).is_identity:
        for row in range(len(names.neurons[layer])):
            lines.append(pre_activation_lines(cursor, layer, row, 0)[1])

    for row, weight_names in enumerate(names.weights[layer]):
        upstream = cursor.gradient_name(layer, row)
        gradients = _tuple([number(value) for value in snapshot.grad_w[layer][row]])
        targets = f"dL/d{_tuple(list(weight_names))}"
        if single:
            values = _tuple([number(value) for value in snapshot.layer_input(layer)[0]])
            factor = operand(snapshot.grad_z[layer][0, row])
            lines.append(f"{targets} = {upstream} · {_tuple(list(inputs))} = {factor} · {values} = {gradients}")
        else:
            lines.append(f"{targets} = Σ_samples {upstream} · {_tuple(list(inputs))} = {gradients}")

    upstreams = _tuple([cursor.gradient_name(layer, row) for row in range(len(names.biases[layer]))])
    gradients = _tuple([number(value) for value in snapshot.grad_b[layer]])
    sum_sign = "" if single else "Σ_samples "
    lines.append(f"dL/d{_tuple(list(names.biases[layer]))} = {sum_sign}{upstreams} = {gradients}")

    if layer > 0:
        for row in range(len(names.neurons[layer - 1])):
            lines.append(backward_sum_line(cursor, layer - 1, row, 0))
        if not single:
            lines.append(f"the dL/d{names.neurons[layer - 1][0]} lines show sample 1 of {cursor.sample_count}")
    return lines


def _update_step_lines(cursor: Cursor) -> list[str]:
    snapshot = cursor.snapshot
    update = snapshot.update
    spec = cursor.scenario.optimizer
    lines = [f"{spec.formula}, η = {number(update.learning_rate)}"]
    fixed: list[str] = []
    trainable = 0
    for name, reference in cursor.names.parameters.items():
        layer_spec = cursor.scenario.layers[reference.layer]
        if (layer_spec.fixed_weights if reference.kind == "weights" else layer_spec.fixed_biases):
            fixed.append(name)
            continue
        trainable += 1
        if trainable > STEP_LINES:
            continue  # counted for the closing line, not written
        old_arrays = update.weights if reference.kind == "weights" else update.biases
        new_arrays = snapshot.weights if reference.kind == "weights" else snapshot.biases
        old = parameter_value(old_arrays, reference)
        new = parameter_value(new_arrays, reference)
        if spec.name == "sgd":
            gradients = snapshot.grad_w if reference.kind == "weights" else snapshot.grad_b
            gradient = parameter_value(gradients, reference)
            lines.append(
                f"{name} ← {number(old)} - {operand(update.learning_rate)} · {operand(gradient)} = {number(new)}"
            )
        else:
            lines.append(f"{name}: {number(old)} → {number(new)}")
    if fixed:
        lines.insert(1, f"fixed, unchanged: {compress_names(fixed)}")
    if trainable > STEP_LINES:
        lines = lines[: STEP_LINES - 1]
        remaining = trainable - (len(lines) - (2 if fixed else 1))
        lines.append(f"… and {remaining} more parameters: select one to see its update")
    return lines

