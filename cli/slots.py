"""`dispatch slots JOB`: the arrival windows to offer the customer, soonest first."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from cli import exit_codes
from cli.context import app_context, refusals
from cli.output import fail, print_json, stdout


class Part(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"


def slots(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The waiting request's ref.", show_default=False)],
    days: Annotated[
        int | None, typer.Option("--days", min=1, max=60, help="How many days from today (default: slot_days).")
    ] = None,
    window_minutes: Annotated[
        int | None,
        typer.Option("--window-minutes", min=30, max=720, help="The window's length (default: slot_window_minutes)."),
    ] = None,
    day: Annotated[str | None, typer.Option("--date", help="Only this day (the customer's wish).")] = None,
    part: Annotated[
        Part | None, typer.Option("--part", help="morning: windows ending by 12:00; afternoon: from 12:00.")
    ] = None,
    not_before: Annotated[
        str | None, typer.Option("--not-before", help="Windows opening at this local time (HH:MM) or later.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the offer as JSON.")] = False,
) -> None:
    """The windows in which a qualified technician could start the job, as the plan stands: nothing moves.

    Each with how many technicians could take it and the least driving it adds; the best for the routes
    are marked. Book one with `dispatch book JOB --slot START`. No window: exit 0, and why.
    """
    from cli.dates import parse_day
    from dispatch_tui.localtime import parse_clock

    context = app_context(ctx)
    zone = context.settings.zone
    wished_day = parse_day(day, zone) if day else None
    earliest = None
    if not_before is not None:
        try:
            minutes = parse_clock(not_before)
        except ValueError as exc:
            fail(f"--not-before {not_before!r}: {exc}", exit_codes.USAGE)
        if minutes >= 24 * 60:
            fail(f"--not-before {not_before!r}: give a time of day before 24:00", exit_codes.USAGE)
        earliest = time(minutes // 60, minutes % 60)
    core = context.core()
    with refusals():
        offer = core.slots(job, days=days, window_minutes=window_minutes, day=wished_day,
                           part=part.value if part else None, not_before=earliest)  # fmt: skip
    if as_json:
        print_json(offer.as_json(zone))
        return
    if not offer.slots:
        wished = f" {offer.wishes.words()}" if offer.wishes.any else ""
        stdout.print(f"no {offer.window_minutes}-min window for {offer.job_ref}{wished}:", highlight=False)
        for reason in offer.reasons:
            stdout.print(f"  {reason}", highlight=False, markup=False)
        if offer.advice:
            stdout.print(offer.advice, highlight=False, markup=False)
        return
    table = Table("window", "technicians", "+drive", "", "who adds least", box=None)
    for slot in offer.slots:
        start, end, begin = (t.astimezone(zone) for t in (slot.start, slot.end, slot.technician_start))
        table.add_row(f"{start:%a %d %b %H:%M}–{end:%H:%M}", str(slot.technicians),
                      f"{slot.least_added_travel_minutes} min", "best" if slot.best else "",
                      f"{slot.technician_ref} {slot.technician_name} at {begin:%H:%M}")  # fmt: skip
    stdout.print(table)
