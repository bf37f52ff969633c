"""`dispatch book JOB --slot START`: the time agreed with the customer, promised and planned at once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli import exit_codes
from cli.assign import IfVersion
from cli.context import app_context, refusals
from cli.lifecycle import parse_moment
from cli.output import fail, print_json, stderr, stdout

if TYPE_CHECKING:
    from dispatch_tui.services.core import Core


def book(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The waiting request's ref.", show_default=False)],
    slot: Annotated[
        str, typer.Option("--slot", help="The window's start: ISO 8601 or HH:MM today, local.", show_default=False)
    ],
    window_minutes: Annotated[
        int | None,
        typer.Option("--window-minutes", min=30, max=720, help="The window's length (default: slot_window_minutes)."),
    ] = None,
    promise_only: Annotated[
        bool, typer.Option("--promise-only", help="Promise the window; leave the technician to the optimizer.")
    ] = False,
    confirmation: Annotated[
        Path | None, typer.Option("--confirmation", help="Write the customer's confirmation (JOB.ics) to this folder.")
    ] = None,
    if_version: IfVersion = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the booking as JSON.")] = False,
) -> None:
    """Promise the customer the window from --slot and place the visit on the best technician for it.

    The same rules and locks as `dispatch assign`. When nobody can start within the window (any more:
    another dispatcher may just have taken it), nothing is written, the times left are listed and the
    exit code is 3.
    """
    from dispatch_tui.services.planning.booking import SlotTaken

    context = app_context(ctx)
    start = parse_moment("--slot", slot, context)
    assert start is not None
    core = context.core()
    with refusals():
        try:
            booking = core.book(job, start, window_minutes=window_minutes, promise_only=promise_only,
                                expected_version=if_version)  # fmt: skip
        except SlotTaken as taken:
            for reason in taken.reasons:
                stderr.print(f"refused: {reason}", highlight=False, markup=False)
            stderr.print(_fresh_times(core, job, window_minutes), highlight=False, markup=False)
            fail("nothing changed", exit_codes.REJECTED)
    written = None
    if confirmation is not None:
        written = confirmation / f"{booking.job_ref}.ics"
        temp = written.with_name(f".{written.name}.{os.getpid()}.part")
        try:
            confirmation.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(core.confirmation(booking.job_ref))
            os.replace(temp, written)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            fail(f"booked, but cannot write the confirmation to {confirmation}: {exc.strerror or exc}",
                 exit_codes.FAILED)  # fmt: skip
    zone = context.settings.zone
    if as_json:
        print_json(booking.as_json(zone) | {"confirmation": str(written) if written else None})
        return
    opens, closes = booking.window_start.astimezone(zone), booking.window_end.astimezone(zone)
    where = " (the optimizer places it)"
    if booking.technician_ref and booking.start and booking.end:
        visit = f"{booking.start.astimezone(zone):%H:%M}–{booking.end.astimezone(zone):%H:%M}"
        where = f" → {booking.technician_ref} {visit}"
    stdout.print(f"booked {booking.job_ref}: promised {opens:%a %d %b %H:%M}–{closes:%H:%M}{where} "
                 f"(version {booking.version})", highlight=False)  # fmt: skip
    if written:
        stderr.print(f"wrote {written}", highlight=False, markup=False)


def _fresh_times(core: Core, job: str, window_minutes: int | None) -> str:
    """The window was taken (or never open): the times that are left, so that the caller can offer one."""
    zone = core.settings.zone
    left = core.slots(job, window_minutes=window_minutes).slots
    if not left:
        return f"no time is left in the next days: dispatch slots {job} says why"
    shown = ", ".join(f"{s.start.astimezone(zone):%a %d %H:%M}–{s.end.astimezone(zone):%H:%M}" for s in left[:5])
    return f"times left: {shown}" + (f" (+{len(left) - 5} more: dispatch slots {job})" if len(left) > 5 else "")
