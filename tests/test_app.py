"""The app driven by key presses through Textual's pilot, checked against the lecture's numbers.

Expected numbers come from the worked examples of the lecture (example 2: a
batch of three samples; example 3: two layers, one sample).
"""

from __future__ import annotations

import io
import math
import os
import re
import signal
from pathlib import Path

import pytest
from rich.console import Console
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, OptionList, Static

from core.engine import StepKind
from tui.actions import ACTIONS
from tui.app import MIN_HEIGHT, MIN_WIDTH, BackpropApp
from tui.diagram import NetworkDiagram
from tui.explanation import ExplanationPanel
from tui.gradients import GradientsPanel
from tui.help import HelpScreen
from tui.loss_panel import LossPanel
from tui.picker import PickerScreen
from tui.status import StatusLine
from tui.training import TrainingScreen
from tui.values import ValuesPanel

MAX_PAUSES = 200  # bound on waiting for a condition; each pause yields to the app once


async def wait_until(pilot: Pilot, condition, description: str) -> None:
    """Pause until `condition()` holds, failing after MAX_PAUSES pauses."""
    for _ in range(MAX_PAUSES):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"timed out waiting until {description}")


def plain(renderable: object) -> str:
    """The text of a cell, a label or a widget's content, whether Rich or Textual made it."""
    text = getattr(renderable, "plain", None)
    if text is not None:
        return text
    if isinstance(renderable, str):
        return renderable
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def panel_text(panel: Widget) -> str:
    """All text a panel holds, scrolled into view or not: table headers and cells, then other text."""
    lines = []
    for node in [panel, *panel.query("*")]:
        if isinstance(node, DataTable):
            lines.append(" ".join(plain(column.label) for column in node.ordered_columns))
            for row in node.ordered_rows:
                lines.append(" ".join(plain(cell) for cell in node.get_row(row.key)))
        elif isinstance(node, OptionList):
            lines.extend(plain(option.prompt) for option in node.options)
        elif isinstance(node, Static):
            lines.append(plain(node.content))
        elif isinstance(node, NetworkDiagram):
            lines.append(plain(node.render()))
    return "\n".join(lines)


def screen_text(app: BackpropApp) -> str:
    """The characters on the terminal, line by line."""
    # Compositor is private; it is the only way to read the whole screen as text.
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def number(text: str) -> float:
    """Parse a table cell such as "3.9904", "-0.666667" or "▸484"."""
    return float(text.strip().lstrip("▸").strip())


def row_cells(panel: Widget, row: str) -> dict[str, str]:
    """The cells of one row of the panel's table, by column key."""
    table = panel.query_one(DataTable)
    cells = table.get_row(row)
    return {column.key.value: plain(cell) for column, cell in zip(table.ordered_columns, cells)}


def all_panel_texts(app: BackpropApp) -> dict[str, str]:
    return {panel_id: panel_text(app.query_one(f"#{panel_id}")) for panel_id in
            ("diagram", "values", "gradients", "loss", "explanation", "status")}


async def press(pilot: Pilot, *keys: str) -> None:
    """Press `keys` one after another, then let the app process them."""
    await pilot.press(*keys)
    await pilot.pause()


# A full iteration of example 3


