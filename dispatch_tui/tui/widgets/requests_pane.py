"""The Requests pane: the queue of unscheduled work, most urgent first, virtualised.

A row can be dragged onto a technician's row in the schedule grid: the press captures the mouse, and
the release over the grid asks for the job to be placed there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import events

from dispatch_tui.tui.palette import palette
from dispatch_tui.tui.widgets.virtual_list import VirtualList
from dispatch_tui.tui.wording import duration

if TYPE_CHECKING:
    from dispatch_tui.services.board import RequestRow


class RequestsPane(VirtualList["RequestRow"]):
    def __init__(self, zone: ZoneInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.zone = zone
        self.border_title = "Requests"
        self.empty_text = "No waiting requests."
        self.alerted: frozenset[str] = frozenset()  # planned work with an alert; a request's own show from its row
        self._pressed: str | None = None
        self._dragging = False

    def header(self) -> Text:
        return Text("  P ref      skill      customer       window       wait  due in")

    def key_of(self, row: RequestRow) -> str:
        return row.ref

    def render_row(self, row: RequestRow, width: int) -> Text:
        start = row.window_start.astimezone(self.zone)
        window = f"{start:%H:%M}-{row.window_end.astimezone(self.zone):%H:%M}"
        colours = palette(self.app)
        text = Text()
        text.append("!" if row.alerted or row.ref in self.alerted else " ", style=colours.alert)
        text.append(f" {row.priority} ", style="bold" if row.priority == 1 else "")
        text.append(f"{row.ref:<8.8} {row.skill:<10.10} {row.customer:<14.14} {window:<12} ")
        text.append(f"{duration(row.waiting_minutes):>5} ")
        text.append(f"{duration(row.due_in_minutes):>6}", style=colours.urgency.get(row.urgency, ""))
        if row.status != "new":
            text.append(f" {row.status}", style="italic")
        return text

    def on_mouse_down(self, event: events.MouseDown) -> None:
        offset = event.get_content_offset(self)
        index = self.row_at(offset.y) if offset is not None else None
        if index is None:
            return
        self.cursor = index
        self._pressed = self.rows[index].ref
        self._dragging = False
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._pressed is not None and not self._dragging and self.app.mouse_captured is self:
            self._dragging = True

    def on_mouse_up(self, event: events.MouseUp) -> None:
        pressed, dragging = self._pressed, self._dragging
        self._pressed, self._dragging = None, False
        if self.app.mouse_captured is self:
            self.capture_mouse(False)
        if pressed is not None and dragging:
            from dispatch_tui.tui.widgets.schedule_grid import ScheduleGrid

            widget, _ = self.screen.get_widget_at(int(event.screen_x), int(event.screen_y))
            if isinstance(widget, ScheduleGrid):
                widget.drop(pressed, int(event.screen_x), int(event.screen_y))
