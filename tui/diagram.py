"""The network diagram: nodes in columns, connections labelled with their weights.

`render_diagram` lays out and draws the whole diagram as a pure function of a
PanelView and a size, so tests need no app. `NetworkDiagram` is the widget
that shows it and moves a node cursor with the keyboard.

There is one column per layer of values (inputs, each hidden layer, outputs),
with braille lines for the connections between columns. The last two rows
are captions: what the current step computed, and the selected node or
parameter with its weights and gradients. Highlights never rely on colour:

- selected node: `[u1=22]` in reverse video. Keyboard cursor: `›u1=22`.
- forward step: the computed column in bold and underlined, `▸` where its
  incoming connections arrive.
- backward steps: dL/d(value) as `◂32` under or beside each node whose
  derivative is known, and `◂` where the connections whose weight gradients
  were just computed leave their source nodes.

A gap narrower than ROOMY_GAP labels only the selected weight, the
connections of the selected or cursor node and those of the current step.
Columns too tall for the panel elide their middle as `⋮ 56`, and networks too
wide keep the columns around the focus, with `⋯3` counting the hidden ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from core.engine import StepKind
from core.naming import ParameterRef
from tui.formatting import format_number
from tui.view import PanelView

PLACEHOLDER = "·"  # a value the current step has not computed yet
FORWARD_ARROW = "▸"
BACKWARD_ARROW = "◂"
MIN_GAP = 3  # columns of connection between two node columns: stub, line, arrow
ROOMY_GAP = 24  # a gap at least this wide labels every connection
MAX_DRAWN_EDGES = 48  # more connections than this in one gap become a summary

STYLE_LINE = Style(dim=True)
STYLE_ACTIVE_LINE = Style(bold=True)
STYLE_LABEL = Style()
STYLE_NODE = Style(bold=True)
STYLE_PENDING = Style(dim=True)
STYLE_FORWARD = Style(bold=True, underline=True, color="cyan")
STYLE_BACKWARD = Style(bold=True, italic=True, color="magenta")
STYLE_SELECTED = Style(reverse=True, bold=True)
STYLE_CURSOR = Style(underline=True)
STYLE_CAPTION = Style(bold=True)

# Braille dot bits by (dx, dy) within a cell of 2 × 4 dots.
_BRAILLE_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


# Drawing surface


class _Canvas:
    """A grid of cells, each one character with a style."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.chars = [[" "] * width for _ in range(height)]
        self.styles = [[Style()] * width for _ in range(height)]
        self.has_text = [[False] * width for _ in range(height)]  # True where text was written, as opposed to lines

    def put_text(self, x: int, y: int, text: str, style: Style, reserve: bool = True) -> None:
        if not 0 <= y < self.height:
            return
        for offset, char in enumerate(text):
            column = x + offset
            if 0 <= column < self.width:
                self.chars[y][column] = char
                self.styles[y][column] = style
                self.has_text[y][column] = self.has_text[y][column] or reserve

    def is_free(self, x: int, y: int, length: int) -> bool:
        """True if `length` cells from (x, y) and one cell on each side contain no text."""
        if not 0 <= y < self.height or x < 0 or x + length > self.width:
            return False
        return not any(self.has_text[y][max(x - 1, 0) : x + length + 1])

    def put_dot(self, dot_x: int, dot_y: int, style: Style) -> None:
        """Set one braille dot; a cell that contains text keeps its text."""
        x, y = dot_x // 2, dot_y // 4
        if not (0 <= x < self.width and 0 <= y < self.height) or self.has_text[y][x]:
            return
        char = self.chars[y][x]
        bits = ord(char) - 0x2800 if "\u2800" <= char <= "\u28ff" else 0
        self.chars[y][x] = chr(0x2800 | bits | _BRAILLE_BITS[dot_x % 2][dot_y % 4])
        if style != STYLE_LINE or bits == 0:
            self.styles[y][x] = style

    def lines(self) -> list[Text]:
        lines = []
        for y in range(self.height):
            line = Text(end="")
            for x in range(self.width):
                line.append(self.chars[y][x], self.styles[y][x])
            lines.append(line)
        return lines


