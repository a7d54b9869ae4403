"""The base class of the table panels: a widget that redraws from a PanelView."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widget import Widget

from tui.view import PanelView

SAMPLE_COLUMN_WIDTH = 12  # a 10-character number and the cell padding


class ViewPanel(Widget):
    """A widget whose whole content is drawn from one PanelView by `_redraw`."""

    view: reactive[PanelView | None] = reactive(None, always_update=True, init=False)
    """The view the panel shows. Set it with `show`."""

    def show(self, view: PanelView) -> None:
        """Redraw the panel from `view`."""
        self.view = view

    def on_mount(self) -> None:
        if self.view is not None:
            self._redraw(self.view)

    def watch_view(self, view: PanelView | None) -> None:
        if view is not None and self.is_mounted:
            self._redraw(view)

    def on_resize(self) -> None:
        # How many sample columns fit depends on the width.
        if self.view is not None:
            self._redraw(self.view)

    def sample_column_limit(self, reserved: int) -> int:
        """Return how many sample columns fit beside `reserved` cells of other columns."""
        return max(1, (self.size.width - reserved) // SAMPLE_COLUMN_WIDTH)

    def _redraw(self, view: PanelView) -> None:
        raise NotImplementedError
