"""Scenario loading: every bad file gets one clear line, every good file exact numbers.

Each file in tests/bad_scenarios/ starts with a comment saying what is wrong
and `# expect:` lines, each a fragment the error message must contain.
"""

from __future__ import annotations

import os
import re
import time
import tracemalloc
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from core.engine import Session
from core.errors import ScenarioError
from core.loader import MAX_FILE_BYTES, load_scenario, parse_scenario

BAD_DIRECTORY = Path(__file__).parent / "bad_scenarios"
SCENARIOS = Path(__file__).parent.parent / "scenarios"

# A file that cannot carry its own `# expect:` comment.
EXPECTED_WITHOUT_COMMENTS = {"empty.toml": ["expected a TOML scenario", "an empty file"]}

VALID = """
learning_rate = 0.1

[data]
inputs = [[3, 2]]
targets = [[1, 4]]

[[layers]]
weights = [[4, 3], [1, -1], [1, 1]]
biases = [4, 2, 2]

[[layers]]
weights = [[2, 4, -7], [-2, 5, 5]]
biases = [5, 1]
"""

RANDOM_INIT = """
learning_rate = 0.1
{seed_line}

[data]
inputs = [[1, 2], [3, 4]]
targets = [[1], [0]]

[[layers]]
units = 4
init = "random"
activation = "tanh"

[[layers]]
units = 1
init = "random"
"""


def expected_fragments(path: Path) -> list[str]:
    if path.name in EXPECTED_WITHOUT_COMMENTS:
        return EXPECTED_WITHOUT_COMMENTS[path.name]
    data = path.read_bytes()
    return [match.decode("utf-8") for match in re.findall(rb"^# expect: (.*?)\r?$", data, re.MULTILINE)]


def load_error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value


def assert_one_line(message: str, source: str) -> None:
    assert message.startswith(f"{source}: ")
    assert "\n" not in message
    assert "\r" not in message
    assert len(message) < 400


BAD_FILES = sorted(BAD_DIRECTORY.glob("*.toml"))


def test_bad_scenarios_folder_is_complete():
    assert len(BAD_FILES) >= 60
    for path in BAD_FILES:
        assert expected_fragments(path), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", BAD_FILES, ids=[path.stem for path in BAD_FILES])
def test_bad_scenario_names_file_key_and_problem(path: Path):
    error = load_error(path)

    message = str(error)
    assert type(error) is ScenarioError
    assert_one_line(message, str(path))
    for fragment in expected_fragments(path):
        assert fragment in message


@pytest.mark.parametrize("path", BAD_FILES, ids=[path.stem for path in BAD_FILES])
def test_bad_scenario_text_raises_same_error(path: Path):
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("parse_scenario takes decoded text")

    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source="hw.toml")

    assert_one_line(str(caught.value), "hw.toml")
    assert str(caught.value) == str(load_error(path)).replace(str(path), "hw.toml", 1)


# Files that cannot be read


def test_missing_file(tmp_path: Path):
    path = tmp_path / "hw.toml"

    message = str(load_error(path))

    assert message == f"{path}: file not found"


def test_missing_folder_in_path(tmp_path: Path):
    path = tmp_path / "no such folder" / "hw.toml"

    assert str(load_error(path)) == f"{path}: file not found"


def test_directory(tmp_path: Path):
    message = str(load_error(tmp_path))

    assert message == f"{tmp_path}: expected a scenario file, found a directory"


def test_named_pipe_is_not_opened(tmp_path: Path):
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)

    message = str(load_error(path))

    assert message == f"{path}: expected a regular file, found a device, pipe or socket"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a file whatever its mode")
def test_unreadable_file(tmp_path: Path):
    path = tmp_path / "hw.toml"
    path.write_text(VALID)
    path.chmod(0)
    try:
        message = str(load_error(path))
    finally:
        path.chmod(0o644)

    assert message == f"{path}: permission denied: the file cannot be read"


def test_unreadable_file_simulated(tmp_path: Path):
    path = tmp_path / "hw.toml"
    path.write_text(VALID)

    with mock.patch.object(Path, "open", side_effect=PermissionError(13, "Permission denied")):
        message = str(load_error(path))

    assert message == f"{path}: permission denied: the file cannot be read"


def test_file_over_size_limit(tmp_path: Path):
    path = tmp_path / "big.toml"
    path.write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))

    message = str(load_error(path))

    assert message == f"{path}: expected a file of at most 1,000,000 bytes, found 1,000,010 bytes"


