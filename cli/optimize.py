"""`dispatch optimize`: re-plan days with the optimizer; preview by default, --apply to write."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from cli import exit_codes
from cli.context import app_context, refusals
from cli.output import fail, print_json, stderr, stdout
from dispatch_tui.domain import ChangeKind
from dispatch_tui.optimizer.problem import SolveStatus

if TYPE_CHECKING:
    from datetime import date
    from zoneinfo import ZoneInfo

    from dispatch_tui.optimizer.problem import Solution
    from dispatch_tui.services.planning.optimize import Built, Report

T = TypeVar("T")
SUMMED = ("assigned", "unassigned", "travel_minutes", "travel_minutes_before", "overtime_minutes",
          "overtime_minutes_before", "lateness_minutes", "lateness_minutes_before", "moved", "retimed", "added",
          "dropped", "solve_seconds")  # fmt: skip


def optimize(
    ctx: typer.Context,
    day: Annotated[
        str, typer.Option("--date", "-d", help="The (first) day: YYYY-MM-DD, today, tomorrow or a weekday (the next).")
    ] = "tomorrow",
    days: Annotated[int, typer.Option("--days", min=1, max=14, help="How many days, from --date on.")] = 1,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.1, max=3600, help="Seconds of search per day.")
    ] = 30.0,
    apply: Annotated[
        bool, typer.Option("--apply/--dry-run", help="Write the plan (default: only show the diff).")
    ] = False,
    max_moves: Annotated[
        int | None,
        typer.Option(
            "--max-moves", min=0, help="At most this many planned jobs change technician (or are dropped), per day."
        ),
    ] = None,
    overtime: Annotated[
        int | None,
        typer.Option(
            "--overtime",
            min=0,
            max=600,
            help="Minutes past the shift end a technician may be planned "
            "(default: the optimizer_overtime_minutes setting, 0).",
        ),
    ] = None,
    move_cost: Annotated[
        int | None,
        typer.Option(
            "--move-cost",
            min=0,
            max=1440,
            help="Minutes of driving a move to another technician must "
            "save (default: the optimizer_move_cost setting, 15).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the randomised construction: same seed, same plan.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Assign and sequence the day's jobs: urgent and promised work first, qualified technicians, short drives.

    Locked jobs and jobs under way stay put. With --apply every day is written in one transaction.
    Cron-ready: no terminal needed; a second run while one holds the lock exits 75.
    """
    from cli.dates import parse_day
    from dispatch_tui.services.planning import optimize as planner
    from dispatch_tui.services.planning.run_lock import Busy

    context = app_context(ctx)
    settings = context.settings
    zone = settings.zone
    policy = planner.Policy.from_settings(settings, max_moves=max_moves, move_cost=move_cost, overtime_minutes=overtime)
    first = parse_day(day, zone)
    core = context.core()

    def run_solve(the_day: date, solve: Callable[[], Solution]) -> Solution:
        with solving(f"optimizing {the_day}", time_limit) as wait:
            return wait(solve)

    try:
        # Today's past is history: nothing is planned into it (a day before today is refused). A dry run
        # holds the lock too, so that it never shows a plan that a run being applied is replacing.
        with refusals():
            results = core.optimize_days(first, days, time_limit_s=time_limit, now=core.now(), policy=policy,
                                         seed=seed, apply=apply, run_solve=run_solve)  # fmt: skip
    except Busy as busy:
        fail(str(busy), exit_codes.BUSY)
    except planner.NoPlan as none:
        fail(f"{none}; nothing changed", exit_codes.FAILED)
    for _, report in results:
        for line in report.skipped:
            stderr.print(f"skipped: {line}", highlight=False, markup=False)
    summaries = [_summary(built, report, zone, apply) for built, report in results]
    if as_json:
        if len(summaries) == 1:
            print_json(summaries[0])
        else:
            totals: dict[str, Any] = {key: sum(s[key] for s in summaries) for key in SUMMED}
            totals["solve_seconds"] = round(totals["solve_seconds"], 2)
            statuses = {s["status"] for s in summaries}
            status = statuses.pop() if len(statuses) == 1 else SolveStatus.FEASIBLE
            print_json({"date": first.isoformat(), "days": summaries, "applied": apply, "status": status,
                        **totals})  # fmt: skip
        return
    for built, report in results:
        _print(built, report, apply)


@contextmanager
def solving(label: str, seconds: float) -> Iterator[Callable[[Callable[[], T]], T]]:
    """Run a solve; on a terminal, show a bar filling over its time limit (cron and pipes see nothing)."""
    if not stderr.is_terminal:
        yield lambda work: work()
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=stderr,
                  transient=True) as bar:  # fmt: skip
        task = bar.add_task(label, total=seconds)

        def wait(work: Callable[[], T]) -> T:
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=1) as pool:
                future = pool.submit(work)
                while not future.done():
                    bar.update(task, completed=min(seconds, time.monotonic() - started))
                    time.sleep(0.1)
            return future.result()

        yield wait


def _summary(built: Built, report: Report, zone: ZoneInfo, applied: bool) -> dict[str, Any]:
    frame = built.plan.frame
    return {
        "date": report.day.isoformat(), "status": report.status, "applied": applied,
        "assigned": report.assigned, "unassigned": report.unassigned,
        "travel_minutes": report.after.travel, "travel_minutes_before": report.before.travel,
        "overtime_minutes": report.after.overtime, "overtime_minutes_before": report.before.overtime,
        "lateness_minutes": report.after.lateness, "lateness_minutes_before": report.before.lateness,
        "moved": report.moved, "retimed": report.count(ChangeKind.RETIME),
        "added": report.count(ChangeKind.ADD), "dropped": report.count(ChangeKind.DROP),
        "solve_seconds": round(report.solve_seconds, 2), "skipped": report.skipped,
        "changes": [
            {"job_ref": c.job_ref, "kind": c.kind,
             "from": c.before.tech_ref if c.before else None, "to": c.after.tech_ref if c.after else None,
             "start": frame.instant(c.after.start).astimezone(zone).isoformat(timespec="minutes") if c.after else None}
            for c in report.changes
        ],
    }  # fmt: skip


def _print(built: Built, report: Report, applied: bool) -> None:
    frame = built.plan.frame
    table = Table("job", "change", "from", "to", box=None, title=f"Optimizer plan for {report.day.isoformat()}",
                  title_justify="left")  # fmt: skip
    for c in report.changes:
        before = f"{c.before.tech_ref} {frame.clock(c.before.start)}" if c.before else "queue"
        after = f"{c.after.tech_ref} {frame.clock(c.after.start)}" if c.after else "queue"
        table.add_row(c.job_ref, c.kind, before, after)
    stdout.print(table)
    verb = "applied" if applied else "dry run (use --apply to write it)"
    stdout.print(
        f"{report.assigned} assigned, {report.unassigned} unassigned, travel {report.before.travel} → "
        f"{report.after.travel} min, overtime {report.before.overtime} → {report.after.overtime} min, late "
        f"{report.before.lateness} → {report.after.lateness} min, {report.moved} moved, "
        f"{report.solve_seconds:.1f} s; {verb}",
        highlight=False,
    )
