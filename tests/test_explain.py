"""Explanations: the lecture's lines reproduced exactly, and every name explains at every step.

The expected strings are the board's arithmetic from the lecture's worked
examples, written out by hand here, not copied from the code's output.
"""

from __future__ import annotations

import math

import pytest

from core.bundled import bundled_scenarios
from core.engine import Session
from core.explain import (
    Explanation,
    UnknownQuantityError,
    compress_names,
    explain,
    explain_step,
    explainable_names,
    format_explanation,
    gradient_check,
    number,
    operand,
)
from core.loader import load_scenario, parse_scenario
from tests.helpers import SCENARIOS, lecture_session


def lines_of(session: Session, name: str, sample: int | None = None) -> tuple[str, ...]:
    return explain(session, name, sample).lines


# Number formatting


def test_number_integers_without_decimal_point():
    assert number(484.0) == "484"
    assert number(-2.0) == "-2"
    assert number(-0.0) == "0"


def test_number_six_significant_digits():
    assert number(-1 / 3) == "-0.333333"
    assert number(0.1 - 0.01 * 0.2) == "0.098"
    assert number(1e-20) == "1e-20"
    assert number(1.5e-7) == "1.5e-7"
    assert number(2.3e12) == "2.3e12"


def test_number_non_finite():
    assert number(math.nan) == "nan"
    assert number(math.inf) == "inf"
    assert number(-math.inf) == "-inf"


def test_operand_parenthesizes_negatives():
    assert operand(-2) == "(-2)"
    assert operand(6) == "6"


def test_compress_names_ranges():
    assert compress_names(["x1", "x2", "u1", "u2", "u3", "loss", "w1", "w2", "w3", "w4"]) == (
        "x1, x2, u1..u3, loss, w1..w4"
    )


def test_compress_names_brackets_and_gaps():
    names = ["z(u1)", "z(u2)", "z(u3)", "ŷ", "w1", "w2", "w4", "w5", "w6", "dL/dz(u1)", "dL/dz(u2)"]
    assert compress_names(names) == "z(u1)..z(u3), ŷ, w1, w2, w4..w6, dL/dz(u1), dL/dz(u2)"


# Example 1: one sample, no hidden layer


def test_example1_output_gradient():
    session = lecture_session("example1")
    session.to_end_of_backward()

    assert lines_of(session, "dL/dŷ")[0] == "dL/dŷ = 2(ŷ - y) = 2(1.6 - 1.5) = 0.2"


def test_example1_forward_value():
    session = lecture_session("example1")
    session.to_end_of_forward()

    assert lines_of(session, "ŷ") == (
        "ŷ = w1·x1 + w2·x2 + w3·x3 + b1 = 0.1·1 + 0.2·1 + 0.4·2 + 0.5 = 1.6",
    )


def test_example1_loss():
    session = lecture_session("example1")
    session.to_end_of_forward()

    lines = lines_of(session, "loss")
    assert lines[0] == "L = (ŷ - y)² = (1.6 - 1.5)² = 0.01"
    assert "no factor" in lines[-1]


def test_example1_update():
    session = lecture_session("example1")
    session.to_end_of_iteration()

    lines = lines_of(session, "w1")
    assert "w1 ← w1 - η · dL/dw1 = 0.1 - 0.01 · 0.2 = 0.098" in lines
    # The first line gives the value the iteration used; the update line gives the new one.
    assert lines[0].startswith("w1 = 0.1: ")


def test_example1_update_preview_before_update():
    session = lecture_session("example1")
    session.to_end_of_backward()

    lines = lines_of(session, "w3")
    assert "w3 ← w3 - η · dL/dw3 = 0.4 - 0.01 · 0.4 = 0.396" in lines
    assert any("not applied yet" in line for line in lines)


def test_example1_bias_gradient():
    session = lecture_session("example1")
    session.to_end_of_backward()

    assert lines_of(session, "dL/db1")[0] == "dL/db1 = dL/dŷ · 1 = 0.2 · 1 = 0.2"


# Example 2: a batch of three samples


def test_example2_output_gradient_per_sample():
    session = lecture_session("example2")
    session.to_end_of_backward()

    lines = lines_of(session, "dL/dŷ")
    assert lines[0] == "sample 1: dL/dŷ = (2/n)(ŷ - y) = (2/3)(2.5 - 3) = -0.333333"
    assert lines[1] == "sample 2: dL/dŷ = (2/n)(ŷ - y) = (2/3)(4.5 - 4) = 0.333333"
    assert lines[2] == "sample 3: dL/dŷ = (2/n)(ŷ - y) = (2/3)(3.5 - 5) = -1"


