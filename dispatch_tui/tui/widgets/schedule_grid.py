"""The Schedule pane: one row per technician, the day across; visits as blocks, the drive before each,
breaks and absences shaded, a now-line. Only visible rows are drawn.

The time scale fits the day's working hours to the pane's width (whole cells of 5 minutes or more), so
a column is always a time: a drop at a column is a request to start the job in that cell.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from dispatch_tui.tui.palette import palette

if TYPE_CHECKING:
    from dispatch_tui.services.execution.board import Block, Grid, GridRow

NAME_WIDTH = 16
CELL_STEP = 5  # minutes: the finest scale, and what a scale is a multiple of
OFF = Style(dim=True)
HEADER = Style(bold=True)


class ScheduleGrid(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "row(-1)", "Up", show=False),
        Binding("down,j", "row(1)", "Down", show=False),
        Binding("left", "block(-1)", "Previous visit", show=False),
        Binding("right", "block(1)", "Next visit", show=False),
    ]

    row_cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    block_cursor: reactive[int] = reactive(-1, always_update=True, repaint=False)  # -1: the technician

    class Highlighted(Message):
        def __init__(self, kind: str, ref: str) -> None:
            self.kind = kind  # "job" or "tech"
            self.ref = ref
            super().__init__()

    class DropRequested(Message):
        def __init__(self, job_ref: str, tech_ref: str, minute: int, span: int) -> None:
            self.job_ref = job_ref
            self.tech_ref = tech_ref
            self.minute = minute
            self.span = span
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Schedule"
        self.clock_note = ""  # "clock set to …" when the console does not run on the real time
        self.grid: Grid | None = None
        self._ref_prefix = 0  # the leading characters every visit's ref on the grid shares (``shared_prefix``)
        self.alerted: frozenset[str] = frozenset()
        self._pressed: str | None = None
        self._moved = False

    # Attributes down.
    def set_grid(self, grid: Grid) -> None:
        current = self.highlighted_ref
        same_day = self.grid is not None and self.grid.day == grid.day
        self.grid = grid
        self._ref_prefix = shared_prefix(grid)  # read by every block label: once per grid, not per frame
        self.virtual_size = Size(self.size.width, len(grid.rows) + 1)
        self.border_title = f"Schedule {grid.day:%a %d %b %Y}" + (f" · {self.clock_note}" if self.clock_note else "")
        if current and same_day:
            for r, row in enumerate(grid.rows):
                if current == row.tech_ref or any(b.job_ref == current for b in row.blocks):
                    self.row_cursor = r
                    self.block_cursor = next((i for i, b in enumerate(row.blocks) if b.job_ref == current), -1)
                    break
        else:
            self.row_cursor = min(self.row_cursor, max(0, len(grid.rows) - 1))
            self.block_cursor = -1
        self.refresh()

    @property
    def current_row(self) -> GridRow | None:
        if self.grid is None or not 0 <= self.row_cursor < len(self.grid.rows):
            return None
        return self.grid.rows[self.row_cursor]

    @property
    def current_block(self) -> Block | None:
        row = self.current_row
        return row.blocks[self.block_cursor] if row and 0 <= self.block_cursor < len(row.blocks) else None

    @property
    def highlighted_ref(self) -> str | None:
        block, row = self.current_block, self.current_row
        return block.job_ref if block else row.tech_ref if row else None

    # The time scale.
    def span(self) -> tuple[int, int]:
        """First minute shown and minutes per cell."""
        shifts = [row.shift for row in self.grid.rows if row.shift] if self.grid else []
        first = min((s[0] for s in shifts), default=7 * 60) // 60 * 60
        last = math.ceil(max((s[1] for s in shifts), default=19 * 60) / 60) * 60
        cells = max(1, self.scrollable_content_region.width - NAME_WIDTH)
        per_cell = max(CELL_STEP, math.ceil((last - first) / cells / CELL_STEP) * CELL_STEP)
        return first, per_cell

    def target_at(self, screen_x: int, screen_y: int) -> tuple[str, int, int] | None:
        """(technician ref, first minute, minutes) of the cell at a screen position, or None."""
        region = self.scrollable_content_region
        x, y = screen_x - region.x, screen_y - region.y
        if self.grid is None or x < NAME_WIDTH or y < 1:
            return None
        index = round(self.scroll_y) + y - 1
        if not 0 <= index < len(self.grid.rows):
            return None
        first, per_cell = self.span()
        return self.grid.rows[index].tech_ref, first + (x - NAME_WIDTH) * per_cell, per_cell

    def drop(self, job_ref: str, screen_x: int, screen_y: int) -> None:
        target = self.target_at(screen_x, screen_y)
        if target is not None:
            self.post_message(self.DropRequested(job_ref, *target))

    # Keys.
    def action_row(self, step: int) -> None:
        if self.grid and self.grid.rows:
            self.row_cursor = min(max(0, self.row_cursor + step), len(self.grid.rows) - 1)
            self.block_cursor = -1

    def action_block(self, step: int) -> None:
        row = self.current_row
        if row and row.blocks:
            self.block_cursor = min(max(-1, self.block_cursor + step), len(row.blocks) - 1)

    def watch_row_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if self.row_cursor < top:
            self.scroll_to(y=self.row_cursor, animate=False, immediate=True)
        elif self.row_cursor >= top + visible:
            self.scroll_to(y=self.row_cursor - visible + 1, animate=False, immediate=True)
        self._announce()

    def watch_block_cursor(self) -> None:
        self._announce()

    def on_focus(self) -> None:
        self._announce()

    def _announce(self) -> None:
        self.refresh()
        block, row = self.current_block, self.current_row
        if block:
            self.post_message(self.Highlighted("job", block.job_ref))
        elif row:
            self.post_message(self.Highlighted("tech", row.tech_ref))

    # Mouse: click selects; a block can be dragged to another row or time.
    def _hit(self, event: events.MouseEvent) -> tuple[int, int] | None:
        """(row index, block index or -1) under the pointer."""
        target = self.target_at(int(event.screen_x), int(event.screen_y))
        region = self.scrollable_content_region
        index = round(self.scroll_y) + int(event.screen_y) - region.y - 1
        if self.grid is None or not 0 <= index < len(self.grid.rows):
            return None
        if target is None:
            return index, -1
        _, minute, per_cell = target
        for b, block in enumerate(self.grid.rows[index].blocks):
            if block.start < minute + per_cell and minute < block.end:
                return index, b
        return index, -1

    def on_mouse_down(self, event: events.MouseDown) -> None:
        hit = self._hit(event)
        if hit is None:
            return
        self.row_cursor, self.block_cursor = hit
        block = self.current_block
        if block is not None:
            self._pressed, self._moved = block.job_ref, False
            self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._pressed is not None:
            self._moved = True

    def on_mouse_up(self, event: events.MouseUp) -> None:
        pressed, moved = self._pressed, self._moved
        self._pressed, self._moved = None, False
        if self.app.mouse_captured is self:
            self.capture_mouse(False)
        if pressed and moved:
            widget, _ = self.screen.get_widget_at(int(event.screen_x), int(event.screen_y))
            if widget is self:
                self.drop(pressed, int(event.screen_x), int(event.screen_y))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.grid.rows) + 1 if self.grid else 1)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._redraw, init=False)  # the blocks draw in the theme's colours

    def _redraw(self) -> None:
        self.refresh()

    # Drawing.
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self.grid is None:
            return Strip.blank(width)
        first, per_cell = self.span()
        cells = max(0, width - NAME_WIDTH)
        if y == 0:
            return self._header(first, per_cell, cells, width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self.grid.rows):
            if not self.grid.rows and y == 1:
                return Strip([Segment("No technicians work this day.", Style(italic=True))], width).adjust_cell_length(
                    width
                )
            return Strip.blank(width)
        return self._row(index, first, per_cell, cells, width)

    def _header(self, first: int, per_cell: int, cells: int, width: int) -> Strip:
        chars = [" "] * cells
        free_from = 0  # a label needs a blank cell after the one before: "07 09 11", never "070809"
        for cell in range(cells):
            minute = first + cell * per_cell
            if minute % 60 < per_cell and cell + 2 <= cells and cell >= free_from:
                chars[cell : cell + 2] = list(f"{minute // 60 % 24:02d}")
                free_from = cell + 3
        label = f"{'technician':<{NAME_WIDTH}}"
        return Strip([Segment(label + "".join(chars)[: max(0, width - NAME_WIDTH)], HEADER)], width).adjust_cell_length(
            width
        )

    def block_label(self, block: Block, room: int) -> str:
        """The ref if it fits in ``room`` cells, else its distinctive tail (the day's refs share a prefix:
        R00048 → 48), else nothing: never a cut 'R00R0'."""
        lock = ("!" if block.broken_promise else "") + ("#" if block.locked else "")  # ! outside its window…
        short = block.job_ref[self._ref_prefix :]
        for label in (lock + block.job_ref, lock + short, short):
            if len(label) <= room:
                return label
        return ""

    @staticmethod
    def _label_room(row: GridRow, block: Block, lo: int, hi: int, first: int, per_cell: int) -> int:
        """Cells a block's label may use: up to the next visit's drive, or a blank cell before the next visit
        itself, so that two labels never run together ('R00001R00007')."""
        cutoff = hi
        for other in row.blocks:
            start = (other.start - first) // per_cell
            if other is block or not lo <= start <= hi:
                continue
            drive = (other.start - other.travel_before - first) // per_cell
            cutoff = min(cutoff, max(lo, drive) if drive < start else start - 1)  # a drive cell separates
        return cutoff - lo

    def _row(self, index: int, first: int, per_cell: int, cells: int, width: int) -> Strip:
        assert self.grid is not None
        row = self.grid.rows[index]
        colours = palette(self.app)
        on_visit: set[int] = set()
        chars = [" "] * cells
        styles = [OFF] * cells

        def paint(start: int, end: int, char: str | None, style: Style) -> None:
            lo = max(0, (start - first) // per_cell)
            hi = min(cells, math.ceil((end - first) / per_cell))
            for cell in range(lo, hi):
                if char is not None:
                    chars[cell] = char
                styles[cell] = style

        if row.shift:
            paint(*row.shift, "·", colours.shift)
        for start, end, _reason in row.absences:
            paint(start, end, "░", colours.absent)
        if row.break_:
            paint(*row.break_, "▒", colours.break_)
        for b, block in enumerate(row.blocks):
            if block.travel_before:
                paint(block.start - block.travel_before, block.start, "─", colours.drive)
            style = colours.job_status.get(block.status) or colours.job_status["scheduled"]
            if index == self.row_cursor and b == self.block_cursor:
                style += Style(reverse=True, bold=True)
            if block.job_ref in self.alerted:
                style += Style(underline=True)
            lo = max(0, (block.start - first) // per_cell)
            hi = max(lo + 1, min(cells, math.ceil((block.end - first) / per_cell)))
            room = self._label_room(row, block, lo, hi, first, per_cell)
            label = self.block_label(block, room)
            for offset, cell in enumerate(range(lo, min(hi, cells))):
                chars[cell] = label[offset] if offset < len(label) else " "
                styles[cell] = style
                on_visit.add(cell)
        for block in row.blocks:  # running late: » from the planned end to where the visit now ends
            if block.projected is not None:
                ends = (math.ceil((minute - first) / per_cell) for minute in (block.end, block.projected[1]))
                tail = range(*ends)
                for cell in (c for c in tail if 0 <= c < cells and c not in on_visit):
                    chars[cell], styles[cell] = "»", colours.alert
        now = self.grid.now_minute
        if now is not None and first <= now < first + cells * per_cell:
            cell = (now - first) // per_cell
            if cell in on_visit:  # a visit's own colours stay readable; the cell is marked
                styles[cell] = styles[cell] + Style(bold=True, underline=True)
            else:
                chars[cell] = "│"
                styles[cell] = styles[cell] + colours.now
        marker = "!" if row.tech_ref in self.alerted else " "
        name_style = Style(reverse=True) if index == self.row_cursor and self.block_cursor == -1 else Style()
        if index == self.row_cursor and self.has_focus:
            name_style += Style(bold=True)
        segments = [
            Segment(marker, colours.alert),
            Segment(f"{row.name:<{NAME_WIDTH - 1}.{NAME_WIDTH - 2}}", name_style),
        ]
        run_start = 0
        for cell in range(1, cells + 1):
            if cell == cells or styles[cell] != styles[run_start]:
                segments.append(Segment("".join(chars[run_start:cell]), styles[run_start]))
                run_start = cell
        return Strip(segments).adjust_cell_length(width)


def shared_prefix(grid: Grid) -> int:
    """How many leading characters every visit's ref on the grid shares (at least two stay: 'R00048' → '48')."""
    refs = [block.job_ref for row in grid.rows for block in row.blocks]
    if not refs:
        return 0
    low, high = min(refs), max(refs)  # the prefix all refs share is the one these two share
    shared = next((i for i, (a, b) in enumerate(zip(low, high, strict=False)) if a != b), min(len(low), len(high)))
    return max(0, min(shared, min(map(len, refs)) - 2))
