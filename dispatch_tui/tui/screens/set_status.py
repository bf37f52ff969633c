"""Set a job's status: only the lifecycle's next steps for its current status are offered."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from dispatch_tui.tui.wording import status_label


class SetStatusScreen(ModalScreen[str | None]):
    CSS_PATH = ["dialog.tcss", "set_status.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, job_ref: str, status: str, options: list[str]) -> None:
        super().__init__()
        self.job_ref = job_ref
        self.status = status
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"Status of {self.job_ref}: {status_label(self.status)}"
            yield OptionList(*[Option(status_label(o), id=o) for o in self.options])
            yield Static("enter: set · esc: cancel", classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
