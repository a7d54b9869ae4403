"""The lines that derive each quantity at the cursor: values, the loss, gradients and updates.

Each function returns formula lines with the snapshot's numbers substituted,
or, for a quantity the cursor has not reached, its formula and the step that
will compute it. core.explain picks the function for a name.
"""

from __future__ import annotations

import math

import numpy as np

from core.activations import Activation
from core.engine import Session, Snapshot, Step, StepKind
from core.explain_text import activation_line, derivative_line, join_terms, number, operand
from core.naming import ParameterRef

MAX_SAMPLE_LINES = 4  # per-sample lines shown before "… and N more samples"


class Cursor:
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

    def activation(self, layer: int) -> Activation:
        return self.session.activations[layer]

    def neuron(self, layer: int, row: int) -> str:
        return self.names.neurons[layer][row]

    def is_output(self, layer: int) -> bool:
        return layer == len(self.scenario.layers) - 1

    def sample_label(self, sample: int) -> str:
        """Return the prefix 'sample 2: ' within a batch, '' for a single sample."""
        if self.sample_count == 1:
            return ""
        # Samples are named by their row in the data, as the tables' s1, s2, ... and the trace do.
        row = int(self.snapshot.sample_indices[sample])
        return f"sample {row + 1}: "

    def pending(self, quantity: str, step: Step) -> str:
        """Write which step computes `quantity`, and where the cursor is."""
        step_number = self.session.plan.index(step) + 1
        total = len(self.session.plan)
        return (
            f"{quantity} is not computed yet: the {describe_step(step)} computes it "
            f"(step {step_number} of {total}; the cursor is after step {self.snapshot.position})."
        )

    def gradient_name(self, layer: int, row: int) -> str:
        """Return the name of a neuron's dL/dz, written dL/du1 as the lecture does when z = u1."""
        neuron = self.neuron(layer, row)
        return f"dL/d{neuron}" if self.activation(layer).is_identity else f"dL/dz({neuron})"

    def sample_lines(self, lines_for_sample) -> list[str]:
        """Label the lines of each selected sample, eliding samples beyond MAX_SAMPLE_LINES."""
        lines: list[str] = []
        listed = self.samples[:MAX_SAMPLE_LINES]
        for sample in listed:
            label = self.sample_label(sample)
            lines.extend(label + line for line in lines_for_sample(sample))
        hidden = len(self.samples) - len(listed)
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


# Data, values and the loss


def data_lines(cursor: Cursor, name: str, column: int, is_input: bool) -> list[str]:
    """Explain an input x or a target y: data, with no gradient."""
    array = cursor.snapshot.inputs if is_input else cursor.snapshot.targets
    lines = cursor.sample_lines(lambda sample: [f"{name} = {number(array[sample, column])}"])
    if is_input:
        lines.append(
            f"{name} is data, not a parameter. Backpropagation needs no dL/d{name}: "
            "the gradients stop at the first layer's weights and biases."
        )
    else:
        lines.append(f"{name} is the target the loss compares with the output.")
    return lines


def weighted_sum(cursor: Cursor, layer: int, row: int, sample: int | None) -> tuple[str, str | None]:
    """Return 'w1·x1 + w2·x2 + b1' and, for a sample, '4·3 + 3·2 + 4'."""
    names = cursor.names
    inputs = names.layer_inputs(layer)
    symbolic = join_terms(
        [f"{weight}·{source}" for weight, source in zip(names.weights[layer][row], inputs)]
        + [names.biases[layer][row]]
    )
    if sample is None:
        return symbolic, None
    values = cursor.snapshot.layer_input(layer)[sample]
    weights = cursor.weights[layer][row]
    substituted = join_terms(
        [f"{operand(weight)}·{operand(value)}" for weight, value in zip(weights, values)]
        + [operand(cursor.biases[layer][row])]
    )
    return symbolic, substituted


