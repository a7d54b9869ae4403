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

import math
from dataclasses import dataclass

import numpy as np

from core import gradcheck
from core.engine import Session, Snapshot, Step, StepKind
from core.gradcheck import GradientCheck
from core.naming import ParameterRef

MAX_TERMS = 8  # longer sums show their first terms, "…", and their last term
MAX_SAMPLE_LINES = 4  # per-sample lines shown before "… and N more samples"
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
    """What a name refers to: its kind, layer (0-based) and position in the layer."""

    kind: str  # input, target, value, pre_activation, parameter, loss, gradient_value,
    # gradient_pre_activation, gradient_parameter
    layer: int | None = None
    row: int | None = None  # neuron within the layer, or input/target column
    parameter: ParameterRef | None = None


# Numbers


def number(value: float) -> str:
    """Format a number compactly: 22 not 22.0, six significant digits otherwise."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0.0:
        return "0"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def operand(value: float) -> str:
    """Format a number that follows an operator: negative numbers go in parentheses."""
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def join_terms(terms: list[str], separator: str = " + ") -> str:
    """Join the terms of a sum, eliding the middle of a long one."""
    if len(terms) <= MAX_TERMS:
        return separator.join(terms)
    head = separator.join(terms[: MAX_TERMS - 2])
    return f"{head}{separator}…{separator}{terms[-1]}"


def compress_names(names: list[str]) -> str:
    """Write runs of numbered names as ranges: x1..x3, w1..w12."""
    parts: list[str] = []
    run: list[str] = []

    def split(name: str) -> tuple[str, int] | None:
        stem = name.rstrip("0123456789")
        return (stem, int(name[len(stem):])) if stem != name and stem else None

    def flush() -> None:
        if len(run) > 2:
            parts.append(f"{run[0]}..{run[-1]}")
        else:
            parts.extend(run)
        run.clear()

    for name in names:
        current = split(name)
        previous = split(run[-1]) if run else None
        if current and previous and current[0] == previous[0] and current[1] == previous[1] + 1:
            run.append(name)
            continue
        flush()
        if current:
            run.append(name)
        else:
            parts.append(name)
    flush()
    return ", ".join(parts)


# Names


def _catalogue(session: Session) -> dict[str, Quantity]:
    """Every explainable name of the session's network, in display order."""
    names = session.names
    layer_count = len(session.scenario.layers)
    catalogue: dict[str, Quantity] = {}
    for column, name in enumerate(names.inputs):
        catalogue[name] = Quantity("input", row=column)
    for layer in range(layer_count):
        activated = not session.activations[layer].is_identity
        for row, neuron in enumerate(names.neurons[layer]):
            if activated:
                catalogue[f"z({neuron})"] = Quantity("pre_activation", layer, row)
            catalogue[neuron] = Quantity("value", layer, row)
    for column, name in enumerate(names.targets):
        catalogue[name] = Quantity("target", row=column)
    catalogue["loss"] = Quantity("loss")
    for name, reference in names.parameters.items():
        catalogue[name] = Quantity("parameter", reference.layer, reference.row, reference)
    for layer in range(layer_count - 1, -1, -1):
        activated = not session.activations[layer].is_identity
        for row, neuron in enumerate(names.neurons[layer]):
            catalogue[f"dL/d{neuron}"] = Quantity("gradient_value", layer, row)
            if activated:
                catalogue[f"dL/dz({neuron})"] = Quantity("gradient_pre_activation", layer, row)
    for name, reference in names.parameters.items():
        catalogue[f"dL/d{name}"] = Quantity("gradient_parameter", reference.layer, reference.row, reference)
    return catalogue


def _normalize(name: str) -> str:
    # ASCII spellings for terminals without ŷ: "yhat1", "dL/dyhat".
    text = "".join(name.split())
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
    if key not in catalogue:
        raise UnknownQuantityError(name, list(catalogue))
    return key, catalogue[key]


# The cursor


