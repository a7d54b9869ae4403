"""The app's actions: one registry that feeds the key bindings, the Footer, the help screen and the command palette.

Keys are plain keys only, because terminals reached over SSH often drop
control combinations.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class AppAction:
    """One user action: its keys, its `action_<name>` method and what it does."""

    keys: str  # Textual key names, comma-separated: "space,n"
    name: str  # verb_noun; the app implements `action_<name>`
    key_display: str  # how the keys are written for people: "space/n"
    description: str  # a few words, for the Footer and the palette's title
    help: str  # one or two sentences, for the help screen and the palette
    in_footer: bool = True  # False for keys the Footer has no room for at 80 columns
    priority: bool = False  # checked before the focused widget's own bindings


ACTIONS: tuple[AppAction, ...] = (
    AppAction(
        "space,n", "step_forward", "space/n", "Step",
        "Take one step: the forward pass of one layer, the loss, dL/dŷ, the backward pass "
        "of one layer, or the update. After the update the next iteration begins.",
    ),
    AppAction(
        "b", "step_back", "b", "Back",
        "Undo one step and show exactly what was shown before it, across iterations too.",
    ),
    AppAction(
        "f", "finish_forward", "f", "Forward",
        "Step until the forward pass is done and the loss is computed.",
    ),
    AppAction(
        "g", "finish_backward", "g", "Backward",
        "Step until every gradient is computed, just before the update.",
    ),
    AppAction(
        "u", "finish_iteration", "u", "Update",
        "Step until the update is applied and the iteration is complete.",
    ),
    AppAction(
        "t", "run_training", "t", "Train",
        "Run up to 1,000 whole iterations in the background, or until the loss diverges. "
        "A progress bar shows how far it got, and any key stops it.",
    ),
    AppAction(
        "r", "reset_session", "r", "Reset",
        "Return to the scenario's starting parameters, its learning rate and iteration 0. "
        "The loss history starts again.",
    ),
    AppAction(
        "plus", "raise_learning_rate", "+", "Rate ×2",
        "Double the learning rate from the next update on. Iterations already computed keep "
        "their rate, but any later history is dropped.",
        in_footer=False,
    ),
    AppAction(
        "minus", "lower_learning_rate", "-", "Rate ÷2",
        "Halve the learning rate from the next update on. Iterations already computed keep "
        "their rate, but any later history is dropped.",
        in_footer=False,
    ),
    AppAction(
        "left_square_bracket", "previous_sample", "[", "Prev sample",
        "Highlight the previous sample of the batch; the panels show its values and its "
        "contribution to each gradient.",
        in_footer=False,
    ),
    AppAction(
        "right_square_bracket", "next_sample", "]", "Next sample",
        "Highlight the next sample of the batch.",
        in_footer=False,
    ),
    AppAction(
        "c", "toggle_gradient_check", "c", "Grad check",
        "Show or hide the finite-difference check beside each computed gradient: "
        "(L(p+h) - L(p-h)) / 2h, which should agree with backpropagation.",
        in_footer=False,
    ),
    AppAction(
        "tab", "switch_focus", "tab", "Next panel",
        "Move the keyboard focus in turn to the network diagram, the gradients table, the "
        "values table and the explanation. In the diagram or the gradients table the arrow "
        "keys choose a neuron or a parameter, and the explanation panel shows how it is "
        "computed. In the values table and the explanation they scroll.",
        in_footer=False,
        priority=True,
    ),
    AppAction(
        "escape", "clear_selection", "esc", "Clear selection",
        "Clear the selected parameter or neuron, so the explanation panel describes the "
        "current step again.",
        in_footer=False,
    ),
    AppAction(
        "p", "open_palette", "p", "Commands",
        "Open the command palette: type part of an action's name and press enter.",
        in_footer=False,
    ),
    AppAction(
        "question_mark", "show_help", "?", "Help",
        "Show this help screen: every key and every panel.",
    ),
    AppAction("q", "quit", "q", "Quit", "Quit the app and restore the terminal."),
)

ACTIONS_BY_NAME: dict[str, AppAction] = {action.name: action for action in ACTIONS}


def make_bindings() -> list[Binding]:
    """Return one Binding per registry entry, with the registry's name as the binding id."""
    return [
        Binding(
            action.keys,
            action.name,
            action.description,
            show=action.in_footer,
            key_display=action.key_display,
            priority=action.priority,
            tooltip=action.help,
            id=action.name,
        )
        for action in ACTIONS
    ]
