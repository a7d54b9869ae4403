"""Read and validate scenario files.

Every problem raises ScenarioError with one line that names the file, the key
(`layers[2].weights row 1`), what was expected and what was found. Sizes are
checked before any array is allocated.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from core.activations import ACTIVATION_NAMES, make_activation
from core.errors import ScenarioError
from core.losses import LOSS_NAMES, LOSSES
from core.optimizers import OPTIMIZER_NAMES, OptimizerSpec
from core.scenario import LayerSpec, Scenario

# Limits that keep a network drawable in a terminal and cheap to hold.
MAX_FILE_BYTES = 1_000_000
MAX_LAYERS = 8
MAX_UNITS = 64  # per layer, inputs included
MAX_SAMPLES = 10_000
MAX_PARAMETERS = 20_000

TOP_LEVEL_KEYS = (
    "title", "description", "loss", "learning_rate", "seed", "batch_size",
    "optimizer", "data", "layers", "names",
)
DATA_KEYS = ("inputs", "targets")
LAYER_KEYS = (
    "weights", "biases", "activation", "negative_slope", "units", "init", "fixed", "names",
)
OPTIMIZER_KEYS = ("name", "momentum", "beta1", "beta2", "epsilon")
NAMES_KEYS = ("inputs",)
INIT_NAMES = ("random",)
FIXED_NAMES = ("weights", "biases")


def load_scenario(path: str | Path) -> Scenario:
    """Read the scenario file at `path`."""
    path = Path(path)
    source = str(path)
    text = _read_text(path, source)
    return parse_scenario(text, source=source, path=path)


def parse_scenario(text: str, source: str = "<scenario>", path: Path | None = None) -> Scenario:
    """Validate scenario TOML text; `source` names it in error messages."""
    if not text.strip():
        raise ScenarioError(source, "", "a TOML scenario", "an empty file")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(source, error) from None
    if not document:
        raise ScenarioError(source, "", "a TOML scenario with keys", "only comments")
    return _Validator(source, path).scenario(document)


def _read_text(path: Path, source: str) -> str:
    if not path.exists():
        raise ScenarioError(source, "", "", "file not found")
    if path.is_dir():
        raise ScenarioError(source, "", "a scenario file", "a directory")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                source, "", f"a file of at most {MAX_FILE_BYTES:,} bytes", f"{size:,} bytes"
            )
        data = path.read_bytes()
    except PermissionError:
        raise ScenarioError(source, "", "", "permission denied: cannot read the file") from None
    except OSError as error:
        raise ScenarioError(source, "", "", f"cannot read the file: {error.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ScenarioError(
            source,
            f"line {line}, column {column}",
            "UTF-8 text",
            f"the byte 0x{data[error.start]:02x}",
        ) from None


def _toml_error(source: str, error: tomllib.TOMLDecodeError) -> ScenarioError:
    # tomllib ends its message with "(at line L, column C)"; keep the position up front.
    message = str(error)
    location = ""
    if "(at " in message and message.endswith(")"):
        message, _, position = message.rpartition(" (at ")
        location = position.rstrip(")")
    found = message[:1].lower() + message[1:]
    return ScenarioError(source, location, "", f"invalid TOML: {found}")


def _describe(value: Any) -> str:
    """Describe a TOML value for an error message."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "..."
        return f"the string {shown!r}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    return type(value).__name__


