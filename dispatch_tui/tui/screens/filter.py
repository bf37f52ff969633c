"""Filter the requests: `skill:NAME`, `source:NAME`, `status:on_hold` and free text (ref, customer, address)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class FilterScreen(ModalScreen[str | None]):
    CSS_PATH = ["dialog.tcss", "filter.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, current: str, skills: list[str]) -> None:
        super().__init__()
        self.current = current
        self.skills = skills

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Filter requests"
            yield Input(self.current, placeholder="skill:boiler source:web text", id="filter-input")
            yield Static(
                "skill:NAME  source:phone|web|email|technician|back_office  status:new|on_hold  and any text\n"
                f"skills: {', '.join(self.skills) or '-'}\nenter: apply (empty: show all) · esc: cancel",
                classes="hint",
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
