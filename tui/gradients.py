"""The gradients panel: one row per parameter with its value, gradient and update."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable

from core.engine import Snapshot, StepKind
from core.explain import gradient_check
from core.naming import ParameterRef
from tui.formatting import format_number
from tui.tables import BulkDataTable, Column, Row, fill_table, sample_header_columns
from tui.view import visible_samples
from tui.panel import ViewPanel
from tui.view import PanelView

NOT_COMPUTED = "·"
NUMBER_WIDTH = 10
LEADING_COLUMNS_WIDTH = 32  # name, value and dL/dp with padding
CHECK_COLUMNS_WIDTH = 22  # numeric and rel diff
RELATIVE_WIDTH = 8  # two significant digits are plenty for a relative difference


class GradientsPanel(ViewPanel):
    """A table of every parameter in the lecture's order, w1.. then b1...

    Columns: `value` is the parameter this iteration uses (the old value once
    the update is applied), and `dL/dp` its gradient summed over the batch.
    With the gradient check on, `numeric` (the central finite difference of
    the loss) and `rel diff` (its relative difference from dL/dp) come next.
    For a batch, each sample's part of the sum follows in `s1`, `s2`, ...,
    as many as fit, always including the highlighted sample, whose header
    carries a `▸`. Then come `new` and `Δ` (new - value) once the update is
    applied, and the optimizer's state per parameter (velocity for momentum,
    m and v for Adam) after the snapshot's last step. Parameters the
    scenario keeps fixed are named `w1 fixed`.

    The cursor keeps its row from one view to the next. While the table does
    not have focus, it moves to `view.selection` when that names a parameter.

    | Key | Action |
    | :- | :- |
    | up / down | Highlight the previous / next parameter. |
    """

    DEFAULT_CSS = """
    GradientsPanel {
        height: 1fr;
    }
    GradientsPanel > DataTable {
        height: 1fr;
    }
    """

    class ParameterHighlighted(Message):
        """The table cursor moved to the parameter called `name`."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._reported: str | None = None  # the parameter named in the last ParameterHighlighted
        self._checks: tuple[Snapshot | None, dict[str, tuple[float, float]]] = (None, {})

    def compose(self) -> ComposeResult:
        yield BulkDataTable(cursor_type="row", fixed_columns=1)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        table = self.query_one(DataTable)
        # A rebuild highlights row 0 before the restored row, so stale events are skipped.
        if event.cursor_row != table.cursor_row or event.row_key.value is None:
            return
        name = event.row_key.value
        if name != self._reported:
            self._reported = name
            self.post_message(self.ParameterHighlighted(name))

    @property
    def highlighted(self) -> str | None:
        """The name of the parameter under the cursor, or None while the table is empty."""
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.ordered_rows[table.cursor_row].key.value

    def _redraw(self, view: PanelView) -> None:
        table = self.query_one(DataTable)
        checks = self._gradient_checks(view) if view.show_gradient_check else None
        # Sample columns come after the name, value, gradient and check columns;
        # only as many as fit are shown, around the highlighted one.
        reserved = LEADING_COLUMNS_WIDTH + (CHECK_COLUMNS_WIDTH if view.show_gradient_check else 0)
        visible = visible_samples(view, self.sample_column_limit(reserved))
        fill_table(table, parameter_columns(view, visible), parameter_rows(view, checks, visible))
        self._follow_selection(view.selection, table)
        self._follow_step(view, table)

    def _follow_step(self, view: PanelView, table: DataTable) -> None:
        """Scroll to the rows a backward step just computed, else to the top, unless the user is browsing.

        The scroll position then depends only on the snapshot, so stepping back restores the screen.
        """
        step = view.snapshot.step
        names = view.session.names
        if table.has_focus or view.selection in names.parameters:
            return
        first = 0
        if step is not None and step.kind is StepKind.BACKWARD:
            first = list(names.parameters).index(names.weights[step.layer][0][0])
        self.call_after_refresh(table.scroll_to, y=first, animate=False)

    def _follow_selection(self, selection: str | None, table: DataTable) -> None:
        """Move the cursor to a parameter selected elsewhere, such as in the diagram.

        While the table has focus the user moves the cursor, and the selection
        follows the cursor instead.
        """
        names = list(self.view.session.names.parameters)
        if table.has_focus or selection not in names or selection == self.highlighted:
            return
        table.move_cursor(row=names.index(selection), animate=False)

    def _gradient_checks(self, view: PanelView) -> dict[str, tuple[float, float]]:
        """Return the finite-difference estimate and relative difference per parameter, cached per snapshot."""
        snapshot, checks = self._checks
        if snapshot is view.snapshot:
            return checks
        checks = {}
        for name, reference in view.session.names.parameters.items():
            if _layer_gradient(view.snapshot, reference) is not None:
                result = gradient_check(view.session, name)
                checks[name] = (result.numeric, result.relative_difference)
        self._checks = (view.snapshot, checks)
        return checks