def value_lines(cursor: Cursor, layer: int, row: int, only_pre_activation: bool) -> list[str]:
    """Explain a neuron's weighted sum z and, unless `only_pre_activation`, its a = f(z)."""
    snapshot = cursor.snapshot
    neuron = cursor.neuron(layer, row)
    activation = cursor.activation(layer)
    z_name = neuron if activation.is_identity else f"z({neuron})"
    if snapshot.z[layer] is None:
        symbolic, _ = weighted_sum(cursor, layer, row, None)
        lines = [f"{z_name} = {symbolic}"]
        if not activation.is_identity and not only_pre_activation:
            lines.append(activation.formula.replace("a = ", f"{neuron} = ", 1).replace("(z)", f"(z({neuron}))", 1))
        lines.append(cursor.pending(neuron, Step(StepKind.FORWARD, layer)))
        return lines

    def lines_for(sample: int) -> list[str]:
        symbolic, substituted = weighted_sum(cursor, layer, row, sample)
        z = float(snapshot.z[layer][sample, row])
        result = [f"{z_name} = {symbolic} = {substituted} = {number(z)}"]
        if not activation.is_identity and not only_pre_activation:
            result.append(activation_line(neuron, activation, z, float(snapshot.a[layer][sample, row])))
        return result

    return cursor.sample_lines(lines_for)


def _squared_error_terms(cursor: Cursor, sample: int | None) -> tuple[str, str | None]:
    """Return '(ŷ1 - y1)² + (ŷ2 - y2)²' and its numbers for a sample."""
    outputs = cursor.names.neurons[-1]
    targets = cursor.names.targets
    symbolic = join_terms([f"({o} - {t})²" for o, t in zip(outputs, targets)])
    if sample is None:
        return symbolic, None
    predictions = cursor.snapshot.a[-1][sample]
    values = cursor.snapshot.targets[sample]
    substituted = join_terms(
        [f"({number(p)} - {operand(y)})²" for p, y in zip(predictions, values)]
    )
    return symbolic, substituted


def _loss_factor(cursor: Cursor) -> tuple[str, str]:
    """Return the constant in front of one sample's squared error, symbolic and with n substituted."""
    name = cursor.scenario.loss.name
    if name == "mse":
        return "(1/n)", f"(1/{cursor.sample_count})"
    if name == "half_sse":
        return "½", "½"
    return "", ""


def _bracket(factor: str, terms: str, outputs: int) -> str:
    """Put the loss's constant factor in front: ½(ŷ - y)², (1/3)[(ŷ1 - y1)² + (ŷ2 - y2)²]."""
    if not factor:
        return terms
    return f"{factor}{terms}" if outputs == 1 else f"{factor}[{terms}]"


def loss_lines(cursor: Cursor) -> list[str]:
    """Explain L: each sample's term with numbers, their sum and the loss's convention."""
    snapshot = cursor.snapshot
    loss = cursor.scenario.loss
    if snapshot.loss is None:
        return [loss.formula, cursor.pending("L", Step(StepKind.LOSS)), f"convention: {loss.convention}"]
    if loss.name == "cross_entropy":
        lines = _cross_entropy_lines(cursor)
    else:
        outputs = len(cursor.names.targets)
        factor, factor_numbers = _loss_factor(cursor)

        def lines_for(sample: int) -> list[str]:
            symbolic, substituted = _squared_error_terms(cursor, sample)
            term = float(snapshot.sample_losses[sample])
            left = "L" if cursor.sample_count == 1 else "term"
            return [
                f"{left} = {_bracket(factor, symbolic, outputs)} = "
                f"{_bracket(factor_numbers, substituted, outputs)} = {number(term)}"
            ]

        lines = cursor.sample_lines(lines_for)
    if cursor.sample_count > 1:
        terms = [operand(term) for term in snapshot.sample_losses]
        lines.insert(0, loss.formula)
        lines.append(f"L = {join_terms(terms)} = {number(snapshot.loss)}")
    lines.append(f"convention: {loss.convention}")
    return lines


def _softmax_row(predictions: np.ndarray) -> np.ndarray:
    shifted = predictions - predictions.max()
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum()


def _softmax_line(cursor: Cursor, sample: int) -> str:
    outputs = cursor.names.neurons[-1]
    probabilities = _softmax_row(cursor.snapshot.a[-1][sample])
    symbols = ", ".join(f"p{index + 1}" for index in range(len(outputs)))
    values = ", ".join(number(p) for p in probabilities)
    return f"({symbols}) = softmax({', '.join(outputs)}) = ({values})"