async def test_full_iteration_matches_lecture(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        values = app.query_one(ValuesPanel)
        gradients = app.query_one(GradientsPanel)
        status = app.query_one(StatusLine)

        # Forward through the hidden layer: u = (22, 3, 7).
        await press(pilot, "n")
        assert app.view.snapshot.step.kind is StepKind.FORWARD
        assert [number(row_cells(values, name)["sample0"]) for name in ("u1", "u2", "u3")] == [22, 3, 7]
        assert "u1=22" in panel_text(app.query_one(NetworkDiagram))
        assert "[FORWARD]" in panel_text(status)

        # Output layer and loss: ŷ = (12, 7), L = 130.
        await press(pilot, "n", "n")
        assert [number(row_cells(values, name)["sample0"]) for name in ("ŷ1", "ŷ2")] == [12, 7]
        assert number(row_cells(values, "loss")["sample0"]) == 130
        assert "L = 130" in panel_text(app.query_one(LossPanel))
        assert "[LOSS]" in panel_text(status)

        # dL/dŷ, then the output layer's gradients: dL/dw7 = 484.
        await press(pilot, "n")
        assert "22" in panel_text(app.query_one(ExplanationPanel))
        await press(pilot, "n")
        assert number(row_cells(gradients, "w7")["gradient"]) == 484
        assert number(row_cells(gradients, "b4")["gradient"]) == 22
        assert row_cells(gradients, "w1")["gradient"].strip() == "·"
        assert "[BACKWARD]" in panel_text(status)

        # The hidden layer's gradients: dL/dw1 = 96.
        await press(pilot, "n")
        assert number(row_cells(gradients, "w1")["gradient"]) == 96

        # The update: w1 = 4 - 0.0001·96 = 3.9904.
        await press(pilot, "n")
        assert app.view.snapshot.step.kind is StepKind.UPDATE
        assert number(row_cells(gradients, "w1")["new"]) == pytest.approx(3.9904)
        assert number(row_cells(gradients, "w7")["new"]) == pytest.approx(1.9516)
        assert "[UPDATE]" in panel_text(status)

        # The next step starts iteration 1, whose loss is 69.345049.
        await press(pilot, "f")
        assert app.view.snapshot.iteration == 1
        assert app.session.current.loss == pytest.approx(69.345049)
        assert app.session.loss_history() == pytest.approx([130, 69.345049])


async def test_jump_keys_reach_phase_ends(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "f")
        assert app.view.snapshot.step.kind is StepKind.LOSS
        await press(pilot, "g")
        assert app.view.snapshot.position == len(app.session.plan) - 1
        assert number(row_cells(app.query_one(GradientsPanel), "w6")["gradient"]) == -248
        await press(pilot, "u")
        assert app.view.snapshot.step.kind is StepKind.UPDATE
        assert number(row_cells(app.query_one(GradientsPanel), "b5")["new"]) == pytest.approx(0.9994)


async def test_step_back_restores_screen(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "n", "n", "n", "n")
        before_panels = all_panel_texts(app)
        before_screen = screen_text(app)

        await press(pilot, "n")
        assert all_panel_texts(app) != before_panels
        await press(pilot, "b")

        assert all_panel_texts(app) == before_panels
        assert screen_text(app) == before_screen


async def test_step_back_across_iterations(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "u")
        after_update = all_panel_texts(app)
        await press(pilot, "n")
        assert app.view.snapshot.iteration == 1
        await press(pilot, "b")
        assert app.view.snapshot.iteration == 0
        assert all_panel_texts(app) == after_update


async def test_step_back_at_start_is_harmless(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "b")
        assert app.view.snapshot.position == 0
        assert app.view.snapshot.iteration == 0


# Batches


async def test_batch_contributions_add_up(make_app):
    app = make_app("example2")
    async with app.run_test(size=(200, 50)) as pilot:  # wide enough for every sample column
        await press(pilot, "g")
        cells = row_cells(app.query_one(GradientsPanel), "w1")
        per_sample = [number(cells[f"sample{index}"]) for index in range(3)]
        assert per_sample == pytest.approx([-2 / 3, -1 / 3, -1], abs=1e-5)
        assert number(cells["gradient"]) == pytest.approx(-2)
        assert sum(per_sample) == pytest.approx(number(cells["gradient"]), abs=1e-5)


async def test_narrow_gradients_follow_highlighted_sample(make_app):
    app = make_app("example2")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "g")
        contributions = []
        for _ in range(3):
            cells = row_cells(app.query_one(GradientsPanel), "w1")
            key = f"sample{app.view.sample}"
            # At 80 columns one sample fits; it is always the highlighted one.
            assert key in cells
            contributions.append(number(cells[key]))
            assert f"sample {app.view.sample + 1} ·" in screen_text(app)
            await press(pilot, "right_square_bracket")
        assert contributions == pytest.approx([-2 / 3, -1 / 3, -1], abs=1e-5)