def test_example2_one_sample_selected():
    session = lecture_session("example2")
    session.to_end_of_backward()

    explanation = explain(session, "dL/dŷ", sample=0)
    assert explanation.lines[0] == "sample 1: dL/dŷ = (2/n)(ŷ - y) = (2/3)(2.5 - 3) = -0.333333"
    assert explanation.title == "dL/dŷ, sample 1 of 3"
    assert not any(line.startswith("sample 2") for line in explanation.lines)


def test_example2_weight_gradient_sums_samples():
    session = lecture_session("example2")
    session.to_end_of_backward()

    lines = lines_of(session, "dL/dw1")
    # Per sample dL/dŷ · x1: (-1/3)·2, (1/3)·(-1), (-1)·1.
    assert "sample 1: dL/dŷ · x1 = (-0.333333) · 2 = -0.666667" in lines
    assert "sample 2: dL/dŷ · x1 = 0.333333 · (-1) = -0.333333" in lines
    assert "sample 3: dL/dŷ · x1 = (-1) · 1 = -1" in lines
    assert lines[-1] == "dL/dw1 = (-0.666667) + (-0.333333) + (-1) = -2"


def test_example2_weight_gradient_ignores_sample():
    session = lecture_session("example2")
    session.to_end_of_backward()

    # A parameter's gradient is the batch sum, whichever sample is highlighted.
    assert explain(session, "dL/dw1", sample=1).lines[-1] == "dL/dw1 = (-0.666667) + (-0.333333) + (-1) = -2"


def test_example2_loss_terms():
    session = lecture_session("example2")
    session.to_end_of_forward()

    lines = lines_of(session, "loss")
    assert "sample 1: term = (1/n)(ŷ - y)² = (1/3)(2.5 - 3)² = 0.0833333" in lines
    assert "sample 3: term = (1/n)(ŷ - y)² = (1/3)(3.5 - 5)² = 0.75" in lines
    assert "L = 0.0833333 + 0.0833333 + 0.75 = 0.916667" in lines
    assert any("mean over the n samples" in line for line in lines)


# Example 3: two layers, one sample


@pytest.fixture
def example3_backward() -> Session:
    session = lecture_session("example3")
    session.to_end_of_backward()
    return session


def test_example3_weight_gradient(example3_backward):
    assert lines_of(example3_backward, "dL/dw7") == ("dL/dw7 = dL/dŷ1 · u1 = 22 · 22 = 484",)


def test_example3_first_layer_gradient(example3_backward):
    # dL/dw5 = dL/du3 · x1 = (-124) · 3 = -372.
    assert lines_of(example3_backward, "dL/dw5") == ("dL/dw5 = dL/du3 · x1 = (-124) · 3 = -372",)


def test_example3_multivariable_chain_rule(example3_backward):
    lines = lines_of(example3_backward, "dL/du1")
    assert lines[0] == "dL/du1 = dL/dŷ1 · w7 + dL/dŷ2 · w10 = 22 · 2 + 6 · (-2) = 32"
    assert "feeds ŷ1 and ŷ2" in lines[1]
    assert "multivariable chain rule" in lines[1]


def test_example3_hidden_value(example3_backward):
    lines = lines_of(example3_backward, "u1")
    assert lines[0] == "u1 = w1·x1 + w2·x2 + b1 = 4·3 + 3·2 + 4 = 22"
    # Once the backward pass has reached u1, its derivative follows its value.
    assert lines[1] == "dL/du1 = dL/dŷ1 · w7 + dL/dŷ2 · w10 = 22 · 2 + 6 · (-2) = 32"
    assert lines_of(example3_backward, "u2")[0] == "u2 = w3·x1 + w4·x2 + b2 = 1·3 + (-1)·2 + 2 = 3"


def test_example3_loss_two_outputs(example3_backward):
    assert lines_of(example3_backward, "loss")[0] == (
        "L = (ŷ1 - y1)² + (ŷ2 - y2)² = (12 - 1)² + (7 - 4)² = 130"
    )


def test_example3_values_after_update_use_old_weights():
    session = lecture_session("example3")
    session.to_end_of_iteration()

    # The forward pass of this iteration ran before the update, with w1 = 4.
    assert lines_of(session, "u1")[0] == "u1 = w1·x1 + w2·x2 + b1 = 4·3 + 3·2 + 4 = 22"
    assert "w1 ← w1 - η · dL/dw1 = 4 - 0.0001 · 96 = 3.9904" in lines_of(session, "w1")