class _Context:
    """The snapshot at the cursor, with what each explanation needs from the session."""

    def __init__(self, session: Session, sample: int | None) -> None:
        self.session = session
        self.snapshot: Snapshot = session.current
        self.names = session.names
        self.scenario = session.scenario
        self.sample_count = self.snapshot.inputs.shape[0]
        if sample is None:
            self.samples = list(range(self.sample_count))
        else:
            self.samples = [min(max(sample, 0), self.sample_count - 1)]
        update = self.snapshot.update
        # The forward and backward passes used the parameters from before the update.
        self.weights = update.weights if update is not None else self.snapshot.weights
        self.biases = update.biases if update is not None else self.snapshot.biases

    def activation(self, layer: int):
        return self.session.activations[layer]

    def neuron(self, layer: int, row: int) -> str:
        return self.names.neurons[layer][row]

    def is_output(self, layer: int) -> bool:
        return layer == len(self.scenario.layers) - 1

    def sample_label(self, sample: int) -> str:
        """'sample 2: ' within a batch, '' for a single sample."""
        if self.sample_count == 1:
            return ""
        row = int(self.snapshot.sample_indices[sample])
        if self.scenario.batch_size is not None and self.scenario.batch_size < self.scenario.samples:
            return f"sample {sample + 1} (data row {row + 1}): "
        return f"sample {sample + 1}: "

    def pending(self, what: str, step: Step) -> str:
        """Say which step computes `what`, and where the cursor is."""
        number_of = self.session.plan.index(step) + 1
        total = len(self.session.plan)
        return (
            f"{what} is not computed yet: the {describe_step(step)} computes it "
            f"(step {number_of} of {total}; the cursor is after step {self.snapshot.position})."
        )

    def gradient_name(self, layer: int, row: int) -> str:
        """dL/dz of a neuron: written dL/du1 when the layer has no activation, as the lecture does."""
        neuron = self.neuron(layer, row)
        return f"dL/d{neuron}" if self.activation(layer).is_identity else f"dL/dz({neuron})"

    def sample_lines(self, lines_for_sample) -> list[str]:
        """Lines for each shown sample, eliding samples beyond MAX_SAMPLE_LINES."""
        lines: list[str] = []
        shown = self.samples[:MAX_SAMPLE_LINES]
        for sample in shown:
            label = self.sample_label(sample)
            lines.extend(label + line for line in lines_for_sample(sample))
        hidden = len(self.samples) - len(shown)
        if hidden:
            lines.append(f"… and {hidden} more sample{'s' if hidden != 1 else ''}")
        return lines


def describe_step(step: Step) -> str:
    """Name a step of the plan as the user sees it: 'backward step through layer 2'."""
    if step.kind is StepKind.FORWARD:
        return f"forward step through layer {step.layer + 1}"
    if step.kind is StepKind.BACKWARD:
        return f"backward step through layer {step.layer + 1}"
    if step.kind is StepKind.LOSS:
        return "loss step"
    if step.kind is StepKind.OUTPUT_GRADIENT:
        return "dL/dŷ step"
    return "update step"


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
    context = _Context(session, sample)
    title = key if len(context.samples) != 1 or context.sample_count == 1 else (
        f"{key}, sample {context.samples[0] + 1} of {context.sample_count}"
    )
    kind = quantity.kind
    if kind == "input":
        lines = _explain_data(context, key, quantity.row, is_input=True)
    elif kind == "target":
        lines = _explain_data(context, key, quantity.row, is_input=False)
    elif kind in ("value", "pre_activation"):
        lines = _explain_value(context, quantity.layer, quantity.row, kind == "pre_activation")
    elif kind == "loss":
        lines = _explain_loss(context)
    elif kind == "parameter":
        lines = _explain_parameter(context, quantity.parameter)
    elif kind == "gradient_value":
        lines = _explain_value_gradient(context, quantity.layer, quantity.row)
    elif kind == "gradient_pre_activation":
        lines = _explain_pre_activation_gradient(context, quantity.layer, quantity.row)
    else:
        lines = _explain_parameter_gradient(context, quantity.parameter)
        if with_check and context.snapshot.grad_w[quantity.layer] is not None:
            lines.append(check_line(gradient_check(session, key)))
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
    """One line comparing the analytic and the finite-difference gradient."""
    return (
        f"check: (L({check.name} + h) - L({check.name} - h)) / 2h = {number(check.numeric)} "
        f"with h = {check.step:g}; backpropagation gives {number(check.analytic)}, "
        f"relative difference {check.relative_difference:.2g}"
    )


def format_explanation(explanation: Explanation) -> str:
    """Plain text: the title, then each line indented by two spaces."""
    return "\n".join([explanation.title, *("  " + line for line in explanation.lines)])


# Data, values and the loss


def _explain_data(context: _Context, name: str, column: int, is_input: bool) -> list[str]:
    array = context.snapshot.inputs if is_input else context.snapshot.targets
    lines = context.sample_lines(lambda sample: [f"{name} = {number(array[sample, column])}"])
    if is_input:
        lines.append(
            f"{name} is data, not a parameter. Backpropagation needs no dL/d{name}: "
            "the gradients stop at the first layer's weights and biases."
        )
    else:
        lines.append(f"{name} is the target the loss compares with the output.")
    return lines


