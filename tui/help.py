"""The help screen: every key from the action registry and what each panel shows."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.actions import ACTIONS

PANELS: tuple[tuple[str, str], ...] = (
    (
        "Network",
        "The layers as columns: inputs x, hidden neurons u, outputs ŷ. Each node shows its "
        "value once the forward pass has reached it and dL/d(node) once the backward pass has "
        "(in a network too dense for that, the caption line gives them for the node under the cursor). "
        "With the focus here, the arrow keys choose a node.",
    ),
    (
        "Values",
        "Inputs x, the values of each layer as they are computed, the targets y and each "
        "sample's share of the loss, one column per sample. With the focus here, the arrow "
        "keys scroll it.",
    ),
    (
        "Gradients",
        "One row per weight and bias in the lecture's order (w1.., b1..): its value, dL/dp "
        "summed over the batch, the highlighted sample's share, and after the update its new "
        "value. Press c for a finite-difference check column. With the focus here, the arrow "
        "keys choose a parameter.",
    ),
    (
        "Loss",
        "The loss function and its value, and a sparkline of the loss after each iteration. "
        "A loss that becomes inf or NaN is reported as diverged, with the iteration.",
    ),
    (
        "Explanation",
        "What the current step computes, as a formula with the numbers filled in. With a "
        "selection, how the selected quantity is computed instead. With the focus here, the "
        "arrow keys scroll it.",
    ),
    (
        "Status line",
        "The iteration, the step within it, the phase (forward, loss, backward, update), the "
        "learning rate and the highlighted sample.",
    ),
)


def key_table() -> Table:
    """Return a table of every registry action: its keys, its short name and what it does."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(no_wrap=True, style="bold")
    table.add_column(ratio=1)
    for action in ACTIONS:
        table.add_row(action.key_display, action.description, action.help)
    return table


def panel_table() -> Table:
    """Return a two-column table of the panels and what each shows."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column(ratio=1)
    for name, text in PANELS:
        table.add_row(name, text)
    return table


class HelpScreen(ModalScreen[None]):
    """Every key and every panel, scrollable; escape, q or ? closes it.

    | Key | Action |
    | :- | :- |
    | escape, q, ? | Close the help screen |
    | up, down, page up, page down | Scroll |
    """

    BINDINGS = [
        Binding("escape,q,question_mark", "close_help", "Close", key_display="esc"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Help: keys and panels"
            body.border_subtitle = "esc closes"
            yield Static(Text("Keys", style="bold underline"), classes="help-heading")
            yield Static(key_table(), id="help-keys")
            yield Static(Text("Panels", style="bold underline"), classes="help-heading")
            yield Static(panel_table(), id="help-panels")
            yield Static(
                "Every action is also in the command palette (p or ctrl+p). "
                "No mouse is needed.",
                classes="help-note",
            )

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close_help(self) -> None:
        self.dismiss()
