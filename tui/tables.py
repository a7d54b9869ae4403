"""Refill a DataTable from rows of cells without losing the cursor or the scroll position."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.geometry import Region, Spacing
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey

Column = tuple[str, Text]  # key, header label
Row = tuple[str, Sequence[CellType]]  # key, one cell per column


def fill_table(table: DataTable, columns: Sequence[Column], rows: Sequence[Row]) -> bool:
    """Show `columns` and `rows` in `table`, and return True when the table was rebuilt.

    When the column and row keys are the same as before, the cells and header
    labels are updated in place, so the cursor and scroll position stay where
    they are. Otherwise the table is rebuilt and the cursor returns to the row
    with the same key, if that row still exists.
    """
    column_keys = [key for key, _ in columns]
    row_keys = [key for key, _ in rows]
    current_columns = [column.key.value for column in table.ordered_columns]
    current_rows = [row.key.value for row in table.ordered_rows]

    if column_keys == current_columns and row_keys == current_rows:
        for key, label in columns:
            table.columns[ColumnKey(key)].label = label
        for row_key, cells in rows:
            for column_key, cell in zip(column_keys, cells):
                table.update_cell(row_key, column_key, cell, update_width=True)
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


def scroll_column_into_view(table: DataTable, column_key: str) -> None:
    """Scroll `table` sideways just enough to show the column `column_key`, beside the fixed columns."""
    columns = table.ordered_columns
    keys = [column.key.value for column in columns]
    if column_key not in keys:
        return
    index = keys.index(column_key)
    widths = [column.get_render_width(table) for column in columns]
    fixed_width = sum(widths[: table.fixed_columns])
    left = sum(widths[:index])
    region = Region(left, int(table.scroll_y), widths[index], 1)
    table.scroll_to_region(region, animate=False, spacing=Spacing(0, 0, 0, fixed_width), immediate=True)