async def test_brackets_choose_sample(make_app):
    app = make_app("example2")
    async with app.run_test(size=(80, 24)) as pilot:
        values = app.query_one(ValuesPanel)
        assert app.view.sample == 0
        await press(pilot, "right_square_bracket")
        assert app.view.sample == 1
        headers = [plain(column.label) for column in values.query_one(DataTable).ordered_columns]
        assert headers[2].startswith("▸")
        assert not headers[1].startswith("▸")
        # The drawn header follows too, not only the table's model of it.
        await pilot.pause()
        assert "▸s2" in screen_text(app)
        assert "▸s1" not in screen_text(app)
        await press(pilot, "right_square_bracket", "right_square_bracket")
        assert app.view.sample == 0  # wraps around after the last sample
        await press(pilot, "left_square_bracket")
        assert app.view.sample == 2


# Terminal sizes


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_panels_visible_at_size(make_app, size):
    app = make_app("example3")
    async with app.run_test(size=size) as pilot:
        await press(pilot, "g")
        screen = app.screen.region
        for panel_id in ("diagram", "values", "gradients", "loss", "explanation", "status"):
            region = app.query_one(f"#{panel_id}").region
            assert region.width > 0, panel_id
            assert region.height > 0, panel_id
            assert screen.contains_region(region), panel_id
        assert not app.query_one("#too-small").display
        assert "Terminal too small" not in screen_text(app)


async def test_small_terminal_shows_notice_and_recovers(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        # Resize in the middle of the backward pass.
        await press(pilot, "f", "n", "n")
        before = all_panel_texts(app)
        snapshot = app.view.snapshot

        await pilot.resize_terminal(40, 12)
        await wait_until(pilot, lambda: app.has_class("-too-small"), "the notice shows")
        words = " ".join(screen_text(app).split())  # the notice wraps at 40 columns
        assert f"Terminal too small: need at least {MIN_WIDTH}×{MIN_HEIGHT}, have 40×12" in words
        assert not app.query_one("#panels").display

        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: not app.has_class("-too-small"), "the panels return")
        assert app.view.snapshot is snapshot
        assert all_panel_texts(app) == before
        assert "Terminal too small" not in screen_text(app)


async def test_app_starts_in_small_terminal(make_app):
    app = make_app("example3")
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        assert "Terminal too small" in " ".join(screen_text(app).split())
        snapshot = app.view.snapshot
        # Stepping keys do nothing behind the notice, so nothing changes unseen.
        await press(pilot, "n", "u", "t")
        assert app.view.snapshot is snapshot
        await pilot.resize_terminal(120, 40)
        await wait_until(pilot, lambda: not app.has_class("-too-small"), "the panels return")
        assert "u1=·" in panel_text(app.query_one(NetworkDiagram))
        await press(pilot, "n")
        assert "u1=22" in panel_text(app.query_one(NetworkDiagram))


# Training


async def test_training_runs_and_key_stops(make_app):
    app = make_app("example3", training_iterations=50_000_000)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "t")
        assert isinstance(app.screen, TrainingScreen)
        training = app.screen
        await wait_until(pilot, lambda: training.progress > 10, "training makes progress")

        await press(pilot, "x")  # not bound to anything: any key stops
        await wait_until(pilot, lambda: not isinstance(app.screen, TrainingScreen), "training stops")

        iterations = len(app.session.loss_history())
        assert 10 < iterations < 50_000_000
        assert app.view.snapshot.iteration == iterations - 1
        assert app.session.loss_history()[-1] < 130


async def test_training_stopped_before_any_iteration(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        # A key that stops training at once leaves no loss to report; that must not crash.
        app._training_finished(0)
        await pilot.pause()
        messages = [notification.message for notification in app._notifications]
        assert any("the loss is not computed yet" in message for message in messages)
        titles = [notification.title for notification in app._notifications]
        assert "Training stopped" in titles


async def test_training_finishes(make_app):
    app = make_app("example3", training_iterations=100)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "t")
        await wait_until(pilot, lambda: not isinstance(app.screen, TrainingScreen), "training ends")
        history = app.session.loss_history()
        assert "Training finished" in [notification.title for notification in app._notifications]
        assert len(history) == 100
        assert history[:3] == pytest.approx([130, 69.345049, 37.866], rel=1e-4)
        await press(pilot, "f")  # the loss after update 100
        assert app.session.current.loss < 1e-20


