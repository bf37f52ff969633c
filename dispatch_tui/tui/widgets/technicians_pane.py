"""The Technicians pane: who is on shift, off, on a break, en route or on site; skills; the day's load."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from dispatch_tui.tui.palette import palette
from dispatch_tui.tui.widgets.virtual_list import VirtualList
from dispatch_tui.tui.wording import status_label

if TYPE_CHECKING:
    from dispatch_tui.services.execution.board import TechRow


class TechniciansPane(VirtualList["TechRow"]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Technicians"
        self.empty_text = "No technicians."
        self.alerted: frozenset[str] = frozenset()

    def header(self) -> Text:
        return Text("  ref   name                 status      load jobs skills")

    def key_of(self, row: TechRow) -> str:
        return row.ref

    def render_row(self, row: TechRow, width: int) -> Text:
        colours = palette(self.app)
        text = Text()
        text.append("!" if row.ref in self.alerted else " ", style=colours.alert)
        text.append(f" {row.ref:<5.5} {row.name:<20.20} ")
        text.append(f"{status_label(row.status):<11.11}", style=colours.tech_status.get(row.status, ""))
        load = f"{row.load_percent}%" if row.shift_minutes else "-"
        text.append(f" {load:>4} {row.visits:>4} {', '.join(row.skills)}")
        return text
