"""The backprop-tui application: one key at a time through forward pass, loss, backward pass and update.

| Key | Action |
| :- | :- |
| space, n | Next step |
| b | Previous step |
| f, g, u | To the end of the forward pass, the backward pass, the iteration |
| t | Train many iterations; any key stops |
| r | Reset to the scenario's start |
| + / - | Double / halve the learning rate |
| [ / ] | Previous / next sample of the batch |
| c | Finite-difference gradient check |
| tab | Focus the diagram, the gradients, the values or the explanation in turn |
| escape | Clear the selection |
| p | Command palette |
| ? | Help |
| q | Quit |

The same keys come from `tui.actions.ACTIONS`, which also feeds the help screen
and the command palette.
"""

from __future__ import annotations

import asyncio
import os
import signal
import warnings
from collections.abc import Iterable
from functools import partial
from typing import Any

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Container, Vertical
from textual.reactive import var
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Static

from core.engine import Session
from core.scenario import Scenario
from tui.actions import ACTIONS, make_bindings
from tui.diagram import NetworkDiagram
from tui.explanation import ExplanationPanel
from tui.formatting import format_number
from tui.gradients import GradientsPanel
from tui.help import HelpScreen
from tui.loss_panel import LossPanel
from tui.picker import PickerScreen
from tui.status import StatusLine
from tui.training import TrainingScreen
from tui.values import ValuesPanel
from tui.view import PanelView

# Below this size the panels cannot all be shown; the app shows a notice instead.
MIN_WIDTH = 80
MIN_HEIGHT = 24

# From these sizes on the layout spreads out: the two tables sit side by side (-wide),
# and panels get full borders and more rows (-tall).
WIDE_WIDTH = 120
TALL_HEIGHT = 36

TRAINING_ITERATIONS = 1_000
LEARNING_RATE_FACTOR = 2.0

PANEL_IDS = ("diagram", "values", "gradients", "loss", "explanation", "status")
FOCUS_CYCLE = (NetworkDiagram, GradientsPanel, ValuesPanel, ExplanationPanel)  # the order tab moves in

# Actions that read or move the session: only on the main screen, with a scenario open.
SESSION_ACTIONS = frozenset(
    action.name for action in ACTIONS if action.name not in ("show_help", "quit", "open_palette")
)

# Warnings NumPy emits for floating-point trouble; a diverging loss is shown in the panels instead.
NUMPY_RUNTIME_WARNINGS = r"(overflow|invalid value|divide by zero|underflow) encountered"


def too_small_message(width: int, height: int) -> str:
    """Return the notice shown instead of the panels in a terminal below the minimum size."""
    return (
        f"Terminal too small: need at least {MIN_WIDTH}×{MIN_HEIGHT}, have {width}×{height}.\n"
        "Enlarge the window; nothing is lost. Press q to quit."
    )


