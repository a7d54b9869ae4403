"""Refill a DataTable from rows of cells without losing the cursor or the scroll position."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey

from tui.view import PanelView

Column = tuple[str, Text]  # key, header label
Row = tuple[str, Sequence[CellType]]  # key, one cell per column

SELECTED_MARK = "▸"  # marks the highlighted sample and the selected row without colour


class BulkDataTable(DataTable):
    """A DataTable that repaints once for a batch of cell updates, not once per cell."""

    _deferring_refresh = False

    def update_cells(self, updates: Sequence[tuple[str, str, CellType, bool]]) -> None:
        """Apply (row key, column key, value, update width) updates, then repaint once."""
        self._deferring_refresh = True
        try:
            for row_key, column_key, value, update_width in updates:
                self.update_cell(row_key, column_key, value, update_width=update_width)
        finally:
            self._deferring_refresh = False
        if updates:
            self.refresh()

    def refresh(self, *regions, **options):
        if self._deferring_refresh:
            return self
        return super().refresh(*regions, **options)


def sample_header_columns(view: PanelView, visible: range) -> list[Column]:
    """Return one column per visible sample, headed with its number in the data set, s1.."""
    indices = view.snapshot.sample_indices
    columns: list[Column] = []
    for position in visible:
        highlighted = position == view.sample
        label = f"{SELECTED_MARK if highlighted else ' '}s{indices[position] + 1}"
        columns.append((f"sample{position}", Text(label, style="bold reverse" if highlighted else "")))
    return columns


def fill_table(table: DataTable, columns: Sequence[Column], rows: Sequence[Row]) -> bool:
    """Show `columns` and `rows` in `table`, and return True when the table was rebuilt.

    When the column and row keys are the same as before, the cells and header
    labels are updated in place, so the cursor and scroll position stay where
    they are, and columns widen but never narrow. Otherwise the table is rebuilt and the cursor returns to the row
    with the same key, if that row still exists.
    """
    column_keys = [key for key, _ in columns]
    row_keys = [key for key, _ in rows]
    current_columns = [column.key.value for column in table.ordered_columns]
    current_rows = [row.key.value for row in table.ordered_rows]

    if column_keys == current_columns and row_keys == current_rows:
        labels_changed = False
        for key, label in columns:
            column = table.columns[ColumnKey(key)]
            if not _same_cell(label, column.label):
                column.label = label
                labels_changed = True
        # Textual re-measures a whole column whenever an updated cell is narrower
        # than the column, which costs rows² per refill. So columns only widen here.
        # Each update_cell repaints the table, so cells that did not change are skipped.
        widths = {key: table.columns[ColumnKey(key)].content_width for key in column_keys}
        updates = []
        for row_key, cells in rows:
            for column_key, cell, old in zip(column_keys, cells, table.get_row(row_key)):
                if _same_cell(cell, old):
                    continue
                width = _cell_width(cell)
                wider = width > widths[column_key]
                if wider:
                    widths[column_key] = width
                updates.append((row_key, column_key, cell, wider))
        if labels_changed and not updates and rows:
            # DataTable redraws its cached header only after a cell update, so
            # rewrite one cell with its own value when only labels changed.
            first_row, first_cells = rows[0]
            updates.append((first_row, column_keys[0], first_cells[0], False))
        if isinstance(table, BulkDataTable):
            table.update_cells(updates)
        else:
            for row_key, column_key, cell, wider in updates:
                table.update_cell(row_key, column_key, cell, update_width=wider)
        return False

    cursor_key = current_rows[table.cursor_row] if 0 <= table.cursor_row < len(current_rows) else None
    table.clear(columns=True)
    for key, label in columns:
        table.add_column(label, key=key)
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if cursor_key in row_keys:
        table.move_cursor(row=row_keys.index(cursor_key), animate=False)
    return True


def _same_cell(new: CellType, old: CellType) -> bool:
    if isinstance(new, Text) and isinstance(old, Text):
        return new.plain == old.plain and new.style == old.style and new.justify == old.justify
    return type(new) is type(old) and new == old


def _cell_width(cell: CellType) -> int:
    if isinstance(cell, Text):
        return cell.cell_len
    return cell_len(str(cell))