def _draw_connection(canvas: _Canvas, start: tuple[int, int], end: tuple[int, int], style: Style) -> None:
    """Draw a braille line from the middle of cell `start` to the middle of cell `end`, as (x, y)."""
    (x0, y0), (x1, y1) = start, end
    dot_x0, dot_y0 = 2 * x0, 4 * y0 + 1.5
    dot_x1, dot_y1 = 2 * x1 + 1, 4 * y1 + 1.5
    steps = int(2 * max(abs(dot_x1 - dot_x0), abs(dot_y1 - dot_y0))) + 1
    for step in range(steps + 1):
        fraction = step / steps
        dot_x = dot_x0 + (dot_x1 - dot_x0) * fraction
        dot_y = dot_y0 + (dot_y1 - dot_y0) * fraction
        canvas.put_dot(int(round(dot_x)), int(round(dot_y)), style)


# What the step computed


@dataclass(frozen=True)
class _Activity:
    """The column and gap that the current step highlights, and the direction of flow."""

    column: int | None = None  # node column computed by this step
    gap: int | None = None  # gap g sits between columns g and g + 1
    backward: bool = False
    caption: str = ""


def _describe_step(view: PanelView) -> _Activity:
    snapshot = view.snapshot
    names = view.session.names
    step = snapshot.step
    if step is None:
        return _Activity(caption=f"iteration {snapshot.iteration}: start, nothing computed yet")

    if step.kind is StepKind.FORWARD:
        layer = step.layer
        neurons = names.neurons[layer]
        computed = neurons[0] if len(neurons) == 1 else f"{neurons[0]}..{neurons[-1]}"
        return _Activity(
            column=layer + 1,
            gap=layer,
            caption=f"{FORWARD_ARROW} forward, layer {layer + 1}: {computed} computed",
        )

    output_column = len(names.neurons)
    if step.kind is StepKind.LOSS:
        caption = f"{FORWARD_ARROW} loss L = {format_number(snapshot.loss)}"
        targets = _sample_row(snapshot.targets, view.sample)
        if targets is not None:
            pairs = " ".join(f"{name}={format_number(value)}" for name, value in zip(names.targets, targets))
            caption += f" with targets {pairs}"
        return _Activity(column=output_column, caption=caption)

    if step.kind is StepKind.OUTPUT_GRADIENT:
        return _Activity(
            column=output_column,
            backward=True,
            caption=f"{BACKWARD_ARROW} backward: dL/dŷ, shown as {BACKWARD_ARROW}n under ŷ",
        )

    if step.kind is StepKind.BACKWARD:
        layer = step.layer
        caption = f"{BACKWARD_ARROW} backward, layer {layer + 1}: dL/dw, dL/db"
        if layer > 0:
            caption += f" and dL/d{names.neurons[layer - 1][0].rstrip('0123456789')}"
        return _Activity(column=layer if layer > 0 else None, gap=layer, backward=True, caption=caption)

    rate = format_number(snapshot.update.learning_rate) if snapshot.update else "?"
    optimizer = view.session.scenario.optimizer.name
    if optimizer == "sgd":
        return _Activity(caption=f"update: p -= {rate}·dL/dp (new values shown)")
    return _Activity(caption=f"update by {optimizer}, η = {rate} (new values shown)")


# Layout


@dataclass
class _Node:
    name: str
    column: int
    index: int  # position within its layer
    label: str  # "u1=22"
    derivative: str  # "◂32", or "" while dL/d(value) is unknown
    x: int = 0
    y: int = 0


@dataclass
class _Column:
    nodes: list[_Node]  # the visible ones, top to bottom
    size: int  # nodes in the layer, visible or not
    markers: list[tuple[int, str]] = field(default_factory=list)  # (y, "⋮ 12") for elided runs
    width: int = 0
    x: int = 0


def _sample_row(array: np.ndarray | None, sample: int) -> np.ndarray | None:
    if array is None or len(array) == 0:
        return None
    return array[min(max(sample, 0), len(array) - 1)]


def _column_names(view: PanelView) -> list[tuple[str, ...]]:
    names = view.session.names
    return [names.inputs, *names.neurons]