def _weighted_sum(context: _Context, layer: int, row: int, sample: int | None) -> tuple[str, str | None]:
    """Return 'w1·x1 + w2·x2 + b1' and, for a sample, '4·3 + 3·2 + 4'."""
    names = context.names
    inputs = names.layer_inputs(layer)
    symbolic = join_terms(
        [f"{weight}·{source}" for weight, source in zip(names.weights[layer][row], inputs)]
        + [names.biases[layer][row]]
    )
    if sample is None:
        return symbolic, None
    values = context.snapshot.layer_input(layer)[sample]
    weights = context.weights[layer][row]
    substituted = join_terms(
        [f"{operand(weight)}·{operand(value)}" for weight, value in zip(weights, values)]
        + [operand(context.biases[layer][row])]
    )
    return symbolic, substituted


def activation_line(neuron: str, activation, z: float, a: float) -> str:
    """'u1 = σ(z) = 1 / (1 + e^-z) = 1 / (1 + e^-0.5) = 0.622459' for one neuron."""
    rule = activation.formula.removeprefix("a = ")
    if activation.name == "sigmoid":
        substituted = f"1 / (1 + e^{number(-z)})"
    elif activation.name == "tanh":
        substituted = f"tanh({number(z)})"
    elif activation.name == "relu":
        substituted = f"max({number(z)}, 0)"
    elif activation.name == "leaky_relu":
        if z > 0:
            return f"{neuron} = {rule} = {number(a)} because z = {number(z)} > 0"
        substituted = f"{activation.negative_slope:g}·{operand(z)}"
    else:
        return f"{neuron} = z = {number(a)}"
    return f"{neuron} = {rule} = {substituted} = {number(a)}"


def derivative_line(activation, z: float, a: float) -> tuple[str, str]:
    """Return f'(z) for one neuron as a formula line with numbers, and its symbol (σ'(z), ...)."""
    symbol, _, rule = activation.derivative_formula.partition(" = ")
    derivative = float(activation.derivative(np.array([z]), np.array([a]))[0])
    if activation.name == "sigmoid":
        substituted = f"{number(a)}·(1 - {operand(a)})"
    elif activation.name == "tanh":
        substituted = f"1 - {operand(a)}²"
    elif activation.name in ("relu", "leaky_relu"):
        comparison = ">" if z > 0 else "≤"
        return f"{symbol} = {number(derivative)} because z = {number(z)} {comparison} 0", symbol
    else:
        return f"{symbol} = 1", symbol
    return f"{symbol} = {rule} = {substituted} = {number(derivative)}", symbol


def _explain_value(context: _Context, layer: int, row: int, only_pre_activation: bool) -> list[str]:
    snapshot = context.snapshot
    neuron = context.neuron(layer, row)
    activation = context.activation(layer)
    z_name = neuron if activation.is_identity else f"z({neuron})"
    if snapshot.z[layer] is None:
        symbolic, _ = _weighted_sum(context, layer, row, None)
        lines = [f"{z_name} = {symbolic}"]
        if not activation.is_identity and not only_pre_activation:
            lines.append(activation.formula.replace("a = ", f"{neuron} = ", 1).replace("(z)", f"(z({neuron}))", 1))
        lines.append(context.pending(neuron, Step(StepKind.FORWARD, layer)))
        return lines

    def lines_for(sample: int) -> list[str]:
        symbolic, substituted = _weighted_sum(context, layer, row, sample)
        z = float(snapshot.z[layer][sample, row])
        result = [f"{z_name} = {symbolic} = {substituted} = {number(z)}"]
        if not activation.is_identity and not only_pre_activation:
            result.append(activation_line(neuron, activation, z, float(snapshot.a[layer][sample, row])))
        return result

    return context.sample_lines(lines_for)


def _squared_error_terms(context: _Context, sample: int | None) -> tuple[str, str | None]:
    """Return '(ŷ1 - y1)² + (ŷ2 - y2)²' and its numbers for a sample."""
    outputs = context.names.neurons[-1]
    targets = context.names.targets
    symbolic = join_terms([f"({o} - {t})²" for o, t in zip(outputs, targets)])
    if sample is None:
        return symbolic, None
    predictions = context.snapshot.a[-1][sample]
    values = context.snapshot.targets[sample]
    substituted = join_terms(
        [f"({number(p)} - {operand(y)})²" for p, y in zip(predictions, values)]
    )
    return symbolic, substituted