def parameter_columns(view: PanelView, visible: range) -> list[Column]:
    """Return the table's columns for this session, the visible samples and the gradient-check setting."""
    columns: list[Column] = [("name", Text("")), ("value", Text("value")), ("gradient", Text("dL/dp"))]
    # The check sits beside the gradient it checks, where it is seen at once.
    if view.show_gradient_check:
        columns += [("numeric", Text("numeric")), ("relative", Text("rel diff"))]
    if len(view.snapshot.sample_indices) > 1:
        columns += sample_header_columns(view, visible)
    columns += [("new", Text("new")), ("change", Text("Δ"))]
    for state_name in view.session.scenario.optimizer.state_names():
        columns.append((f"state:{state_name}", Text(state_name)))
    return columns


def parameter_rows(
    view: PanelView, checks: dict[str, tuple[float, float]] | None, visible: range
) -> list[Row]:
    """Return one row per parameter, in the lecture's order, matching `parameter_columns`."""
    snapshot = view.snapshot
    scenario = view.session.scenario
    batch = len(snapshot.sample_indices) > 1
    rows: list[Row] = []

    for name, reference in view.session.names.parameters.items():
        layer = scenario.layers[reference.layer]
        fixed = layer.fixed_weights if reference.kind == "weights" else layer.fixed_biases
        cells: list = [Text(f"{name} fixed" if fixed else name)]

        used = _used_parameters(snapshot, reference)
        value = _pick(used, reference)
        cells.append(_number(value))

        gradient = _layer_gradient(snapshot, reference)
        cells.append(_number(_pick(gradient, reference)) if gradient is not None else NOT_COMPUTED)
        if checks is not None:
            check = checks.get(name)
            cells += [_number(check[0]), _number(check[1], RELATIVE_WIDTH)] if check else [NOT_COMPUTED, NOT_COMPUTED]
        if batch:
            cells += _sample_cells(snapshot, reference, visible)

        if snapshot.update is not None:
            new = _pick(_current_parameters(snapshot, reference), reference)
            cells += [_number(new), _number(new - value)]
        else:
            cells += [NOT_COMPUTED, NOT_COMPUTED]

        index = 2 * reference.layer + (0 if reference.kind == "weights" else 1)
        for state_name in scenario.optimizer.state_names():
            cells.append(_number(_pick_array(snapshot.optimizer_state[state_name][index], reference)))
        rows.append((name, cells))
    return rows


def _sample_cells(snapshot: Snapshot, reference: ParameterRef, visible: range) -> list:
    samples = len(visible)
    if reference.kind == "weights":
        per_sample = snapshot.grad_w_samples[reference.layer]
        if per_sample is None:
            return [NOT_COMPUTED] * samples
        return [_number(value) for value in per_sample[visible, reference.row, reference.column]]
    per_sample = snapshot.grad_b_samples[reference.layer]
    if per_sample is None:
        return [NOT_COMPUTED] * samples
    return [_number(value) for value in per_sample[visible, reference.row]]


def _used_parameters(snapshot: Snapshot, reference: ParameterRef) -> tuple[np.ndarray, ...]:
    """Return the parameter arrays that this iteration's forward and backward passes use."""
    if snapshot.update is not None:
        return snapshot.update.weights if reference.kind == "weights" else snapshot.update.biases
    return _current_parameters(snapshot, reference)


def _current_parameters(snapshot: Snapshot, reference: ParameterRef) -> tuple[np.ndarray, ...]:
    return snapshot.weights if reference.kind == "weights" else snapshot.biases


def _layer_gradient(snapshot: Snapshot, reference: ParameterRef) -> tuple | None:
    """Return the snapshot's per-layer gradients for this kind of parameter, or None before its backward step."""
    gradients = snapshot.grad_w if reference.kind == "weights" else snapshot.grad_b
    if gradients[reference.layer] is None:
        return None
    return gradients


def _pick(arrays: tuple[np.ndarray, ...], reference: ParameterRef) -> float:
    return _pick_array(arrays[reference.layer], reference)


def _pick_array(array: np.ndarray, reference: ParameterRef) -> float:
    if reference.kind == "weights":
        return float(array[reference.row, reference.column])
    return float(array[reference.row])


def _number(value: float, width: int = NUMBER_WIDTH) -> Text:
    return Text(format_number(value, width), justify="right")