class BackpropApp(App[None]):
    """Step through backpropagation one layer at a time.

    With a scenario the app opens it directly; with None it first shows a
    picker of the bundled scenarios.
    """

    CSS_PATH = "app.tcss"
    TITLE = "backprop-tui"
    BINDINGS = make_bindings()

    view: var[PanelView | None] = var(None, init=False)
    """The state every panel shows, rebuilt after each action and compared by identity."""

    def __init__(self, scenario: Scenario | None = None, training_iterations: int = TRAINING_ITERATIONS) -> None:
        super().__init__()
        self.scenario = scenario
        self.training_iterations = training_iterations
        self.session: Session | None = None
        self._main_screen: Screen | None = None
        self._focus_before_notice: Widget | None = None
        self._reported_divergence: int | None = None
        self._saved_warning_filters: list | None = None
        self._hangup_handler_installed = False

    # Building the screen

    def compose(self) -> ComposeResult:
        yield Header()
        with Container(id="panels"):
            with Vertical(id="left-column"):
                yield NetworkDiagram(id="diagram")
                yield ExplanationPanel(id="explanation")
            with Vertical(id="right-column"):
                with Container(id="tables"):
                    yield ValuesPanel(id="values")
                    yield GradientsPanel(id="gradients")
                yield LossPanel(id="loss")
        yield Static("", id="too-small")
        yield StatusLine(id="status")
        yield Footer(compact=True, show_command_palette=False)

    def on_load(self) -> None:
        self._saved_warning_filters = list(warnings.filters)
        warnings.filterwarnings("ignore", message=NUMPY_RUNTIME_WARNINGS, category=RuntimeWarning)

    def on_mount(self) -> None:
        self._main_screen = self.screen
        for panel_id, title in (
            ("diagram", "Network"), ("values", "Values"), ("gradients", "Gradients"),
            ("loss", "Loss"), ("explanation", "Explanation"),
        ):
            self.query_one(f"#{panel_id}").border_title = title
        self._apply_size(self.size.width, self.size.height)
        self._install_hangup_handler()
        if self.scenario is not None:
            self.open_scenario(self.scenario)
        else:
            self.push_screen(PickerScreen(), self.open_scenario)

    def on_unmount(self) -> None:
        if self._saved_warning_filters is not None:
            warnings.filters[:] = self._saved_warning_filters
        if self._hangup_handler_installed:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)

    def open_scenario(self, scenario: Scenario | None) -> None:
        """Start a session on `scenario` and show its first state."""
        if scenario is None:
            return
        self.scenario = scenario
        self.session = Session(scenario)
        self.title = scenario.title
        self._reported_divergence = None
        self._publish(sample=0, selection=None, show_gradient_check=False)
        # The diagram takes the focus first: it selects nothing until its cursor moves.
        self.query_one(NetworkDiagram).focus()

    # Terminal size

    def on_resize(self, event: events.Resize) -> None:
        self._apply_size(event.size.width, event.size.height)

    def _apply_size(self, width: int, height: int) -> None:
        too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        main = self._main_screen
        if main is not None and too_small != self.has_class("-too-small"):
            # Hidden widgets lose the focus; give it back when the panels return.
            if too_small:
                self._focus_before_notice = main.focused
            elif self._focus_before_notice is not None and self._focus_before_notice.is_attached:
                main.set_focus(self._focus_before_notice)
        self.set_class(too_small, "-too-small")
        self.refresh_bindings()
        self.set_class(width >= WIDE_WIDTH, "-wide")
        self.set_class(height >= TALL_HEIGHT, "-tall")
        if too_small:
            self.query_one("#too-small", Static).update(too_small_message(width, height))

    # Signals

    def _install_hangup_handler(self) -> None:
        # A dropped SSH connection sends SIGHUP; exiting normally lets Textual restore the terminal.
        if not hasattr(signal, "SIGHUP"):
            return
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)
        except (NotImplementedError, RuntimeError, ValueError):
            # NOTE: outside the main thread (some test runners) SIGHUP keeps its default action.
            return
        self._hangup_handler_installed = True

    # State

    def _publish(self, **changes: Any) -> None:
        """Build a new PanelView from the session and `changes`, and show it on every panel."""
        assert self.session is not None
        previous = self.view
        fields = {
            "sample": previous.sample if previous else 0,
            "selection": previous.selection if previous else None,
            "show_gradient_check": previous.show_gradient_check if previous else False,
        }
        fields.update(changes)
        snapshot = self.session.current
        fields["sample"] = min(max(fields["sample"], 0), len(snapshot.inputs) - 1)
        self.view = PanelView(session=self.session, snapshot=snapshot, **fields)

    def watch_view(self, view: PanelView | None) -> None:
        if view is None:
            return
        for panel_id in PANEL_IDS:
            self.query_one(f"#{panel_id}").show(view)
        self.sub_title = self._describe(view)
        self._report_divergence()

    def _describe(self, view: PanelView) -> str:
        session = view.session
        # Iterations count from 0, as in the status line, the loss panel and the headless trace.
        text = f"η = {format_number(session.learning_rate)}"
        if session.diverged_at is not None:
            text += f" · diverged at iteration {session.diverged_at}"
        return text

    def _report_divergence(self) -> None:
        diverged_at = self.session.diverged_at if self.session else None
        if diverged_at is not None and diverged_at != self._reported_divergence:
            self.notify(
                "The loss is inf or NaN. Press b to step back, r to reset, or - to lower the learning rate.",
                title=f"Diverged at iteration {diverged_at}",
                severity="warning",
                timeout=8,
            )
        self._reported_divergence = diverged_at

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False also hides the binding from the Footer, as on the picker before a scenario is open.
        if action not in SESSION_ACTIONS:
            return True
        # While the too-small notice hides the panels, keys must not change what the student cannot see.
        if self.has_class("-too-small"):
            return False
        return self.session is not None and self.screen is self._main_screen

    # Command palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for action in ACTIONS:
            if action.name in ("open_palette", "quit"):
                continue
            if action.name in SESSION_ACTIONS and (self.session is None or screen is not self._main_screen):
                continue
            yield SystemCommand(f"{action.description} ({action.key_display})", action.help, partial(self.run_action, action.name))
        yield from super().get_system_commands(screen)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        self.deliver_screenshot(filename, path)

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Save an SVG screenshot in the current folder and show its path in a notification.

        Textual's default, used by the palette's Screenshot command too, saves
        to ~/Downloads, which lab machines often lack.
        """
        folder = path or os.getcwd()
        try:
            saved = self.save_screenshot(filename, folder, time_format)
        except OSError as error:
            self.notify(f"Cannot save a screenshot in {folder}: {error.strerror}.", severity="error", timeout=6)
            return None
        self.notify(f"Screenshot saved as {os.path.abspath(saved)}", timeout=6)
        return saved

    # Actions: stepping

    def action_step_forward(self) -> None:
        self.session.step_forward()
        self._publish()

    def action_step_back(self) -> None:
        if not self.session.step_back():
            self.notify("Already at the start of the first iteration.", timeout=3)
            return
        self._publish()

    def action_finish_forward(self) -> None:
        self.session.to_end_of_forward()
        self._publish()

    def action_finish_backward(self) -> None:
        self.session.to_end_of_backward()
        self._publish()

    def action_finish_iteration(self) -> None:
        self.session.to_end_of_iteration()
        self._publish()

    def action_reset_session(self) -> None:
        self.session.reset()
        self._reported_divergence = None
        self._publish(sample=0)
        self.notify("Back to the scenario's starting parameters and learning rate.", timeout=3)

    # Actions: training

    def action_run_training(self) -> None:
        if self.session.diverged_at is not None:
            self.notify("The loss has diverged. Press r to reset or b to step back first.", severity="warning")
            return
        self.push_screen(TrainingScreen(self.session, self.training_iterations), self._training_finished)

    def _training_finished(self, done: int | None) -> None:
        self._publish()
        done = done or 0
        loss = self.session.current.loss
        loss_text = "not computed yet" if loss is None else f"now {format_number(loss)}"
        title = "Training finished" if done >= self.training_iterations else "Training stopped"
        self.notify(f"Ran {done:,} iterations; the loss is {loss_text}.", title=title, timeout=4)

    # Actions: learning rate and sample

    def action_raise_learning_rate(self) -> None:
        self._scale_learning_rate(LEARNING_RATE_FACTOR)

    def action_lower_learning_rate(self) -> None:
        self._scale_learning_rate(1 / LEARNING_RATE_FACTOR)

    def _scale_learning_rate(self, factor: float) -> None:
        rate = self.session.learning_rate * factor
        try:
            self.session.set_learning_rate(rate)
        except ValueError as error:
            self.notify(str(error), severity="error")
            return
        # The header and the status line show the new rate; a toast per key press would pile up.
        self._publish()

    def action_previous_sample(self) -> None:
        self._move_sample(-1)

    def action_next_sample(self) -> None:
        self._move_sample(+1)

    def _move_sample(self, offset: int) -> None:
        samples = len(self.session.current.inputs)
        self._publish(sample=(self.view.sample + offset) % samples)

    # Actions: selection and panels

    def action_toggle_gradient_check(self) -> None:
        self._publish(show_gradient_check=not self.view.show_gradient_check)

    def action_switch_focus(self) -> None:
        # Focusing the diagram or the gradients table selects what its cursor is on. The
        # values table and the explanation keep the selection, and the arrow keys scroll them.
        cycle = [self.query_one(panel_type) for panel_type in FOCUS_CYCLE]
        current = next((index for index, panel in enumerate(cycle) if panel.has_focus_within), -1)
        target = cycle[(current + 1) % len(cycle)]
        _focus_within(target)
        if isinstance(target, NetworkDiagram):
            self.select(target.cursor_name)
        elif isinstance(target, GradientsPanel):
            self.select(target.highlighted)

    def on_network_diagram_node_selected(self, event: NetworkDiagram.NodeSelected) -> None:
        if self.query_one(NetworkDiagram).has_focus:
            self.select(event.name)

    def on_gradients_panel_parameter_highlighted(self, event: GradientsPanel.ParameterHighlighted) -> None:
        # The table also highlights a row when it is first filled; only a focused table is the user's choice.
        if self.query_one(GradientsPanel).has_focus_within:
            self.select(event.name)

    def action_clear_selection(self) -> None:
        if self.view.selection is not None:
            self._publish(selection=None)

    def select(self, name: str | None) -> None:
        """Make `name` the selected quantity, so the explanation panel describes it."""
        if self.session is not None and self.view is not None and name != self.view.selection:
            self._publish(selection=name)

    # Actions: screens

    def action_show_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_open_palette(self) -> None:
        self.action_command_palette()


def _focus_within(widget: Widget) -> None:
    """Focus `widget`, or its first focusable descendant."""
    if widget.focusable:
        widget.focus()
        return
    for child in widget.query("*"):
        if child.focusable:
            child.focus()
            return
