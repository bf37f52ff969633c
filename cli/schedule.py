"""`dispatch schedule`: a day's plan for scripts (JSON), people (table) and phones (iCalendar)."""

from __future__ import annotations

import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli import exit_codes
from cli.context import app_context
from cli.output import fail, print_json, stdout

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from dispatch_tui.services.reports.schedule_export import Schedule, Stop


class ScheduleFormat(StrEnum):
    JSON = "json"
    TABLE = "table"
    ICS = "ics"


def schedule(
    ctx: typer.Context,
    day: Annotated[
        str, typer.Option("--date", "-d", help="The day: YYYY-MM-DD, today, tomorrow or a weekday (the next).")
    ] = "today",
    fmt: Annotated[ScheduleFormat, typer.Option("--format", "-f", help="json, table or ics.")] = ScheduleFormat.TABLE,
    tech: Annotated[str | None, typer.Option("--tech", help="Only this technician's route.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="With --format ics: write one TECH.ics per technician here.")
    ] = None,
) -> None:
    """The day's routes (with breaks and drives) and the jobs left unassigned, with reasons."""
    from cli.dates import parse_day

    context = app_context(ctx)
    zone = context.settings.zone
    if fmt is ScheduleFormat.ICS and tech is None and out is None:
        fail("--format ics needs --tech T (to print one calendar) or --out DIR (one file per technician)", 2)
    plan = context.core().schedule(parse_day(day, zone), tech)
    if tech and not plan.routes and fmt is not ScheduleFormat.JSON:
        stdout.print(f"{tech} has nothing planned on {plan.day.isoformat()}", highlight=False)
    if fmt is ScheduleFormat.JSON:
        print_json(plan.as_json(zone))
    elif fmt is ScheduleFormat.ICS:
        from dispatch_tui.services.reports.calendar_export import route_calendar

        if out is None:
            for route in plan.routes:
                sys.stdout.buffer.write(route_calendar(plan, route))
            return
        try:
            out.mkdir(parents=True, exist_ok=True)
            for route in plan.routes:
                path = out / f"{route.technician_ref}.ics"
                path.write_bytes(route_calendar(plan, route))
                stdout.print(f"wrote {path}", highlight=False)
        except OSError as exc:
            fail(f"cannot write to {out}: {exc.strerror or exc}", exit_codes.FAILED)
    else:
        _print_tables(plan, zone)


def _marks(stop: Stop) -> str:
    """The stop's last column: locked, and a broken promise (worded under the table)."""
    marks = ["locked"] if stop.locked else []
    if stop.outside_window:
        marks.append("! outside window")
    elif stop.broken_promises:
        marks.append("! check")
    return ", ".join(marks)


def _print_tables(plan: Schedule, zone: ZoneInfo) -> None:
    def hm(value: datetime) -> str:
        return value.astimezone(zone).strftime("%H:%M")

    for route in plan.routes:
        lunch = f", break {hm(route.break_[0])}–{hm(route.break_[1])}" if route.break_ else ""
        table = Table("job", "skill", "customer", "drive", "arrive", "visit", "", box=None, title_justify="left",
                      title=f"{route.technician_ref} {route.technician_name}: out {hm(route.start)}, "
                            f"home {hm(route.end)}{lunch}")  # fmt: skip
        for s in route.stops:
            table.add_row(s.job_ref, s.skill, s.customer, f"{s.travel_minutes} min", hm(s.arrival),
                          f"{hm(s.start)}–{hm(s.end)}", _marks(s))  # fmt: skip
        stdout.print(table)
        for s in route.stops:
            for problem in s.broken_promises:
                stdout.print(f"! {problem} — move it: dispatch candidates {s.job_ref}", highlight=False, markup=False)
        stdout.print()
    if plan.unassigned:
        table = Table("job", "why not planned", box=None, title="Unassigned", title_justify="left")
        for ref, reasons in plan.unassigned:
            table.add_row(ref, "; ".join(reasons))
        stdout.print(table)
