"""`dispatch jobs`: read the requests and jobs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from cli.context import app_context
from cli.output import print_json, stdout
from dispatch_tui.domain import JobStatus

app = typer.Typer(help="List and inspect jobs.", no_args_is_help=True)


@app.command("list")
def list_command(
    ctx: typer.Context,
    status: Annotated[
        list[JobStatus] | None, typer.Option("--status", "-s", help="Only this status (repeatable).")
    ] = None,
    day: Annotated[
        str | None, typer.Option("--date", "-d", help="Only jobs whose window opens or visit starts on this local day.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Jobs by priority, then promised window."""
    from sqlmodel import Session

    from cli.dates import parse_day
    from dispatch_tui.services.queries import list_jobs

    context = app_context(ctx)
    zone = context.settings.zone
    the_day: date | None = parse_day(day, zone) if day else None
    with Session(context.engine()) as session:
        jobs = list_jobs(session, zone, statuses=[s.value for s in status or []], day=the_day)
    if as_json:
        print_json(jobs)
        return
    table = Table("ref", "P", "status", "skill", "customer", "window", "technician", "visit", box=None)
    for job in jobs:
        window = f"{job['window_start'][5:16].replace('T', ' ')}–{job['window_end'][11:16]}"
        visit = f"{job['start'][11:16]}–{job['end'][11:16]}" if "start" in job else ""
        table.add_row(
            job["ref"],
            str(job["priority"]),
            job["status"],
            job["skill"],
            job["customer_ref"],
            window,
            job.get("technician_ref", ""),
            visit,
        )
    stdout.print(table)
    stdout.print(f"{len(jobs)} job(s)", style="dim")
