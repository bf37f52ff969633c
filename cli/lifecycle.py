"""`dispatch status|complete|feedback`: what happens on the job, entered live or after the fact."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli import exit_codes
from cli.assign import AsJson, IfVersion, _report
from cli.context import AppContext, app_context, refusals
from cli.output import fail, print_json, stdout
from dispatch_tui import clock
from dispatch_tui.domain import JobStatus

if TYPE_CHECKING:
    from dispatch_tui.services.execution.lifecycle import PartUse

At = Annotated[
    str | None,
    typer.Option(
        "--at", help="When it happened: ISO 8601 or HH:MM today; local time without an offset (default: now)."
    ),
]
Note = Annotated[str, typer.Option("--note", help="A note for the audit trail.")]
Parts = Annotated[
    list[str] | None,
    typer.Option("--part", help="A part used, SKU:QTY (repeat for several); SKU alone means 1."),
]


def parse_moment(option: str, text: str | None, context: AppContext) -> datetime | None:
    if text is None:
        return None
    from dispatch_tui.localtime import parse_datetime

    zone = context.settings.zone
    text = clock.on_day(text, clock.current().today(zone))  # a clock time alone: today's, as a dispatcher types it
    try:
        return parse_datetime(text, zone)
    except (ValueError, OverflowError) as exc:
        fail(f"{option} {text!r}: {exc}", exit_codes.USAGE)


def parse_parts(values: list[str] | None) -> list[PartUse]:
    parts: list[PartUse] = []
    for value in values or []:
        sku, _, quantity = value.partition(":")
        sku = sku.strip()
        try:
            count = int(quantity) if quantity.strip() else 1
        except ValueError:
            count = 0
        if not sku or count <= 0:
            fail(f"--part {value!r}: give SKU:QTY with a whole quantity above 0, e.g. FLT-20:2", exit_codes.USAGE)
        parts.append((sku, count))
    return parts


def status(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The job's ref.")],
    state: Annotated[JobStatus, typer.Argument(help="The new status: one legal step of the lifecycle.")],
    at: At = None,
    note: Note = "",
    part: Parts = None,
    if_version: IfVersion = None,
    as_json: AsJson = False,
) -> None:
    """Set a job's status: dispatched, en_route, on_site, completed, needs_follow_up, on_hold, cancelled.

    Only legal steps are taken (exit 3 with the reason otherwise). needs_follow_up puts a follow-up
    request (<ref>-F1) in the queue. Parts (--part) are recorded when the visit ends.
    """
    # No --force here, nor in complete: what happened on site is not a planning rule to override.
    context = app_context(ctx)
    when, parts = parse_moment("--at", at, context), parse_parts(part)
    core = context.core()
    with refusals():
        change = core.set_status(job, state.value, when, note=note, parts=parts, expected_version=if_version)
    extra = core.follow_ups(job)[-1:] if state is JobStatus.NEEDS_FOLLOW_UP else []
    _finish(change, context, as_json, "set", extra)


def complete(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The job's ref.")],
    at: At = None,
    started: Annotated[
        str | None,
        typer.Option("--started", help="When the technician arrived, if never set on_site (ISO 8601 or HH:MM today)."),
    ] = None,
    part: Parts = None,
    note: Note = "",
    if_version: IfVersion = None,
    as_json: AsJson = False,
) -> None:
    """Job complete, in one action, from dispatched, en_route or on_site.

    Steps never recorded (en route, on site) are recorded too, marked as such in the audit trail: the
    arrival at --started, else at the planned start (the drive before it for en route), so that the work
    is timed and billed. Exit 3 when the times would be out of order or in the future.
    """
    context = app_context(ctx)
    when, arrival = parse_moment("--at", at, context), parse_moment("--started", started, context)
    parts = parse_parts(part)
    with refusals():
        change = context.core().complete(job, when, arrival, parts=parts, note=note, expected_version=if_version)
    _finish(change, context, as_json, "completed", [])


def feedback(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The job's ref.")],
    rating: Annotated[int, typer.Option("--rating", min=1, max=5, help="The customer's rating, 1 (bad) to 5.")],
    comment: Annotated[str, typer.Option("--comment", help="What the customer said.")] = "",
    as_json: AsJson = False,
) -> None:
    """Record the customer's rating of a finished visit (a later one replaces it)."""
    context = app_context(ctx)
    with refusals():
        rated = context.core().feedback(job, rating, comment)
    if as_json:
        print_json(
            {"job_ref": rated.job_ref, "rating": rated.rating, "comment": rated.comment, "replaced": rated.replaced}
        )
        return
    was = f" (was {rated.replaced}/5)" if rated.replaced is not None else ""
    stdout.print(f"rated {rated.job_ref} {rated.rating}/5{was}", highlight=False)


def _finish(change: object, context: AppContext, as_json: bool, verb: str, follow_ups: list[str]) -> None:
    from dispatch_tui.services.planning.assignment import Change

    assert isinstance(change, Change)
    if as_json:
        print_json(change.as_dict(context.settings.zone) | {"follow_up": follow_ups[0] if follow_ups else None})
        return
    _report(change, context, False, verb)
    for ref in follow_ups:
        stdout.print(f"follow-up request {ref} is in the queue", highlight=False)