def _loss_factor(context: _Context) -> tuple[str, str]:
    """The constant in front of one sample's squared error, symbolic and with n substituted."""
    name = context.scenario.loss.name
    if name == "mse":
        return "(1/n)", f"(1/{context.sample_count})"
    if name == "half_sse":
        return "½", "½"
    return "", ""


def _bracket(factor: str, terms: str, outputs: int) -> str:
    """Put the loss's constant factor in front: ½(ŷ - y)², (1/3)[(ŷ1 - y1)² + (ŷ2 - y2)²]."""
    if not factor:
        return terms
    return f"{factor}{terms}" if outputs == 1 else f"{factor}[{terms}]"


def _explain_loss(context: _Context) -> list[str]:
    snapshot = context.snapshot
    loss = context.scenario.loss
    if snapshot.loss is None:
        return [loss.formula, context.pending("L", Step(StepKind.LOSS)), f"convention: {loss.convention}"]
    if loss.name == "cross_entropy":
        lines = _cross_entropy_lines(context)
    else:
        outputs = len(context.names.targets)
        factor, factor_numbers = _loss_factor(context)

        def lines_for(sample: int) -> list[str]:
            symbolic, substituted = _squared_error_terms(context, sample)
            term = float(snapshot.sample_losses[sample])
            left = "L" if context.sample_count == 1 else "term"
            return [
                f"{left} = {_bracket(factor, symbolic, outputs)} = "
                f"{_bracket(factor_numbers, substituted, outputs)} = {number(term)}"
            ]

        lines = context.sample_lines(lines_for)
    if context.sample_count > 1:
        terms = [operand(term) for term in snapshot.sample_losses]
        lines.insert(0, loss.formula)
        lines.append(f"L = {join_terms(terms)} = {number(snapshot.loss)}")
    lines.append(f"convention: {loss.convention}")
    return lines


def _softmax_row(predictions: np.ndarray) -> np.ndarray:
    shifted = predictions - predictions.max()
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum()


def _softmax_line(context: _Context, sample: int) -> str:
    outputs = context.names.neurons[-1]
    probabilities = _softmax_row(context.snapshot.a[-1][sample])
    symbols = ", ".join(f"p{index + 1}" for index in range(len(outputs)))
    values = ", ".join(number(p) for p in probabilities)
    return f"({symbols}) = softmax({', '.join(outputs)}) = ({values})"


def _cross_entropy_lines(context: _Context) -> list[str]:
    snapshot = context.snapshot
    count = context.sample_count

    def lines_for(sample: int) -> list[str]:
        targets = snapshot.targets[sample]
        probabilities = _softmax_row(snapshot.a[-1][sample])
        term = float(snapshot.sample_losses[sample])
        left = "L" if count == 1 else "term"
        hot = [index for index, value in enumerate(targets) if value != 0.0]
        if len(hot) == 1 and targets[hot[0]] == 1.0:
            k = hot[0]
            formula = f"-(1/n)·log p{k + 1} = -(1/{count})·log({number(probabilities[k])})"
            return [_softmax_line(context, sample), f"{left} = {formula} = {number(term)}"]
        pairs = [f"{operand(targets[k])}·log({number(probabilities[k])})" for k in hot]
        formula = f"-(1/n)·Σ y·log p = -(1/{count})·({join_terms(pairs)})"
        return [_softmax_line(context, sample), f"{left} = {formula} = {number(term)}"]

    return context.sample_lines(lines_for)


# Gradients


def _output_gradient_line(context: _Context, row: int, sample: int) -> list[str]:
    snapshot = context.snapshot
    neuron = context.neuron(len(context.scenario.layers) - 1, row)
    target = context.names.targets[row]
    prediction = float(snapshot.a[-1][sample, row])
    value = float(snapshot.targets[sample, row])
    gradient = number(snapshot.grad_a[-1][sample, row])
    loss = context.scenario.loss.name
    count = context.sample_count
    if loss == "sse":
        return [f"dL/d{neuron} = 2({neuron} - {target}) = 2({number(prediction)} - {operand(value)}) = {gradient}"]
    if loss == "mse":
        return [
            f"dL/d{neuron} = (2/n)({neuron} - {target}) = "
            f"(2/{count})({number(prediction)} - {operand(value)}) = {gradient}"
        ]
    if loss == "half_sse":
        return [f"dL/d{neuron} = {neuron} - {target} = {number(prediction)} - {operand(value)} = {gradient}"]
    probability = _softmax_row(snapshot.a[-1][sample])[row]
    return [
        _softmax_line(context, sample),
        f"dL/d{neuron} = (p{row + 1} - {target})/n = ({number(probability)} - {operand(value)})/{count} = {gradient}",
    ]