def test_example3_ascii_names(example3_backward):
    assert explain(example3_backward, "dL/dyhat1").lines[0].startswith("dL/dŷ1 = 2(ŷ1 - y1)")
    assert explain(example3_backward, " w7 ").title == "w7"


# Not computed yet


def test_pending_gradient_names_its_step():
    session = lecture_session("example3")
    session.to_end_of_forward()

    lines = lines_of(session, "dL/dw7")
    assert lines[0] == "dL/dw7 = dL/dŷ1 · u1"
    assert "not computed yet" in lines[1]
    assert "backward step through layer 2" in lines[1]


def test_pending_value_at_start():
    session = lecture_session("example3")

    lines = lines_of(session, "ŷ2")
    assert lines[0] == "ŷ2 = w10·u1 + w11·u2 + w12·u3 + b5"
    assert "forward step through layer 2" in lines[1]


def test_pending_loss_at_start():
    session = lecture_session("example1")

    lines = lines_of(session, "loss")
    assert any("not computed yet" in line for line in lines)


# Activations


def test_sigmoid_gradient_through_activation():
    session = lecture_session("sigmoid-half-sse")
    session.to_end_of_backward()

    # By hand: ŷ1 = σ(1.105905967) = 0.75136507, dL/dŷ1 = ŷ1 - 0.01 = 0.74136507,
    # σ' = 0.75136507·(1 - 0.75136507) = 0.18681560, dL/dz = 0.13849856.
    lines = lines_of(session, "dL/dz(ŷ1)")
    assert lines[0] == "σ'(z) = σ(z)·(1 - σ(z)) = 0.751365·(1 - 0.751365) = 0.186816"
    assert lines[1] == "dL/dz(ŷ1) = dL/dŷ1 · σ'(z) = 0.741365 · 0.186816 = 0.138499"


def test_sigmoid_value_shows_activation():
    session = lecture_session("sigmoid-half-sse")
    session.to_end_of_forward()

    # z(u1) = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775 and σ(0.3775) = 0.59327.
    lines = lines_of(session, "u1")
    assert lines[0] == "z(u1) = w1·x1 + w2·x2 + b1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775"
    assert lines[1] == "u1 = σ(z) = 1 / (1 + e^-z) = 1 / (1 + e^-0.3775) = 0.59327"


def test_sigmoid_weight_gradient_includes_slope():
    session = lecture_session("sigmoid-half-sse")
    session.to_end_of_backward()

    lines = lines_of(session, "dL/dw5")
    # dL/dw5 = 0.13849856 · 0.59326999 = 0.08216704.
    assert lines[-1] == "dL/dw5 = dL/dz(ŷ1) · u1 = 0.138499 · 0.59327 = 0.082167"
    assert any(line.startswith("σ'(z) = ") for line in lines)


def test_half_sse_loss_and_gradient():
    session = lecture_session("sigmoid-half-sse")
    session.to_end_of_backward()

    assert lines_of(session, "loss")[0].startswith("L = ½[(ŷ1 - y1)² + (ŷ2 - y2)²] = ½[")
    assert lines_of(session, "loss")[0].endswith(" = 0.298371")
    assert lines_of(session, "dL/dŷ1")[0] == "dL/dŷ1 = ŷ1 - y1 = 0.751365 - 0.01 = 0.741365"


RELU_TEXT = """
title = "relu"
learning_rate = 0.1
[data]
inputs = [[1, 2]]
targets = [[1]]
[[layers]]
weights = [[1, -1], [1, 1]]
biases = [0, 0]
activation = "relu"
[[layers]]
weights = [[1, 1]]
biases = [0]
"""


def test_relu_value_and_slope():
    session = Session(parse_scenario(RELU_TEXT))
    session.to_end_of_backward()

    # u1: z = 1 - 2 = -1, so u1 = 0 and its slope is 0; u2: z = 3.
    assert lines_of(session, "u1")[1] == "u1 = max(z, 0) = max(-1, 0) = 0"
    assert lines_of(session, "dL/dz(u1)")[0] == "f'(z) = 0 because z = -1 ≤ 0"
    assert lines_of(session, "dL/dz(u2)")[0] == "f'(z) = 1 because z = 3 > 0"


