"""The Status pane: the selected job (customer, site, window, past visits, what the customer was told,
audit trail) or technician."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from dispatch_tui.domain import DeliveryState
from dispatch_tui.tui.palette import palette
from dispatch_tui.tui.wording import status_label

if TYPE_CHECKING:
    from dispatch_tui.services.execution.board import Alert, JobDetail, TechDetail
    from dispatch_tui.services.planning.scheduling import DayFrame


class StatusPane(VerticalScroll):
    def __init__(self, zone: ZoneInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.zone = zone
        self.border_title = "Status"
        self._body = Static("Select a request, a technician or a visit.", id="status-body")

        self._shown: Callable[[], None] | None = None  # draws what is shown again (in a new theme's colours)

    def compose(self) -> ComposeResult:
        yield self._body

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._redraw, init=False)

    def _redraw(self) -> None:
        if self._shown is not None:
            self._shown()

    def show_message(self, message: str, *, error: bool = False) -> None:
        self._shown = lambda: self._body.update(Text(message, style=palette(self.app).alert if error else "italic"))
        self._shown()

    def show_job(self, job: JobDetail, alerts: list[Alert]) -> None:
        self._shown = lambda: self._body.update(Group(*self._job(job, alerts)))
        self._shown()

    def show_tech(self, tech: TechDetail, frame: DayFrame, alerts: list[Alert]) -> None:
        self._shown = lambda: self._body.update(Group(*self._tech(tech, frame, alerts)))
        self._shown()

    def _at(self, value: datetime | None, fmt: str = "%a %d %b %H:%M") -> str:
        return value.astimezone(self.zone).strftime(fmt) if value else "-"

    def _message_style(self, state: str) -> Style | str:
        """A failed message stands out as alerts do; one not sent on purpose (skipped) recedes."""
        styles: dict[str, Style | str] = {
            DeliveryState.FAILED: palette(self.app).alert, DeliveryState.SKIPPED: "dim", DeliveryState.PENDING: "italic"
        }  # fmt: skip
        return styles.get(state, "")

    def _job(self, job: JobDetail, alerts: list[Alert]) -> list[RenderableType]:
        colours = palette(self.app)
        badge = (f" {status_label(job.status)} ", colours.job_status.get(job.status, ""))
        title = Text.assemble((f"{job.ref} ", "bold"), badge, f"  P{job.priority} {job.skill} {job.duration_min} min")
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style="dim")
        facts.add_column()
        facts.add_row("customer", f"{job.customer_name} ({job.customer_ref}) {job.customer_phone}")
        facts.add_row("site", job.address or "-")
        facts.add_row("window", f"{self._at(job.window_start)}–{self._at(job.window_end, '%H:%M')}")
        facts.add_row("due", self._at(job.due_by))
        if job.technician_ref:
            planned = f"{job.technician_name} ({job.technician_ref}) {self._at(job.start)}–{self._at(job.end, '%H:%M')}"
            planned += f", {job.travel_minutes} min drive" + (", locked" if job.locked else "")
            facts.add_row("planned", planned)
        if job.actual_start:  # from the audit trail: on site since, or done
            facts.add_row("actual", f"on site since {self._at(job.actual_start)}" if job.status == "on_site"
                          else f"{self._at(job.actual_start)}–{self._at(job.actual_end, '%H:%M')}")  # fmt: skip
        facts.add_row("source", job.source)
        if job.description:
            facts.add_row("what", job.description)
        parts: list[RenderableType] = [title, *[Text(f"! {a.message}", style=colours.alert) for a in alerts], facts]
        if job.past_visits:
            parts.append(Text("past visits", style="bold"))
            parts += [Text(f"  {self._at(v.start)}  {v.job_ref}  {v.technician}  {status_label(v.status)}")
                      for v in job.past_visits]  # fmt: skip
        if job.messages:
            parts.append(Text("messages", style="bold"))
            parts += [Text(f"  {m.summary(self.zone)}", style=self._message_style(m.state)) for m in job.messages]
        parts.append(Text("audit trail", style="bold"))
        parts += [
            Text(
                f"  {self._at(e.at, '%d %b %H:%M')}  {e.actor:<10.10} {e.from_status or '-'} → {e.to_status}  {e.note}"
            )
            for e in job.events
        ]
        return parts

    def _tech(self, tech: TechDetail, frame: DayFrame, alerts: list[Alert]) -> list[RenderableType]:
        colours = palette(self.app)
        title = Text.assemble((f"{tech.name} ({tech.ref}) ", "bold"),
                              (status_label(tech.status), colours.tech_status.get(tech.status, "")))  # fmt: skip
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style="dim")
        facts.add_column()
        facts.add_row("skills", ", ".join(tech.skills) or "-")
        facts.add_row("territory", tech.territory or "-")
        facts.add_row("phone", tech.phone or "-")
        row = tech.row
        day = frame.day.strftime("%a %d %b")
        if row is None or row.shift is None:
            facts.add_row(day, "not working")
        else:
            hours = f"shift {frame.clock(row.shift[0])}–{frame.clock(row.shift[1])}"
            if row.break_:
                hours += f", break {frame.clock(row.break_[0])}–{frame.clock(row.break_[1])}"
            facts.add_row(day, hours)
            for start, end, reason in row.absences:
                facts.add_row("absent", f"{frame.clock(start)}–{frame.clock(end)} {reason}")
        parts: list[RenderableType] = [title, *[Text(f"! {a.message}", style=colours.alert) for a in alerts], facts]
        if row and row.blocks:
            parts.append(Text("visits", style="bold"))
            parts += [
                Text(f"  {frame.clock(b.start)}–{frame.clock(b.end)}  {b.job_ref:<8} {status_label(b.status)}"
                     f"  {b.travel_before} min drive" + ("  locked" if b.locked else ""))
                for b in row.blocks
            ]  # fmt: skip
        return parts
