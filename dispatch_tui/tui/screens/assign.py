"""The Assign (and Move) dialog: ranked candidates from the scheduling core; Enter takes the highlighted one."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from dispatch_tui.services.planning.candidates import Candidate, Nobody


class AssignScreen(ModalScreen["Candidate | None"]):
    CSS_PATH = ["dialog.tcss", "assign.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(
        self, job_ref: str, verb: str, candidates: list[Candidate], zone: ZoneInfo, why_none: Nobody | None = None
    ) -> None:
        """``why_none``: with no candidates, why nobody can take the job and what to do (instead of a list)."""
        super().__init__()
        self.job_ref = job_ref
        self.verb = verb
        self.candidates = candidates
        self.zone = zone
        self.why_none = why_none

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"{self.verb} {self.job_ref}"
            if not self.candidates:
                nobody = self.why_none
                why = "".join(f"\n  {reason}" for reason in nobody.reasons) if nobody else ""
                why += f"\n{nobody.advice}" if nobody and nobody.advice else ""
                yield Static(f"No technician can take {self.job_ref} then:{why}", id="assign-why", markup=False)
            else:
                table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
                table.add_columns("technician", "start", "end", "+drive", "why")
                for candidate in self.candidates:
                    start = candidate.start.astimezone(self.zone)
                    table.add_row(
                        f"{candidate.technician_name} ({candidate.technician_ref})", f"{start:%a %H:%M}",
                        f"{candidate.end.astimezone(self.zone):%H:%M}", f"{candidate.added_travel_minutes} min",
                        "; ".join(candidate.reasons),
                    )  # fmt: skip
                yield table
            yield Static("enter: choose · esc: cancel" if self.candidates else "esc: close", classes="hint")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(self.candidates[event.cursor_row])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
