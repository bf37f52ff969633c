"""A list that renders only the rows on screen (Textual's line API), with a cursor and a sticky header.

Textual's DataTable builds every row up front (about 1.3 s for 10,000); this draws the 30-odd visible
ones per frame, so the queue costs the same with 100 or 100,000 requests.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Row = TypeVar("Row")


class VirtualList(ScrollView, Generic[Row], can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"virtual-list--cursor"}
    DEFAULT_CSS = """
    VirtualList > .virtual-list--cursor { background: $accent; color: $text; text-style: bold; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        def __init__(self, source: VirtualList[Any], row: Any) -> None:
            self.source = source
            self.row = row
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []
        self.empty_text = "Nothing here."

    # What a subclass draws.
    def header(self) -> Text:
        raise NotImplementedError

    def render_row(self, row: Row, width: int) -> Text:
        raise NotImplementedError

    def key_of(self, row: Row) -> str:
        raise NotImplementedError

    # Attributes down: the screen hands over new rows; the cursor stays on the same item if it is still there.
    def set_rows(self, rows: list[Row]) -> None:
        current = self.highlighted
        self.rows = rows
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        index = 0
        if current is not None:
            key = self.key_of(current)
            index = next((i for i, row in enumerate(rows) if self.key_of(row) == key), min(self.cursor, len(rows) - 1))
        self.cursor = max(0, index)
        self.refresh()

    @property
    def highlighted(self) -> Row | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        if self.highlighted is not None:
            self.post_message(self.Highlighted(self, self.highlighted))

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._redraw, init=False)  # the rows draw in the theme's colours

    def _redraw(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Highlighted(self, self.highlighted))

    def _visible_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + self._visible_rows():
            self.scroll_to(y=self.cursor - self._visible_rows() + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        if self.rows:
            self.cursor = min(max(0, self.cursor + step), len(self.rows) - 1)

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * self._visible_rows())

    def action_jump(self, index: int) -> None:
        if self.rows:
            self.cursor = index % len(self.rows)

    def row_at(self, y: int) -> int | None:
        """The row index under content line ``y`` (0 is the header), or None."""
        index = round(self.scroll_y) + y - 1
        return index if y >= 1 and 0 <= index < len(self.rows) else None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        index = self.row_at(offset.y) if offset is not None else None
        if index is not None:
            self.cursor = index

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._strip(self.header(), width, Style(bold=True, underline=True))
        index = round(self.scroll_y) + y - 1
        if not self.rows:
            return self._strip(Text(self.empty_text if y == 1 else "", style="italic"), width, Style())
        if index >= len(self.rows):
            return Strip.blank(width)
        text = self.render_row(self.rows[index], width)
        if index == self.cursor:
            text.stylize(self._cursor_style())
        return self._strip(text, width, Style())

    def _cursor_style(self) -> Style:
        styles = self.get_component_rich_style("virtual-list--cursor")
        return styles if self.has_focus else Style(reverse=True, dim=False) + Style(bold=True)

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        text.truncate(width, pad=True)
        segments = [
            Segment(s.text, style + s.style if s.style else style) for s in text.render(self.app.console, end="")
        ]
        return Strip(segments, width).crop(0, width)
