"""DispatchApp: the dispatcher's console over the configured store.

``clock`` is injectable (tests and snapshots fix it); by default it is the settings' clock (the real time,
or the moment set with ``--now``). ``core``: the core to run on, already opened (`dispatch tui` checks the
store before the screen takes over); by default one over ``settings`` with that clock. The app installs
the core's clock as the process's, so that what the services stamp (audit events, receipts) reads the
same time as what the board shows. With ``notify.console_sender``, the console sends the customers'
messages itself (``tui.sending``) and says when one failed.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import BindingType

from dispatch_tui import clock as process_clock
from dispatch_tui.services.core import Core
from dispatch_tui.tui.commands import DispatchCommands
from dispatch_tui.tui.keys import APP_ACTIONS, bindings
from dispatch_tui.tui.screens.board import BoardScreen
from dispatch_tui.tui.sending import ConsoleSender

if TYPE_CHECKING:
    from dispatch_tui.clock import Clock
    from dispatch_tui.config import Settings
    from dispatch_tui.services.notify.sender import PassReport

FAILURES_SHOWN = 3  # of one pass's failed messages, the notice names these


class DispatchApp(App[None]):
    TITLE = "dispatch"
    BINDINGS: ClassVar[list[BindingType]] = bindings(APP_ACTIONS)
    COMMANDS = App.COMMANDS | {DispatchCommands}

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        day: date | None = None,
        poll_interval: float = 1.0,
        optimize_time_limit: float = 10.0,
        actor: str | None = None,
        core: Core | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.backend = core or Core(settings, clock or settings.clock, actor)
        self.clock = self.backend.clock
        process_clock.use(self.clock)
        self.day = day or self.clock.today(settings.zone)
        self.poll_interval = poll_interval
        self.optimize_time_limit = optimize_time_limit
        self.keymap = dict(settings.keymap)
        self.board_screen = BoardScreen(self.backend, self.day, poll_interval)
        self.console_sender: ConsoleSender | None = None  # only with notify.console_sender
        self._send_error = ""  # the last pass's error, said once rather than every pass

    def on_mount(self) -> None:
        self.sub_title = self.settings.db
        if self.keymap:
            self.set_keymap(self.keymap)
        self.push_screen(self.board_screen)
        if self.settings.notify.console_sender:
            self.console_sender = ConsoleSender(self.backend, self, self._sent, self._send_failed)
            self.console_sender.start(self.settings.notify.poll_s)

    def _sent(self, report: PassReport) -> None:
        self._send_error = ""
        if report.failed:
            named = report.errors[:FAILURES_SHOWN]
            more = [f"and {len(report.errors) - len(named)} more"] if len(report.errors) > len(named) else []
            self.notify("\n".join([*named, *more]), title=f"{report.failed} message(s) to customers failed",
                        severity="error", timeout=10)  # fmt: skip
        if report.routed or report.sent or report.retrying or report.failed:
            self.board_screen.messages_changed()

    def _send_failed(self, error: Exception) -> None:
        said = f"{error.__class__.__name__}: {error}"
        if said != self._send_error:
            self._send_error = said
            self.notify(said, title="Sending messages failed", severity="error", timeout=10)

    def action_help(self) -> None:
        from dispatch_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.keymap))

    def on_unmount(self) -> None:
        if self.console_sender is not None:
            self.console_sender.close()
        self.backend.close()
