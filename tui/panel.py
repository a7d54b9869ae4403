"""The base class of the table panels: a widget that redraws from a PanelView."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widget import Widget

from tui.view import PanelView


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

    def _redraw(self, view: PanelView) -> None:
        raise NotImplementedError