TANH_LEAKY_TEXT = """
title = "tanh and leaky relu"
learning_rate = 0.1
[data]
inputs = [[1]]
targets = [[0]]
[[layers]]
weights = [[0.5], [-2]]
biases = [0, 0]
activation = "tanh"
[[layers]]
weights = [[1, 1]]
biases = [0]
activation = "leaky_relu"
negative_slope = 0.1
"""


def test_tanh_value_and_slope():
    session = Session(parse_scenario(TANH_LEAKY_TEXT))
    session.to_end_of_backward()

    # tanh(0.5) = 0.46211716, tanh'(0.5) = 1 - 0.46211716² = 0.78644773.
    assert lines_of(session, "u1")[1] == "u1 = tanh(z) = tanh(0.5) = 0.462117"
    assert lines_of(session, "dL/dz(u1)")[0] == "tanh'(z) = 1 - tanh(z)² = 1 - 0.462117² = 0.786448"


def test_leaky_relu_negative_side():
    session = Session(parse_scenario(TANH_LEAKY_TEXT))
    session.to_end_of_backward()

    # z(ŷ) = tanh(0.5) + tanh(-2) = 0.46211716 - 0.96402758 = -0.50191042, ŷ = 0.1·z.
    assert lines_of(session, "ŷ")[1] == "ŷ = z if z > 0, else 0.1·z = 0.1·(-0.50191) = -0.050191"
    assert lines_of(session, "dL/dz(ŷ)")[0] == "f'(z) = 0.1 because z = -0.50191 ≤ 0"


# The cross-entropy loss


def test_cross_entropy_gradient_lines():
    session = lecture_session("classification")
    session.to_end_of_backward()

    lines = lines_of(session, "dL/dŷ1", sample=0)
    assert lines[0].startswith("sample 1: (p1, p2, p3) = softmax(ŷ1, ŷ2, ŷ3) = (")
    assert lines[1].startswith("sample 1: dL/dŷ1 = (p1 - y1)/n = (")
    assert lines[1].endswith("- 1)/6 = " + lines[1].rsplit(" = ", 1)[1])


def test_cross_entropy_loss_uses_correct_class():
    session = lecture_session("classification")
    session.to_end_of_forward()

    lines = lines_of(session, "loss")
    # Samples 1 and 3 belong to classes 1 and 2.
    assert any(line.startswith("sample 1: term = -(1/n)·log p1 = -(1/6)·log(") for line in lines)
    assert any(line.startswith("sample 3: term = -(1/n)·log p2 = -(1/6)·log(") for line in lines)


# Optimizers


def test_momentum_update_lines():
    session = lecture_session("momentum")
    session.to_end_of_iteration()

    # First update: x = 1..5, y = 2x + 1, w = b = 0, so ŷ = 0 and
    # dL/dw1 = (2/5)·Σ (0 - y)·x = -(2/5)·(3 + 10 + 21 + 36 + 55) = -50.
    lines = lines_of(session, "w1")
    assert "v ← μ·v + dL/dw1 = 0.9·0 + (-50) = -50" in lines
    assert "w1 ← w1 - η · v = 0 - 0.02 · (-50) = 1" in lines
    assert any(session.scenario.optimizer.convention in line for line in lines)


def test_adam_update_lines():
    session = lecture_session("adam")
    session.to_end_of_iteration()

    # g = -50: m = 0.1·(-50) = -5, v = 0.001·2500 = 2.5, m̂ = -50, v̂ = 2500,
    # w1 = 0 - 0.3·(-50)/(50 + 1e-8) = 0.3 (to six digits).
    lines = lines_of(session, "w1")
    assert "m ← β1·m + (1-β1)·g = 0.9·0 + 0.1·(-50) = -5" in lines
    assert "v ← β2·v + (1-β2)·g² = 0.999·0 + 0.001·(-50)² = 2.5" in lines
    assert any(line.startswith("m̂ = m/(1-β1^t) = (-5)/(1 - 0.9^1) = -50") for line in lines)
    assert any(line.endswith("= 0.3") and line.startswith("w1 ← w1 - η·m̂/(√v̂ + ε)") for line in lines)


FIXED_TEXT = """
title = "fixed"
learning_rate = 0.1
[data]
inputs = [[1]]
targets = [[2]]
[[layers]]
weights = [[1]]
biases = [0]
fixed = ["biases"]
"""


