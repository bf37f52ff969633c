"""What keeps the board live: knowing when the board on screen is behind the store.

Kept apart from the widgets (as Toolong keeps its file watcher apart from its log views): the screen
owns a ``BoardWatcher``, tells it what it shows (attributes down) and is told to reload (a callback,
called on the event loop). The watcher never touches a widget and the event loop never waits on the store:

- a plain thread hears other processes' commits (``ChangeFeed``: LISTEN/NOTIFY on PostgreSQL,
  ``PRAGMA data_version`` on SQLite) and polls at once;
- a timer polls every ``poll_interval`` seconds as well (a store without a feed, a feed that dropped);
- a poll, in a thread worker, reads the cheap change token and asks for a reload only when it differs from
  the shown board's (or the minute turned: statuses and alerts follow the clock);
- it counts the screen's writes that have landed, so that a reload begun before one can be known as stale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode

    from dispatch_tui.services.core import Core

WATCH_SLICE_S = 0.25  # the watcher thread checks this often whether it should stop


class BoardWatcher:
    """Says when the board on screen is behind the store; ``owner``'s timer and workers do the polling
    (they end with it), ``on_stale`` is how the owner is told to read the board again."""

    def __init__(self, backend: Core, owner: DOMNode, on_stale: Callable[[], object]) -> None:
        self.backend = backend
        self.shown_token: tuple[int, ...] | None = None  # the change token of the board on screen, set by the owner
        self._owner = owner
        self._on_stale = on_stale
        self._minute = -1  # the minute of the last reload asked for
        self._writes = 0  # the owner's writes that have landed in the store
        self._writes_lock = threading.Lock()
        self._watching = threading.Event()  # cleared to stop the watcher thread

    def start(self, poll_interval: float) -> None:
        """Poll every ``poll_interval`` seconds and whenever another process commits (on the event loop)."""
        self._owner.set_interval(poll_interval, self.poll)
        self._watching.set()
        # A plain daemon thread, not a worker: it lives as long as the owner and never "finishes".
        app = self._owner.app
        threading.Thread(target=self._watch, args=(app,), name="dispatch-change-feed", daemon=True).start()

    def close(self) -> None:
        self._watching.clear()

    def _watch(self, app: App[object]) -> None:
        """Another process committed: poll now rather than at the next tick (within a second, not two)."""
        try:
            feed = self.backend.change_feed()
        except Exception:  # noqa: BLE001 - no feed (store unreachable): the interval poll still runs
            return
        try:
            while self._watching.is_set():
                if feed.wait(WATCH_SLICE_S) and self._watching.is_set():
                    try:
                        app.call_from_thread(self.poll)
                    except RuntimeError:  # the app is shutting down
                        return
        finally:
            feed.close()

    def poll(self) -> None:
        """Check the change token in a thread worker (call on the event loop; from a thread, through
        ``app.call_from_thread``). A newer poll replaces one still running."""
        self._owner.run_worker(self._check, name="poll", group="poll", exclusive=True, thread=True)

    def _check(self) -> None:
        minute = int(self.backend.now().timestamp() // 60)
        try:
            token = self.backend.token()
        except Exception:  # noqa: BLE001 - a busy or missing store: try again next tick; reload shows errors
            return
        if self.shown_token is None or token != self.shown_token or minute != self._minute:
            self._minute = minute
            self._owner.app.call_from_thread(self._on_stale)

    # The owner's writes: a board read that began before the last of them landed is older than the write.
    @property
    def writes(self) -> int:
        return self._writes

    def wrote(self) -> None:
        """One of the owner's writes landed (called from its write worker)."""
        with self._writes_lock:
            self._writes += 1