def test_text_over_size_limit():
    text = "# padding\n" * (MAX_FILE_BYTES // 10 + 1)

    with pytest.raises(ScenarioError, match="at most 1,000,000 characters, found 1,000,010"):
        parse_scenario(text, source="big.toml")


def test_lone_surrogate_in_text():
    text = VALID.replace("learning_rate", 'title = "\ud800"\nlearning_rate', 1)

    with pytest.raises(ScenarioError, match=r"^hw.toml: line 2, column 10: expected Unicode text"):
        parse_scenario(text, source="hw.toml")


def test_message_parts_kept_on_one_line():
    error = ScenarioError("a\nb.toml", "line 1", "x\ry", "z\tw")

    assert str(error) == "a b.toml: line 1: expected x y, found z w"


# Size limits are checked before anything is allocated


def test_huge_units_rejected_fast_without_allocating():
    text = """
learning_rate = 0.1
[data]
inputs = [[1, 2]]
targets = [[1]]
[[layers]]
units = 1000000000
init = "random"
[[layers]]
units = 1000000000
init = "random"
"""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ScenarioError, match="layers\\[1\\].units: expected a whole number from 1 to 64"):
            parse_scenario(text, source="hw.toml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert time.perf_counter() - started < 1.0
    assert peak < 2_000_000


def test_many_wide_layers_rejected_without_allocating():
    layers = '\n[[layers]]\nunits = 64\ninit = "random"\n' * 7 + '\n[[layers]]\nunits = 1\ninit = "random"\n'
    text = "learning_rate = 0.1\n[data]\ninputs = [[1, 2]]\ntargets = [[1]]\n" + layers
    # 64·(2 + 1) + 6·64·(64 + 1) + 1·(64 + 1) = 25,217 weights and biases.
    # The loader reaches NumPy only to build arrays, so a stand-in that records calls shows none were built.
    with mock.patch("core.loader.np") as numpy_stand_in:
        with pytest.raises(ScenarioError, match="at most 20,000 weights and biases in all, found 25,217"):
            parse_scenario(text, source="hw.toml")

    assert numpy_stand_in.mock_calls == []


# Valid scenarios


def test_integers_and_floats_load_as_float64():
    scenario = parse_scenario(VALID.replace("[[3, 2]]", "[[3, 2.5]]").replace("[5, 1]", "[5.5, 1]"))

    arrays = [scenario.inputs, scenario.targets]
    for layer in scenario.layers:
        arrays += [layer.weights, layer.biases]
    for array in arrays:
        assert array.dtype == np.float64
    assert scenario.inputs.tolist() == [[3.0, 2.5]]
    assert scenario.layers[1].biases.tolist() == [5.5, 1.0]


def test_integer_scenario_updates_in_place():
    session = Session(parse_scenario(VALID))

    session.to_end_of_iteration()

    # dL/dw1 = 96 in example 3, so w1 = 4 - 0.1 * 96.
    assert session.current.weights[0][0][0] == pytest.approx(4 - 0.1 * 96)
    assert session.current.weights[0].dtype == np.float64


def test_defaults():
    scenario = parse_scenario(VALID)

    assert scenario.loss.name == "sse"
    assert [layer.activation.name for layer in scenario.layers] == ["identity", "identity"]
    assert scenario.optimizer.name == "sgd"
    assert scenario.seed == 0
    assert scenario.batch_size is None
    assert scenario.title == "Untitled scenario"
    assert scenario.input_names is None
    assert scenario.neuron_names is None
    assert not scenario.layers[0].fixed_weights
    assert not scenario.layers[0].fixed_biases


def test_default_title_is_file_stem(tmp_path: Path):
    path = tmp_path / "homework3.toml"
    path.write_text(VALID)

    assert load_scenario(path).title == "homework3"


def test_random_init_reproducible_from_seed():
    first = parse_scenario(RANDOM_INIT.format(seed_line="seed = 7"))
    again = parse_scenario(RANDOM_INIT.format(seed_line="seed = 7"))
    other = parse_scenario(RANDOM_INIT.format(seed_line="seed = 8"))

    for layer, same, different in zip(first.layers, again.layers, other.layers):
        assert np.array_equal(layer.weights, same.weights)
        assert not np.array_equal(layer.weights, different.weights)
        assert layer.biases.tolist() == [0.0] * layer.units
    assert first.layers[0].weights.shape == (4, 2)
    assert first.layers[1].weights.shape == (1, 4)


def test_random_init_default_seed_is_zero():
    default = parse_scenario(RANDOM_INIT.format(seed_line=""))
    zero = parse_scenario(RANDOM_INIT.format(seed_line="seed = 0"))

    assert np.array_equal(default.layers[0].weights, zero.layers[0].weights)


def test_random_init_glorot_range():
    scenario = parse_scenario(RANDOM_INIT.format(seed_line="seed = 3"))

    # Glorot-uniform limit sqrt(6 / (inputs + units)) for a 2 -> 4 layer.
    limit = (6 / (2 + 4)) ** 0.5
    assert np.all(np.abs(scenario.layers[0].weights) <= limit)


def test_optional_names_used():
    text = VALID.replace("biases = [4, 2, 2]", 'biases = [4, 2, 2]\nnames = ["h1", "h2", "h3"]') + (
        '\n[names]\ninputs = ["size", "age"]\n'
    )

    scenario = parse_scenario(text)
    names = Session(scenario).names

    assert scenario.input_names == ("size", "age")
    assert names.inputs == ("size", "age")
    assert names.neurons[0] == ("h1", "h2", "h3")
    assert names.neurons[1] == ("ŷ1", "ŷ2")


def test_optional_settings_read():
    text = (
        'title = "Homework"\nloss = "half_sse"\nseed = 5\nbatch_size = 1\n'
        + VALID.replace("[[3, 2]]", "[[3, 2], [1, 1]]").replace("[[1, 4]]", "[[1, 4], [0, 0]]")
        + 'activation = "leaky_relu"\nnegative_slope = 0.2\nfixed = ["biases"]\n'
        + '\n[optimizer]\nname = "adam"\nbeta1 = 0.8\nepsilon = 1e-6\n'
    )

    scenario = parse_scenario(text)

    assert scenario.title == "Homework"
    assert scenario.loss.name == "half_sse"
    assert scenario.seed == 5
    assert scenario.batch_size == 1
    assert scenario.layers[1].activation.name == "leaky_relu"
    assert scenario.layers[1].activation.negative_slope == 0.2
    assert scenario.layers[1].fixed_biases and not scenario.layers[1].fixed_weights
    assert (scenario.optimizer.name, scenario.optimizer.beta1, scenario.optimizer.epsilon) == ("adam", 0.8, 1e-6)
    assert scenario.optimizer.beta2 == 0.999


def test_byte_order_mark_and_crlf_accepted(tmp_path: Path):
    path = tmp_path / "windows.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.replace("\n", "\r\n").encode())

    scenario = load_scenario(path)

    assert scenario.widths == (2, 3, 2)


def test_cross_entropy_probability_rows_accepted():
    text = 'loss = "cross_entropy"\n' + VALID.replace("[[1, 4]]", "[[0.25, 0.75]]")

    assert parse_scenario(text).targets.tolist() == [[0.25, 0.75]]


# The lecture's three scenarios, with the numbers of the worked examples


def test_example1_numbers():
    scenario = load_scenario(SCENARIOS / "example1.toml")

    assert scenario.inputs.tolist() == [[1.0, 1.0, 2.0]]
    assert scenario.targets.tolist() == [[1.5]]
    assert scenario.layers[0].weights.tolist() == [[0.1, 0.2, 0.4]]
    assert scenario.layers[0].biases.tolist() == [0.5]
    assert scenario.learning_rate == 0.01
    assert scenario.loss.name == "sse"
    assert scenario.widths == (3, 1)
    assert scenario.layers[0].activation.is_identity


def test_example2_numbers():
    scenario = load_scenario(SCENARIOS / "example2.toml")

    assert scenario.inputs.tolist() == [[2.0, -1.0, 1.0], [-1.0, 2.0, 3.0], [1.0, 1.5, 0.5]]
    assert scenario.targets.tolist() == [[3.0], [4.0], [5.0]]
    assert scenario.layers[0].weights.tolist() == [[1.0, 1.0, 1.0]]
    assert scenario.layers[0].biases.tolist() == [0.5]
    assert scenario.learning_rate == 0.01
    assert scenario.loss.name == "mse"
    assert scenario.batch_size is None


def test_example3_numbers():
    scenario = load_scenario(SCENARIOS / "example3.toml")

    assert scenario.inputs.tolist() == [[3.0, 2.0]]
    assert scenario.targets.tolist() == [[1.0, 4.0]]
    assert scenario.layers[0].weights.tolist() == [[4.0, 3.0], [1.0, -1.0], [1.0, 1.0]]
    assert scenario.layers[0].biases.tolist() == [4.0, 2.0, 2.0]
    assert scenario.layers[1].weights.tolist() == [[2.0, 4.0, -7.0], [-2.0, 5.0, 5.0]]
    assert scenario.layers[1].biases.tolist() == [5.0, 1.0]
    assert scenario.learning_rate == 0.0001
    assert scenario.loss.name == "sse"
    assert all(layer.activation.is_identity for layer in scenario.layers)


def test_example3_first_iteration():
    session = Session(load_scenario(SCENARIOS / "example3.toml"))

    snapshot = session.to_end_of_backward()

    assert snapshot.a[0].tolist() == [[22.0, 3.0, 7.0]]
    assert snapshot.a[1].tolist() == [[12.0, 7.0]]
    assert snapshot.loss == 130.0
    assert snapshot.grad_a[1].tolist() == [[22.0, 6.0]]
    assert snapshot.grad_w[1].tolist() == [[484.0, 66.0, 154.0], [132.0, 18.0, 42.0]]
    assert snapshot.grad_a[0].tolist() == [[32.0, 118.0, -124.0]]
    assert snapshot.grad_w[0].tolist() == [[96.0, 64.0], [354.0, 236.0], [-372.0, -248.0]]