def test_fixed_parameter_says_so():
    session = Session(parse_scenario(FIXED_TEXT))
    session.to_end_of_iteration()

    assert any("fixed" in line for line in lines_of(session, "b1"))
    assert any("fixed" in line for line in lines_of(session, "dL/db1"))
    assert any("fixed" in line for line in explain_step(session).lines)


# explain_step


def test_step_backward_example3_layer2():
    session = lecture_session("example3")
    session.to_end_of_forward()
    session.step_forward()
    session.step_forward()

    explanation = explain_step(session)
    assert "backward step through layer 2" in explanation.title
    assert "dL/d(w7, w8, w9) = dL/dŷ1 · (u1, u2, u3) = 22 · (22, 3, 7) = (484, 66, 154)" in explanation.lines
    assert "dL/du1 = dL/dŷ1 · w7 + dL/dŷ2 · w10 = 22 · 2 + 6 · (-2) = 32" in explanation.lines
    assert "dL/d(b4, b5) = (dL/dŷ1, dL/dŷ2) = (22, 6)" in explanation.lines


def test_step_first_layer_has_no_input_gradient():
    session = lecture_session("example3")
    session.to_end_of_backward()

    lines = explain_step(session).lines
    assert "dL/d(w1, w2) = dL/du1 · (x1, x2) = 32 · (3, 2) = (96, 64)" in lines
    assert not any(line.startswith("dL/dx") for line in lines)


def test_step_at_start():
    session = lecture_session("example1")

    explanation = explain_step(session)
    assert "before step 1" in explanation.title
    assert any("forward step through layer 1" in line for line in explanation.lines)


def test_step_update_example1():
    session = lecture_session("example1")
    session.to_end_of_iteration()

    assert "w1 ← 0.1 - 0.01 · 0.2 = 0.098" in explain_step(session).lines


WIDE_TEXT = """
title = "wide"
learning_rate = 0.1
[data]
inputs = [[1, 2]]
targets = [[1]]
[[layers]]
units = 12
init = "random"
activation = "sigmoid"
[[layers]]
units = 1
init = "random"
"""


def test_step_update_counts_remaining_parameters():
    session = Session(parse_scenario(WIDE_TEXT))
    session.to_end_of_iteration()

    # 12·2 + 12 weights and 12 + 1 biases: 49 parameters, 6 of them listed.
    lines = explain_step(session).lines
    assert len(lines) == 8
    assert lines[-1] == "… and 43 more parameters: select one to see its update"


def test_step_lines_are_bounded():
    for path in bundled_scenarios():
        session = Session(load_scenario(path))
        for _ in session.plan:
            session.step_forward()
            assert len(explain_step(session).lines) <= 8, (path.name, session.current.step)


# Every name, every position, every bundled scenario


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda path: path.stem)
def test_every_name_explains_at_every_position(path):
    session = Session(load_scenario(path))
    names = explainable_names(session)
    for position in range(len(session.plan) + 1):
        for name in names:
            explanation = explain(session, name)
            assert explanation.title.startswith(name)
            assert explanation.lines, (name, position)
            assert all(isinstance(line, str) and line for line in explanation.lines)
            explain(session, name, sample=0)
        explain_step(session)
        if position < len(session.plan):
            session.step_forward()


def test_names_cover_parameters_and_gradients(example3_backward):
    names = explainable_names(example3_backward)
    for expected in ("x1", "u3", "ŷ2", "y1", "loss", "w12", "b5", "dL/dŷ1", "dL/du3", "dL/dw1", "dL/db5"):
        assert expected in names
    assert "dL/dx1" not in names


def test_activation_names_only_where_activated():
    session = lecture_session("xor")
    names = explainable_names(session)
    assert "z(u1)" in names
    assert "dL/dz(ŷ)" in names
    assert "z(u1)" not in explainable_names(lecture_session("example3"))


# Errors and edge cases


def test_unknown_name_lists_valid_names(example3_backward):
    with pytest.raises(UnknownQuantityError) as raised:
        explain(example3_backward, "w13")
    message = str(raised.value)
    assert "'w13'" in message
    assert "w1..w12" in message
    assert "dL/du1..dL/du3" in message
    assert "w7" in raised.value.valid_names


def test_unknown_name_is_value_error(example3_backward):
    with pytest.raises(ValueError):
        explain(example3_backward, "dL/dx1")


def test_sample_out_of_range_is_clamped(example3_backward):
    explanation = explain(example3_backward, "u1", sample=5)
    assert explanation.lines[0] == "u1 = w1·x1 + w2·x2 + b1 = 4·3 + 3·2 + 4 = 22"


