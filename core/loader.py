"""Read and validate scenario files.

Every problem raises ScenarioError with one line that names the file, the key
or position (`layers[2].weights row 1`, counting from 1), what was expected
and what was found. Sizes are checked before any array is allocated.
"""

from __future__ import annotations

import datetime
import difflib
import math
import re
import stat
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
# Every backward snapshot keeps each sample's dL/dW, (samples, units, inputs)
# per layer, so samples per iteration times weights bounds its size (16 MB here).
MAX_SAMPLE_GRADIENTS = 2_000_000
# Larger magnitudes are almost certainly typos. Integers this small also
# convert to float64 exactly, which holds up to 2**53.
MAX_MAGNITUDE = 1e15
# Python 3.11 raises ValueError for longer integer literals (sys.get_int_max_str_digits).
MAX_INTEGER_DIGITS = 4300

TOP_LEVEL_KEYS = (
    "title", "description", "loss", "learning_rate", "seed", "batch_size",
    "optimizer", "data", "layers", "names",
)
DATA_KEYS = ("inputs", "targets")
LAYER_KEYS = (
    "weights", "biases", "activation", "negative_slope", "units", "init", "fixed", "names",
)
OPTIMIZER_KEYS = ("name", "momentum", "beta1", "beta2", "epsilon")
OPTIMIZER_SETTINGS = {"sgd": (), "momentum": ("momentum",), "adam": ("beta1", "beta2", "epsilon")}
NAMES_KEYS = ("inputs",)
INIT_NAMES = ("random",)
FIXED_NAMES = ("weights", "biases")
WEIGHT_ROWS = "one row per neuron, one weight per input"


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario file at `path`."""
    path = Path(path)
    source = str(path)
    text = _read_text(path, source)
    return parse_scenario(text, source=source, path=path)


def parse_scenario(text: str, source: str = "<scenario>", path: Path | None = None) -> Scenario:
    """Validate scenario TOML text; `source` names it in error messages."""
    text = text.removeprefix("\ufeff")
    _check_text(text, source)
    document = _parse_toml(text, source)
    if not document:
        raise ScenarioError(source, "", "a TOML scenario with keys", "only comments")
    return _Validator(source, path).scenario(document)


# Reading the file


def _read_text(path: Path, source: str) -> str:
    try:
        status = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise ScenarioError(source, "", "", "file not found") from None
    except PermissionError:
        raise ScenarioError(source, "", "", "permission denied: the file cannot be read") from None
    except (OSError, ValueError) as error:
        raise ScenarioError(source, "", "", f"cannot read the file: {_os_reason(error)}") from None
    if stat.S_ISDIR(status.st_mode):
        raise ScenarioError(source, "", "a scenario file", "a directory")
    if not stat.S_ISREG(status.st_mode):
        # Opening a pipe or a device such as /dev/zero could block or never end.
        raise ScenarioError(source, "", "a regular file", "a device, pipe or socket")
    if status.st_size > MAX_FILE_BYTES:
        raise _too_big(source, status.st_size)

    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        raise ScenarioError(source, "", "", "permission denied: the file cannot be read") from None
    except OSError as error:
        raise ScenarioError(source, "", "", f"cannot read the file: {_os_reason(error)}") from None
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(source, len(data))
    return _decode(data, source)


def _os_reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error)


def _too_big(source: str, size: int) -> ScenarioError:
    return ScenarioError(source, "", f"a file of at most {MAX_FILE_BYTES:,} bytes", f"{size:,} bytes")


def _decode(data: bytes, source: str) -> str:
    """Decode UTF-8, dropping the byte order mark some Windows editors write."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        # Columns count characters, as an editor shows them, not bytes.
        column = len(data[line_start : error.start].decode("utf-8", errors="replace")) + 1
        raise ScenarioError(
            source, f"line {line}, column {column}", "UTF-8 text", f"the byte 0x{data[error.start]:02x}"
        ) from None
    return text.removeprefix("\ufeff")