async def test_divergence_is_shown_and_reset_recovers(make_app, capsys):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        # η = 0.0001 · 2^12 ≈ 0.41 makes every update overshoot.
        await press(pilot, *["plus"] * 12)
        assert app.session.learning_rate == pytest.approx(0.0001 * 2**12)
        await press(pilot, "t")
        await wait_until(pilot, lambda: not isinstance(app.screen, TrainingScreen), "training stops")

        diverged_at = app.session.diverged_at
        assert diverged_at is not None
        assert len(app.session.loss_history()) == diverged_at + 1  # stopped at the divergence
        assert not math.isfinite(app.session.loss_history()[-1])
        assert f"DIVERGED at iteration {diverged_at}" in panel_text(app.query_one(StatusLine))
        assert f"diverged at iteration {diverged_at}" in panel_text(app.query_one(LossPanel))
        assert re.search(r"\b(inf|nan)\b", panel_text(app.query_one(GradientsPanel)))
        assert f"diverged at iteration {diverged_at}" in app.sub_title

        # Stepping back works on a diverged run.
        await press(pilot, "b")
        assert app.view.snapshot.step.kind is StepKind.BACKWARD

        await press(pilot, "r")
        assert app.session.diverged_at is None
        assert app.session.loss_history() == []
        assert app.session.learning_rate == pytest.approx(0.0001)
        assert "DIVERGED" not in panel_text(app.query_one(StatusLine))

    captured = capsys.readouterr()
    assert "RuntimeWarning" not in captured.err
    assert "overflow" not in captured.err


# Learning rate, gradient check, selection


async def test_plus_minus_change_learning_rate(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "plus")
        assert app.session.learning_rate == pytest.approx(0.0002)
        assert "η = 0.0002" in panel_text(app.query_one(StatusLine))
        await press(pilot, "minus", "minus")
        assert app.session.learning_rate == pytest.approx(0.00005)
        shown = re.search(r"η = (\S+)", app.sub_title)
        assert shown is not None
        assert float(shown.group(1)) == pytest.approx(0.00005)


async def test_gradient_check_column_toggles(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "g", "c")
        assert app.view.show_gradient_check
        cells = row_cells(app.query_one(GradientsPanel), "w7")
        # The loss is quadratic in w7, so the central difference is exact up to rounding.
        assert number(cells["numeric"]) == pytest.approx(484, rel=1e-6)
        await press(pilot, "c")
        assert "numeric" not in row_cells(app.query_one(GradientsPanel), "w7")


async def test_tab_and_arrows_select_and_escape_clears(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "g")
        assert app.view.selection is None
        assert app.query_one(NetworkDiagram).has_focus

        await press(pilot, "tab")
        assert app.query_one(GradientsPanel).has_focus_within
        assert app.view.selection == "w1"
        await press(pilot, "down")
        assert app.view.selection == "w2"
        assert "w2" in panel_text(app.query_one(ExplanationPanel))

        await press(pilot, "tab")
        assert app.query_one(ValuesPanel).has_focus_within
        assert app.view.selection == "w2"  # the values table keeps the selection
        await press(pilot, "tab")
        assert app.query_one(ExplanationPanel).has_focus
        assert app.view.selection == "w2"

        await press(pilot, "tab")
        assert app.query_one(NetworkDiagram).has_focus
        await press(pilot, "right")
        assert app.view.selection is not None
        assert app.view.selection.startswith("u")

        await press(pilot, "escape")
        assert app.view.selection is None


# Help, palette and picker


