"""`dispatch candidates JOB`: who could take a job, when, best first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.context import app_context, refusals
from cli.output import print_json, stdout

if TYPE_CHECKING:
    from dispatch_tui.services.planning.candidates import Nobody


def candidates(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The job's ref.")],
    day: Annotated[str | None, typer.Option("--date", help="First day to look at (default: the window's).")] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=14, help="How many days to look at.")] = 1,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="How many options.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array, best first.")] = False,
) -> None:
    """Rank (technician, start) options by cheapest feasible insertion into the existing routes."""
    from cli.dates import parse_day
    from dispatch_tui.localtime import local_iso

    context = app_context(ctx)
    zone = context.settings.zone
    first = parse_day(day, zone) if day else None
    core = context.core()
    with refusals():
        options = core.candidates(job, first, days=days, limit=limit)
    if as_json:
        print_json(
            [
                {
                    "technician_ref": c.technician_ref, "start": local_iso(c.start, zone),
                    "end": local_iso(c.end, zone), "added_travel_minutes": c.added_travel_minutes,
                    "score": c.score, "reasons": list(c.reasons),
                }
                for c in options
            ]
        )  # fmt: skip
        return
    if not options:
        _say_why_nobody(core.why_no_candidates(job, first, days=days), job)
        return
    table = Table("#", "technician", "start", "end", "+drive", "score", "why", box=None)
    for rank, c in enumerate(options, start=1):
        start, end = c.start.astimezone(zone), c.end.astimezone(zone)
        table.add_row(str(rank), f"{c.technician_ref} {c.technician_name}", f"{start:%a %d %H:%M}", f"{end:%H:%M}",
                      f"{c.added_travel_minutes} min", f"{c.score:g}", "; ".join(c.reasons))  # fmt: skip
    stdout.print(table)


def _say_why_nobody(nobody: Nobody, job: str) -> None:
    """Nobody can take it: why, day by day (the same reasons as `dispatch schedule`), and what to do."""
    stdout.print(f"no technician can take {job} then:", highlight=False)
    for reason in nobody.reasons:
        stdout.print(f"  {reason}", highlight=False, markup=False)
    if nobody.advice:
        stdout.print(nobody.advice, highlight=False, markup=False)
