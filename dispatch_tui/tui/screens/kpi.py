"""KPIs of the days up to the shown one: the figures `dispatch report kpi` prints, read in a worker.

The overall figures, one row per technician, and the daily trend as plain text bars.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, ClassVar

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

from dispatch_tui.services.reports.kpi import TECHNICIAN_COLUMNS, WAIT_LABELS, as_percent, figure, technician_rows

KPI_DAYS = 7  # the period shown: this many local days, ending on the board's day
BAR_WIDTH = 24
MAX_BREACHES_LISTED = 12


def period(last: date, days: int = KPI_DAYS) -> tuple[date, date]:
    return last - timedelta(days=days - 1), last


def summary(report: dict[str, Any]) -> Text:
    """The overall figures, one per line."""
    received = report["requests_received"]
    overall = report["overall"]
    by_source = ", ".join(f"{source} {count}" for source, count in received["by_source"].items()) or "none"
    lines = [f"requests received: {received['total']} ({by_source})"]
    for key, label in WAIT_LABELS:
        wait = report["waiting_minutes"][key]
        lines.append(
            f"waiting {label}: median {figure(wait['median'], ' min')}, p90 {figure(wait['p90'], ' min')} "
            f"({wait['count']} requests)"
        )
    lines.append(f"on-time arrival: {figure(overall['on_time_pct'], ' %')} ({overall['arrivals']} arrivals)")
    lines.append(f"first-time fix: {figure(overall['first_time_fix_pct'], ' %')}")
    lines.append(f"utilization: {as_percent(overall['utilization'])} (work / shift)")
    lines.append(f"travel share: {as_percent(overall['travel_share'])} (travel / (travel + work))")
    breaches = report["sla_breaches"]
    listed = ", ".join(breaches["jobs"][:MAX_BREACHES_LISTED]) + (
        " …" if breaches["count"] > MAX_BREACHES_LISTED else ""
    )
    lines.append(f"SLA breaches: {breaches['count']}" + (f" ({listed})" if breaches["count"] else ""))
    lines.append(f"average rating: {figure(overall['average_rating'])} ({overall['ratings']} ratings)")
    return Text("\n".join(lines))


def technicians_table(report: dict[str, Any]) -> Table:
    """Overall, then one row per technician: the same columns as the CLI's table."""
    table = Table(*TECHNICIAN_COLUMNS, box=None)
    table.columns[0].no_wrap = True
    for row in technician_rows(report):
        table.add_row(*row)
    return table


def bar(value: float, most: float, width: int = BAR_WIDTH) -> str:
    if most <= 0 or value <= 0:
        return ""
    return "█" * max(1, round(width * value / most))


def trend_table(report: dict[str, Any]) -> Table:
    """Day by day: requests received (with a bar), visits finished (with a bar), on time, use."""
    daily = report["daily"]
    most = max([d["requests_received"] for d in daily] + [d["visits_finished"] for d in daily] + [0])
    table = Table("day", "received", "", "finished", "", "on time", "use", box=None)
    for day in daily:
        table.add_row(
            date.fromisoformat(day["day"]).strftime("%a %d %b"),
            str(day["requests_received"]),
            Text(bar(day["requests_received"], most), style="cyan"),
            str(day["visits_finished"]),
            Text(bar(day["visits_finished"], most), style="green"),
            figure(day["on_time_pct"], " %"),
            as_percent(day["utilization"]),
        )
    return table


class KpiScreen(ModalScreen[None]):
    """``load(first, last)`` reads the KPIs (``Core.kpis``); it runs in a thread worker."""

    CSS_PATH = ["dialog.tcss", "kpi.tcss"]  # noqa: RUF012 - Textual reads it as a class attribute
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss_none", "Close")]

    class Loaded(Message):
        def __init__(self, report: dict[str, Any]) -> None:
            self.report = report
            super().__init__()

    class Failed(Message):
        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(self, load: Callable[[date, date], dict[str, Any]], last: date, days: int = KPI_DAYS) -> None:
        super().__init__()
        self.load = load
        self.first, self.last = period(last, days)
        self.report: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = f"KPIs {self.first:%a %d %b} – {self.last:%a %d %b %Y}"
            yield Static("Reading the store…", id="kpi-summary", markup=False)
            yield Static("", id="kpi-technicians")
            yield Static("", id="kpi-trend")
            yield Static(
                "done: visits finished · use: work / shift · travel: travel / (travel + work) · esc: close",
                classes="hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.read()

    @work(thread=True, exclusive=True, group="kpi")
    def read(self) -> None:
        try:
            report = self.load(self.first, self.last)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog, never a crash
            self.post_message(self.Failed(f"cannot read the KPIs: {exc}"))
            return
        self.post_message(self.Loaded(report))

    def on_kpi_screen_loaded(self, message: Loaded) -> None:
        self.report = message.report
        self.query_one("#kpi-summary", Static).update(summary(message.report))
        self.query_one("#kpi-technicians", Static).update(
            Group(Text("\nby technician", style="bold"), technicians_table(message.report))
        )
        if len(message.report["daily"]) > 1:
            self.query_one("#kpi-trend", Static).update(
                Group(Text("\nday by day", style="bold"), trend_table(message.report))
            )

    def on_kpi_screen_failed(self, message: Failed) -> None:
        self.query_one("#kpi-summary", Static).update(Text(message.reason, style="bold red"))
        self.notify(message.reason, severity="error", timeout=10)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
