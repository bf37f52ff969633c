"""Insert now: for an emergency today, who could be there soonest and what it does to their day.

Each row is a technician's soonest arrival, with the visits it makes later or sends back to the queue, in
words; Enter applies the highlighted one (the board writes it: ``Core.insert``, read again under the locks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from dispatch_tui.services.planning.emergency import InsertOption


class InsertScreen(ModalScreen[int | None]):
    """Dismissed with the chosen option's number (1 = soonest), or None."""

    CSS_PATH = ["dialog.tcss", "insert.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, job_ref: str, options: list[InsertOption], zone: ZoneInfo) -> None:
        super().__init__()
        self.job_ref = job_ref
        self.options = options
        self.zone = zone

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"Insert {self.job_ref} now"
            if not self.options:
                yield Static(f"Nobody can start {self.job_ref} today, even by moving less urgent visits: a assigns "
                             "it on another day.", id="insert-none", markup=False)  # fmt: skip
            else:
                table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
                table.add_columns("technician", "arrives", "drive", "what it changes")
                for option in self.options:
                    table.add_row(
                        f"{option.technician_name} ({option.technician_ref})",
                        f"{option.start.astimezone(self.zone):%H:%M}", f"{option.drive_minutes} min",
                        "; ".join(option.consequences) or "nothing else moves",
                    )  # fmt: skip
                yield table
            yield Static("enter: insert · esc: cancel" if self.options else "esc: close", classes="hint")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(event.cursor_row + 1)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
