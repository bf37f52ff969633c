"""The Requests pane: the queue of unscheduled work, most urgent first, virtualised.

A row can be dragged onto a technician's row in the schedule grid: the press captures the mouse, and
the release over the grid asks for the job to be placed there.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import events

from dispatch_tui.tui.palette import palette
from dispatch_tui.tui.widgets.virtual_list import VirtualList
from dispatch_tui.tui.wording import due_label, duration, window_label

if TYPE_CHECKING:
    from dispatch_tui.services.execution.board import RequestRow


class RequestsPane(VirtualList["RequestRow"]):
    def __init__(self, zone: ZoneInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.zone = zone
        self.border_title = "Requests"
        self.empty_text = "No waiting requests."
        self.alerted: frozenset[str] = frozenset()  # planned work with an alert; a request's own show from its row
        self.day: date | None = None  # the board's day: a window on another day shows its date
        self._window_width = 11  # 'HH:MM-HH:MM'; wider once some window needs its date
        self._widths: dict[str, int] = {}  # each column's width, as the last layout chose them
        self._pressed: str | None = None
        self._dragging = False

    def set_rows(self, rows: list[RequestRow]) -> None:
        self._window_width = max([11, *(len(self._window(row)) for row in rows)])
        super().set_rows(rows)

    def _window(self, row: RequestRow) -> str:
        return window_label(row.window_start, row.window_end, self.day, self.zone)

    def _shown(self, width: int) -> tuple[str, ...]:
        """The columns that fit ``width``: customer, then waiting time, then skill give way first (the status
        pane shows them for the highlighted request); priority, ref, window and due always stay."""
        shown = ["ref", "skill", "customer", "window", "wait", "due"]
        widths = {"ref": 8, "skill": 10, "customer": 14, "window": self._window_width, "wait": 5, "due": 9}
        for optional in ("customer", "wait", "skill"):
            if 3 + sum(widths[name] + 1 for name in shown) <= width:
                break
            shown.remove(optional)
        if 3 + sum(widths[name] + 1 for name in shown) > width:
            widths["ref"] = 6  # the day's refs are six characters: the padding goes
        self._widths = widths
        return tuple(shown)

    def header(self) -> Text:
        shown = self._shown(self.scrollable_content_region.width)
        cells = [f"{name:>{self._widths[name]}}" if name == "wait" else f"{name:<{self._widths[name]}}"
                 for name in shown if name != "due"]  # fmt: skip
        return Text("  P " + " ".join(cells) + " due")

    def key_of(self, row: RequestRow) -> str:
        return row.ref

    def render_row(self, row: RequestRow, width: int) -> Text:
        shown = self._shown(width)
        colours = palette(self.app)
        values = {"ref": row.ref, "skill": row.skill, "customer": row.customer, "window": self._window(row)}
        text = Text()
        text.append("!" if row.alerted or row.ref in self.alerted else " ", style=colours.alert)
        text.append(f" {row.priority} ", style="bold" if row.priority == 1 else "")
        for name in shown:
            if name == "wait":
                text.append(f"{duration(row.waiting_minutes):>5} ")
            elif name == "due":
                due = due_label(row.due_in_minutes)
                if len(text) + len(due) > width:  # narrow: '3h36' (due in), 'over' (past due)
                    due = duration(row.due_in_minutes) if row.due_in_minutes >= 0 else "over"
                text.append(due, style=colours.urgency.get(row.urgency, ""))
            else:
                size = self._widths[name]
                text.append(f"{values[name]:<{size}.{size}} " if name != "ref" else f"{values[name]:<{size}} ")
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
