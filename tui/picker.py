"""The scenario picker, shown when the app starts without a scenario."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from core.bundled import bundled_scenarios
from core.errors import ScenarioError
from core.loader import load_scenario
from core.scenario import Scenario


@dataclass(frozen=True)
class Choice:
    """One bundled scenario file, loaded, or the one-line error that stopped it from loading."""

    path: Path
    scenario: Scenario | None
    error: str | None


def load_choices(paths: list[Path]) -> list[Choice]:
    """Load every file in `paths`; a file that fails to load keeps its error instead."""
    choices = []
    for path in paths:
        try:
            choices.append(Choice(path, load_scenario(path), None))
        except ScenarioError as error:
            choices.append(Choice(path, None, str(error)))
    return choices


def describe(choice: Choice) -> Text:
    """Return the option text: the title in bold and the description, or the load error."""
    if choice.scenario is None:
        return Text.assemble((choice.path.name, "bold"), " (cannot be loaded)\n", (choice.error or "", "italic"))
    description = " ".join(choice.scenario.description.split())
    return Text.assemble((choice.scenario.title, "bold"), "\n", description)


class PickerScreen(Screen[Scenario]):
    """A list of the bundled scenarios; enter opens the highlighted one.

    | Key | Action |
    | :- | :- |
    | up, down | Highlight a scenario |
    | enter | Open it |
    | q | Quit |
    """

    BINDINGS = [
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, paths: list[Path] | None = None) -> None:
        super().__init__()
        self.choices = load_choices(bundled_scenarios() if paths is None else paths)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Choose a scenario and press enter.", id="picker-prompt")
        options = [
            Option(describe(choice), id=str(index), disabled=choice.scenario is None)
            for index, choice in enumerate(self.choices)
        ]
        yield OptionList(*options, id="picker-list")
        if not self.choices:
            yield Static("No bundled scenarios were found.", id="picker-empty")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.title = "backprop-tui"
        self.sub_title = "choose a scenario"
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open(event.option_index)

    def _open(self, index: int) -> None:
        scenario = self.choices[index].scenario
        if scenario is not None:
            self.dismiss(scenario)
