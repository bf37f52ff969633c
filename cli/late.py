"""`dispatch late`: the day's late list, projected from the live statuses (``services.lateness``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from cli.context import app_context
from cli.dates import DAY_HELP
from cli.output import print_json, stdout


def late(
    ctx: typer.Context,
    day: Annotated[str, typer.Option("--date", "-d", help=f"The day: {DAY_HELP}.")] = "today",
    as_json: Annotated[bool, typer.Option("--json", help="Print the late list as JSON.")] = False,
) -> None:
    """Every technician behind plan, by how much, and the visits whose projected start misses their window."""
    from cli.dates import parse_day
    from dispatch_tui.services.execution.lateness import LATE_GRACE_MINUTES

    context = app_context(ctx)
    zone = context.settings.zone
    shown = parse_day(day, zone)
    found = context.core().late_list(shown)
    if as_json:
        print_json(found.as_json(zone))
        return
    as_of = f"{shown:%a %d %b %Y} as of {found.now.astimezone(zone):%a %d %b %H:%M}"
    if not found.technicians:
        stdout.print(f"nobody is running late on {as_of} ({LATE_GRACE_MINUTES} min or more behind plan)",
                     highlight=False)  # fmt: skip
        return
    stdout.print(f"{len(found.technicians)} technician(s) running late on {as_of}:", highlight=False)

    def hm(value: datetime) -> str:
        return value.astimezone(zone).strftime("%H:%M")

    for tech in found.technicians:
        title = f"{tech.technician_ref} {tech.name}: {tech.behind_minutes} min behind — {tech.reason}"
        table = Table("job", "status", "planned", "projected", "late", "window", "", box=None, title=title,
                      title_justify="left")  # fmt: skip
        for v in tech.visits:
            table.add_row(v.job_ref, v.status, f"{hm(v.planned_start)}–{hm(v.planned_end)}",
                          f"{hm(v.projected_start)}–{hm(v.projected_end)}", f"{v.delay_minutes} min",
                          f"{hm(v.window_start)}–{hm(v.window_end)}",
                          "!" if v.misses_window else "")  # fmt: skip
        stdout.print()
        stdout.print(table)
        for v in tech.missed:  # one line each, whatever the terminal's width: what a script greps
            stdout.print(f"! {v.job_ref} now starts {hm(v.projected_start)}, after its window closes "
                         f"{hm(v.window_end)}: dispatch candidates {v.job_ref}", highlight=False)  # fmt: skip