def _backward_sum_line(context: _Context, layer: int, row: int, sample: int) -> str:
    """dL/du_j = Σ_k dL/dz_k · w(u_j → k): the multivariable chain rule for one sample."""
    snapshot = context.snapshot
    neuron = context.neuron(layer, row)
    following = layer + 1
    weights = context.weights[following][:, row]
    weight_names = [names[row] for names in context.names.weights[following]]
    downstream = [context.gradient_name(following, k) for k in range(len(weights))]
    symbolic = join_terms([f"{g} · {w}" for g, w in zip(downstream, weight_names)])
    substituted = join_terms(
        [f"{operand(g)} · {operand(w)}" for g, w in zip(snapshot.grad_z[following][sample], weights)]
    )
    return f"dL/d{neuron} = {symbolic} = {substituted} = {number(snapshot.grad_a[layer][sample, row])}"


def _paths_line(context: _Context, layer: int, row: int) -> str:
    neuron = context.neuron(layer, row)
    following = context.names.neurons[layer + 1]
    if len(following) == 1:
        return f"{neuron} reaches the loss along one path, through {following[0]}: the chain rule has one term."
    listed = ", ".join(following[:-1]) + f" and {following[-1]}"
    return (
        f"{neuron} reaches the loss along {len(following)} paths, through {listed}, so the "
        "multivariable chain rule adds one term per path."
    )


def _pre_activation_lines(context: _Context, layer: int, row: int, sample: int) -> list[str]:
    """σ'(z) and dL/dz = dL/da · σ'(z) for one neuron and sample."""
    snapshot = context.snapshot
    neuron = context.neuron(layer, row)
    activation = context.activation(layer)
    z = float(snapshot.z[layer][sample, row])
    a = float(snapshot.a[layer][sample, row])
    derivative, symbol = derivative_line(activation, z, a)
    derivative_value = float(activation.derivative(np.array([z]), np.array([a]))[0])
    return [
        derivative,
        f"dL/dz({neuron}) = dL/d{neuron} · {symbol} = "
        f"{operand(snapshot.grad_a[layer][sample, row])} · {operand(derivative_value)} = "
        f"{number(snapshot.grad_z[layer][sample, row])}",
    ]


def _value_gradient_step(context: _Context, layer: int) -> Step:
    if context.is_output(layer):
        return Step(StepKind.OUTPUT_GRADIENT)
    return Step(StepKind.BACKWARD, layer + 1)


def _explain_value_gradient(context: _Context, layer: int, row: int) -> list[str]:
    snapshot = context.snapshot
    neuron = context.neuron(layer, row)
    output = context.is_output(layer)
    if snapshot.grad_a[layer] is None:
        if output:
            formula = context.scenario.loss.gradient_formula
        else:
            following = layer + 1
            formula = f"dL/d{neuron} = " + join_terms([
                f"{context.gradient_name(following, k)} · {names[row]}"
                for k, names in enumerate(context.names.weights[following])
            ])
        return [formula, context.pending(f"dL/d{neuron}", _value_gradient_step(context, layer))]

    def lines_for(sample: int) -> list[str]:
        if output:
            result = _output_gradient_line(context, row, sample)
        else:
            result = [_backward_sum_line(context, layer, row, sample)]
        if not context.activation(layer).is_identity and snapshot.grad_z[layer] is not None:
            result.extend(_pre_activation_lines(context, layer, row, sample))
        return result

    lines = context.sample_lines(lines_for)
    if not output:
        lines.append(_paths_line(context, layer, row))
    else:
        lines.append(f"from the loss: {context.scenario.loss.gradient_formula} ({context.scenario.loss.convention})")
    return lines


def _explain_pre_activation_gradient(context: _Context, layer: int, row: int) -> list[str]:
    neuron = context.neuron(layer, row)
    if context.snapshot.grad_z[layer] is None:
        symbol, _, rule = context.activation(layer).derivative_formula.partition(" = ")
        return [
            f"dL/dz({neuron}) = dL/d{neuron} · {symbol}, where {symbol} = {rule}",
            context.pending(f"dL/dz({neuron})", Step(StepKind.BACKWARD, layer)),
        ]
    return context.sample_lines(lambda sample: _pre_activation_lines(context, layer, row, sample))