async def test_help_lists_every_action(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = panel_text(app.screen.query_one("#help-body"))
        words = " ".join(text.split())  # the table wraps long help over several lines
        for action in ACTIONS:
            assert action.key_display in text, action.name
            assert action.description in text, action.name
            assert " ".join(action.help.split()) in words, action.name
        for panel in ("Network", "Values", "Gradients", "Loss", "Explanation", "Status line"):
            assert panel in text

        # Keys that step do nothing while help is open.
        await press(pilot, "n")
        assert app.view.snapshot.position == 0
        await press(pilot, "escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_lists_and_runs_actions(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for action in ACTIONS:
            if action.name not in ("open_palette", "quit"):
                assert any(title.startswith(action.description) for title in titles), action.name
        assert "Quit" in titles

        await press(pilot, "p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette opens")
        await pilot.press(*"Update (u)")
        await pilot.pause()
        await press(pilot, "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette), "the palette closes")
        await wait_until(pilot, lambda: app.view.snapshot.position == len(app.session.plan), "the update runs")


async def test_picker_opens_without_scenario(make_app):
    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        assert app.session is None
        await press(pilot, "n")  # no session yet: nothing happens
        text = panel_text(app.screen)
        assert "Example 3: two layers, one sample" in text

        await press(pilot, "down", "down", "enter")
        await wait_until(pilot, lambda: app.session is not None, "a scenario opens")
        assert app.title == "Example 3: two layers, one sample"
        await press(pilot, "n")
        assert [number(row_cells(app.query_one(ValuesPanel), name)["sample0"]) for name in ("u1", "u2", "u3")] == [22, 3, 7]


async def test_picker_shows_load_error(make_app, monkeypatch, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('title = "Broken"\nloss = "sse"\n')
    example1 = Path(__file__).resolve().parent.parent / "scenarios" / "example1.toml"
    monkeypatch.setattr("tui.picker.bundled_scenarios", lambda: [broken, example1])

    app = make_app(None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = panel_text(app.screen)
        assert "broken.toml (cannot be loaded)" in text
        assert str(broken) in text
        options = app.screen.query_one(OptionList)
        assert options.get_option_at_index(0).disabled

        # The broken entry cannot be highlighted or opened; enter opens example 1.
        await press(pilot, "up", "enter")
        await wait_until(pilot, lambda: app.session is not None, "example 1 opens")
        assert app.scenario.title.startswith("Example 1")


# Loss history


async def test_loss_history_only_grows_with_steps(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "u", "f")
        assert len(app.session.loss_history()) == 2

        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await press(pilot, "c", "c", "right_square_bracket", "tab", "down", "escape")
        await press(pilot, "n", "b", "n", "b", "b", "n")
        await press(pilot, "question_mark", "escape")
        assert len(app.session.loss_history()) == 2
        assert app.session.loss_history() == pytest.approx([130, 69.345049])


# Terminal hygiene


async def test_sighup_exits_cleanly(make_app):
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "n")
        os.kill(os.getpid(), signal.SIGHUP)
        await wait_until(pilot, lambda: app._exit, "the app exits")
    assert app.return_code in (None, 0)


async def test_no_color_keeps_state_readable(make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "f", "n", "n")
        # The phase is marked in words and brackets, not by colour alone.
        assert "[BACKWARD]" in screen_text(app)


async def test_palette_screenshot_saves_here(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app("example3")
    async with app.run_test(size=(80, 24)) as pilot:
        # The palette's built-in Screenshot command calls deliver_screenshot.
        app.deliver_screenshot()
        await pilot.pause()
        saved = list(tmp_path.glob("*.svg"))
        assert len(saved) == 1
        assert any(str(saved[0]) in notification.message for notification in app._notifications)


async def test_batch_step_explanation_follows_sample(make_app):
    app = make_app("example3-batch")
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "right_square_bracket", "right_square_bracket", "n")
        text = " ".join(panel_text(app.query_one(ExplanationPanel)).split())  # undo the wrapping
        # The third sample is x = (0, 2): u1 = 4·0 + 3·2 + 4 = 10.
        assert "sample 3 shown" in text
        assert "4·0 + 3·2 + 4 = 10" in text
