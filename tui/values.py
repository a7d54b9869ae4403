"""The values panel: every neuron's value in the current iteration, one column per sample."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from core.engine import StepKind
from tui.formatting import format_number
from tui.panel import ViewPanel
from tui.tables import (
    SELECTED_MARK,
    BulkDataTable,
    Column,
    Row,
    fill_table,
    sample_header_columns,
)
from tui.view import PanelView, visible_samples

NOT_COMPUTED = "·"
NUMBER_WIDTH = 10
NAME_COLUMN_WIDTH = 10  # room for the row names, z(u12) and the like, with padding


class ValuesPanel(ViewPanel):
    """Inputs x, each layer's z and a = f(z), targets y and each sample's loss term.

    Rows use the lecture's names. A layer without an activation has one row
    per neuron (u1 = z = a). A layer with one has a row `z(u1)` for z and a
    row `u1` for a = f(z). Each sample of the batch gets a column headed with
    its number in the data set, and the highlighted sample's header carries a
    `▸`. A scenario with a single sample has one column, `value`. The
    selected quantity's row is marked with a `▸` too. Values the current
    step has not reached yet show `·`.
    """

    DEFAULT_CSS = """
    ValuesPanel {
        height: 1fr;
    }
    ValuesPanel > DataTable {
        height: 1fr;
    }
    """

    def compose(self) -> ComposeResult:
        yield BulkDataTable(cursor_type="none", fixed_columns=1)

    def _redraw(self, view: PanelView) -> None:
        table = self.query_one(DataTable)
        # Only as many sample columns as fit, around the highlighted one, so it is never clipped.
        visible = visible_samples(view, self.sample_column_limit(NAME_COLUMN_WIDTH))
        fill_table(table, sample_columns(view, visible), value_rows(view, visible))
        if not table.has_focus:
            self.call_after_refresh(table.scroll_to, y=step_row(view, table), animate=False)


def step_row(view: PanelView, table: DataTable) -> int:
    """Return the first row that the current step computed, so a short panel can scroll to it.

    The scroll position depends only on the snapshot, so stepping back restores the screen.
    """
    step = view.snapshot.step
    names = view.session.names
    if step is None or step.kind not in (StepKind.FORWARD, StepKind.LOSS):
        return 0
    layer = len(names.neurons) - 1 if step.kind is StepKind.LOSS else step.layer
    keys = [row.key.value for row in table.ordered_rows]
    first = names.neurons[layer][0]
    return keys.index(f"z({first})") if f"z({first})" in keys else keys.index(first)


def sample_columns(view: PanelView, visible: range) -> list[Column]:
    """Return the name column and one column per visible sample of the current batch."""
    columns: list[Column] = [("name", Text(""))]
    if view.session.scenario.samples == 1:
        return [*columns, ("sample0", Text("value"))]
    return columns + sample_header_columns(view, visible)


def value_rows(view: PanelView, visible: range) -> list[Row]:
    """Return one row per input, neuron value, target and the loss terms, in that order."""
    snapshot = view.snapshot
    session = view.session
    names = session.names
    samples = len(snapshot.sample_indices)
    rows: list[Row] = []

    def add(key: str, label: str, values) -> None:
        marked = SELECTED_MARK if key == view.selection else " "
        cells = [_number(values[sample]) if values is not None else NOT_COMPUTED for sample in visible]
        rows.append((key, [Text(f"{marked}{label}"), *cells]))

    for column, name in enumerate(names.inputs):
        add(name, name, snapshot.inputs[:, column])

    for layer, neurons in enumerate(names.neurons):
        z = snapshot.z[layer]
        a = snapshot.a[layer]
        identity = session.activations[layer].is_identity
        for unit, name in enumerate(neurons):
            if not identity:
                add(f"z({name})", f"z({name})", None if z is None else z[:, unit])
            add(name, name, None if a is None else a[:, unit])

    for column, name in enumerate(names.targets):
        add(name, name, snapshot.targets[:, column])

    # The loss terms add up to L, so with one sample the only term is L itself.
    add("loss", "L" if samples == 1 else "L_i", snapshot.sample_losses)
    return rows


def _number(value) -> Text:
    return Text(format_number(float(value), NUMBER_WIDTH), justify="right")