def _node_values(view: PanelView, column: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Values and dL/d(value) of one column for the highlighted sample; None where not computed."""
    snapshot = view.snapshot
    if column == 0:
        return _sample_row(snapshot.inputs, view.sample), None
    layer = column - 1
    gradients = snapshot.grad_a[layer] if layer < len(snapshot.grad_a) else None
    return _sample_row(snapshot.a[layer], view.sample), _sample_row(gradients, view.sample)


def _locate(view: PanelView, name: str | None) -> dict[int, int]:
    """Map column -> node index for the nodes `name` refers to: a node, or a weight's two ends."""
    if name is None:
        return {}
    for column, names in enumerate(_column_names(view)):
        if name in names:
            return {column: names.index(name)}
    reference = view.session.names.find(name)
    if reference is None:
        return {}
    if reference.kind == "weights":
        return {reference.layer: reference.column, reference.layer + 1: reference.row}
    return {reference.layer + 1: reference.row}


def _visible_indices(size: int, rows: int, node_height: int, focus: int | None) -> list[int]:
    """Pick which nodes of a column fit in `rows`, keeping the focus, first and last ones."""
    if size * node_height <= rows:
        return list(range(size))

    def rows_needed(chosen: list[int]) -> int:
        runs = sum(1 for a, b in zip(chosen, chosen[1:]) if b - a > 1)
        runs += (chosen[0] > 0) + (chosen[-1] < size - 1)
        return len(chosen) * node_height + runs

    centre = focus if focus is not None else 0
    order = [centre, 0, size - 1]
    for distance in range(1, size):
        order += [centre + distance, centre - distance]
    order += list(range(size))
    chosen: list[int] = []
    for index in order:
        if not 0 <= index < size or index in chosen:
            continue
        candidate = sorted([*chosen, index])
        if rows_needed(candidate) <= rows:
            chosen = candidate
    return chosen


def _node_texts(
    view: PanelView, column: int, index: int, detail: int, name: str
) -> tuple[str, str]:
    values, gradients = _node_values(view, column)
    if detail >= 2:
        return name, ""
    value = PLACEHOLDER if values is None else format_number(values[index])
    derivative = "" if gradients is None else BACKWARD_ARROW + format_number(gradients[index])
    if detail >= 1:
        derivative = ""
    return f"{name}={value}", derivative


@dataclass
class _Layout:
    columns: dict[int, _Column]  # only the columns drawn, by column number
    two_rows: bool  # derivatives go under the node rather than beside it
    detail: int  # 0: name=value and dL/d; 1: name=value; 2: name only
    hidden_left: int = 0
    hidden_right: int = 0


def _build_columns(
    view: PanelView, rows: int, detail: int, two_rows: bool, focus: dict[int, int]
) -> dict[int, _Column]:
    columns = {}
    for number, names in enumerate(_column_names(view)):
        node_height = 2 if two_rows and number > 0 else 1
        visible = _visible_indices(len(names), rows, node_height, focus.get(number))
        nodes = []
        for index in visible:
            label, derivative = _node_texts(view, number, index, detail, names[index])
            nodes.append(_Node(names[index], number, index, label, derivative))
        column = _Column(nodes, len(names))
        widths = [_node_width(node, two_rows) for node in nodes]
        if len(visible) < len(names):
            widths.append(len(f"⋮ {len(names) - len(visible)}"))
        column.width = max(widths)
        columns[number] = column
    return columns


def _node_width(node: _Node, two_rows: bool) -> int:
    # Two cells around the label hold the selection brackets or the cursor mark.
    if two_rows or not node.derivative:
        return max(cell_len(node.label) + 2, cell_len(node.derivative) + 1)
    return cell_len(node.label) + 2 + 1 + cell_len(node.derivative)


def _choose_layout(view: PanelView, width: int, rows: int, focus: dict[int, int], focus_column: int) -> _Layout:
    """Find the most detailed layout that fits; elide columns at the sides when none does."""
    widths = view.session.scenario.widths
    tallest = max(widths[1:])
    for detail in (0, 1, 2):
        two_rows = detail == 0 and 2 * tallest <= rows
        columns = _build_columns(view, rows, detail, two_rows, focus)
        needed = sum(column.width for column in columns.values()) + MIN_GAP * (len(columns) - 1)
        if needed <= width:
            return _Layout(columns, two_rows, detail)

    # Keep a run of columns around the focus that fits, with "⋯n" at the cut sides.
    numbers = sorted(columns)
    start = end = focus_column
    used = columns[focus_column].width

    def extra(number: int) -> int:
        return columns[number].width + MIN_GAP

    while True:
        grown = False
        for candidate in (end + 1, start - 1):
            if candidate in columns and used + extra(candidate) + 2 * (MIN_GAP + 2) <= width:
                used += extra(candidate)
                start, end = min(start, candidate), max(end, candidate)
                grown = True
        if not grown:
            break
    kept = {number: columns[number] for number in numbers if start <= number <= end}
    return _Layout(kept, False, 2, hidden_left=start, hidden_right=numbers[-1] - end)


def _place(layout: _Layout, width: int, rows: int) -> int:
    """Set every column's x and every node's y; return the x where the side marker on the right goes."""
    left_margin = 4 if layout.hidden_left else 0
    right_margin = 4 if layout.hidden_right else 0
    columns = [layout.columns[number] for number in sorted(layout.columns)]
    total = sum(column.width for column in columns)
    free = width - left_margin - right_margin - total
    gaps = max(len(columns) - 1, 1)
    gap = max(free // gaps, MIN_GAP) if len(columns) > 1 else 0
    x = left_margin + (max(free - gap * (len(columns) - 1), 0) // 2 if len(columns) == 1 else 0)
    for column in columns:
        column.x = x
        x += column.width + gap
        _place_rows(column, layout.two_rows and column.nodes[0].column > 0, rows)
    return width - right_margin


def _place_rows(column: _Column, two_rows: bool, rows: int) -> None:
    """Spread the column's nodes and elision markers evenly over the rows."""
    node_height = 2 if two_rows else 1
    items: list[_Node | int] = []  # a node, or a count of hidden nodes
    previous = -1
    for node in column.nodes:
        if node.index - previous > 1:
            items.append(node.index - previous - 1)
        items.append(node)
        previous = node.index
    if previous < column.size - 1:
        items.append(column.size - 1 - previous)

    heights = [node_height if isinstance(item, _Node) else 1 for item in items]
    slack = max(rows - sum(heights), 0)
    y = 0.0
    spacing = slack / len(items)
    for item, height in zip(items, heights):
        top = int(y + spacing / 2)
        if isinstance(item, _Node):
            item.x, item.y = column.x + 1, top
        else:
            column.markers.append((top, f"⋮ {item}"))
        y += height + spacing


# Drawing


@dataclass(frozen=True)
class _Marks:
    """The selected node and weight, the cursor's node, and what the step highlights."""

    selected: dict[int, int]
    cursor: dict[int, int]
    selected_weight: tuple[int, int, int] | None  # (layer, row, column)
    activity: _Activity


def _draw_gap(
    canvas: _Canvas, view: PanelView, left: _Column, right: _Column, marks: _Marks, all_labels: bool
) -> list[str]:
    """Draw the connections between two columns; return the names of weights drawn without a label.

    Labels go first to the selected weight, then to the connections of the
    selected or cursor node, then to the step's highlighted connections. The
    rest are labelled only when `all_labels` is set and there is room.
    """
    layer = left.nodes[0].column  # weights of layer `layer` connect these two columns
    activity = marks.activity
    active = activity.gap == layer
    weight_names = view.session.names.weights[layer]
    weights = view.snapshot.weights[layer]
    focus_left = {marks.selected.get(layer), marks.cursor.get(layer)} - {None}
    focus_right = {marks.selected.get(layer + 1), marks.cursor.get(layer + 1)} - {None}

    def is_selected(source: _Node, target: _Node) -> bool:
        return marks.selected_weight == (layer, target.index, source.index)

    def is_focus(source: _Node, target: _Node) -> bool:
        return source.index in focus_left or target.index in focus_right

    def priority(edge: tuple[_Node, _Node]) -> int:
        # 0 is drawn last, on top: selected weight, focused node's edges, active layer, the rest.
        if is_selected(*edge):
            return 0
        if is_focus(*edge):
            return 1
        if active:
            return 2
        return 3

    edges = [(source, target) for target in right.nodes for source in left.nodes]
    if len(edges) > MAX_DRAWN_EDGES:
        edges = [edge for edge in edges if priority(edge) < 2]
        arrow = BACKWARD_ARROW if active and activity.backward else FORWARD_ARROW
        summary = f"{left.size}×{right.size}{arrow}"
        start, end = left.x + left.width, right.x - 1
        if cell_len(summary) <= end - start:
            canvas.put_text(start + (end - start - cell_len(summary)) // 2, canvas.height // 2, summary, STYLE_LINE)

    def ends(source: _Node, target: _Node) -> tuple[tuple[int, int], tuple[int, int]]:
        # From the cell after the source's closing bracket to the cell before the target's opening one.
        return (source.x + cell_len(source.label) + 1, source.y), (target.x - 2, target.y)

    # Highest priority last, so its dots and style end up on top.
    edges.sort(key=priority, reverse=True)
    for edge in edges:
        if is_selected(*edge):
            style = STYLE_SELECTED
        elif priority(edge) < 3:
            style = STYLE_ACTIVE_LINE
        else:
            style = STYLE_LINE
        _draw_connection(canvas, *ends(*edge), style)
    if active:
        arrow = BACKWARD_ARROW if activity.backward else FORWARD_ARROW
        for node in left.nodes if activity.backward else right.nodes:
            x = node.x + cell_len(node.label) + 1 if activity.backward else node.x - 2
            canvas.put_text(x, node.y, arrow, STYLE_ACTIVE_LINE)

    unlabelled = []
    sources = len(left.nodes)
    for edge in sorted(edges, key=priority):
        source, target = edge
        name = weight_names[target.index][source.index]
        if priority(edge) == 3 and not all_labels:
            unlabelled.append(name)
            continue
        text = f"{name}={format_number(weights[target.index, source.index])}"
        style = STYLE_SELECTED if is_selected(*edge) else STYLE_LABEL
        # Each source gets its own band of the gap, so labels of crossing lines do not pile up.
        band = (left.nodes.index(source) + 0.5) / sources
        (x0, y0), (x1, y1) = ends(*edge)
        if not _place_label(canvas, text, style, (x0 + 1, y0), (x1 - 1, y1), band):
            unlabelled.append(name)
    return unlabelled


def _place_label(
    canvas: _Canvas, text: str, style: Style, start: tuple[int, int], end: tuple[int, int], preferred: float
) -> bool:
    """Write `text` on the line from `start` to `end` near fraction `preferred` of its length.

    Returns False when every spot tried is taken by other text.
    """
    (x0, y0), (x1, y1) = start, end
    length = cell_len(text)
    if x1 - x0 + 1 < length:
        return False
    span = max(x1 - x0, 1)
    fractions = [preferred + shift for shift in (0, -0.1, 0.1, -0.2, 0.2, -0.3, 0.3)]
    for fraction in [value for value in fractions if 0 <= value <= 1] + [0.0, 1.0]:
        left = int(round(x0 + fraction * span - length / 2))
        left = min(max(left, x0), x1 - length + 1)
        middle = left + (length - 1) / 2
        y = int(round(y0 + (y1 - y0) * (middle - x0) / span))
        if canvas.is_free(left, y, length):
            canvas.put_text(left, y, text, style)
            return True
    return False


def _draw_nodes(canvas: _Canvas, column: _Column, two_rows: bool, marks: _Marks) -> None:
    activity = marks.activity
    for node in column.nodes:
        selected = marks.selected.get(node.column) == node.index
        cursor = marks.cursor.get(node.column) == node.index
        pending = PLACEHOLDER in node.label
        style = STYLE_PENDING if pending else STYLE_NODE
        if activity.column == node.column:
            style = STYLE_BACKWARD if activity.backward else STYLE_FORWARD
        if cursor:
            style = style + STYLE_CURSOR
        if selected:
            style = style + STYLE_SELECTED
        left_mark = " "
        if selected:
            left_mark = "["
        elif cursor:
            left_mark = "›"
        right_mark = "]" if selected else " "
        canvas.put_text(node.x - 1, node.y, left_mark + node.label + right_mark, style)

        if node.derivative:
            derivative_style = STYLE_BACKWARD if activity.backward else STYLE_LABEL
            if two_rows:
                canvas.put_text(node.x, node.y + 1, node.derivative, derivative_style)
            else:
                after = node.x + cell_len(node.label) + 2
                canvas.put_text(after, node.y, node.derivative, derivative_style)
    for y, marker in column.markers:
        canvas.put_text(column.x + 1, y, marker, STYLE_LINE)


def _focus_caption(view: PanelView, focus_name: str | None) -> str:
    """Describe the selected node or parameter in one line."""
    if focus_name is None:
        return ""
    reference = view.session.names.find(focus_name)
    if reference is not None:
        return _parameter_caption(view, reference)
    located = _locate(view, focus_name)
    if not located:
        return ""
    (column, index), = located.items()
    return _node_caption(view, column, index)


def _parameter_caption(view: PanelView, reference: ParameterRef) -> str:
    """`w7=2: u1 → ŷ1, dL/dw7=484`, or `b4=5: bias of ŷ1, dL/db4=22`."""
    snapshot = view.snapshot
    names = view.session.names
    layer, row, column = reference.layer, reference.row, reference.column
    target = names.neurons[layer][row]
    if reference.kind == "weights":
        value = snapshot.weights[layer][row, column]
        text = f"{reference.name}={format_number(value)}: {names.layer_inputs(layer)[column]} → {target}"
        gradient = snapshot.grad_w[layer]
        gradient_value = None if gradient is None else gradient[row, column]
    else:
        text = f"{reference.name}={format_number(snapshot.biases[layer][row])}: bias of {target}"
        gradient = snapshot.grad_b[layer]
        gradient_value = None if gradient is None else gradient[row]
    if gradient_value is not None:
        text += f", dL/d{reference.name}={format_number(gradient_value)}"
    return text


def _node_caption(view: PanelView, column: int, index: int) -> str:
    """`u1=22 dL/du1=32 ← w1=4 w2=3 b1=4 │ dL/dw1=96 dL/dw2=64 dL/db1=32`."""
    snapshot = view.snapshot
    names = view.session.names
    name = _column_names(view)[column][index]
    values, gradients = _node_values(view, column)
    text = f"{name}={PLACEHOLDER if values is None else format_number(values[index])}"
    if gradients is not None:
        text += f" dL/d{name}={format_number(gradients[index])}"
    if column == 0:
        return text + " (input)"

    layer = column - 1
    parameter_names = [*names.weights[layer][index], names.biases[layer][index]]
    parameters = [*snapshot.weights[layer][index], snapshot.biases[layer][index]]
    text += " ← " + " ".join(f"{n}={format_number(v)}" for n, v in zip(parameter_names, parameters))
    gradient_w, gradient_b = snapshot.grad_w[layer], snapshot.grad_b[layer]
    if gradient_w is not None and gradient_b is not None:
        parameter_gradients = [*gradient_w[index], gradient_b[index]]
        text += " │ " + " ".join(
            f"dL/d{n}={format_number(v)}" for n, v in zip(parameter_names, parameter_gradients)
        )
    return text


def _fit(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + "…"


def render_diagram(view: PanelView, width: int, height: int, cursor: str | None = None) -> Text:
    """Lay out and draw the network for `view` in `width` × `height` cells.

    `cursor` names the node under the keyboard cursor, drawn as `›name`. The
    result has exactly `height` lines of at most `width` cells.
    """
    if width <= 0 or height <= 0:
        return Text("", end="")
    with np.errstate(all="ignore"):
        return _render(view, width, height, cursor)


def _render(view: PanelView, width: int, height: int, cursor: str | None) -> Text:
    activity = _describe_step(view)
    selection = view.selection
    focus_name = selection if _locate(view, selection) else cursor
    caption_rows = 0
    if height >= 8:
        caption_rows = 2
    elif height >= 4:
        caption_rows = 1
    rows = height - caption_rows

    selected = _locate(view, selection)
    cursor_at = _locate(view, cursor)
    focus = {**cursor_at, **selected}
    reference = view.session.names.find(selection) if selection else None
    selected_weight = None
    if reference is not None and reference.kind == "weights":
        selected_weight = (reference.layer, reference.row, reference.column)
    marks = _Marks(selected, cursor_at, selected_weight, activity)

    focus_column = min(focus) if focus else (activity.column or 0)
    layout = _choose_layout(view, width, rows, focus, focus_column)
    right_edge = _place(layout, width, rows)
    canvas = _Canvas(width, rows)

    columns = [layout.columns[number] for number in sorted(layout.columns)]
    for column in columns:
        _draw_nodes(canvas, column, layout.two_rows, marks)
    unlabelled: list[str] = []
    for left, right in zip(columns, columns[1:]):
        roomy = right.x - (left.x + left.width) >= ROOMY_GAP
        unlabelled += _draw_gap(canvas, view, left, right, marks, roomy and layout.detail < 2)
    middle = rows // 2
    if layout.hidden_left:
        canvas.put_text(0, middle, f"⋯{layout.hidden_left}", STYLE_LINE)
    if layout.hidden_right:
        canvas.put_text(right_edge + 1, middle, f"⋯{layout.hidden_right}", STYLE_LINE)

    lines = canvas.lines()
    captions = [activity.caption]
    if focus_name is None and unlabelled:
        captions.append("select a node to list the weights into it")
    else:
        captions.append(_focus_caption(view, focus_name))
    for caption, style in zip(captions[:caption_rows], (STYLE_CAPTION, STYLE_LABEL)):
        lines.append(Text(_fit(caption, width), style, end=""))
    return Text("\n", no_wrap=True, overflow="crop", end="").join(lines)


# The widget


class NetworkDiagram(Widget, can_focus=True):
    """The network as nodes and labelled connections, with a keyboard node cursor.

    | Key | Action |
    | :- | :- |
    | left, h | Move the cursor to the previous column. |
    | right, l | Move the cursor to the next column. |
    | up, k | Move the cursor up within its column. |
    | down, j | Move the cursor down within its column. |
    """

    DEFAULT_CSS = """
    NetworkDiagram {
        height: 1fr;
        width: 1fr;
    }
    """

    BINDINGS = [
        Binding("left,h", "cursor_left", "Previous layer", show=False),
        Binding("right,l", "cursor_right", "Next layer", show=False),
        Binding("up,k", "cursor_up", "Node above", show=False),
        Binding("down,j", "cursor_down", "Node below", show=False),
    ]

    view: reactive[PanelView | None] = reactive(None)
    """The state to draw; None until the first `show`."""

    cursor: reactive[tuple[int, int]] = reactive((0, 0))
    """The keyboard cursor as (column, node index); column 0 is the inputs."""

    class NodeSelected(Message):
        """Posted when the keyboard cursor moves to another node."""

        def __init__(self, name: str) -> None:
            self.name = name
            """The node's lecture name, such as "x1", "u2" or "ŷ1"."""
            super().__init__()

    def show(self, view: PanelView) -> None:
        """Redraw from `view`; a selected node also moves the cursor there, without a message."""
        located = _locate(view, view.selection)
        if len(located) == 1:
            (column, index), = located.items()
            self.cursor = (column, index)
        self.view = view

    def render(self) -> Text:
        if self.view is None:
            return Text("")
        width, height = self.size
        return render_diagram(self.view, width, height, cursor=self.cursor_name if self.has_focus else None)

    @property
    def cursor_name(self) -> str | None:
        """The name of the node under the cursor, or None before the first `show`."""
        if self.view is None:
            return None
        column, index = self.cursor
        return _column_names(self.view)[column][index]

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_cursor_left(self) -> None:
        self._move_column(-1)

    def action_cursor_right(self) -> None:
        self._move_column(+1)

    def action_cursor_up(self) -> None:
        self._move_within_column(-1)

    def action_cursor_down(self) -> None:
        self._move_within_column(+1)

    def _move_column(self, delta: int) -> None:
        if self.view is None:
            return
        columns = _column_names(self.view)
        column, index = self.cursor
        target = column + delta
        if not 0 <= target < len(columns):
            return
        # Keep the same relative height, so moving right from the middle lands in the middle.
        old_size, new_size = len(columns[column]), len(columns[target])
        relative = index / (old_size - 1) if old_size > 1 else 0.5
        self._move_to(target, round(relative * (new_size - 1)))

    def _move_within_column(self, delta: int) -> None:
        if self.view is None:
            return
        column, index = self.cursor
        target = index + delta
        if 0 <= target < len(_column_names(self.view)[column]):
            self._move_to(column, target)

    def _move_to(self, column: int, index: int) -> None:
        self.cursor = (column, index)
        self.post_message(self.NodeSelected(self.cursor_name))