def _explain_parameter_gradient(context: _Context, reference: ParameterRef) -> list[str]:
    snapshot = context.snapshot
    layer, row = reference.layer, reference.row
    name = reference.name
    upstream = context.gradient_name(layer, row)
    is_weight = reference.kind == "weights"
    source = context.names.layer_inputs(layer)[reference.column] if is_weight else "1"
    if snapshot.grad_w[layer] is None:
        return [
            f"dL/d{name} = {upstream} · {source}",
            context.pending(f"dL/d{name}", Step(StepKind.BACKWARD, layer)),
        ]

    def term(sample: int) -> tuple[float, float, float]:
        gradient_z = float(snapshot.grad_z[layer][sample, row])
        if is_weight:
            factor = float(snapshot.layer_input(layer)[sample, reference.column])
            return gradient_z, factor, float(snapshot.grad_w_samples[layer][sample, row, reference.column])
        return gradient_z, 1.0, float(snapshot.grad_b_samples[layer][sample, row])

    total = float(snapshot.grad_w[layer][row, reference.column] if is_weight else snapshot.grad_b[layer][row])
    lines: list[str] = []
    activated = not context.activation(layer).is_identity
    count = context.sample_count
    if count == 1:
        if activated:
            lines.extend(_pre_activation_lines(context, layer, row, 0))
        gradient_z, factor, _ = term(0)
        lines.append(
            f"dL/d{name} = {upstream} · {source} = {operand(gradient_z)} · {operand(factor)} = {number(total)}"
        )
    else:
        lines.append(f"dL/d{name} = Σ over the {count} samples of {upstream} · {source}")
        if activated:
            lines.append(f"with {upstream} = dL/d{context.neuron(layer, row)} · {context.activation(layer).derivative_formula.partition(' = ')[0]} per sample")
        everyone = _Context(context.session, None)

        def per_sample(sample: int) -> list[str]:
            gradient_z, factor, value = term(sample)
            return [f"{upstream} · {source} = {operand(gradient_z)} · {operand(factor)} = {number(value)}"]

        lines.extend(everyone.sample_lines(per_sample))
        terms = [operand(term(sample)[2]) for sample in range(count)]
        lines.append(f"dL/d{name} = {join_terms(terms)} = {number(total)}")
    if not is_weight:
        lines.append(f"{name} enters {context.neuron(layer, row)} with factor 1, so its gradient is {upstream} itself.")
    fixed = context.scenario.layers[layer].fixed_weights if is_weight else context.scenario.layers[layer].fixed_biases
    if fixed:
        lines.append(f"{name} is fixed: its gradient is shown, but the update does not apply it.")
    return lines


# Parameters and the update


def _state_value(state: dict, key: str, reference: ParameterRef) -> float:
    """One parameter's entry of an optimizer state, whose lists follow the order W1, b1, W2, b2, ..."""
    array = state[key][2 * reference.layer + (0 if reference.kind == "weights" else 1)]
    if reference.kind == "weights":
        return float(array[reference.row, reference.column])
    return float(array[reference.row])


def _parameter_value(arrays, reference: ParameterRef) -> float:
    array = arrays[reference.layer]
    if reference.kind == "weights":
        return float(array[reference.row, reference.column])
    return float(array[reference.row])


def _explain_parameter(context: _Context, reference: ParameterRef) -> list[str]:
    snapshot = context.snapshot
    name = reference.name
    layer = reference.layer
    neuron = context.neuron(layer, reference.row)
    arrays = context.weights if reference.kind == "weights" else context.biases
    old = _parameter_value(arrays, reference)
    if reference.kind == "weights":
        role = f"the weight from {context.names.layer_inputs(layer)[reference.column]} into {neuron}"
    else:
        role = f"the bias of {neuron}"
    if snapshot.update is None:
        lines = [f"{name} = {number(old)}: {role}"]
    else:
        current = _parameter_value(snapshot.weights if reference.kind == "weights" else snapshot.biases, reference)
        lines = [f"{name} = {number(current)}: {role}, {number(old)} before this update"]
    layer_spec = context.scenario.layers[layer]
    fixed = layer_spec.fixed_weights if reference.kind == "weights" else layer_spec.fixed_biases
    if fixed:
        lines.append(f"{name} is fixed: the update leaves it at {number(old)}.")
        return lines

    gradients = snapshot.grad_w if reference.kind == "weights" else snapshot.grad_b
    update = snapshot.update
    if update is not None:
        new = _parameter_value(snapshot.weights if reference.kind == "weights" else snapshot.biases, reference)
        lines.extend(
            update_lines(
                context, reference, old, _parameter_value(gradients, reference), update.learning_rate,
                update.optimizer_state, update.update_number, new,
            )
        )
        return lines
    update_step = Step(StepKind.UPDATE)
    if gradients[layer] is None:
        lines.append(f"update rule: {context.scenario.optimizer.formula}")
        lines.append(context.pending(f"the new {name}", update_step))
        return lines
    preview = update_lines(
        context, reference, old, _parameter_value(gradients, reference), context.session.learning_rate,
        snapshot.optimizer_state, snapshot.iteration + 1, None,
    )
    lines.extend(preview)
    lines.append(f"not applied yet: the {describe_step(update_step)} applies it.")
    return lines


