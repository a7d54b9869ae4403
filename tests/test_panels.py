"""The values, gradients, loss and explanation panels and the status line, each in a small app.

Expected numbers are the lecture's worked examples (example 2: three samples
through one neuron, example 3: a 2-3-2 network) or are derived by hand here.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable, Sparkline, Static

from core.engine import Session
from core.optimizers import OptimizerSpec
from tests.helpers import lecture_session
from tui.explanation import ExplanationPanel
from tui.gradients import GradientsPanel
from tui.loss_panel import LossPanel, sparkline_series
from tui.status import StatusLine
from tui.values import ValuesPanel
from tui.view import PanelView


class PanelApp(App):
    """One panel alone in an app, recording the parameters it reports as highlighted.

    Nothing is focused at the start, as when the panel shares the screen with others.
    """

    AUTO_FOCUS = None

    def __init__(self, panel: Widget) -> None:
        super().__init__()
        self.panel = panel
        self.highlighted: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.panel

    def on_gradients_panel_parameter_highlighted(self, message: GradientsPanel.ParameterHighlighted) -> None:
        self.highlighted.append(message.name)


def view_of(session: Session, **options) -> PanelView:
    return PanelView(session=session, snapshot=session.current, **options)


def cells(panel: Widget, row: str) -> list[str]:
    """The plain text of a table row, without the padding."""
    table = panel.query_one(DataTable)
    return [str(cell).strip() for cell in table.get_row(row)]


def cell(panel: Widget, row: str, column: str) -> str:
    return str(panel.query_one(DataTable).get_cell(row, column)).strip()


def number(panel: Widget, row: str, column: str) -> float:
    return float(cell(panel, row, column))


def column_labels(panel: Widget) -> list[str]:
    return [column.label.plain.strip() for column in panel.query_one(DataTable).ordered_columns]


def plain(widget: Static) -> str:
    return widget.render().plain


def diverged_session() -> Session:
    """Example 3 with a learning rate of 1000, run for 50 iterations: the loss overflows to inf and NaN."""
    session = lecture_session("example3")
    session.set_learning_rate(1e3)
    session.run(50)
    return session


# Values panel


async def test_values_example3_forward() -> None:
    session = lecture_session("example3")
    panel = ValuesPanel()
    async with PanelApp(panel).run_test() as pilot:
        # Before any step only the data is known.
        panel.show(view_of(session))
        await pilot.pause()
        assert cells(panel, "x1")[1:] == ["3"]
        assert cells(panel, "u1")[1:] == ["·"]
        assert cells(panel, "loss")[1:] == ["·"]

        # After the forward pass: u = (22, 3, 7), ŷ = (12, 7), L = 11² + 3² = 130.
        session.to_end_of_forward()
        panel.show(view_of(session))
        await pilot.pause()
        assert [number(panel, name, "sample0") for name in ("u1", "u2", "u3")] == [22, 3, 7]
        assert [number(panel, name, "sample0") for name in ("ŷ1", "ŷ2")] == [12, 7]
        assert [number(panel, name, "sample0") for name in ("y1", "y2")] == [1, 4]
        assert number(panel, "loss", "sample0") == 130


async def test_values_batch_marks_sample() -> None:
    session = lecture_session("example2")
    session.to_end_of_forward()
    panel = ValuesPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session, sample=1, selection="ŷ"))
        await pilot.pause()

        # One column per sample; the highlighted one is marked in text, not only by colour.
        assert column_labels(panel)[1:] == ["s1", "▸s2", "s3"]
        assert cells(panel, "ŷ")[0] == "▸ŷ"
        assert [float(text) for text in cells(panel, "ŷ")[1:]] == [2.5, 4.5, 3.5]

        # Each sample's loss term is its squared error over 3: 0.25/3, 0.25/3, 2.25/3.
        terms = [float(text) for text in cells(panel, "loss")[1:]]
        assert terms == pytest.approx([0.25 / 3, 0.25 / 3, 2.25 / 3], rel=1e-5)

        # Moving the highlight relabels the columns in place.
        panel.show(view_of(session, sample=2))
        await pilot.pause()
        assert column_labels(panel)[1:] == ["s1", "s2", "▸s3"]


async def test_values_shows_activation_rows() -> None:
    scenario = lecture_session("example3").scenario
    first = scenario.layers[0]
    relu = dataclasses.replace(first, activation=dataclasses.replace(first.activation, name="relu"))
    # relu leaves the example's hidden z = (22, 3, 7) unchanged, and z(u2) gets its own row.
    session = Session(dataclasses.replace(scenario, layers=(relu, scenario.layers[1])))
    session.step_forward()
    panel = ValuesPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        assert number(panel, "z(u2)", "sample0") == 3
        assert number(panel, "u2", "sample0") == 3


async def test_values_minibatch_names_sample() -> None:
    session = lecture_session("example2-minibatch")
    panel = ValuesPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        # A batch of one sample out of three is headed with that sample's number.
        index = int(session.current.sample_indices[0])
        assert column_labels(panel)[1:] == [f"▸s{index + 1}"]
        assert number(panel, "x1", "sample0") == session.scenario.inputs[index, 0]


# Gradients panel


async def test_gradients_example3_iteration() -> None:
    session = lecture_session("example3")
    panel = GradientsPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        # Rows follow the lecture's order: w1..w12, then b1..b5.
        table = panel.query_one(DataTable)
        assert [row.key.value for row in table.ordered_rows] == [
            *(f"w{index}" for index in range(1, 13)), *(f"b{index}" for index in range(1, 6))
        ]
        assert cell(panel, "w7", "gradient") == "·"

        # dL/dw7 = dL/dŷ1 · u1 = 22 · 22 = 484; dL/db3 = dL/du3 = -124.
        session.to_end_of_backward()
        panel.show(view_of(session))
        await pilot.pause()
        assert number(panel, "w7", "gradient") == 484
        assert number(panel, "b3", "gradient") == -124
        assert cell(panel, "w1", "new") == "·"

        # After the update: w1 = 4 - 0.0001 · 96 = 3.9904.
        session.step_forward()
        panel.show(view_of(session))
        await pilot.pause()
        assert number(panel, "w1", "value") == 4
        assert number(panel, "w1", "new") == pytest.approx(3.9904)
        assert number(panel, "w1", "change") == pytest.approx(-0.0096)


async def test_gradients_batch_contributions() -> None:
    session = lecture_session("example2")
    session.to_end_of_backward()
    panel = GradientsPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        # Each sample's dL/dw1 = (2/3)(ŷ_i - y_i) · x1_i: -2/3, -1/3, -1, adding up to -2.
        parts = [number(panel, "w1", f"sample{index}") for index in range(3)]
        assert parts == pytest.approx([-2 / 3, -1 / 3, -1], rel=1e-5)
        assert number(panel, "w1", "gradient") == -2
        assert column_labels(panel)[3] == "▸s1"


async def test_gradients_check_columns() -> None:
    session = lecture_session("example3")
    session.to_end_of_backward()
    panel = GradientsPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session, show_gradient_check=True))
        await pilot.pause()
        # L is quadratic in w7, so the central difference equals dL/dw7 = 484 up to rounding.
        assert number(panel, "w7", "numeric") == pytest.approx(484, rel=1e-6)
        assert number(panel, "w7", "relative") < 1e-6

        # Switching the check off removes its columns.
        panel.show(view_of(session))
        await pilot.pause()
        assert "numeric" not in column_labels(panel)


async def test_gradients_momentum_velocity() -> None:
    scenario = lecture_session("example3").scenario
    session = Session(dataclasses.replace(scenario, optimizer=OptimizerSpec("momentum")))
    session.to_end_of_iteration()
    panel = GradientsPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        # v starts at 0, so after the first update v = 0.9 · 0 + dL/dw7 = 484.
        assert "velocity" in column_labels(panel)
        assert number(panel, "w7", "state:velocity") == 484
        assert number(panel, "w7", "new") == pytest.approx(2 - 0.0001 * 484)


async def test_gradients_marks_fixed() -> None:
    scenario = lecture_session("example3").scenario
    fixed = dataclasses.replace(scenario.layers[1], fixed_weights=True)
    session = Session(dataclasses.replace(scenario, layers=(scenario.layers[0], fixed)))
    session.to_end_of_iteration()
    panel = GradientsPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        # w7 is fixed: its gradient is shown but the update leaves it at 2.
        assert cell(panel, "w7", "name") == "w7 fixed"
        assert cell(panel, "w1", "name") == "w1"
        assert number(panel, "w7", "gradient") == 484
        assert number(panel, "w7", "new") == 2


async def test_gradients_cursor_posts_highlight() -> None:
    session = lecture_session("example3")
    panel = GradientsPanel()
    app = PanelApp(panel)
    async with app.run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        panel.query_one(DataTable).focus()

        await pilot.press("down", "down")
        await pilot.pause()
        assert app.highlighted[-1] == "w3"
        assert panel.highlighted == "w3"

        # Stepping redraws the table but leaves the cursor on w3 and reports nothing new.
        reported = len(app.highlighted)
        session.to_end_of_backward()
        panel.show(view_of(session))
        await pilot.pause()
        assert panel.highlighted == "w3"
        assert len(app.highlighted) == reported

        # A rebuild (the check columns appear) also keeps the row.
        panel.show(view_of(session, show_gradient_check=True))
        await pilot.pause()
        assert panel.highlighted == "w3"


async def test_gradients_follows_selection() -> None:
    session = lecture_session("example3")
    panel = GradientsPanel()
    async with PanelApp(panel).run_test() as pilot:
        # The table is not focused, so a selection made elsewhere moves the cursor.
        panel.show(view_of(session, selection="b2"))
        await pilot.pause()
        assert panel.highlighted == "b2"

        # A selection that is not a parameter leaves the cursor where it is.
        panel.show(view_of(session, selection="u1"))
        await pilot.pause()
        assert panel.highlighted == "b2"


# Loss panel


async def test_loss_shows_current_loss() -> None:
    session = lecture_session("example3")
    panel = LossPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        assert "L = ·" in plain(panel.query_one("#loss-now", Static))
        assert plain(panel.query_one("#loss-formula", Static)) == session.scenario.loss.formula
        assert plain(panel.query_one("#loss-convention", Static)) == session.scenario.loss.convention

        # Example 3's losses over the first iterations are 130, 69.345, 37.866.
        session.run(2)
        session.to_end_of_forward()
        panel.show(view_of(session))
        await pilot.pause()
        iteration_line, loss_line = plain(panel.query_one("#loss-now", Static)).splitlines()
        assert iteration_line == "iteration 2"
        assert float(loss_line.removeprefix("L = ")) == pytest.approx(37.866, abs=5e-4)
        assert len(panel.query_one(Sparkline).data) == 3


async def test_loss_toggles_log_scale() -> None:
    session = lecture_session("example3")
    session.run(2)
    panel = LossPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        # log10 of the first two losses, 130 and 69.345 (lecture, example 3).
        assert panel.query_one(Sparkline).data == pytest.approx([2.11394, 1.84101], abs=1e-5)

        panel.action_toggle_log_scale()
        await pilot.pause()
        assert panel.query_one(Sparkline).data == pytest.approx([130, 69.345], abs=1e-3)


async def test_loss_diverged_run() -> None:
    session = diverged_session()
    assert session.diverged_at is not None
    panel = LossPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        text = plain(panel.query_one("#loss-now", Static))
        assert f"diverged at iteration {session.diverged_at}" in text
        data = panel.query_one(Sparkline).data
        assert all(value == value and abs(value) != float("inf") for value in data)


async def test_loss_long_history_is_bucketed() -> None:
    class LongHistory(Session):
        """A session whose history is 100,000 falling losses, without running them."""

        def loss_history(self) -> list[float]:
            return [1000.0 / (1 + iteration) for iteration in range(100_000)]

    session = LongHistory(lecture_session("example3").scenario)
    panel = LossPanel()
    async with PanelApp(panel).run_test(size=(80, 24)) as pilot:
        started = time.perf_counter()
        panel.show(view_of(session))
        await pilot.pause()
        elapsed = time.perf_counter() - started
        sparkline = panel.query_one(Sparkline)
        assert 0 < len(sparkline.data) <= panel.content_region.width
        # A generous bound: show and redraw took about 55 ms here, mostly building the history list.
        assert elapsed < 1.0


def test_series_bucket_maximum() -> None:
    assert sparkline_series([1, 5, 2, 3], 2, log_scale=False) == [5, 3]
    assert sparkline_series([1, 5], 4, log_scale=False) == [1, 5]
    assert sparkline_series([], 4, log_scale=False) == []


def test_series_log_scale() -> None:
    assert sparkline_series([100, 10, 1], 8, log_scale=True) == pytest.approx([2, 1, 0])
    # A loss of exactly 0 is drawn a decade below the smallest positive loss (10 → 1, so 0 → 0).
    assert sparkline_series([10, 0], 8, log_scale=True) == pytest.approx([1, 0])


def test_series_non_finite() -> None:
    inf, nan = float("inf"), float("nan")
    # inf and NaN are drawn as the largest finite point.
    assert sparkline_series([1, 4, inf, nan], 8, log_scale=False) == [1, 4, 4, 4]
    assert sparkline_series([100, inf, nan], 8, log_scale=True) == pytest.approx([2, 2, 2])
    assert sparkline_series([nan, nan], 8, log_scale=True) == [0, 0]


# Status line


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (0, "Start of iteration 0: nothing computed yet"),
        (1, "Forward, layer 1: u = W·x + b"),
        (2, "Forward, layer 2: ŷ = W·u + b"),
        (3, "Loss: L = Σ_samples Σ_outputs (ŷ - y)²"),
        (4, "Backward, loss: dL/dŷ = 2(ŷ - y)"),
        (5, "Backward, layer 2: dL/dw = dL/dŷ · u, dL/du = Wᵀ·dL/dŷ"),
        (6, "Backward, layer 1: dL/dw = dL/du · x"),
        (7, "Update: p ← p - η·dL/dp (η = 0.0001)"),
    ],
)
async def test_status_names_each_step(steps: int, expected: str) -> None:
    session = lecture_session("example3")
    for _ in range(steps):
        session.step_forward()
    line = StatusLine()
    async with PanelApp(line).run_test() as pilot:
        line.show(view_of(session))
        await pilot.pause()
        first, second = plain(line).splitlines()
        assert first == expected
        assert second.startswith("iteration 0 · η = 0.0001")


async def test_status_marks_phase() -> None:
    session = lecture_session("example3")
    session.to_end_of_backward()
    line = StatusLine()
    async with PanelApp(line).run_test() as pilot:
        line.show(view_of(session))
        await pilot.pause()
        assert "forward › loss › [BACKWARD] › update" in plain(line)
        assert "DIVERGED" not in plain(line)


async def test_status_diverged_run() -> None:
    session = diverged_session()
    line = StatusLine()
    async with PanelApp(line).run_test() as pilot:
        line.show(view_of(session))
        await pilot.pause()
        assert f"DIVERGED at iteration {session.diverged_at}" in plain(line)
        assert "iteration 49" in plain(line)


# Explanation panel


async def test_explanation_of_selection() -> None:
    session = lecture_session("example3")
    session.to_end_of_backward()
    panel = ExplanationPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session, selection="dL/dw7"))
        await pilot.pause()
        text = plain(panel.query_one(Static))
        assert text.splitlines()[0] == "dL/dw7"
        assert "484" in text
        assert "22" in text


async def test_explanation_of_step() -> None:
    session = lecture_session("example3")
    session.to_end_of_forward()
    panel = ExplanationPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        # No selection: the loss step just taken, with L = 11² + 3² = 130.
        assert "130" in plain(panel.query_one(Static))


async def test_explanation_unknown_name() -> None:
    session = lecture_session("example3")
    panel = ExplanationPanel()
    async with PanelApp(panel).run_test() as pilot:
        panel.show(view_of(session, selection="w99"))
        await pilot.pause()
        assert "w99" in plain(panel.query_one(Static))


async def test_explanation_wraps_with_indent() -> None:
    session = lecture_session("example3")
    session.to_end_of_backward()
    panel = ExplanationPanel()
    async with PanelApp(panel).run_test(size=(30, 24)) as pilot:
        panel.show(view_of(session, selection="dL/du1"))
        await pilot.pause()
        lines = plain(panel.query_one(Static)).splitlines()[1:]
        width = panel.content_region.width
        assert all(len(line) <= width for line in lines)
        assert all(line.startswith(("• ", "  ")) for line in lines)


# Every panel on a diverged session


async def test_panels_survive_divergence() -> None:
    session = diverged_session()
    panels = [ValuesPanel(), GradientsPanel(), LossPanel(), ExplanationPanel(), StatusLine()]

    class AllPanels(App):
        def compose(self) -> ComposeResult:
            yield from panels

    async with AllPanels().run_test(size=(80, 60)) as pilot:
        for selection in (None, "w1", "dL/dw7", "loss"):
            view = view_of(session, selection=selection, show_gradient_check=True)
            for panel in panels:
                panel.show(view)
            await pilot.pause()
        assert "nan" in cells(panels[0], "u1")[1:] or "inf" in cells(panels[0], "u1")[1:]
        assert cell(panels[1], "w1", "numeric") in ("nan", "inf", "-inf")


@pytest.mark.parametrize("panel_class", [ValuesPanel, GradientsPanel])
@pytest.mark.parametrize("width", [44, 60])
async def test_highlighted_sample_column_fits(panel_class, width):
    # A narrow panel shows fewer sample columns, always including the highlighted one, unclipped.
    session = lecture_session("example2")
    session.to_end_of_backward()
    panel = panel_class()
    async with PanelApp(panel).run_test(size=(width, 12)) as pilot:
        panel.show(view_of(session, sample=2))
        await pilot.pause()
        await pilot.pause()
        table = panel.query_one(DataTable)
        columns = table.ordered_columns
        keys = [column.key.value for column in columns]
        assert "sample2" in keys
        widths = [column.get_render_width(table) for column in columns]
        right = sum(widths[: keys.index("sample2") + 1])
        assert table.scroll_x == 0
        assert right <= table.scrollable_content_region.width
        leading = ["name", "value", "gradient"] if panel_class is GradientsPanel else ["name"]
        assert keys[: len(leading)] == leading


@pytest.mark.parametrize(
    "batch, sample, expected",
    [(3, 2, range(0, 3)), (100, 0, range(0, 8)), (100, 50, range(46, 54)), (100, 99, range(92, 100))],
)
def test_visible_samples_window(batch, sample, expected):
    from tui.view import visible_samples

    session = Session(
        dataclasses.replace(
            lecture_session("example2").scenario,
            inputs=np.ones((batch, 3)),
            targets=np.ones((batch, 1)),
        )
    )
    assert visible_samples(view_of(session, sample=sample)) == expected
    # A narrower table shows fewer columns, still around the highlighted sample.
    assert sample in visible_samples(view_of(session, sample=sample), limit=2)
    assert len(visible_samples(view_of(session, sample=sample), limit=2)) == min(2, batch)


async def test_large_batch_shows_a_window_of_samples():
    session = Session(
        dataclasses.replace(lecture_session("example2").scenario, inputs=np.ones((40, 3)), targets=np.ones((40, 1)))
    )
    session.to_end_of_backward()
    panel = GradientsPanel()
    async with PanelApp(panel).run_test(size=(140, 20)) as pilot:
        panel.show(view_of(session, sample=39))
        await pilot.pause()
        labels = column_labels(panel)
        # At most 8 sample columns, ending with the highlighted last sample.
        assert [label for label in labels if label.lstrip("▸").startswith("s")] == [f"s{n}" for n in range(33, 40)] + ["▸s40"]
        # Each sample of 40 identical ones contributes 1/40 of dL/dw1.
        assert number(panel, "w1", "sample39") == pytest.approx(number(panel, "w1", "gradient") / 40)


async def test_sparkline_hidden_until_first_loss():
    session = lecture_session("example3")
    panel = LossPanel()
    async with PanelApp(panel).run_test(size=(60, 8)) as pilot:
        panel.show(view_of(session))
        await pilot.pause()
        assert not panel.query_one(Sparkline).display
        session.to_end_of_forward()
        panel.show(view_of(session))
        await pilot.pause()
        assert panel.query_one(Sparkline).display
        assert panel.query_one(Sparkline).data == pytest.approx([math.log10(130)])
