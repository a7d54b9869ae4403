"""The network diagram: layout as text, and the widget's keyboard cursor."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from core.activations import make_activation
from core.engine import Session, StepKind
from core.loader import load_scenario
from core.losses import LOSSES
from core.scenario import LayerSpec, Scenario
from tui.diagram import NetworkDiagram, render_diagram
from tui.formatting import format_number
from tui.view import PanelView

EXAMPLE3 = Path(__file__).resolve().parent.parent / "scenarios" / "example3.toml"
SIZES = [(46, 11), (120, 30)]  # the panel at 80×24, and a wide terminal


def example3_session() -> Session:
    return Session(load_scenario(EXAMPLE3))


def step_until(session: Session, kind: StepKind, layer: int | None = None) -> None:
    while not (session.current.step and session.current.step.kind is kind and session.current.step.layer == layer):
        session.step_forward()


def lines_of(view: PanelView, width: int, height: int, cursor: str | None = None) -> list[str]:
    return render_diagram(view, width, height, cursor=cursor).plain.split("\n")


def assert_fits(lines: list[str], width: int, height: int) -> None:
    assert len(lines) == height
    for line in lines:
        assert cell_len(line) <= width, line


def random_scenario(widths: list[int]) -> Scenario:
    """A network of the given widths with random weights, no activation, two samples."""
    rng = np.random.default_rng(7)
    layers = tuple(
        LayerSpec(rng.uniform(-1, 1, (units, inputs)), np.zeros(units), make_activation("identity"))
        for inputs, units in zip(widths, widths[1:])
    )
    inputs = rng.uniform(-1, 1, (2, widths[0]))
    targets = rng.uniform(-1, 1, (2, widths[-1]))
    return Scenario("random", LOSSES["sse"], 0.01, inputs, targets, layers)


# Number formatting


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (22.0, "22"),
        (-124.0, "-124"),
        (3.9904, "3.9904"),
        (21.9552, "21.9552"),
        (0.0001, "0.0001"),
        (-0.0, "0"),
        (1.5e-7, "1.5e-7"),
        (2.5e12, "2.5e12"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
    ],
)
def test_format_number_cases(value: float, expected: str) -> None:
    assert format_number(value) == expected


def test_format_number_narrows_to_width() -> None:
    assert format_number(3.9904, width=4) == "3.99"
    assert format_number(123456789.0, width=4) == "1e8"


def test_format_number_too_narrow_is_shortest() -> None:
    # No precision fits "-124" in three cells, so the shortest form comes back.
    assert format_number(-124.0, width=3) == "-124"


# Example 3 at the panel size and at a wide size


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_example3_forward_values(width: int, height: int) -> None:
    session = example3_session()
    step_until(session, StepKind.FORWARD, 1)
    text = "\n".join(lines_of(PanelView(session, session.current), width, height))

    # Hidden values u = (22, 3, 7) and outputs ŷ = (12, 7), from the lecture.
    for label in ("x1=3", "x2=2", "u1=22", "u2=3", "u3=7", "ŷ1=12", "ŷ2=7"):
        assert label in text
    # The step just computed layer 2, so its weights are labelled: w7 = 2.
    assert "w7=2" in text
    assert "▸" in text


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_example3_fits_size(width: int, height: int) -> None:
    session = example3_session()
    for _ in range(len(session.plan)):
        session.step_forward()
        assert_fits(lines_of(PanelView(session, session.current), width, height), width, height)


def test_example3_placeholders_before_forward() -> None:
    session = example3_session()
    text = "\n".join(lines_of(PanelView(session, session.current), 46, 11))

    assert "x1=3" in text
    assert "u1=·" in text
    assert "ŷ2=·" in text


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_example3_backward_derivatives(width: int, height: int) -> None:
    session = example3_session()
    step_until(session, StepKind.BACKWARD, 1)
    text = "\n".join(lines_of(PanelView(session, session.current), width, height))

    # dL/dŷ = (22, 6) and dL/du = (32, 118, -124), from the lecture.
    for derivative in ("◂22", "◂6", "◂32", "◂118", "◂-124"):
        assert derivative in text
    assert "◂ backward, layer 2" in text


def test_example3_derivative_under_u1() -> None:
    session = example3_session()
    step_until(session, StepKind.BACKWARD, 1)
    lines = lines_of(PanelView(session, session.current), 46, 11)

    row = next(index for index, line in enumerate(lines) if "u1=22" in line)
    column = lines[row].index("u1=22")
    assert lines[row + 1][column : column + 3] == "◂32"


def test_example3_loss_caption() -> None:
    session = example3_session()
    session.to_end_of_forward()
    caption = lines_of(PanelView(session, session.current), 80, 11)[-2]

    assert "L = 130" in caption
    assert "y1=1" in caption
    assert "y2=4" in caption


def test_selected_node_marker() -> None:
    session = example3_session()
    session.to_end_of_backward()
    lines = lines_of(PanelView(session, session.current, selection="u1"), 46, 11)
    text = "\n".join(lines)

    assert "[u1=22]" in text
    # The caption lists the weights into u1 and their gradients: dL/dw1 = 96.
    assert "w1=4 w2=3 b1=4" in lines[-1]
    assert "dL/du1=32" in lines[-1]


def test_selected_weight_marks_edge() -> None:
    session = example3_session()
    session.to_end_of_backward()
    text = "\n".join(lines_of(PanelView(session, session.current, selection="w7"), 46, 11))

    # w7 connects u1 to ŷ1, and its gradient is 484.
    assert "w7=2" in text
    assert "[u1=22]" in text
    assert "[ŷ1=12]" in text
    assert "dL/dw7=484" in text


def test_selected_weight_is_reverse() -> None:
    session = example3_session()
    text = render_diagram(PanelView(session, session.current, selection="w7"), 46, 11)
    start = text.plain.index("w7=2")

    styles = [span.style for span in text.spans if span.start <= start < span.end]
    assert any(getattr(style, "reverse", False) for style in styles)


def test_cursor_marker() -> None:
    session = example3_session()
    text = "\n".join(lines_of(PanelView(session, session.current), 46, 11, cursor="u2"))

    assert "›u2=·" in text
    assert "u2=· ← w3=1 w4=-1 b2=2" in text


def test_nan_snapshot_renders() -> None:
    session = example3_session()
    session.to_end_of_backward()
    snapshot = session.current
    poisoned_weights = [array.copy() for array in snapshot.weights]
    poisoned_weights[1][0, 0] = np.nan  # w7
    poisoned = replace(
        snapshot,
        a=(np.full((1, 3), np.nan), np.array([[np.inf, -np.inf]])),
        grad_a=(np.full((1, 3), np.nan), np.array([[np.nan, np.inf]])),
        weights=tuple(poisoned_weights),
        loss=float("nan"),
    )

    for width, height in SIZES:
        lines = lines_of(PanelView(session, poisoned, selection="w7"), width, height)
        text = "\n".join(lines)
        assert_fits(lines, width, height)
        assert "u1=nan" in text
        assert "ŷ1=inf" in text
        assert "ŷ2=-inf" in text
        assert "w7=nan" in text


def test_diverged_session_renders() -> None:
    # A learning rate of 1 makes example 3 overflow to inf and then NaN.
    session = example3_session()
    session.set_learning_rate(1.0)
    session.run(40)
    assert not session.current.is_finite

    lines = lines_of(PanelView(session, session.current), 46, 11)
    assert_fits(lines, 46, 11)
    assert "nan" in "\n".join(lines)


# Large networks


@pytest.mark.parametrize(("width", "height"), [(46, 11), (80, 24), (200, 60)])
def test_wide_network_fits(width: int, height: int) -> None:
    session = Session(random_scenario([64, 64, 64, 2]))
    session.to_end_of_backward()
    lines = lines_of(PanelView(session, session.current, selection="u100"), width, height)
    text = "\n".join(lines)

    assert_fits(lines, width, height)
    assert "⋮" in text
    assert "x1" in text
    assert "x64" in text
    assert "[u100" in text  # the selected node stays visible inside the elided column


@pytest.mark.parametrize(("width", "height"), [(46, 11), (80, 24)])
def test_eight_layers_fit(width: int, height: int) -> None:
    session = Session(random_scenario([64] * 9))
    session.to_end_of_backward()
    lines = lines_of(PanelView(session, session.current, selection="ŷ64"), width, height)

    assert_fits(lines, width, height)
    assert "ŷ64" in "\n".join(lines)


def test_tiny_size_renders() -> None:
    session = example3_session()
    for width, height in [(1, 1), (5, 2), (12, 4), (0, 0)]:
        lines = render_diagram(PanelView(session, session.current), width, height).plain.split("\n")
        if width and height:
            assert_fits(lines, width, height)


# The widget


class DiagramApp(App):
    def __init__(self, view: PanelView) -> None:
        super().__init__()
        self.view = view
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield NetworkDiagram(id="diagram")

    def on_mount(self) -> None:
        diagram = self.query_one(NetworkDiagram)
        diagram.show(self.view)
        diagram.focus()

    def on_network_diagram_node_selected(self, message: NetworkDiagram.NodeSelected) -> None:
        self.selected.append(message.name)


async def test_arrow_keys_post_node_selected() -> None:
    session = example3_session()
    app = DiagramApp(PanelView(session, session.current))
    async with app.run_test(size=(46, 11)) as pilot:
        # The cursor starts on x1; right moves to the hidden layer, down within it.
        for key in ("right", "down", "down", "down", "right", "left", "h", "k"):
            await pilot.press(key)
        await pilot.pause()

        # A third "down" at u3 does not move, so it posts nothing.
        assert app.selected == ["u1", "u2", "u3", "ŷ2", "u3", "x2", "x1"]


async def test_show_moves_cursor_to_selection() -> None:
    session = example3_session()
    app = DiagramApp(PanelView(session, session.current, selection="u2"))
    async with app.run_test(size=(46, 11)) as pilot:
        await pilot.press("l")
        await pilot.pause()

        assert app.selected == ["ŷ1"]


async def test_widget_draws_at_its_size() -> None:
    session = example3_session()
    session.to_end_of_forward()
    app = DiagramApp(PanelView(session, session.current))
    async with app.run_test(size=(46, 11)) as pilot:
        await pilot.pause()
        diagram = app.query_one(NetworkDiagram)
        rendered = diagram.render().plain

        assert "u1=22" in rendered
        assert len(rendered.split("\n")) == diagram.size.height
