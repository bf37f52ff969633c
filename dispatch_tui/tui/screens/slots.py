"""Times to offer: the arrival windows in which a qualified technician could start a waiting request.

Read by ``Core.slots`` in a thread worker, again whenever the customer's wishes change: m mornings, p
afternoons, d one day at a time (through the days offered, then all again), n not before a time, x no
wish. Each window shows how many technicians could take it, the least driving it adds and who adds it;
the ones best for the routes are marked. Enter chooses the highlighted window, o promises it only (the
optimizer places the visit later); the board books it (``Core.book``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from dispatch_tui.localtime import parse_clock

if TYPE_CHECKING:
    from dispatch_tui.services.planning.slots import Offer, Slot

Load = Callable[..., "Offer"]  # Core.slots for one job: (day=, part=, not_before=) -> Offer


@dataclass(frozen=True)
class Wish:
    """What the customer asked for (``services.planning.slots.Wishes``, as the dialog holds it)."""

    day: date | None = None
    part: str | None = None  # "morning", "afternoon"
    not_before: time | None = None

    def words(self) -> str:
        said = [f"{self.day:%a %d %b}" if self.day else "every day offered",
                {"morning": "mornings (ending by 12:00)", "afternoon": "afternoons (from 12:00)"}.get(self.part or "",
                                                                                                  "any time"),
                f"not before {self.not_before:%H:%M}" if self.not_before else ""]  # fmt: skip
        return " · ".join(s for s in said if s)


@dataclass(frozen=True)
class Chosen:
    """The window agreed with the customer."""

    slot: Slot
    window_minutes: int
    promise_only: bool


class SlotsScreen(ModalScreen[Chosen | None]):
    """Dismissed with the window chosen, or None (Esc: the request stays waiting)."""

    CSS_PATH = ["dialog.tcss", "slots.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("o", "choose(True)", "Promise only"),
        Binding("m", "part('morning')", "Mornings"),
        Binding("p", "part('afternoon')", "Afternoons"),
        Binding("d", "next_day", "Day"),
        Binding("n", "not_before", "Not before"),
        Binding("x", "no_wish", "No wish"),
    ]

    class Loaded(Message):
        def __init__(self, wish: Wish, offer: Offer) -> None:
            self.wish = wish
            self.offer = offer
            super().__init__()

    class Failed(Message):
        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(self, load: Load, job_ref: str, zone: ZoneInfo, notice: str = "") -> None:
        """``load``: ``Core.slots`` for ``job_ref``; ``notice``: said above the times (a window just taken)."""
        super().__init__()
        self.load = load
        self.job_ref = job_ref
        self.zone = zone
        self.notice = notice
        self.wish = Wish()
        self.days: tuple[date, ...] = ()  # the days offered without a day wish, for d
        self.offer: Offer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = f"Times to offer for {self.job_ref}"
            yield Static(Text(self.notice, style="bold"), id="slots-notice")
            yield Static("", id="slots-wishes", markup=False)
            table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True, id="slots-table")
            table.add_columns("day", "window", "techs", "+drive", "", "who adds the least driving")
            yield table
            yield Static("Reading the plan…", id="slots-none", markup=False)
            yield Input(
                placeholder="not before HH:MM (enter: apply, empty: any time)", id="slots-not-before", compact=True
            )
            yield Static("enter: book · o: promise only · m: mornings · p: afternoons · d: next day · "
                         "n: not before · x: no wish · esc: close", classes="hint", markup=False)  # fmt: skip

    def on_mount(self) -> None:
        self.query_one("#slots-notice", Static).display = bool(self.notice)
        self.query_one("#slots-not-before", Input).display = False
        self.query_one(DataTable).focus()
        self.read(self.wish)

    @work(thread=True, exclusive=True, group="slots")
    def read(self, wish: Wish) -> None:
        from dispatch_tui.tui.calls import refusal_text

        try:
            offer = self.load(day=wish.day, part=wish.part, not_before=wish.not_before)
        except Exception as exc:  # noqa: BLE001 - not a waiting request, or a store failure: shown here
            self.post_message(self.Failed(refusal_text(exc)))
            return
        self.post_message(self.Loaded(wish, offer))

    def on_slots_screen_loaded(self, message: Loaded) -> None:
        if message.wish != self.wish:
            return  # the wishes changed since: a newer read is coming
        offer = message.offer
        self.offer = offer
        if message.wish.day is None:
            self.days = offer.days
        self.query_one("#slots-wishes", Static).update(f"{offer.window_minutes}-min windows · {self.wish.words()}")
        table = self.query_one(DataTable)
        table.clear()
        for slot in offer.slots:
            table.add_row(*self._cells(slot))
        none = self.query_one("#slots-none", Static)
        table.display = bool(offer.slots)
        none.display = not offer.slots
        if not offer.slots:
            why = "".join(f"\n  {reason}" for reason in offer.reasons)
            none.update(f"No window for {offer.job_ref}:{why}" + (f"\n{offer.advice}" if offer.advice else ""))
        elif not self.query_one("#slots-not-before", Input).has_focus:
            table.focus()

    def _cells(self, slot: Slot) -> tuple[str | Text, ...]:
        start, end, begin = (moment.astimezone(self.zone) for moment in (slot.start, slot.end, slot.technician_start))
        return (f"{start:%a %d %b}", f"{start:%H:%M}–{end:%H:%M}", str(slot.technicians),
                f"{slot.least_added_travel_minutes} min", Text("★ best", style="bold") if slot.best else "",
                f"{slot.technician_name} ({slot.technician_ref}) at {begin:%H:%M}")  # fmt: skip

    def on_slots_screen_failed(self, message: Failed) -> None:
        self.query_one(DataTable).display = False
        none = self.query_one("#slots-none", Static)
        none.display = True
        none.update(Text(message.reason, style="bold red"))

    # Choosing.
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_choose(False)

    def action_choose(self, promise_only: bool) -> None:
        table = self.query_one(DataTable)
        if self.offer is None or not self.offer.slots or not table.display:
            return
        self.dismiss(Chosen(self.offer.slots[table.cursor_row], self.offer.window_minutes, promise_only))

    # The customer's wishes: each change reads the times again.
    def _wish(self, wish: Wish) -> None:
        self.wish = wish
        self.query_one("#slots-wishes", Static).update(f"reading… · {wish.words()}")
        self.read(wish)

    def action_part(self, part: str) -> None:
        self._wish(Wish(self.wish.day, None if self.wish.part == part else part, self.wish.not_before))

    def action_next_day(self) -> None:
        if not self.days:
            return
        day = self.wish.day
        following = self.days[0] if day is None else next((d for d in self.days if d > day), None)
        self._wish(Wish(following, self.wish.part, self.wish.not_before))

    def action_not_before(self) -> None:
        box = self.query_one("#slots-not-before", Input)
        box.display = True
        box.value = f"{self.wish.not_before:%H:%M}" if self.wish.not_before else ""
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        earliest = None
        if text:
            try:
                minutes = parse_clock(text)
            except ValueError:
                minutes = 24 * 60
            if minutes >= 24 * 60:
                self.query_one("#slots-wishes", Static).update(
                    Text(f"not before {text!r}: give a time of day, HH:MM", style="bold red")
                )
                return
            earliest = time(minutes // 60, minutes % 60)
        event.input.display = False
        self.query_one(DataTable).focus()
        self._wish(Wish(self.wish.day, self.wish.part, earliest))

    def action_no_wish(self) -> None:
        self._wish(Wish())

    def action_close(self) -> None:
        box = self.query_one("#slots-not-before", Input)
        if box.has_focus:  # Esc in the time field: back to the times, the wish unchanged
            box.display = False
            self.query_one(DataTable).focus()
            return
        self.dismiss(None)


def window_words(start: datetime, minutes: int, zone: ZoneInfo) -> str:
    """A window as the customer hears it: "Wed 09 Dec 09:30–11:30"."""
    local = start.astimezone(zone)
    return f"{local:%a %d %b %H:%M}–{(local + timedelta(minutes=minutes)):%H:%M}"