def _check_text(text: str, source: str) -> None:
    if not text.strip():
        raise ScenarioError(source, "", "a TOML scenario", "an empty file")
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(
            source, "", f"a scenario of at most {MAX_FILE_BYTES:,} characters", f"{len(text):,}"
        )
    surrogate = re.search("[\ud800-\udfff]", text)
    if surrogate is not None:
        raise ScenarioError(
            source, _line_and_column(text, surrogate.start()), "Unicode text", "a lone surrogate character"
        )


def _parse_toml(text: str, source: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(source, error, text) from None
    except RecursionError:
        # tomllib reads nested arrays and inline tables recursively.
        raise ScenarioError(
            source, "", "arrays and tables nested a few levels deep", "nesting too deep to read"
        ) from None
    except ValueError:
        digits = re.search(r"[0-9_]{%d,}" % (MAX_INTEGER_DIGITS + 1), text)
        where = _line_and_column(text, digits.start()) if digits else ""
        raise ScenarioError(
            source, where, f"a number of at most {MAX_INTEGER_DIGITS} digits", "a longer number"
        ) from None


def _line_and_column(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def _toml_error(source: str, error: tomllib.TOMLDecodeError, text: str) -> ScenarioError:
    # tomllib ends its message with "(at line L, column C)", which moves up front here.
    message = str(error)
    location = ""
    if "(at " in message and message.endswith(")"):
        message, _, position = message.rpartition(" (at ")
        location = position.rstrip(")")
    if location == "end of document":
        # Something was left open, so the error names the last line as the place to look.
        location = f"line {len(text.splitlines()) or 1}, at the end of the file"
    found = message[:1].lower() + message[1:]
    return ScenarioError(source, location, "", f"invalid TOML: {found}")


# Describing values in messages


def _describe(value: Any) -> str:
    """Describe a TOML value for an error message in a few words, long strings cut short."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {_shorten(repr(value))}"
    if isinstance(value, (int, float)):
        return f"the number {_shorten(repr(value))}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list of {_count(len(value), 'item')}"
    if isinstance(value, (datetime.date, datetime.time)):
        return f"the date or time {value.isoformat()}"
    return type(value).__name__


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _count(number: int, noun: str) -> str:
    """Return "1 row", "3 rows", "2 biases"."""
    if number == 1:
        return f"{number:,} {noun}"
    return f"{number:,} {noun}" + ("es" if noun.endswith("s") else "s")


def _shape(rows: int, columns: int, noun: str) -> str:
    return f"{_count(rows, 'row')} of {_count(columns, noun)}"


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
                raise self.fail(where, "", f"unknown key (did you mean {close[0]!r}?)")
            raise self.fail(where, f"one of the keys {', '.join(known)}", f"unknown key {_shorten(repr(key))}")

    def require(self, table: dict, key: str, prefix: str, expected: str) -> Any:
        if key in table:
            return table[key]
        where = f"{prefix}.{key}" if prefix else key
        raise self.fail(where, expected, "nothing (the key is missing)")

    def table(self, value: Any, key: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, "a table", _describe(value))
        return value

    # Scalars

    def number(self, value: Any, key: str, expected: str | None = None) -> float:
        """Validate a finite number of at most MAX_MAGNITUDE in size; `expected` words the range."""
        expected = expected or f"a number from -{MAX_MAGNITUDE:g} to {MAX_MAGNITUDE:g}"
        # TOML booleans arrive as Python bools, which are ints.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, "a number", _describe(value))
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(key, "a finite number", repr(value))
        if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
            raise self.fail(key, expected, _shorten(repr(value)))
        return float(value)

    def positive_number(self, value: Any, key: str) -> float:
        expected = f"a positive number up to {MAX_MAGNITUDE:g}"
        number = self.number(value, key, expected)
        if number <= 0:
            raise self.fail(key, expected, repr(value))
        return number

    def integer(self, value: Any, key: str, minimum: int, maximum: int) -> int:
        expected = f"a whole number from {minimum:,} to {maximum:,}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, expected, _describe(value))
        if not minimum <= value <= maximum:
            raise self.fail(key, expected, _shorten(f"{value:,}"))
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, "a string", _describe(value))
        return value

    def single_line(self, value: Any, key: str) -> str:
        text = self.string(value, key)
        if any(character < " " or character == "\x7f" for character in text):
            raise self.fail(key, "a single line without control characters", _describe(text))
        return text

    def choice(self, value: Any, key: str, choices: tuple[str, ...]) -> str:
        text = self.string(value, key)
        if text in choices:
            return text
        close = difflib.get_close_matches(text, choices, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise self.fail(key, f"one of {', '.join(choices)}", f"{_shorten(repr(text))}{hint}")

    def name_list(self, value: Any, key: str, count: int) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(key, f"a list of {_count(count, 'name')}", _describe(value))
        if len(value) != count:
            raise self.fail(key, _count(count, "name"), f"{len(value):,}")
        names = tuple(self.single_line(item, f"{key} item {index + 1}") for index, item in enumerate(value))
        for index, name in enumerate(names):
            if not name.strip() or len(name) > 12:
                raise self.fail(f"{key} item {index + 1}", "a name of 1 to 12 characters", _describe(name))
        if len(set(names)) != len(names):
            raise self.fail(key, "distinct names", "a repeated name")
        return names

    # Vectors and matrices

    def vector(self, value: Any, key: str, position: str = "item") -> list[float]:
        """Validate a non-empty list of numbers. `position` names one entry in messages."""
        if not isinstance(value, list):
            raise self.fail(key, "a list of numbers", _describe(value))
        if not value:
            raise self.fail(key, "a non-empty list of numbers", "an empty list")
        if len(value) > MAX_SAMPLES:
            raise self.fail(key, f"at most {MAX_SAMPLES:,} numbers", f"{len(value):,}")
        separator = ", " if " row " in key else " "
        return [
            self.number(item, f"{key}{separator}{position} {index + 1}") for index, item in enumerate(value)
        ]

    def matrix(
        self, value: Any, key: str, row_meaning: str, max_rows: int, max_columns: int
    ) -> list[list[float]]:
        """Validate a list of rows of numbers, all of the same length."""
        if not isinstance(value, list):
            raise self.fail(key, f"a list of rows ({row_meaning})", _describe(value))
        if not value:
            raise self.fail(key, f"a non-empty list of rows ({row_meaning})", "an empty list")
        if not isinstance(value[0], list):
            raise self.fail(
                key,
                f"a list of rows ({row_meaning}), such as [[1, 2], [3, 4]]",
                f"a flat list of {_count(len(value), 'item')}",
            )
        if len(value) > max_rows:
            raise self.fail(key, f"at most {_count(max_rows, 'row')}", f"{len(value):,}")
        if len(value[0]) > max_columns:
            raise self.fail(f"{key} row 1", f"at most {_count(max_columns, 'number')}", f"{len(value[0]):,}")

        rows = []
        for index, row in enumerate(value):
            row_key = f"{key} row {index + 1}"
            if not isinstance(row, list):
                raise self.fail(row_key, "a list of numbers", _describe(row))
            if rows and len(row) != len(rows[0]):
                raise self.fail(row_key, f"{_count(len(rows[0]), 'number')}, as in row 1", f"{len(row):,}")
            rows.append(self.vector(row, row_key, "column"))
        return rows

    # The document

    def scenario(self, document: dict) -> Scenario:
        self.check_keys(document, TOP_LEVEL_KEYS, "")
        title = self.single_line(document.get("title", self._default_title()), "title")
        description = self.string(document.get("description", ""), "description")
        loss_name = self.choice(document.get("loss", "sse"), "loss", LOSS_NAMES)
        learning_rate = self.positive_number(
            self.require(document, "learning_rate", "", "a positive number"), "learning_rate"
        )
        seed = self.integer(document.get("seed", 0), "seed", 0, 2**63 - 1)
        optimizer = self.optimizer(document["optimizer"]) if "optimizer" in document else OptimizerSpec()

        inputs, targets = self.data(self.require(document, "data", "", "a [data] table"))
        batch_size = None
        if "batch_size" in document:
            batch_size = self.integer(document["batch_size"], "batch_size", 1, len(inputs))
        if loss_name == "cross_entropy":
            self.check_class_targets(targets)

        layers_value = self.require(document, "layers", "", "at least one [[layers]] table")
        layer_tables = self.layer_tables(layers_value)
        widths = self.layer_widths(layer_tables, len(inputs[0]), len(targets[0]))
        self.check_network_size(widths, batch_size or len(inputs))
        layers = self.layers(layer_tables, widths, seed)
        input_names, neuron_names = self.names(document, layer_tables, widths)

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
            neuron_names=neuron_names,
        )

    def _default_title(self) -> str:
        return self.path.stem if self.path is not None else "Untitled scenario"

    def optimizer(self, value: Any) -> OptimizerSpec:
        table = self.table(value, "optimizer")
        self.check_keys(table, OPTIMIZER_KEYS, "optimizer")
        name = self.choice(
            self.require(table, "name", "optimizer", f"one of {', '.join(OPTIMIZER_NAMES)}"),
            "optimizer.name",
            OPTIMIZER_NAMES,
        )
        allowed = OPTIMIZER_SETTINGS[name]
        for key in ("momentum", "beta1", "beta2", "epsilon"):
            if key in table and key not in allowed:
                settings = ", ".join(allowed) if allowed else "no settings"
                raise self.fail(f"optimizer.{key}", f"{settings} for optimizer {name!r}", f"{key}")

        values = {}
        for key in ("momentum", "beta1", "beta2"):
            if key in table:
                values[key] = self.number(table[key], f"optimizer.{key}")
                if not 0.0 <= values[key] < 1.0:
                    expected = "a number from 0 up to but not including 1"
                    raise self.fail(f"optimizer.{key}", expected, repr(table[key]))
        if "epsilon" in table:
            values["epsilon"] = self.positive_number(table["epsilon"], "optimizer.epsilon")
        return OptimizerSpec(name=name, **values)

    def data(self, value: Any) -> tuple[list[list[float]], list[list[float]]]:
        table = self.table(value, "data")
        self.check_keys(table, DATA_KEYS, "data")
        inputs_value = self.require(table, "inputs", "data", "a list of rows, one per sample")
        targets_value = self.require(table, "targets", "data", "a list of rows, one per sample")
        row_meaning = "one row per sample"
        inputs = self.matrix(inputs_value, "data.inputs", row_meaning, MAX_SAMPLES, MAX_UNITS)
        targets = self.matrix(targets_value, "data.targets", row_meaning, MAX_SAMPLES, MAX_UNITS)
        if len(inputs) != len(targets):
            raise self.fail(
                "data.targets",
                f"{_count(len(inputs), 'row')}, one per sample in data.inputs",
                f"{len(targets):,}",
            )
        return inputs, targets

    def check_class_targets(self, targets: list[list[float]]) -> None:
        if len(targets[0]) < 2:
            raise self.fail(
                "data.targets", "at least 2 columns (classes) for loss cross_entropy", f"{len(targets[0])}"
            )
        for index, row in enumerate(targets):
            total = math.fsum(row)
            if any(not 0.0 <= value <= 1.0 for value in row) or abs(total - 1.0) > 1e-9:
                raise self.fail(
                    f"data.targets row {index + 1}",
                    "class probabilities (each from 0 to 1, adding up to 1) for loss cross_entropy",
                    _shorten(f"{row} (adding up to {total:g})", 60),
                )

    def names(
        self, document: dict, layer_tables: list[dict], widths: list[int]
    ) -> tuple[tuple[str, ...] | None, tuple[tuple[str, ...] | None, ...] | None]:
        """Validate the optional names: [names] inputs, and each layer's names."""
        table = self.table(document.get("names", {}), "names")
        self.check_keys(table, NAMES_KEYS, "names")
        input_names = None
        if "inputs" in table:
            input_names = self.name_list(table["inputs"], "names.inputs", widths[0])
        neuron_names = tuple(
            self.name_list(layer["names"], f"layers[{index + 1}].names", widths[index + 1])
            if "names" in layer
            else None
            for index, layer in enumerate(layer_tables)
        )
        return input_names, (neuron_names if any(neuron_names) else None)

    # Layers: widths first, then sizes, then the arrays

    def layer_tables(self, value: Any) -> list[dict]:
        if isinstance(value, dict):
            raise self.fail("layers", "an array of tables written [[layers]]", "a single table [layers]")
        if not isinstance(value, list) or not value:
            raise self.fail("layers", "at least one [[layers]] table", _describe(value))
        if len(value) > MAX_LAYERS:
            raise self.fail("layers", f"at most {MAX_LAYERS} layers", f"{len(value):,}")
        tables = []
        for index, item in enumerate(value):
            prefix = f"layers[{index + 1}]"
            table = self.table(item, prefix)
            self.check_keys(table, LAYER_KEYS, prefix)
            tables.append(table)
        return tables

    def layer_widths(self, tables: list[dict], input_width: int, output_width: int) -> list[int]:
        """Return the widths, inputs first, reading only the row counts of the weights."""
        widths = [input_width]
        for index, table in enumerate(tables):
            prefix = f"layers[{index + 1}]"
            if "weights" in table and "units" in table:
                raise self.fail(prefix, "either weights or units with init = \"random\"", "both")
            if "units" in table:
                widths.append(self.integer(table["units"], f"{prefix}.units", 1, MAX_UNITS))
                continue
            rows = self.require(table, "weights", prefix, "a list of rows, or units with init = \"random\"")
            if not isinstance(rows, list) or not rows or not isinstance(rows[0], list):
                # The full matrix check raises with the precise problem.
                self.matrix(rows, f"{prefix}.weights", WEIGHT_ROWS, MAX_UNITS, MAX_UNITS)
            if len(rows) > MAX_UNITS:
                raise self.fail(f"{prefix}.weights", f"at most {MAX_UNITS} rows (neurons)", f"{len(rows):,}")
            widths.append(len(rows))

        if widths[-1] != output_width:
            self.reject_output_width(tables[-1], len(tables), widths[-2], widths[-1], output_width)
        return widths

    def reject_output_width(self, table: dict, number: int, inputs: int, units: int, outputs: int) -> None:
        prefix = f"layers[{number}]"
        if "units" in table:
            raise self.fail(
                f"{prefix}.units", f"{outputs}, one neuron per column of data.targets", f"{units:,}"
            )
        columns = len(table["weights"][0])
        found = _shape(units, columns, "weight")
        if units == inputs and columns == outputs:
            found += " (rows and columns swapped?)"
        raise self.fail(
            f"{prefix}.weights",
            f"{_shape(outputs, inputs, 'weight')}: one row per column of data.targets, "
            "one weight per input",
            found,
        )

    def check_network_size(self, widths: list[int], samples_per_iteration: int) -> None:
        parameters = sum(units * (inputs + 1) for inputs, units in zip(widths, widths[1:]))
        if parameters > MAX_PARAMETERS:
            raise self.fail("layers", f"at most {MAX_PARAMETERS:,} weights and biases in all", f"{parameters:,}")
        weights = sum(units * inputs for inputs, units in zip(widths, widths[1:]))
        if samples_per_iteration * weights > MAX_SAMPLE_GRADIENTS:
            raise self.fail(
                "data.inputs",
                f"at most {MAX_SAMPLE_GRADIENTS:,} per-sample weight gradients "
                "(samples per iteration times weights); use fewer samples, a batch_size or a smaller network",
                f"{samples_per_iteration:,} times {weights:,}",
            )

    def layers(self, tables: list[dict], widths: list[int], seed: int) -> tuple[LayerSpec, ...]:
        rng = np.random.default_rng(seed)
        specs = []
        for index, table in enumerate(tables):
            prefix = f"layers[{index + 1}]"
            fixed = self.fixed(table, prefix)
            specs.append(
                LayerSpec(
                    *self.layer_parameters(tables, index, widths, rng),
                    activation=self.activation(table, prefix),
                    fixed_weights="weights" in fixed,
                    fixed_biases="biases" in fixed,
                )
            )
        return tuple(specs)

    def layer_parameters(
        self, tables: list[dict], index: int, widths: list[int], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        table = tables[index]
        prefix = f"layers[{index + 1}]"
        inputs, units = widths[index], widths[index + 1]
        if "weights" not in table:
            init_value = self.require(table, "init", prefix, 'init = "random" with units')
            init = self.choice(init_value, f"{prefix}.init", INIT_NAMES)
            if "biases" in table:
                raise self.fail(f"{prefix}.biases", f"no biases with init = {init!r}, which starts them at 0", "biases")
            # Glorot-uniform weights keep the scale of z near 1 for any width; biases start at 0.
            limit = math.sqrt(6.0 / (inputs + units))
            return rng.uniform(-limit, limit, size=(units, inputs)), np.zeros(units)
        if "init" in table:
            found = f"init = {_shorten(repr(table['init']))}"
            raise self.fail(f"{prefix}.init", "no init when weights are given", found)

        key = f"{prefix}.weights"
        rows = self.matrix(table["weights"], key, WEIGHT_ROWS, MAX_UNITS, MAX_UNITS)
        if len(rows[0]) != inputs:
            self.reject_weight_columns(tables, index, rows, widths)
        # NOTE: a square matrix typed transposed has the expected shape, so it loads unnoticed.
        biases = self.vector(
            self.require(table, "biases", prefix, f"{_count(units, 'bias')}, one per neuron"), f"{prefix}.biases"
        )
        if len(biases) != units:
            raise self.fail(
                f"{prefix}.biases", f"{_count(units, 'bias')}, one per row of {key}", f"{len(biases):,}"
            )
        return np.array(rows, dtype=np.float64), np.array(biases, dtype=np.float64)

    def reject_weight_columns(self, tables: list[dict], index: int, rows: list, widths: list[int]) -> None:
        """Raise for weights whose rows do not have one weight per input, naming the expected shape."""
        inputs = widths[index]
        units = len(rows)
        following = tables[index + 1].get("weights") if index + 1 < len(tables) else None
        if isinstance(following, list) and following and isinstance(following[0], list) and following[0]:
            # A hidden layer's width is also the row length of the next layer's weights.
            units = len(following[0])
        source = "column of data.inputs" if index == 0 else f"neuron of layers[{index}]"
        found = _shape(len(rows), len(rows[0]), "weight")
        if len(rows) == inputs and len(rows[0]) == units:
            found += " (rows and columns swapped?)"
        raise self.fail(
            f"layers[{index + 1}].weights",
            f"{_shape(units, inputs, 'weight')}: one row per neuron, one weight per {source}",
            found,
        )

    def activation(self, table: dict, prefix: str):
        name = self.choice(table.get("activation", "identity"), f"{prefix}.activation", ACTIVATION_NAMES)
        if "negative_slope" not in table:
            return make_activation(name)
        if name != "leaky_relu":
            raise self.fail(
                f"{prefix}.negative_slope",
                'negative_slope only with activation = "leaky_relu"',
                f"activation = {name!r}",
            )
        slope = self.number(table["negative_slope"], f"{prefix}.negative_slope")
        if not 0.0 < slope < 1.0:
            raise self.fail(f"{prefix}.negative_slope", "a number between 0 and 1", repr(slope))
        return make_activation(name, slope)

    def fixed(self, table: dict, prefix: str) -> set[str]:
        value = table.get("fixed", [])
        if not isinstance(value, list):
            raise self.fail(f"{prefix}.fixed", 'a list such as ["weights"] or ["biases"]', _describe(value))
        return {
            self.choice(item, f"{prefix}.fixed item {index + 1}", FIXED_NAMES) for index, item in enumerate(value)
        }