def update_lines(
    context: _Context,
    reference: ParameterRef,
    old: float,
    gradient: float,
    learning_rate: float,
    state_before: dict,
    update_number: int,
    new: float | None,
) -> list[str]:
    """The optimizer's formula for one parameter with its numbers; `new` None computes it here."""
    spec = context.scenario.optimizer
    name = reference.name
    η = operand(learning_rate)
    if spec.name == "momentum":
        velocity_before = _state_value(state_before, "velocity", reference)
        velocity = spec.momentum * velocity_before + gradient
        if new is None:
            new = old - learning_rate * velocity
        return [
            f"v ← μ·v + dL/d{name} = {operand(spec.momentum)}·{operand(velocity_before)} + "
            f"{operand(gradient)} = {number(velocity)}",
            f"{name} ← {name} - η · v = {number(old)} - {η} · {operand(velocity)} = {number(new)}",
            f"v is {name}'s velocity; {spec.convention}",
        ]
    if spec.name == "adam":
        m_before = _state_value(state_before, "m", reference)
        v_before = _state_value(state_before, "v", reference)
        m = spec.beta1 * m_before + (1.0 - spec.beta1) * gradient
        v = spec.beta2 * v_before + (1.0 - spec.beta2) * gradient * gradient
        t = update_number
        m_hat = m / (1.0 - spec.beta1**t)
        v_hat = v / (1.0 - spec.beta2**t)
        if new is None:
            new = old - learning_rate * m_hat / (math.sqrt(v_hat) + spec.epsilon)
        return [
            f"m ← β1·m + (1-β1)·g = {number(spec.beta1)}·{operand(m_before)} + "
            f"{number(1.0 - spec.beta1)}·{operand(gradient)} = {number(m)}",
            f"v ← β2·v + (1-β2)·g² = {number(spec.beta2)}·{operand(v_before)} + "
            f"{number(1.0 - spec.beta2)}·{operand(gradient)}² = {number(v)}",
            f"m̂ = m/(1-β1^t) = {operand(m)}/(1 - {number(spec.beta1)}^{t}) = {number(m_hat)}, "
            f"v̂ = v/(1-β2^t) = {operand(v)}/(1 - {number(spec.beta2)}^{t}) = {number(v_hat)}",
            f"{name} ← {name} - η·m̂/(√v̂ + ε) = {number(old)} - {η}·{operand(m_hat)}/"
            f"(√{operand(v_hat)} + {spec.epsilon:g}) = {number(new)}",
            f"g is dL/d{name}, t = {t}; {spec.convention}",
        ]
    if new is None:
        new = old - learning_rate * gradient
    return [f"{name} ← {name} - η · dL/d{name} = {number(old)} - {η} · {operand(gradient)} = {number(new)}"]


# The current step


