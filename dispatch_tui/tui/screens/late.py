"""The late list (L): every technician behind plan, by how much, and the visits whose projected start now
misses their window: what `dispatch late` prints, from ``services.lateness``, read in a worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from dispatch_tui.services.execution.lateness import LateList


def late_tables(found: LateList, zone: ZoneInfo) -> Group | Text:
    """One table per technician running late: planned and projected times, the delay, the window."""

    def hm(value: datetime) -> str:
        return value.astimezone(zone).strftime("%H:%M")

    as_of = found.now.astimezone(zone).strftime("%a %d %b %H:%M")
    if not found.technicians:
        return Text(f"Nobody is running late (as of {as_of}).")
    parts: list[Table | Text] = [Text(f"{len(found.technicians)} technician(s) running late, as of {as_of}")]
    for tech in found.technicians:
        parts.append(Text(f"\n{tech.technician_ref} {tech.name}: {tech.behind_minutes} min behind", style="bold"))
        parts.append(Text(tech.reason))
        table = Table("job", "status", "planned", "projected", "late", "window", "", box=None)
        for v in tech.visits:
            table.add_row(
                v.job_ref, v.status.replace("_", " "), f"{hm(v.planned_start)}–{hm(v.planned_end)}",
                f"{hm(v.projected_start)}–{hm(v.projected_end)}", f"{v.delay_minutes} min",
                f"{hm(v.window_start)}–{hm(v.window_end)}",
                Text("! misses window", style="bold red") if v.misses_window else "",
            )  # fmt: skip
        parts.append(table)
    return Group(*parts)


class LateScreen(ModalScreen[None]):
    """``load(day)`` reads the late list (``Core.late_list``); it runs in a thread worker."""

    CSS_PATH = ["dialog.tcss", "late.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss_none", "Close")]

    class Loaded(Message):
        def __init__(self, found: LateList) -> None:
            self.found = found
            super().__init__()

    class Failed(Message):
        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(self, load: Callable[[date], LateList], day: date, zone: ZoneInfo) -> None:
        super().__init__()
        self.load = load
        self.day = day
        self.zone = zone
        self.found: LateList | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = f"Running late {self.day:%a %d %b %Y}"
            yield Static("Reading the store…", id="late-list", markup=False)
            yield Static(
                "projected from the live statuses and drive times · late: projected end − planned end · esc: close",
                classes="hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.read()

    @work(thread=True, exclusive=True, group="late")
    def read(self) -> None:
        try:
            found = self.load(self.day)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog, never a crash
            self.post_message(self.Failed(f"cannot read the late list: {exc}"))
            return
        self.post_message(self.Loaded(found))

    def on_late_screen_loaded(self, message: Loaded) -> None:
        self.found = message.found
        self.query_one("#late-list", Static).update(late_tables(message.found, self.zone))

    def on_late_screen_failed(self, message: Failed) -> None:
        self.query_one("#late-list", Static).update(Text(message.reason, style="bold red"))
        self.notify(message.reason, severity="error", timeout=10)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
