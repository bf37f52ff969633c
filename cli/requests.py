"""`dispatch request new|note`: take a request on a call, or record the call on the job it is about."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import exit_codes
from cli.context import AppContext, app_context, refusals
from cli.lifecycle import parse_moment
from cli.output import fail, print_json, stderr, stdout
from dispatch_tui.domain import JobSource

app = typer.Typer(help="Take a request on a call.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Moment = "ISO 8601 or HH:MM today; local time without an offset"


@app.command("new")
def new_command(
    ctx: typer.Context,
    customer: Annotated[str, typer.Option("--customer", "-c", help="The customer's ref.", show_default=False)],
    skill: Annotated[str, typer.Option("--skill", "-s", help="The skill the work needs.", show_default=False)],
    duration: Annotated[
        int | None,
        typer.Option(
            "--duration", min=1, max=1440, help="Minutes of work (default: the median of the skill's past visits)."
        ),
    ] = None,
    priority: Annotated[int, typer.Option("--priority", "-p", min=1, max=4, help="1 emergency … 4 low.")] = 3,
    description: Annotated[str, typer.Option("--description", "-m", help="What the customer said.")] = "",
    source: Annotated[JobSource | None, typer.Option("--source", help="How it came in (default: phone).")] = None,
    due: Annotated[str | None, typer.Option("--due", help=f"Must be started by ({Moment}).")] = None,
    window_start: Annotated[
        str | None, typer.Option("--window-start", help=f"A window already agreed ({Moment}); else open until booked.")
    ] = None,
    window_end: Annotated[str | None, typer.Option("--window-end", help=f"Its end ({Moment}).")] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Another site of the customer's: its address.")
    ] = None,
    lat: Annotated[float | None, typer.Option("--lat", help="That site's latitude (with --lon).")] = None,
    lon: Annotated[float | None, typer.Option("--lon", help="That site's longitude (with --lat).")] = None,
    ref: Annotated[str | None, typer.Option("--ref", help="The job's ref (default: the next in the store).")] = None,
    reported_by: Annotated[
        str | None, typer.Option("--reported-by", help="The technician who reported it (their ref).")
    ] = None,
    from_visit: Annotated[
        str | None, typer.Option("--from-visit", help="The visit it was found on (a job ref).")
    ] = None,
    anyway: Annotated[
        bool, typer.Option("--anyway", help="Take it even though an open job looks like the same problem.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Take a new request and print its ref. Checked like an imported request (exit 3 with the reasons).

    An open job of the same customer and skill, or at the same site within 7 days, stops it (exit 3) and
    is listed: record the call on it with `dispatch request note JOB`, or take this one with --anyway.
    """
    from dispatch_tui.services.intake.requests import PossibleDuplicate

    context = app_context(ctx)
    values = {
        "ref": ref, "customer_ref": customer, "skill": skill, "priority": str(priority),
        "duration_min": str(duration) if duration is not None else None, "description": description,
        "source": source.value if source else None, "due_by": _moment("--due", due, context),
        "window_start": _moment("--window-start", window_start, context),
        "window_end": _moment("--window-end", window_end, context), "address": address,
        "lat": None if lat is None else repr(lat), "lon": None if lon is None else repr(lon),
    }  # fmt: skip
    core = context.core()
    with refusals():
        try:
            made = core.new_request(
                {name: value for name, value in values.items() if value}, reported_by=reported_by,
                from_visit=from_visit, allow_duplicate=anyway,
            )  # fmt: skip
        except PossibleDuplicate as found:
            if as_json:
                print_json({"duplicates": [d.as_json() for d in found.duplicates]})
            for reason in found.reasons:
                stderr.print(f"possible duplicate: {reason}", highlight=False, markup=False)
            first = found.duplicates[0].ref
            fail(f"nothing saved: record the call on it (dispatch request note {first} --note …) or take a new "
                 "request with --anyway", exit_codes.REJECTED)  # fmt: skip
    zone = context.settings.zone
    if as_json:
        print_json(made.as_json(zone))
        return
    opens, closes = made.window_start.astimezone(zone), made.window_end.astimezone(zone)
    stdout.print(made.ref, highlight=False)
    stderr.print(f"new request {made.ref}: {made.skill}, {made.duration_min} min, P{made.priority}, open "
                 f"{opens:%a %d %b %H:%M} – {closes:%a %d %b %H:%M}; offer times with: dispatch slots {made.ref}",
                 highlight=False, markup=False)  # fmt: skip


@app.command("note")
def note_command(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The open job the call is about.", show_default=False)],
    note: Annotated[str, typer.Option("--note", "-m", help="What the customer said.")] = "",
    as_json: AsJson = False,
) -> None:
    """Record a call on an open job (an audit note) instead of a second request for the same problem."""
    context = app_context(ctx)
    with refusals():
        version = context.core().note_call(job, note)
    if as_json:
        print_json({"job_ref": job, "version": version})
        return
    stdout.print(f"noted the call on {job} (version {version})", highlight=False)


def _moment(option: str, text: str | None, context: AppContext) -> str | None:
    moment = parse_moment(option, text, context)
    return moment.astimezone(context.settings.zone).isoformat() if moment else None