def _cross_entropy_lines(cursor: Cursor) -> list[str]:
    snapshot = cursor.snapshot
    count = cursor.sample_count

    def lines_for(sample: int) -> list[str]:
        targets = snapshot.targets[sample]
        probabilities = _softmax_row(snapshot.a[-1][sample])
        term = float(snapshot.sample_losses[sample])
        left = "L" if count == 1 else "term"
        hot = [index for index, value in enumerate(targets) if value != 0.0]
        if len(hot) == 1 and targets[hot[0]] == 1.0:
            k = hot[0]
            formula = f"-(1/n)·log p{k + 1} = -(1/{count})·log({number(probabilities[k])})"
            return [_softmax_line(cursor, sample), f"{left} = {formula} = {number(term)}"]
        pairs = [f"{operand(targets[k])}·log({number(probabilities[k])})" for k in hot]
        formula = f"-(1/n)·Σ y·log p = -(1/{count})·({join_terms(pairs)})"
        return [_softmax_line(cursor, sample), f"{left} = {formula} = {number(term)}"]

    return cursor.sample_lines(lines_for)


# Gradients


def output_gradient_lines(cursor: Cursor, row: int, sample: int) -> list[str]:
    """Explain dL/dŷ for one output and sample, from the loss's gradient formula."""
    snapshot = cursor.snapshot
    neuron = cursor.neuron(len(cursor.scenario.layers) - 1, row)
    target = cursor.names.targets[row]
    prediction = float(snapshot.a[-1][sample, row])
    value = float(snapshot.targets[sample, row])
    gradient = number(snapshot.grad_a[-1][sample, row])
    loss = cursor.scenario.loss.name
    count = cursor.sample_count
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
        _softmax_line(cursor, sample),
        f"dL/d{neuron} = (p{row + 1} - {target})/n = ({number(probability)} - {operand(value)})/{count} = {gradient}",
    ]


def backward_sum_line(cursor: Cursor, layer: int, row: int, sample: int) -> str:
    """dL/du_j = Σ_k dL/dz_k · w(u_j → k): the multivariable chain rule for one sample."""
    snapshot = cursor.snapshot
    neuron = cursor.neuron(layer, row)
    following = layer + 1
    weights = cursor.weights[following][:, row]
    weight_names = [names[row] for names in cursor.names.weights[following]]
    downstream = [cursor.gradient_name(following, k) for k in range(len(weights))]
    symbolic = join_terms([f"{g} · {w}" for g, w in zip(downstream, weight_names)])
    substituted = join_terms(
        [f"{operand(g)} · {operand(w)}" for g, w in zip(snapshot.grad_z[following][sample], weights)]
    )
    return f"dL/d{neuron} = {symbolic} = {substituted} = {number(snapshot.grad_a[layer][sample, row])}"


def _paths_line(cursor: Cursor, layer: int, row: int) -> str:
    neuron = cursor.neuron(layer, row)
    following = cursor.names.neurons[layer + 1]
    if len(following) == 1:
        return f"{neuron} feeds only {following[0]}, so the chain rule has one term."
    listed = ", ".join(following[:-1]) + f" and {following[-1]}"
    return (
        f"{neuron} feeds {listed}, so it reaches the loss through each of them, and the "
        "multivariable chain rule adds one term per neuron it feeds."
    )


def pre_activation_lines(cursor: Cursor, layer: int, row: int, sample: int) -> list[str]:
    """σ'(z) and dL/dz = dL/da · σ'(z) for one neuron and sample."""
    snapshot = cursor.snapshot
    neuron = cursor.neuron(layer, row)
    activation = cursor.activation(layer)
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


def _value_gradient_step(cursor: Cursor, layer: int) -> Step:
    if cursor.is_output(layer):
        return Step(StepKind.OUTPUT_GRADIENT)
    return Step(StepKind.BACKWARD, layer + 1)