def explain_step(session: Session) -> Explanation:
    """Explain the numbers that the step which produced the cursor's snapshot computed.

    A batch shows its first sample for per-sample values. The lines are cut to
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
        return Explanation(f"Iteration {snapshot.iteration + 1}, before step 1 of {total}", tuple(lines))

    context = _Context(session, 0)
    if step.kind is StepKind.FORWARD:
        lines = _forward_step_lines(context, step.layer)
    elif step.kind is StepKind.LOSS:
        lines = _explain_loss(_Context(session, None))
    elif step.kind is StepKind.OUTPUT_GRADIENT:
        lines = _output_gradient_step_lines(context)
    elif step.kind is StepKind.BACKWARD:
        lines = _backward_step_lines(context, step.layer)
    else:
        lines = _update_step_lines(context)
    if context.sample_count > 1 and step.kind in (StepKind.FORWARD, StepKind.OUTPUT_GRADIENT):
        lines.insert(0, f"sample 1 of {context.sample_count} shown")
    title = f"Iteration {snapshot.iteration + 1}, step {snapshot.position} of {total}: {describe_step(step)}"
    return Explanation(title, tuple(_cut(lines)))


def _cut(lines: list[str]) -> list[str]:
    if len(lines) <= STEP_LINES:
        return lines
    hidden = len(lines) - (STEP_LINES - 1)
    return lines[: STEP_LINES - 1] + [f"… {hidden} more lines: select a quantity to see it"]


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def _forward_step_lines(context: _Context, layer: int) -> list[str]:
    snapshot = context.snapshot
    activation = context.activation(layer)
    lines: list[str] = []
    for row, neuron in enumerate(context.names.neurons[layer]):
        symbolic, substituted = _weighted_sum(context, layer, row, 0)
        z = float(snapshot.z[layer][0, row])
        z_name = neuron if activation.is_identity else f"z({neuron})"
        lines.append(f"{z_name} = {symbolic} = {substituted} = {number(z)}")
        if not activation.is_identity:
            lines.append(activation_line(neuron, activation, z, float(snapshot.a[layer][0, row])))
    return lines


def _output_gradient_step_lines(context: _Context) -> list[str]:
    outputs = context.names.neurons[-1]
    lines: list[str] = []
    for row in range(len(outputs)):
        lines.extend(_output_gradient_line(context, row, 0))
    lines.append(f"from the loss: {context.scenario.loss.gradient_formula}")
    return _unique(lines)


def _tuple(items: list[str]) -> str:
    text = join_terms(items, ", ")
    return text if len(items) == 1 else f"({text})"


def _backward_step_lines(context: _Context, layer: int) -> list[str]:
    snapshot = context.snapshot
    names = context.names
    single = context.sample_count == 1
    inputs = names.layer_inputs(layer)
    lines: list[str] = []

    if not context.activation(layer).is_identity:
        for row in range(len(names.neurons[layer])):
            lines.append(_pre_activation_lines(context, layer, row, 0)[1])

    for row, weight_names in enumerate(names.weights[layer]):
        upstream = context.gradient_name(layer, row)
        gradients = _tuple([number(value) for value in snapshot.grad_w[layer][row]])
        targets = f"dL/d{_tuple(list(weight_names))}"
        if single:
            values = _tuple([number(value) for value in snapshot.layer_input(layer)[0]])
            factor = operand(snapshot.grad_z[layer][0, row])
            lines.append(f"{targets} = {upstream} · {_tuple(list(inputs))} = {factor} · {values} = {gradients}")
        else:
            lines.append(f"{targets} = Σ_samples {upstream} · {_tuple(list(inputs))} = {gradients}")

    upstreams = _tuple([context.gradient_name(layer, row) for row in range(len(names.biases[layer]))])
    gradients = _tuple([number(value) for value in snapshot.grad_b[layer]])
    sum_sign = "" if single else "Σ_samples "
    lines.append(f"dL/d{_tuple(list(names.biases[layer]))} = {sum_sign}{upstreams} = {gradients}")

    if layer > 0:
        for row in range(len(names.neurons[layer - 1])):
            lines.append(_backward_sum_line(context, layer - 1, row, 0))
        if not single:
            lines.append(f"dL/d{names.neurons[layer - 1][0]}.. shown for sample 1 of {context.sample_count}")
    return lines


def _update_step_lines(context: _Context) -> list[str]:
    snapshot = context.snapshot
    update = snapshot.update
    spec = context.scenario.optimizer
    lines = [f"{spec.formula}, η = {number(update.learning_rate)}"]
    fixed: list[str] = []
    for name, reference in context.names.parameters.items():
        layer_spec = context.scenario.layers[reference.layer]
        if (layer_spec.fixed_weights if reference.kind == "weights" else layer_spec.fixed_biases):
            fixed.append(name)
            continue
        old_arrays = update.weights if reference.kind == "weights" else update.biases
        new_arrays = snapshot.weights if reference.kind == "weights" else snapshot.biases
        old = _parameter_value(old_arrays, reference)
        new = _parameter_value(new_arrays, reference)
        if spec.name == "sgd":
            gradients = snapshot.grad_w if reference.kind == "weights" else snapshot.grad_b
            gradient = _parameter_value(gradients, reference)
            lines.append(
                f"{name} ← {number(old)} - {operand(update.learning_rate)} · {operand(gradient)} = {number(new)}"
            )
        else:
            lines.append(f"{name}: {number(old)} → {number(new)}")
    if fixed:
        lines.insert(1, f"fixed, unchanged: {compress_names(fixed)}")
    return lines
