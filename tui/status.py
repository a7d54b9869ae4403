"""The status line: the current step in words and the iteration's progress."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from core.engine import PHASES, Session, Snapshot, StepKind
from tui.formatting import format_number
from tui.view import PanelView


class StatusLine(Static):
    """The step just taken with its formula, then the iteration's progress.

    The second line reads e.g. `iteration 0 · η = 0.0001 · forward › loss ›
    [BACKWARD] › update`: the current part is in capitals and brackets, so it
    reads without colour. A diverged run adds a third line that starts with
    `DIVERGED at iteration K`. Layers count from 1 in the text, iterations
    from 0 as in the headless trace.
    """

    DEFAULT_CSS = """
    StatusLine {
        height: auto;
    }
    """

    view: reactive[PanelView | None] = reactive(None, always_update=True, init=False)
    """The view the line shows. Set it with `show`."""

    def show(self, view: PanelView) -> None:
        """Redraw the line from `view`."""
        self.view = view

    def watch_view(self, view: PanelView | None) -> None:
        if view is not None:
            self.update(status_content(view.session, view.snapshot, view.sample))


def status_content(session: Session, snapshot: Snapshot, sample: int = 0) -> Content:
    """Return the status lines for `snapshot`: the step, the progress, and divergence if any.

    In a batch, the progress line also names the highlighted sample by its data row.
    """
    batch = len(snapshot.sample_indices)
    shown = f"sample {int(snapshot.sample_indices[sample]) + 1} · " if batch > 1 else ""
    parts: list[str | tuple[str, str]] = [
        describe_step(session, snapshot),
        f"\niteration {snapshot.iteration} · {shown}η = {format_number(session.learning_rate)} · ",
    ]
    current = snapshot.step.phase if snapshot.step is not None else None
    for index, phase in enumerate(PHASES):
        if index:
            parts.append(" › ")
        parts.append((f"[{phase.upper()}]", "bold reverse") if phase == current else phase)
    if session.diverged_at is not None:
        parts += ["\n", (f"DIVERGED at iteration {session.diverged_at}", "bold reverse"),
                  ": loss inf/NaN; b back, r reset"]
    return Content.assemble(*parts)


def describe_step(session: Session, snapshot: Snapshot) -> str:
    """Return the step that produced `snapshot` in words, with its formula in the lecture's names."""
    step = snapshot.step
    if step is None:
        return f"Start of iteration {snapshot.iteration}: nothing computed yet"
    loss = session.scenario.loss

    if step.kind is StepKind.FORWARD:
        output, source = _symbols(session, step.layer)
        activation = session.activations[step.layer]
        if activation.is_identity:
            return f"Forward, layer {step.layer + 1}: {output} = W·{source} + b"
        return f"Forward, layer {step.layer + 1}: z = W·{source} + b, {output} = {activation.name}(z)"

    if step.kind is StepKind.LOSS:
        return f"Loss: {loss.formula}"

    if step.kind is StepKind.OUTPUT_GRADIENT:
        return f"Backward, loss: {loss.gradient_formula}"

    if step.kind is StepKind.BACKWARD:
        return f"Backward, layer {step.layer + 1}: {_backward_formula(session, step.layer)}"

    rate = snapshot.update.learning_rate if snapshot.update is not None else session.learning_rate
    return f"Update: {session.scenario.optimizer.formula} (η = {format_number(rate)})"


def _backward_formula(session: Session, layer: int) -> str:
    output, source = _symbols(session, layer)
    if session.activations[layer].is_identity:
        gradient = f"dL/d{output}"
        text = f"dL/dw = {gradient} · {source}"
    else:
        gradient = "dL/dz"
        text = f"dL/dz = dL/d{output} ⊙ f'(z), dL/dw = dL/dz · {source}"
    # The first layer's inputs are data, so dL/dx is never computed.
    if layer > 0:
        text += f", dL/d{source} = Wᵀ·{gradient}"
    return text


def _symbols(session: Session, layer: int) -> tuple[str, str]:
    """Return the lecture's symbols for a layer's output and input: ŷ or u, and x or u."""
    output = "ŷ" if layer == len(session.activations) - 1 else "u"
    source = "x" if layer == 0 else "u"
    return output, source
