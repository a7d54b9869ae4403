"""Run many iterations in a worker thread, with a progress bar that any key stops."""

from __future__ import annotations

import threading

from textual import events, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static
from textual.worker import Worker, WorkerState

from core.engine import Session

PROGRESS_INTERVAL = 0.1  # seconds between progress bar updates


class TrainingScreen(ModalScreen[int]):
    """Runs `session.run` in a thread and dismisses with the number of iterations run.

    The run stops at `iterations`, when the loss becomes inf or NaN, or at the
    first key press. While it runs, only the worker thread touches the session.
    """

    def __init__(self, session: Session, iterations: int) -> None:
        super().__init__()
        self.session = session
        self.iterations = iterations
        self._stop_requested = threading.Event()
        self._polls = 0  # incremented by the worker once per fast iteration

    def compose(self) -> ComposeResult:
        with Vertical(id="training-box") as box:
            box.border_title = "Training"
            yield Static(f"Running up to {self.iterations:,} iterations. Press any key to stop.", id="training-label")
            yield ProgressBar(total=self.iterations, show_eta=False, id="training-progress")

    def on_mount(self) -> None:
        self.set_interval(PROGRESS_INTERVAL, self._show_progress)
        self._train()

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self.request_stop()

    def on_unmount(self) -> None:
        # The screen is also unmounted when the app exits (SIGHUP) while the worker runs.
        self._stop_requested.set()

    def request_stop(self) -> None:
        """Ask the worker to stop before its next iteration."""
        if not self._stop_requested.is_set():
            self._stop_requested.set()
            self.query_one("#training-label", Static).update("Stopping…")

    @property
    def progress(self) -> int:
        """Iterations finished so far, as counted by the worker; an estimate until it ends."""
        return self._polls

    def _show_progress(self) -> None:
        self.query_one(ProgressBar).update(progress=self._polls)

    def _should_stop(self) -> bool:
        # Called from the worker thread between iterations.
        self._polls += 1
        return self._stop_requested.is_set()

    @work(thread=True, exclusive=True, exit_on_error=True)
    def _train(self) -> int:
        return self.session.run(self.iterations, should_stop=self._should_stop, stop_on_divergence=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            self.dismiss(event.worker.result)
