"""The board's footer: Textual's, keeping the essential keys when the terminal is too narrow for all.

Textual's footer cuts off whatever does not fit on the right, which at 80 columns was help and quit. This
one drops the least needed keys instead (in ``ESSENTIAL`` order, the rest after), compact when narrow.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

# Actions kept first when the keys do not all fit: the day's work, then finding one's way.
ESSENTIAL = (
    "new_request",
    "assign",
    "book",
    "complete",
    "filter",
    "optimize",
    "help",
    "quit",
    "move",
    "set_status",
    "go_to_date",
)


def _width(key: Widget, compact: bool) -> int:
    shown = len(getattr(key, "key_display", "")) + len(getattr(key, "description", ""))
    return shown + 2 if compact else shown + 3  # a space between key and words, and around them


class BoardFooter(Footer):
    def __init__(self) -> None:
        super().__init__()
        self._composed_for = 0  # the width the keys were chosen for

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        width = self.screen.size.width or self.app.size.width
        self._composed_for = width
        if sum(_width(key, False) for key in keys) <= width:
            self.compact = False
            yield from keys
            return
        self.compact = True
        rank = {action: i for i, action in enumerate(ESSENTIAL)}
        order = sorted(range(len(keys)), key=lambda i: (rank.get(getattr(keys[i], "action", ""), len(rank)), i))
        kept: set[int] = set()
        used = 0
        for i in order:
            if "-command-palette" in keys[i].classes:
                continue  # ctrl+p still opens it; its key is the first to go
            if used + _width(keys[i], True) <= width:
                kept.add(i)
                used += _width(keys[i], True)
        for i, key in enumerate(keys):
            if i in kept:
                key.compact = True  # type: ignore[attr-defined]  # Footer.compose yields FooterKeys, typed Widget
                yield key

    def on_resize(self, event: events.Resize) -> None:
        if self._composed_for and self.screen.size.width != self._composed_for:
            self.call_after_refresh(self.recompose)
