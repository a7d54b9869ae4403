"""The explanation panel: how the selected quantity, or the current step, was computed."""

from __future__ import annotations

import textwrap

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from core.explain import Explanation, UnknownQuantityError, explain, explain_step
from tui.view import PanelView


class ExplanationPanel(VerticalScroll):
    """The derivation of `view.selection` with the current numbers, or of the current step.

    The title is bold and underlined. Each formula line follows with a bullet
    and wraps with a hanging indent at the panel's width. For a batch, the derivation uses the highlighted sample
    (`view.sample`); parameter gradients list every sample's term. With
    `view.show_gradient_check` on, a parameter gradient ends with a
    finite-difference check.
    """

    DEFAULT_CSS = """
    ExplanationPanel {
        height: 1fr;
    }
    ExplanationPanel > Static {
        width: 1fr;
    }
    """

    view: reactive[PanelView | None] = reactive(None, always_update=True, init=False)
    """The view the panel shows. Set it with `show`."""

    def compose(self) -> ComposeResult:
        yield Static(id="explanation-text")

    def show(self, view: PanelView) -> None:
        """Redraw the panel from `view`."""
        self.view = view

    def on_mount(self) -> None:
        if self.view is not None:
            self._redraw(self.view)

    def on_resize(self) -> None:
        if self.view is not None:
            self._redraw(self.view)

    def watch_view(self, view: PanelView | None) -> None:
        if view is not None and self.is_mounted:
            self._redraw(view)

    def _redraw(self, view: PanelView) -> None:
        # Wrap short of the scrollbar, which appears only once the text overflows.
        width = self.content_region.width - self.styles.scrollbar_size_vertical
        self.query_one("#explanation-text", Static).update(explanation_content(view, width))


def explanation_content(view: PanelView, width: int = 0) -> Content:
    """Return the explanation of the view's selection, or of its current step without one.

    Lines are wrapped to `width` columns, unless `width` is 0.
    """
    if view.selection is None:
        return render_explanation(explain_step(view.session, view.sample), width)
    try:
        explanation = explain(
            view.session, view.selection, view.sample, with_check=view.show_gradient_check
        )
    except UnknownQuantityError as error:
        return Content(f"No derivation to show: {error}")
    return render_explanation(explanation, width)


def render_explanation(explanation: Explanation, width: int = 0) -> Content:
    """Return the title in bold and underlined, then each line as a bullet with a hanging indent."""
    parts: list[str | tuple[str, str]] = [(explanation.title, "bold underline")]
    for line in explanation.lines:
        if width > 4:
            wrapped = textwrap.fill(
                line, width, initial_indent="• ", subsequent_indent="  ",
                break_long_words=False, break_on_hyphens=False,
            )
        else:
            wrapped = f"• {line}"
        parts.append(f"\n{wrapped}")
    return Content.assemble(*parts)
