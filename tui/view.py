"""The view every panel draws: the session, the snapshot at the cursor and the user's choices."""

from __future__ import annotations

from dataclasses import dataclass

from core.engine import Session, Snapshot


@dataclass(frozen=True, eq=False)
class PanelView:
    """One immutable view of the app's state, handed to each panel's `show` method.

    `sample` is the highlighted sample within the current iteration's batch
    (0-based). `selection` is the name of the selected quantity, such as "w7",
    "b4", "u1", "ŷ1", "x1" or "loss", or None.
    """

    session: Session
    snapshot: Snapshot
    sample: int = 0
    selection: str | None = None
    show_gradient_check: bool = False


MAX_SAMPLE_COLUMNS = 8  # more would make the tables slow and unreadable in a terminal


def visible_samples(view: PanelView) -> range:
    """Return the batch positions whose columns the tables show: at most 8, around the highlighted sample."""
    count = len(view.snapshot.sample_indices)
    if count <= MAX_SAMPLE_COLUMNS:
        return range(count)
    start = min(max(0, view.sample - MAX_SAMPLE_COLUMNS // 2), count - MAX_SAMPLE_COLUMNS)
    return range(start, start + MAX_SAMPLE_COLUMNS)