DIVERGING_TEXT = """
title = "diverges"
learning_rate = 10
[data]
inputs = [[3, 2]]
targets = [[1]]
[[layers]]
weights = [[1, 1]]
biases = [0]
"""


def test_diverged_session_explains():
    session = Session(parse_scenario(DIVERGING_TEXT))
    session.run(400)
    assert session.diverged_at is not None

    for position in range(len(session.plan) + 1):
        for name in explainable_names(session):
            assert explain(session, name).lines
        explain_step(session)
        if position < len(session.plan):
            session.step_forward()
    assert any("nan" in line or "inf" in line for line in explain(session, "loss").lines)


def test_format_explanation_indents_lines():
    text = format_explanation(Explanation("dL/dw7", ("a", "b")))
    assert text == "dL/dw7\n  a\n  b"


# Gradient check


def test_gradient_check_example3(example3_backward):
    check = gradient_check(example3_backward, "w7")
    assert check.analytic == 484
    assert check.numeric == pytest.approx(484, rel=1e-6)
    assert check.relative_difference < 1e-6
    assert check.agrees()


def test_gradient_check_before_backward():
    session = lecture_session("example3")

    # Before the backward pass the analytic gradient is computed for the check.
    check = gradient_check(session, "dL/dw1")
    assert check.analytic == pytest.approx(96)
    assert check.numeric == pytest.approx(96, rel=1e-6)


def test_gradient_check_after_update_uses_old_parameters():
    session = lecture_session("example3")
    session.to_end_of_iteration()

    check = gradient_check(session, "b4")
    assert check.numeric == pytest.approx(22, rel=1e-6)


def test_gradient_check_line_when_asked(example3_backward):
    lines = explain(example3_backward, "dL/dw7", with_check=True).lines
    assert lines[-1].startswith("check: (L(w7 + h) - L(w7 - h)) / 2h = 484")


def test_gradient_check_unknown_name(example3_backward):
    with pytest.raises(UnknownQuantityError):
        gradient_check(example3_backward, "u1")


def test_gradient_check_rejects_bad_step(example3_backward):
    with pytest.raises(ValueError):
        gradient_check(example3_backward, "w7", step=0)


def test_single_bias_answers_to_b():
    session = lecture_session("example1")
    session.to_end_of_backward()
    assert explain(session, "b").title == "b1"
    assert explain(session, "dL/db").lines[0].startswith("dL/db1")
    with pytest.raises(UnknownQuantityError):
        explain(lecture_session("example3"), "b")


def test_deep_network_counts_neurons_fed():
    text = """
learning_rate = 0.1
[data]
inputs = [[1, 2]]
targets = [[0, 1]]
[[layers]]
weights = [[1, 0], [0, 1]]
biases = [0, 0]
[[layers]]
weights = [[1, 1], [1, -1], [2, 0]]
biases = [0, 0, 0]
[[layers]]
weights = [[1, 0, 1], [0, 1, 1]]
biases = [0, 0]
"""
    session = Session(parse_scenario(text))
    session.to_end_of_backward()
    lines = explain(session, "dL/du1").lines
    # u1 feeds three neurons of the next layer; the paths through them to the loss number six.
    assert "feeds u3, u4 and u5" in lines[1]
    assert "paths" not in lines[1]


def test_batch_sample_named_by_data_row():
    text = (SCENARIOS / "example2.toml").read_text().replace("learning_rate = 0.01", "learning_rate = 0.01\nbatch_size = 2")
    session = Session(parse_scenario(text))
    session.run(1)  # the second iteration contains the rest of the data: one row
    session.to_end_of_forward()
    rows = [int(index) + 1 for index in session.current.sample_indices]
    lines = explain(session, "loss").lines
    assert rows == [2]  # 3 samples in batches of 2: the second batch is the rest
    assert lines[0] == "this iteration's mini-batch: sample 2 of 3"

    session.step_back()
    session.reset()
    session.to_end_of_forward()
    rows = [int(index) + 1 for index in session.current.sample_indices]
    lines = explain(session, "loss").lines
    assert lines[0] == f"this iteration's mini-batch: samples {rows[0]}, {rows[1]} of 3"
    for row in rows:
        assert any(line.startswith(f"sample {row}: ") for line in lines), (row, lines)


def test_decomposed_yhat_is_accepted(example3_backward):
    assert explain(example3_backward, "y\u03021").title == "ŷ1"
