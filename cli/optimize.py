"""`dispatch optimize`: re-plan a day with the optimizer; preview by default, --apply to write."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli import exit_codes
from cli.context import app_context
from cli.output import fail, print_json, stderr, stdout


def optimize(
    ctx: typer.Context,
    day: Annotated[str, typer.Option("--date", "-d", help="The day: YYYY-MM-DD, today or tomorrow.")] = "tomorrow",
    time_limit: Annotated[float, typer.Option("--time-limit", min=0.1, max=3600, help="Seconds of search.")] = 30.0,
    apply: Annotated[
        bool, typer.Option("--apply/--dry-run", help="Write the plan (default: only show the diff).")
    ] = False,
    max_moves: Annotated[
        int | None,
        typer.Option("--max-moves", min=0, help="At most this many planned jobs change technician (or are dropped)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Reserved for randomised strategies; runs are repeatable.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Assign and sequence the day's jobs: urgent and promised work first, qualified technicians, short drives.

    Locked jobs and jobs under way stay put. Cron-ready: no terminal needed; a second run while one holds
    the lock exits 75.
    """
    from sqlmodel import Session

    from cli.dates import parse_day
    from dispatch_tui.services import optimize as planner
    from dispatch_tui.services.run_lock import Busy, exclusive
    from dispatch_tui.services.travel import point_travel, travel_model

    context = app_context(ctx)
    zone = context.settings.zone
    the_day = parse_day(day, zone)
    engine = context.engine()
    try:
        with exclusive(engine.url.render_as_string(hide_password=False)), Session(engine) as session:
            matrix = travel_model(context.settings, engine).matrix
            built = planner.build(session, the_day, zone, matrix, max_moves=max_moves)
            solution = planner.solve(built, time_limit_s=time_limit, seed=seed)
            report = planner.diff(built, solution, the_day)
            if solution.status not in ("feasible", "optimal"):
                fail(f"the optimizer found no plan ({solution.status}); nothing changed", exit_codes.FAILED)
            if apply:
                planner.apply(session, built, report, zone, point_travel(context.settings, engine))
                session.commit()
    except Busy as busy:
        fail(str(busy), exit_codes.BUSY)
    for line in report.skipped:
        stderr.print(f"skipped: {line}", highlight=False, markup=False)
    if as_json:
        print_json(
            {
                "date": the_day.isoformat(), "status": solution.status, "applied": apply,
                "assigned": report.assigned, "unassigned": report.unassigned,
                "travel_minutes": report.travel_after, "travel_minutes_before": report.travel_before,
                "overtime_minutes": 0, "moved": report.moved, "retimed": report.count("retime"),
                "added": report.count("add"), "dropped": report.count("drop"),
                "solve_seconds": round(report.solve_seconds, 2), "skipped": report.skipped,
                "changes": [
                    {"job_ref": c.job_ref, "kind": c.kind,
                     "from": c.before.tech_ref if c.before else None, "to": c.after.tech_ref if c.after else None,
                     "start": built.plan.frame.instant(c.after.start).astimezone(zone).isoformat(timespec="minutes")
                     if c.after else None}
                    for c in report.changes
                ],
            }
        )  # fmt: skip
        return
    frame = built.plan.frame
    table = Table("job", "change", "from", "to", box=None, title=f"Optimizer plan for {the_day.isoformat()}",
                  title_justify="left")  # fmt: skip
    for c in report.changes:
        before = f"{c.before.tech_ref} {frame.clock(c.before.start)}" if c.before else "queue"
        after = f"{c.after.tech_ref} {frame.clock(c.after.start)}" if c.after else "queue"
        table.add_row(c.job_ref, c.kind, before, after)
    stdout.print(table)
    verb = "applied" if apply else "dry run (use --apply to write it)"
    stdout.print(
        f"{report.assigned} assigned, {report.unassigned} unassigned, travel {report.travel_before} → "
        f"{report.travel_after} min, {report.moved} moved, {report.solve_seconds:.1f} s; {verb}",
        highlight=False,
    )
