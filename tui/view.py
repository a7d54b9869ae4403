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


def visible_samples(view: PanelView, limit: int = MAX_SAMPLE_COLUMNS) -> range:
    """Return the batch positions whose columns a table shows: at most `limit`, around the highlighted sample."""
    limit = max(1, min(limit, MAX_SAMPLE_COLUMNS))
    count = len(view.snapshot.sample_indices)
    if count <= limit:
        return range(count)
    start = min(max(0, view.sample - limit // 2), count - limit)
    return range(start, start + limit)