def value_gradient_lines(cursor: Cursor, layer: int, row: int) -> list[str]:
    """Explain dL/d(neuron): from the loss for an output, by the chain rule for a hidden neuron."""
    snapshot = cursor.snapshot
    neuron = cursor.neuron(layer, row)
    output = cursor.is_output(layer)
    if snapshot.grad_a[layer] is None:
        if output:
            formula = cursor.scenario.loss.gradient_formula
        else:
            following = layer + 1
            formula = f"dL/d{neuron} = " + join_terms([
                f"{cursor.gradient_name(following, k)} · {names[row]}"
                for k, names in enumerate(cursor.names.weights[following])
            ])
        return [formula, cursor.pending(f"dL/d{neuron}", _value_gradient_step(cursor, layer))]

    def lines_for(sample: int) -> list[str]:
        if output:
            result = output_gradient_lines(cursor, row, sample)
        else:
            result = [backward_sum_line(cursor, layer, row, sample)]
        if not cursor.activation(layer).is_identity and snapshot.grad_z[layer] is not None:
            result.extend(pre_activation_lines(cursor, layer, row, sample))
        return result

    lines = cursor.sample_lines(lines_for)
    if not output:
        lines.append(_paths_line(cursor, layer, row))
    else:
        lines.append(f"from the loss: {cursor.scenario.loss.gradient_formula} ({cursor.scenario.loss.convention})")
    return lines


def pre_activation_gradient_lines(cursor: Cursor, layer: int, row: int) -> list[str]:
    """Explain dL/dz = dL/da · f'(z) for a neuron of a layer with an activation."""
    neuron = cursor.neuron(layer, row)
    if cursor.snapshot.grad_z[layer] is None:
        symbol, _, rule = cursor.activation(layer).derivative_formula.partition(" = ")
        return [
            f"dL/dz({neuron}) = dL/d{neuron} · {symbol}, where {symbol} = {rule}",
            cursor.pending(f"dL/dz({neuron})", Step(StepKind.BACKWARD, layer)),
        ]
    return cursor.sample_lines(lambda sample: pre_activation_lines(cursor, layer, row, sample))


def parameter_gradient_lines(cursor: Cursor, reference: ParameterRef) -> list[str]:
    """Explain dL/dw or dL/db: one product per sample, added over the batch."""
    snapshot = cursor.snapshot
    layer, row = reference.layer, reference.row
    name = reference.name
    upstream = cursor.gradient_name(layer, row)
    is_weight = reference.kind == "weights"
    source = cursor.names.layer_inputs(layer)[reference.column] if is_weight else "1"
    if snapshot.grad_w[layer] is None:
        return [
            f"dL/d{name} = {upstream} · {source}",
            cursor.pending(f"dL/d{name}", Step(StepKind.BACKWARD, layer)),
        ]

    def term(sample: int) -> tuple[float, float, float]:
        gradient_z = float(snapshot.grad_z[layer][sample, row])
        if is_weight:
            factor = float(snapshot.layer_input(layer)[sample, reference.column])
            return gradient_z, factor, float(snapshot.grad_w_samples[layer][sample, row, reference.column])
        return gradient_z, 1.0, float(snapshot.grad_b_samples[layer][sample, row])

    total = float(snapshot.grad_w[layer][row, reference.column] if is_weight else snapshot.grad_b[layer][row])
    lines: list[str] = []
    activated = not cursor.activation(layer).is_identity
    count = cursor.sample_count
    if count == 1:
        if activated:
            lines.extend(pre_activation_lines(cursor, layer, row, 0))
        gradient_z, factor, _ = term(0)
        lines.append(
            f"dL/d{name} = {upstream} · {source} = {operand(gradient_z)} · {operand(factor)} = {number(total)}"
        )
    else:
        lines.append(f"dL/d{name} = Σ over the {count} samples of {upstream} · {source}")
        if activated:
            slope = cursor.activation(layer).derivative_formula.partition(" = ")[0]
            lines.append(f"with {upstream} = dL/d{cursor.neuron(layer, row)} · {slope} for each sample")
        everyone = Cursor(cursor.session, None)

        def per_sample(sample: int) -> list[str]:
            gradient_z, factor, value = term(sample)
            return [f"{upstream} · {source} = {operand(gradient_z)} · {operand(factor)} = {number(value)}"]

        lines.extend(everyone.sample_lines(per_sample))
        terms = [operand(term(sample)[2]) for sample in range(count)]
        lines.append(f"dL/d{name} = {join_terms(terms)} = {number(total)}")
    if not is_weight:
        neuron = cursor.neuron(layer, row)
        target = neuron if cursor.activation(layer).is_identity else f"z({neuron})"
        if count == 1:
            lines.append(f"{name} enters {target} with factor 1, so its gradient is {upstream} itself.")
        else:
            lines.append(f"{name} enters {target} with factor 1, so each sample's term is its {upstream}.")
    layer_spec = cursor.scenario.layers[layer]
    if layer_spec.fixed_weights if is_weight else layer_spec.fixed_biases:
        lines.append(f"{name} is fixed: its gradient is shown, but the update does not apply it.")
    return lines