class _Validator:
    """Turns a parsed TOML document into a Scenario, or raises ScenarioError."""

    def __init__(self, source: str, path: Path | None) -> None:
        self.source = source
        self.path = path

    def fail(self, key: str, expected: str, found: str) -> ScenarioError:
        return ScenarioError(self.source, key, expected, found)

    # Keys and tables

    def check_keys(self, table: dict, known: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key in known:
                continue
            where = f"{prefix}.{key}" if prefix else key
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if close:
                raise self.fail(where, "a known key", f"unknown key {key!r} (did you mean {close[0]!r}?)")
            raise self.fail(where, f"one of {', '.join(known)}", f"unknown key {key!r}")

    def require(self, table: dict, key: str, prefix: str, known: tuple[str, ...]) -> Any:
        if key in table:
            return table[key]
        where = f"{prefix}.{key}" if prefix else key
        raise self.fail(where, "this key", "nothing: the key is missing")

    def table(self, value: Any, key: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, "a table", _describe(value))
        return value

    # Scalars

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, "a number", _describe(value))
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(key, "a finite number", f"{value!r}")
        if isinstance(value, int) and abs(value) > 2**53:
            raise self.fail(key, "a number of at most 2**53 in size", f"{value}")
        return float(value)

    def positive_number(self, value: Any, key: str) -> float:
        number = self.number(value, key)
        if number <= 0:
            raise self.fail(key, "a positive number", f"{value!r}")
        return number

    def integer(self, value: Any, key: str, minimum: int, maximum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"a whole number from {minimum} to {maximum}", _describe(value))
        if not minimum <= value <= maximum:
            raise self.fail(key, f"a whole number from {minimum} to {maximum}", f"{value}")
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, "a string", _describe(value))
        return value

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        text = self.string(value, key)
        if text in choices:
            return text
        close = difflib.get_close_matches(text, choices, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise self.fail(key, f"one of {', '.join(choices)}", f"{text!r}{hint}")

    def name_list(self, value: Any, key: str, count: int) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(key, f"a list of {count} names", _describe(value))
        if len(value) != count:
            raise self.fail(key, f"{count} names", f"{len(value)}")
        names = tuple(self.string(item, f"{key}[{index}]") for index, item in enumerate(value))
        for index, name in enumerate(names):
            if not name.strip() or len(name) > 12:
                raise self.fail(f"{key}[{index}]", "a name of 1 to 12 characters", repr(name))
        if len(set(names)) != len(names):
            raise self.fail(key, "distinct names", "a repeated name")
        return names

    # Vectors and matrices

    def vector(self, value: Any, key: str) -> list[float]:
        if not isinstance(value, list):
            raise self.fail(key, "a list of numbers", _describe(value))
        if not value:
            raise self.fail(key, "a non-empty list of numbers", "an empty list")
        return [self.number(item, f"{key}[{index}]") for index, item in enumerate(value)]

    def matrix(self, value: Any, key: str, row_meaning: str) -> list[list[float]]:
        """Validate a list of rows of numbers, all of the same length."""
        if not isinstance(value, list):
            raise self.fail(key, f"a list of rows ({row_meaning})", _describe(value))
        if not value:
            raise self.fail(key, f"a non-empty list of rows ({row_meaning})", "an empty list")
        if not isinstance(value[0], list):
            raise self.fail(
                key,
                f"a list of rows ({row_meaning}), such as [[1, 2]]",
                f"a flat list of {len(value)} item{'s' if len(value) != 1 else ''}",
            )
        rows = []
        for index, row in enumerate(value):
            row_key = f"{key} row {index + 1}"
            if not isinstance(row, list):
                raise self.fail(row_key, "a list of numbers", _describe(row))
            rows.append(self.vector(row, row_key))
            if len(rows[-1]) != len(rows[0]):
                raise self.fail(
                    row_key,
                    f"{len(rows[0])} numbers, as in row 1",
                    f"{len(rows[-1])}",
                )
        return rows

    # The document

    def scenario(self, document: dict) -> Scenario:
        self.check_keys(document, TOP_LEVEL_KEYS, "")
        title = self.string(document.get("title", self._default_title()), "title")
        description = self.string(document.get("description", ""), "description")
        loss_name = self.choice(document.get("loss", "sse"), "loss", LOSS_NAMES)
        learning_rate = self.positive_number(
            self.require(document, "learning_rate", "", TOP_LEVEL_KEYS), "learning_rate"
        )
        seed = self.integer(document.get("seed", 0), "seed", 0, 2**63 - 1)
        optimizer = self.optimizer(document.get("optimizer", {}))

        data = self.table(self.require(document, "data", "", TOP_LEVEL_KEYS), "data")
        self.check_keys(data, DATA_KEYS, "data")
        inputs = self.matrix(
            self.require(data, "inputs", "data", DATA_KEYS), "data.inputs", "one row per sample"
        )
        targets = self.matrix(
            self.require(data, "targets", "data", DATA_KEYS), "data.targets", "one row per sample"
        )
        self.check_data_sizes(inputs, targets)

        batch_size = None
        if "batch_size" in document:
            batch_size = self.integer(document["batch_size"], "batch_size", 1, len(inputs))

        layers_value = self.require(document, "layers", "", TOP_LEVEL_KEYS)
        if isinstance(layers_value, dict):
            raise self.fail("layers", "an array of tables written [[layers]]", "a single table [layers]")
        if not isinstance(layers_value, list) or not layers_value:
            raise self.fail("layers", "at least one [[layers]] table", _describe(layers_value))
        if len(layers_value) > MAX_LAYERS:
            raise self.fail("layers", f"at most {MAX_LAYERS} layers", f"{len(layers_value)}")

        layers = self.layers(layers_value, len(inputs[0]), len(targets[0]), seed)
        if loss_name == "cross_entropy":
            self.check_class_targets(targets)

        names = self.table(document.get("names", {}), "names")
        self.check_keys(names, NAMES_KEYS, "names")
        input_names = None
        if "inputs" in names:
            input_names = self.name_list(names["inputs"], "names.inputs", len(inputs[0]))
        neuron_names = tuple(
            self.name_list(layer["names"], f"layers[{index + 1}].names", spec.units)
            if "names" in layer
            else None
            for index, (layer, spec) in enumerate(zip(layers_value, layers))
        )

        return Scenario(
            title=title,
            description=" ".join(description.split()),
            loss=LOSSES[loss_name],
            learning_rate=learning_rate,
            inputs=np.array(inputs, dtype=np.float64),
            targets=np.array(targets, dtype=np.float64),
            layers=layers,
            source=self.path,
            seed=seed,
            batch_size=batch_size,
            optimizer=optimizer,
            input_names=input_names,
            neuron_names=neuron_names if any(neuron_names) else None,
        )

    def _default_title(self) -> str:
        return self.path.stem if self.path is not None else "Untitled scenario"

    def optimizer(self, value: Any) -> OptimizerSpec:
        table = self.table(value, "optimizer")
        self.check_keys(table, OPTIMIZER_KEYS, "optimizer")
        name = self.choice(table.get("name", "sgd"), "optimizer.name", OPTIMIZER_NAMES)
        allowed = {"sgd": (), "momentum": ("momentum",), "adam": ("beta1", "beta2", "epsilon")}[name]
        for key in ("momentum", "beta1", "beta2", "epsilon"):
            if key in table and key not in allowed:
                raise self.fail(
                    f"optimizer.{key}",
                    f"no {key} for optimizer {name!r}",
                    f"{key} = {table[key]!r}",
                )
        spec = OptimizerSpec(name=name)
        values = {}
        for key in ("momentum", "beta1", "beta2"):
            if key in table:
                values[key] = self.number(table[key], f"optimizer.{key}")
                if not 0.0 <= values[key] < 1.0:
                    raise self.fail(f"optimizer.{key}", "a number in [0, 1)", f"{table[key]!r}")
        if "epsilon" in table:
            values["epsilon"] = self.positive_number(table["epsilon"], "optimizer.epsilon")
        return OptimizerSpec(name=spec.name, **values) if values else spec

    def check_data_sizes(self, inputs: list, targets: list) -> None:
        if len(inputs) != len(targets):
            raise self.fail(
                "data.targets",
                f"{len(inputs)} rows, one per sample in data.inputs",
                f"{len(targets)}",
            )
        if len(inputs) > MAX_SAMPLES:
            raise self.fail("data.inputs", f"at most {MAX_SAMPLES:,} samples", f"{len(inputs):,}")
        if len(inputs[0]) > MAX_UNITS:
            raise self.fail("data.inputs row 1", f"at most {MAX_UNITS} inputs", f"{len(inputs[0])}")

    def check_class_targets(self, targets: list) -> None:
        for index, row in enumerate(targets):
            if any(value < 0 for value in row) or abs(sum(row) - 1.0) > 1e-9:
                raise self.fail(
                    f"data.targets row {index + 1}",
                    "class probabilities (at least 0, adding up to 1) for loss cross_entropy",
                    f"{row}",
                )

    def layers(self, tables: list, input_width: int, output_width: int, seed: int) -> tuple[LayerSpec, ...]:
        rng = np.random.default_rng(seed)
        previous_width = input_width
        parameter_count = 0
        specs = []
        for index, value in enumerate(tables):
            prefix = f"layers[{index + 1}]"
            table = self.table(value, prefix)
            self.check_keys(table, LAYER_KEYS, prefix)
            is_last = index == len(tables) - 1
            units = self.layer_units(table, prefix, previous_width)
            if is_last and units != output_width:
                where = f"{prefix}.weights" if "weights" in table else f"{prefix}.units"
                raise self.fail(
                    where,
                    f"{output_width} neurons in the output layer, one per target column",
                    f"{units}",
                )
            parameter_count += units * (previous_width + 1)
            if parameter_count > MAX_PARAMETERS:
                raise self.fail(prefix, f"at most {MAX_PARAMETERS:,} parameters in all", f"{parameter_count:,} by this layer")
            weights, biases = self.layer_parameters(table, prefix, units, previous_width, rng)
            activation = self.activation(table, prefix)
            fixed = self.fixed(table, prefix)
            specs.append(
                LayerSpec(
                    weights=weights,
                    biases=biases,
                    activation=activation,
                    fixed_weights="weights" in fixed,
                    fixed_biases="biases" in fixed,
                )
            )
            previous_width = units
        return tuple(specs)

    def layer_units(self, table: dict, prefix: str, previous_width: int) -> int:
        if "weights" in table and "units" in table:
            raise self.fail(prefix, "either weights or units", "both")
        if "weights" not in table:
            if "units" not in table:
                raise self.fail(f"{prefix}.weights", "this key, or units with init = \"random\"", "nothing: the key is missing")
            return self.integer(table["units"], f"{prefix}.units", 1, MAX_UNITS)
        rows = table["weights"]
        if isinstance(rows, list) and len(rows) > MAX_UNITS:
            raise self.fail(f"{prefix}.weights", f"at most {MAX_UNITS} rows (neurons)", f"{len(rows)}")
        return len(rows) if isinstance(rows, list) else 0

    def layer_parameters(
        self, table: dict, prefix: str, units: int, inputs: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        if "weights" not in table:
            init = self.choice(self.require(table, "init", prefix, LAYER_KEYS), f"{prefix}.init", INIT_NAMES)
            if "biases" in table:
                raise self.fail(f"{prefix}.biases", f"no biases with init = {init!r}", "biases")
            # Glorot-uniform weights keep the scale of z near 1 for any width; biases start at 0.
            limit = math.sqrt(6.0 / (inputs + units))
            return rng.uniform(-limit, limit, size=(units, inputs)), np.zeros(units)
        if "init" in table:
            raise self.fail(f"{prefix}.init", "no init when weights are given", f"init = {table['init']!r}")
        rows = self.matrix(table["weights"], f"{prefix}.weights", "one row per neuron, one weight per input")
        if len(rows[0]) != inputs:
            expected = f"{units} row{'s' if units != 1 else ''} of {inputs} weight{'s' if inputs != 1 else ''} (one row per neuron, one weight per input)"
            found = f"{len(rows)} row{'s' if len(rows) != 1 else ''} of {len(rows[0])}"
            if len(rows) == inputs and len(rows[0]) == units:
                found += " (rows and columns swapped?)"
            raise self.fail(f"{prefix}.weights", expected, found)
        biases = self.vector(self.require(table, "biases", prefix, LAYER_KEYS), f"{prefix}.biases")
        if len(biases) != units:
            raise self.fail(f"{prefix}.biases", f"{units} biases, one per neuron", f"{len(biases)}")
        return np.array(rows, dtype=np.float64), np.array(biases, dtype=np.float64)

    def activation(self, table: dict, prefix: str):
        name = self.choice(table.get("activation", "identity"), f"{prefix}.activation", ACTIVATION_NAMES)
        if "negative_slope" in table:
            if name != "leaky_relu":
                raise self.fail(f"{prefix}.negative_slope", "negative_slope only with activation = \"leaky_relu\"", f"activation = {name!r}")
            slope = self.number(table["negative_slope"], f"{prefix}.negative_slope")
            if not 0.0 < slope < 1.0:
                raise self.fail(f"{prefix}.negative_slope", "a number between 0 and 1", f"{slope!r}")
            return make_activation(name, slope)
        return make_activation(name)

    def fixed(self, table: dict, prefix: str) -> set[str]:
        value = table.get("fixed", [])
        if not isinstance(value, list):
            raise self.fail(f"{prefix}.fixed", 'a list such as ["weights"] or ["biases"]', _describe(value))
        return {self.choice(item, f"{prefix}.fixed[{index}]", FIXED_NAMES) for index, item in enumerate(value)}
