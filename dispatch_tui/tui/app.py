"""DispatchApp: the dispatcher's console over the configured store.

``now`` is injectable (tests and snapshots fix the clock); by default it is the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import BindingType

from dispatch_tui.tui.backend import Backend
from dispatch_tui.tui.commands import DispatchCommands
from dispatch_tui.tui.keys import APP_ACTIONS, bindings
from dispatch_tui.tui.screens.board import BoardScreen

if TYPE_CHECKING:
    from dispatch_tui.config import Settings


def wall_clock() -> datetime:
    return datetime.now(UTC)


class DispatchApp(App[None]):
    TITLE = "dispatch"
    BINDINGS: ClassVar[list[BindingType]] = bindings(APP_ACTIONS)  # type: ignore[assignment]
    COMMANDS = App.COMMANDS | {DispatchCommands}

    def __init__(
        self,
        settings: Settings,
        *,
        now: Callable[[], datetime] = wall_clock,
        day: date | None = None,
        poll_interval: float = 1.0,
        optimize_time_limit: float = 10.0,
        actor: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.backend = Backend(settings, now, actor)
        self.day = day or now().astimezone(settings.zone).date()
        self.poll_interval = poll_interval
        self.optimize_time_limit = optimize_time_limit
        self.keymap = dict(settings.keymap)
        self.board_screen = BoardScreen(self.backend, self.day, poll_interval)

    def on_mount(self) -> None:
        self.sub_title = self.settings.db
        if self.keymap:
            self.set_keymap(self.keymap)
        self.push_screen(self.board_screen)

    def action_help(self) -> None:
        from dispatch_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.keymap))

    def on_unmount(self) -> None:
        self.backend.close()
