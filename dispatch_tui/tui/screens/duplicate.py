"""The duplicate guard: open jobs of the caller that look like the request being saved, each with why.

r records the call on the highlighted job instead (an audit note: ``Core.note_call``), a saves the new
request anyway, Esc goes back to the form. Nothing has been saved while this is open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from dispatch_tui.services.intake.requests import Duplicate

NOTE = "note"
ANYWAY = "anyway"


class DuplicateScreen(ModalScreen["tuple[str, str] | None"]):
    """Dismissed with ("note", job ref), ("anyway", ""), or None (Esc: back to the form)."""

    CSS_PATH = ["dialog.tcss", "duplicate.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Back"),
        Binding("r", "record", "Record the call"),
        Binding("a", "anyway", "Save anyway"),
    ]

    def __init__(self, duplicates: list[Duplicate], customer: str) -> None:
        super().__init__()
        self.duplicates = duplicates
        self.customer = customer

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Already open?"
            count = len(self.duplicates)
            yield Static(f"{self.customer} has {count} open job{'s' if count > 1 else ''} that may be this "
                         "problem. Nothing is saved yet.", markup=False)  # fmt: skip
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("job", "status", "skill", "why")
            for d in self.duplicates:
                table.add_row(d.ref, d.status.replace("_", " "), d.skill, d.why)
            yield table
            yield Static("r: record the call on the highlighted job · a: save the new request anyway · "
                         "esc: back to the form", classes="hint", markup=False)  # fmt: skip

    def action_record(self) -> None:
        row = self.query_one(DataTable).cursor_row
        self.dismiss((NOTE, self.duplicates[row].ref))

    def action_anyway(self) -> None:
        self.dismiss((ANYWAY, ""))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
