"""When a lifecycle step happened: the times a step needs, each defaulting to now, as the CLI's `--at` and
`--started` take them (HH:MM on the shown day, or a full local moment YYYY-MM-DDTHH:MM)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from dispatch_tui.clock import on_day
from dispatch_tui.localtime import parse_datetime


@dataclass(frozen=True)
class TimeField:
    key: str
    label: str
    value: str  # what the field starts with: "14:05", or "" to leave it to ``blank``
    blank: str = ""  # what leaving it empty means ("the planned start, 09:30"); "" when it must be given


class StepTimeScreen(ModalScreen["dict[str, datetime | None] | None"]):
    """Dismissed with {key: moment, or None where a field was left blank and may be}, or None (Esc)."""

    CSS_PATH = ["dialog.tcss", "step_time.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, title: str, fields: list[TimeField], day: date, zone: ZoneInfo) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.day = day
        self.zone = zone

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            for field in self.fields:
                blank = f" (blank: {field.blank})" if field.blank else ""
                yield Static(f"{field.label}{blank}", classes="time-label", markup=False)
                yield Input(field.value, placeholder="HH:MM", id=f"time-{field.key}")
            yield Static(
                f"HH:MM on {self.day:%a %d %b}, or YYYY-MM-DDTHH:MM · enter: confirm · esc: cancel",
                classes="hint",
                id="time-hint",
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input).results(Input))
        here = inputs.index(event.input)
        if here + 1 < len(inputs):
            inputs[here + 1].focus()
            return
        try:
            self.dismiss(
                {field.key: self._moment(field, box.value) for field, box in zip(self.fields, inputs, strict=True)}
            )
        except ValueError as problem:
            self.query_one("#time-hint", Static).update(str(problem))

    def _moment(self, field: TimeField, text: str) -> datetime | None:
        if not text.strip():
            if field.blank:
                return None
            raise ValueError(f"{field.label}: give a time (HH:MM)")
        try:
            return parse_datetime(on_day(text, self.day), self.zone)
        except (ValueError, OverflowError):
            raise ValueError(f"{field.label}: {text.strip()!r} is not a time: HH:MM or YYYY-MM-DDTHH:MM") from None

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
