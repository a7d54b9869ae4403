"""Every number of the lecture's three worked examples, reproduced by the engine."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import lecture_session, parameter_gradient, parameter_value


def gradients(session, names):
    return [parameter_gradient(session, name) for name in names]


def values(session, names):
    return [parameter_value(session, name) for name in names]


# Example 1: one sample, no hidden layer


def test_example1_forward_and_loss():
    session = lecture_session("example1")
    session.to_end_of_forward()
    assert session.current.a[0][0, 0] == pytest.approx(1.6)
    assert session.current.loss == pytest.approx(0.01)


def test_example1_gradients():
    session = lecture_session("example1")
    session.to_end_of_backward()
    assert session.current.grad_a[0][0, 0] == pytest.approx(0.2)  # dL/dŷ = 2(ŷ - y)
    assert gradients(session, ["w1", "w2", "w3", "b1"]) == pytest.approx([0.2, 0.2, 0.4, 0.2])


def test_example1_update_and_second_forward():
    session = lecture_session("example1")
    session.to_end_of_iteration()
    assert values(session, ["w1", "w2", "w3", "b1"]) == pytest.approx([0.098, 0.198, 0.396, 0.498])
    session.to_end_of_forward()
    assert session.current.a[0][0, 0] == pytest.approx(1.586)
    assert session.current.loss == pytest.approx(0.007396)


def test_example1_after_100_updates():
    session = lecture_session("example1")
    session.run(100)
    session.to_end_of_forward()
    assert session.current.a[0][0, 0] == pytest.approx(1.50000003, abs=5e-9)
    assert session.current.loss == pytest.approx(8e-16, rel=0.1)


# Example 2: a batch of three samples, mean squared error


def test_example2_forward_and_loss():
    session = lecture_session("example2")
    session.to_end_of_forward()
    assert session.current.a[0][:, 0] == pytest.approx([2.5, 4.5, 3.5])
    assert session.current.loss == pytest.approx(0.9166667, abs=1e-7)
    assert session.current.sample_losses == pytest.approx([0.25 / 3, 0.25 / 3, 2.25 / 3])


def test_example2_gradients_sum_over_samples():
    session = lecture_session("example2")
    session.to_end_of_backward()
    snapshot = session.current
    assert snapshot.grad_a[0][:, 0] == pytest.approx([-1 / 3, 1 / 3, -1])
    assert gradients(session, ["w1", "w2", "w3", "b1"]) == pytest.approx([-2, -0.5, 1 / 6, -1])
    per_sample_w1 = snapshot.grad_w_samples[0][:, 0, 0]
    assert per_sample_w1 == pytest.approx([-2 / 3, -1 / 3, -1])
    assert per_sample_w1.sum() == pytest.approx(snapshot.grad_w[0][0, 0])


def test_example2_update_and_second_forward():
    session = lecture_session("example2")
    session.to_end_of_iteration()
    assert values(session, ["w1", "w2", "w3", "b1"]) == pytest.approx(
        [1.02, 1.005, 0.99833333, 0.51], abs=1e-8
    )
    session.to_end_of_forward()
    assert session.current.a[0][:, 0] == pytest.approx([2.5433333, 4.495, 3.5366667], abs=1e-7)
    assert session.current.loss == pytest.approx(0.8649713, abs=1e-7)


def test_example2_converges():
    session = lecture_session("example2")
    session.run(100_000)
    assert values(session, ["w1", "w2", "w3", "b1"]) == pytest.approx(
        [1.6020314, 1.5549400, 0.5706371, 0.7802401], abs=1e-7
    )
    session.to_end_of_forward()
    assert session.current.loss < 1e-25
    assert session.current.a[0][:, 0] == pytest.approx([3, 4, 5], abs=1e-12)


# Example 3: two layers, one sample


def test_example3_forward():
    session = lecture_session("example3")
    session.step_forward()
    assert session.current.a[0][0] == pytest.approx([22, 3, 7])
    session.step_forward()
    assert session.current.a[1][0] == pytest.approx([12, 7])
    # 44 + 12 = 56 is ŷ1's partial sum before u3 and b4: 2·22 + 4·3.
    assert 2 * 22 + 4 * 3 == 56
    session.step_forward()
    assert session.current.loss == pytest.approx(130)


def test_example3_output_derivatives():
    session = lecture_session("example3")
    session.to_end_of_forward()
    session.step_forward()
    assert session.current.grad_a[1][0] == pytest.approx([22, 6])


def test_example3_layer2_gradients():
    session = lecture_session("example3")
    session.to_end_of_forward()
    session.step_forward()  # dL/dŷ
    session.step_forward()  # backward through layer 2
    names = ["w7", "w8", "w9", "w10", "w11", "w12", "b4", "b5"]
    assert gradients(session, names) == pytest.approx([484, 66, 154, 132, 18, 42, 22, 6])
    # Two paths: dL/du_j = Σ_k dL/dŷ_k · w(u_j → ŷ_k).
    assert session.current.grad_a[0][0] == pytest.approx([32, 118, -124])
    # Layer 1's gradients are not computed until the next step.
    assert session.current.grad_w[0] is None


def test_example3_layer1_gradients():
    session = lecture_session("example3")
    session.to_end_of_backward()
    names = ["w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3"]
    assert gradients(session, names) == pytest.approx([96, 64, 354, 236, -372, -248, 32, 118, -124])


def test_example3_update():
    session = lecture_session("example3")
    session.to_end_of_iteration()
    expected = {
        "w1": 3.9904, "w2": 2.9936, "w3": 0.9646, "w4": -1.0236, "w5": 1.0372, "w6": 1.0248,
        "b1": 3.9968, "b2": 1.9882, "b3": 2.0124,
        "w7": 1.9516, "w8": 3.9934, "w9": -7.0154, "w10": -2.0132, "w11": 4.9982, "w12": 4.9958,
        "b4": 4.9978, "b5": 0.9994,
    }
    assert values(session, list(expected)) == pytest.approx(list(expected.values()), abs=1e-12)


def test_example3_second_forward():
    session = lecture_session("example3")
    session.to_end_of_iteration()
    session.to_end_of_forward()
    assert session.current.a[0][0] == pytest.approx([21.9552, 2.8348, 7.1736], abs=1e-12)
    assert session.current.a[1][0] == pytest.approx([8.8403852, 6.8059596], abs=1e-7)
    assert session.current.loss == pytest.approx(69.345049, abs=1e-6)


def test_example3_loss_over_first_updates():
    session = lecture_session("example3")
    session.run(7)
    session.to_end_of_forward()
    expected = [130, 69.345, 37.866, 21.108, 11.974, 6.891, 4.011, 2.356]
    assert session.loss_history() == pytest.approx(expected, abs=6e-4)


def test_example3_converges_by_update_100():
    session = lecture_session("example3")
    session.run(100)
    session.to_end_of_forward()
    assert session.current.loss < 1e-20


def test_example3_overshoots_with_larger_rate():
    session = lecture_session("example3")
    session.set_learning_rate(0.001)
    session.run(1)
    session.to_end_of_forward()
    assert session.loss_history()[:2] == pytest.approx([130, 423.19], abs=5e-3)


def test_lecture_names():
    session = lecture_session("example3")
    names = session.names
    assert names.inputs == ("x1", "x2")
    assert names.neurons == (("u1", "u2", "u3"), ("ŷ1", "ŷ2"))
    assert names.weights[1][0] == ("w7", "w8", "w9")
    assert names.biases == (("b1", "b2", "b3"), ("b4", "b5"))
    single = lecture_session("example1").names
    assert single.neurons == (("ŷ",),)
    assert single.targets == ("y",)
    assert list(single.parameters) == ["w1", "w2", "w3", "b1"]


def test_all_values_are_float64():
    session = lecture_session("example3")
    session.to_end_of_iteration()
    snapshot = session.current
    for array in (*snapshot.weights, *snapshot.biases, *snapshot.a, *snapshot.grad_w):
        assert array.dtype == np.float64
