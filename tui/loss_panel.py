"""The loss panel: a sparkline of the loss per iteration, the current loss and the loss's formula."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from tui.formatting import format_number
from tui.view import PanelView

DEFAULT_BUCKETS = 256  # used before the panel has a width


class LossPanel(Widget):
    """The loss history as a sparkline, with the iteration, the loss and its formula as text.

    The sparkline draws one bar per iteration, or the maximum of each bucket
    of iterations when there are more iterations than columns. With
    `log_scale` on it draws log10 of the loss, so a loss falling from 130 to
    1e-20 stays visible. Losses that are inf or NaN are drawn as full bars and
    the text names the iteration where the run diverged. The scale shows
    only in the sparkline's tooltip, to keep the panel short.
    """

    DEFAULT_CSS = """
    LossPanel {
        height: auto;
    }
    LossPanel > Horizontal {
        height: auto;
    }
    LossPanel Sparkline {
        width: 1fr;
        height: 2;
        margin-right: 1;
    }
    LossPanel #loss-now {
        width: auto;
        max-width: 50%;
    }
    """

    view: reactive[PanelView | None] = reactive(None, always_update=True, init=False)
    """The view the panel shows. Set it with `show`."""

    log_scale: reactive[bool] = reactive(True, init=False)
    """Draw log10 of the loss instead of the loss."""

    def compose(self) -> ComposeResult:
        yield Static(id="loss-formula")
        with Horizontal():
            yield Sparkline([], id="loss-history")
            yield Static(id="loss-now")
        yield Static(id="loss-convention")

    def show(self, view: PanelView) -> None:
        """Redraw the panel from `view`."""
        self.view = view

    def action_toggle_log_scale(self) -> None:
        """Switch the sparkline between the loss and log10 of the loss."""
        self.log_scale = not self.log_scale

    def on_mount(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def watch_view(self) -> None:
        self._redraw()

    def watch_log_scale(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        view = self.view
        if view is None or not self.is_mounted:
            return
        loss = view.session.scenario.loss
        history = view.session.loss_history()
        diverged_at = view.session.diverged_at

        # The panel's width bounds the sparkline's, whose own layout may not be
        # settled yet. Sparkline reduces any excess points by the same bucket maximum.
        buckets = self.content_region.width or DEFAULT_BUCKETS
        sparkline = self.query_one(Sparkline)
        series = sparkline_series(history, buckets, self.log_scale)
        sparkline.data = series
        # Sparkline stretches its data to its width, so a short history gets
        # one column per iteration instead of wide blocks.
        sparkline.styles.width = len(series) if 0 < len(series) < buckets else "1fr"
        # An empty Sparkline draws a flat row, which would read as a history of tiny losses.
        sparkline.display = bool(series)
        sparkline.tooltip = f"{'log10 of the loss' if self.log_scale else 'loss'} per iteration"

        self.query_one("#loss-formula", Static).update(Content(loss.formula))
        self.query_one("#loss-now", Static).update(
            current_text(view.snapshot.iteration, view.snapshot.loss, diverged_at)
        )
        self.query_one("#loss-convention", Static).update(Content(loss.convention))


def current_text(iteration: int, loss: float | None, diverged_at: int | None) -> Content:
    """Return the lines beside the sparkline: the iteration, the loss, and where the run diverged."""
    loss_text = "L = ·" if loss is None else f"L = {format_number(loss)}"
    parts: list[str | tuple[str, str]] = [f"iteration {iteration}\n", loss_text]
    if diverged_at is not None:
        parts += ["\n", (f"diverged at iteration {diverged_at}", "bold")]
    return Content.assemble(*parts)


def sparkline_series(history: Sequence[float], buckets: int, log_scale: bool) -> list[float]:
    """Return at most `buckets` finite points to draw for the loss `history`.

    Each point is the maximum of one bucket of consecutive iterations. inf
    and NaN become the largest finite point, so a diverged run ends in full
    bars. An all-non-finite history becomes zeros.
    """
    values = np.asarray(history, dtype=float)
    if values.size == 0:
        return []

    if log_scale:
        with np.errstate(divide="ignore", invalid="ignore"):
            positive = values[np.isfinite(values) & (values > 0)]
            # A loss of exactly 0 is drawn one decade below the smallest positive loss.
            floor = math.log10(positive.min()) - 1 if positive.size else 0.0
            values = np.where(values > 0, np.log10(values), floor)
            values = np.where(np.isnan(np.asarray(history, dtype=float)), np.nan, values)

    finite = np.isfinite(values)
    if not finite.any():
        return [0.0] * min(values.size, buckets)
    top = values[finite].max()
    bottom = values[finite].min()
    values = np.where(np.isnan(values) | (values == np.inf), top, values)
    values = np.where(values == -np.inf, bottom, values)

    if values.size > buckets:
        starts = np.linspace(0, values.size, buckets, endpoint=False).astype(int)
        values = np.maximum.reduceat(values, starts)
    return values.tolist()
