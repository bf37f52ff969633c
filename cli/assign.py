"""`dispatch assign|move|unassign|lock|unlock`: manual changes to the plan, through the rules."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli import exit_codes
from cli.context import AppContext, app_context, refusals
from cli.output import fail, print_json, stderr, stdout

if TYPE_CHECKING:
    from dispatch_tui.services.planning.assignment import Change

Force = Annotated[bool, typer.Option("--force", help="Do it despite the rules; the reasons go into the audit trail.")]
IfVersion = Annotated[
    int | None, typer.Option("--if-version", help="Refuse (exit 1) unless the job is still at this version.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Start = Annotated[str, typer.Option("--start", help="When service starts: ISO 8601; without an offset, local time.")]


def parse_start(text: str, context: AppContext) -> datetime:
    from dispatch_tui.localtime import parse_datetime

    try:
        return parse_datetime(text, context.settings.zone)
    except (ValueError, OverflowError) as exc:
        fail(f"--start {text!r}: {exc}", exit_codes.USAGE)


def _report(change: Change, context: AppContext, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(change.as_dict(context.settings.zone))
        return
    for reason in change.override:
        stderr.print(f"overridden: {reason}", highlight=False, markup=False)
    where = ""
    if change.technician_ref and change.start and change.end:
        zone = context.settings.zone
        start, end = change.start.astimezone(zone), change.end.astimezone(zone)
        where = f" → {change.technician_ref} {start:%a %d %b %H:%M}–{end:%H:%M}"
    stdout.print(f"{verb} {change.job_ref}{where} ({change.status}, version {change.version})", highlight=False)


def assign(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The job's ref.")],
    tech: Annotated[str, typer.Argument(help="The technician's ref.")],
    start: Start,
    force: Force = False,
    if_version: IfVersion = None,
    as_json: AsJson = False,
) -> None:
    """Put a new job on a technician's day at a time. Refused (exit 3) with reasons if the rules say no."""
    context = app_context(ctx)
    when = parse_start(start, context)
    with refusals(force=force):
        change = context.core().assign(job, tech, when, force=force, expected_version=if_version)
    _report(change, context, as_json, "assigned")


def move(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The job's ref.")],
    start: Start,
    tech: Annotated[str | None, typer.Option("--tech", help="Another technician (default: the same).")] = None,
    force: Force = False,
    if_version: IfVersion = None,
    as_json: AsJson = False,
) -> None:
    """Move a planned job to another time and/or technician."""
    context = app_context(ctx)
    when = parse_start(start, context)
    with refusals(force=force):
        change = context.core().move(job, tech, when, force=force, expected_version=if_version)
    _report(change, context, as_json, "moved")


def unassign(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The job's ref.")],
    if_version: IfVersion = None,
    as_json: AsJson = False,
) -> None:
    """Take a planned job off its technician's day; it goes back to the queue."""
    context = app_context(ctx)
    with refusals():
        change = context.core().unassign(job, expected_version=if_version)
    _report(change, context, as_json, "unassigned")


def lock(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The job's ref.")],
    if_version: IfVersion = None,
    as_json: AsJson = False,
) -> None:
    """Pin a planned job: nobody (nor the optimizer) moves it until it is unlocked."""
    _set_lock(ctx, job, True, if_version, as_json)


def unlock(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The job's ref.")],
    if_version: IfVersion = None,
    as_json: AsJson = False,
) -> None:
    """Release a locked job."""
    _set_lock(ctx, job, False, if_version, as_json)


def _set_lock(ctx: typer.Context, job: str, locked: bool, if_version: int | None, as_json: bool) -> None:
    context = app_context(ctx)
    with refusals():
        change = context.core().set_locked(job, locked, expected_version=if_version)
    _report(change, context, as_json, "locked" if locked else "unlocked")