# Parameters and the update


def _state_value(state: dict, key: str, reference: ParameterRef) -> float:
    """Return one parameter's entry of an optimizer state, whose lists follow the order W1, b1, W2, b2, ..."""
    array = state[key][2 * reference.layer + (0 if reference.kind == "weights" else 1)]
    if reference.kind == "weights":
        return float(array[reference.row, reference.column])
    return float(array[reference.row])


def parameter_value(arrays, reference: ParameterRef) -> float:
    """Return the parameter's entry of per-layer weight or bias arrays."""
    array = arrays[reference.layer]
    if reference.kind == "weights":
        return float(array[reference.row, reference.column])
    return float(array[reference.row])


def parameter_lines(cursor: Cursor, reference: ParameterRef) -> list[str]:
    """Explain a weight or bias: its role, its gradient and its update, as far as they are known."""
    snapshot = cursor.snapshot
    name = reference.name
    layer = reference.layer
    neuron = cursor.neuron(layer, reference.row)
    arrays = cursor.weights if reference.kind == "weights" else cursor.biases
    old = parameter_value(arrays, reference)
    if reference.kind == "weights":
        role = f"the weight from {cursor.names.layer_inputs(layer)[reference.column]} into {neuron}"
    else:
        role = f"the bias of {neuron}"
    # The value this iteration used; the update line gives the new one.
    lines = [f"{name} = {number(old)}: {role}"]
    gradients = snapshot.grad_w if reference.kind == "weights" else snapshot.grad_b
    if gradients[layer] is not None:
        lines.extend(parameter_gradient_lines(cursor, reference))

    layer_spec = cursor.scenario.layers[layer]
    fixed = layer_spec.fixed_weights if reference.kind == "weights" else layer_spec.fixed_biases
    if fixed:
        if gradients[layer] is None:
            lines.append(f"{name} is fixed: the update leaves it at {number(old)}.")
        return lines

    update = snapshot.update
    if update is not None:
        new = parameter_value(snapshot.weights if reference.kind == "weights" else snapshot.biases, reference)
        lines.extend(
            update_lines(
                cursor, reference, old, parameter_value(gradients, reference), update.learning_rate,
                update.optimizer_state, update.update_number, new,
            )
        )
        return lines
    update_step = Step(StepKind.UPDATE)
    if gradients[layer] is None:
        lines.append(f"update rule: {cursor.scenario.optimizer.formula}")
        lines.append(cursor.pending(f"the new {name}", update_step))
        return lines
    preview = update_lines(
        cursor, reference, old, parameter_value(gradients, reference), cursor.session.learning_rate,
        snapshot.optimizer_state, snapshot.iteration + 1, None,
    )
    lines.extend(preview)
    lines.append(f"not applied yet: the {describe_step(update_step)} applies it.")
    return lines


def update_lines(
    cursor: Cursor,
    reference: ParameterRef,
    old: float,
    gradient: float,
    learning_rate: float,
    state_before: dict,
    update_number: int,
    new: float | None,
) -> list[str]:
    """Write the optimizer's formula for one parameter with its numbers; `new` None computes it here."""
    spec = cursor.scenario.optimizer
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


