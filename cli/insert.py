"""`dispatch insert JOB`: an emergency today — who could be there soonest, at what cost; --apply N does it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.context import app_context, refusals
from cli.output import print_json, stdout


def insert(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The waiting request's ref.", show_default=False)],
    apply: Annotated[
        int | None, typer.Option("--apply", min=1, help="Apply option N of the list (read again first).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the options (or the one applied) as JSON.")] = False,
) -> None:
    """List the technicians who could start JOB soonest today, including by pushing or dropping less
    urgent visits later in their day, each with its consequences; --apply N makes option N in one change.

    The list is read again when applying: if that technician's day changed meanwhile, nothing is done
    (exit 1). No option: exit 0 with an empty list, and the text says so.
    """
    context = app_context(ctx)
    zone = context.settings.zone
    core = context.core()
    if apply is not None:
        with refusals():
            done = core.insert(job, apply)
        if as_json:
            print_json(done.as_json(zone))
            return
        stdout.print(f"inserted {job} → {done.technician_ref} {done.start.astimezone(zone):%H:%M}–"
                     f"{done.end.astimezone(zone):%H:%M}", highlight=False)  # fmt: skip
        for consequence in done.consequences:
            stdout.print(f"  {consequence}", highlight=False, markup=False)
        return
    with refusals():
        options = core.insert_options(job)
    if as_json:
        print_json([option.as_json(zone) for option in options])
        return
    if not options:
        stdout.print(f"nobody can start {job} today, even by moving less urgent visits: dispatch candidates {job} "
                     "--days 3 shows the days ahead", highlight=False)  # fmt: skip
        return
    table = Table("#", "technician", "arrives", "drive", "what it changes", box=None)
    for number, option in enumerate(options, start=1):
        table.add_row(str(number), f"{option.technician_ref} {option.technician_name}",
                      f"{option.start.astimezone(zone):%H:%M}", f"{option.drive_minutes} min",
                      "; ".join(option.consequences) or "nothing")  # fmt: skip
    stdout.print(table)
    stdout.print(f"apply one with: dispatch insert {job} --apply N", style="dim", highlight=False)
