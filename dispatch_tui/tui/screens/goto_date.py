"""Go to a date: YYYY-MM-DD, today, tomorrow, yesterday, or +N / -N days from the shown day."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

_OFFSET = re.compile(r"^[+-]\d{1,4}$")


def parse_day(text: str, shown: date, today: date) -> date:
    value = text.strip().lower()
    named = {"today": today, "tomorrow": today + timedelta(days=1), "yesterday": today - timedelta(days=1)}
    if value in named:
        return named[value]
    if _OFFSET.match(value):
        return shown + timedelta(days=int(value))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date: YYYY-MM-DD, today, tomorrow, yesterday, +N or -N") from None


class GoToDateScreen(ModalScreen[date | None]):
    CSS_PATH = ["dialog.tcss", "goto_date.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, shown: date, today: date) -> None:
        super().__init__()
        self.shown = shown
        self.today = today

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Go to date"
            yield Input(self.shown.isoformat(), id="date-input")
            yield Static("YYYY-MM-DD, today, tomorrow, yesterday, +N, -N · esc: cancel", classes="hint", id="date-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(parse_day(event.value, self.shown, self.today))
        except ValueError as exc:
            self.query_one("#date-hint", Static).update(str(exc))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
