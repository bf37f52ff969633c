"""The console's own sender (``notify.console_sender``): the outbox sent while the console runs.

Kept apart from the widgets, as the ``BoardWatcher`` is: the owner's timer starts a pass every
``notify.poll_s`` seconds in a thread worker, and ``on_pass`` is told (on the event loop) what each pass
did. Passes never overlap: a tick that comes while one is still sending is skipped. Closing stops a pass
between two messages (its unsent claims are released) and closes the sender once no pass runs.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode

    from dispatch_tui.services.core import Core
    from dispatch_tui.services.notify.sender import PassReport, Sender

WORKER_GROUP = "sender"


class ConsoleSender:
    def __init__(
        self,
        backend: Core,
        owner: DOMNode,
        on_pass: Callable[[PassReport], object],
        on_error: Callable[[Exception], object],
    ) -> None:
        self.backend = backend
        self._owner = owner
        self._on_pass = on_pass
        self._on_error = on_error
        self._sender: Sender | None = None  # made by the first pass, off the event loop
        self._guard = threading.Lock()  # over _running and _closed
        self._running = False
        self._closed = False
        self._stop = threading.Event()  # set on close: the pass under way stops between two messages

    @property
    def open(self) -> bool:
        """Whether a sender is made and not closed yet (its HTTP connections held)."""
        return self._sender is not None

    def start(self, poll_s: float) -> None:
        """A first pass now (what waited while no sender ran), then one every ``poll_s`` seconds."""
        self._owner.set_interval(poll_s, self.tick)
        self.tick()

    def tick(self) -> None:
        with self._guard:
            if self._running or self._closed:
                return
        self._owner.run_worker(self._pass, name="send", group=WORKER_GROUP, exclusive=True, thread=True,
                               exit_on_error=False)  # fmt: skip

    def _pass(self) -> None:
        with self._guard:
            if self._running or self._closed:
                return
            self._running = True
        app = self._owner.app
        try:
            if self._sender is None:
                self._sender = self.backend.sender()
            report = self._sender.run_once(self._stop)
        except Exception as exc:  # noqa: BLE001 - a locked store, a broken template: said, tried again next tick
            self._call(app, self._on_error, exc)
        else:
            self._call(app, self._on_pass, report)
        finally:
            with self._guard:
                self._running = False
                closing = self._closed
            if closing:
                self._close_sender()

    def close(self) -> None:
        with self._guard:
            self._closed = True
            self._stop.set()
            idle = not self._running
        if idle:  # else the pass under way closes it as it ends
            self._close_sender()

    def _close_sender(self) -> None:
        if self._sender is not None:
            self._sender.close()
            self._sender = None

    def _call(self, app: App[Any], callback: Callable[..., object], *args: object) -> None:
        if self._stop.is_set():
            return  # the console is closing: nobody to tell
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            app.call_from_thread(callback, *args)
