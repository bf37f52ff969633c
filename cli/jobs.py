"""`dispatch jobs`: read the requests and jobs."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from cli import exit_codes
from cli.context import app_context
from cli.output import fail, print_json, stdout
from dispatch_tui.domain import JobStatus

if TYPE_CHECKING:
    from dispatch_tui.services.execution.board import JobDetail

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
    customer: Annotated[
        str | None,
        typer.Option("--customer", "-c", help="Only this customer's jobs: its ref, or part of its name (any case)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Jobs by priority, then promised window; done and on-site ones with their actual times."""
    from cli.dates import parse_day

    context = app_context(ctx)
    zone = context.settings.zone
    the_day: date | None = parse_day(day, zone) if day else None
    jobs = context.core().jobs(statuses=[s.value for s in status or []], day=the_day, customer=customer)
    if as_json:
        print_json([job.as_json(zone) for job in jobs])
        return

    def hm(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%H:%M") if value else ""

    table = Table("ref", "P", "status", "skill", "customer", "window", "technician", "visit", "actual", box=None)
    for job in jobs:
        window = f"{job.window_start.astimezone(zone):%m-%d %H:%M}–{hm(job.window_end)}"
        visit = f"{hm(job.start)}–{hm(job.end)}" if job.start else ""
        actual = ""
        if job.actual_start:  # on site since, or done: from the audit trail
            since = hm(job.actual_start)
            actual = f"since {since}" if job.status == JobStatus.ON_SITE else f"{since}–{hm(job.actual_end)}"
        table.add_row(job.ref, str(job.priority), job.status, job.skill, job.customer_ref, window,
                      job.technician_ref or "", visit, actual)  # fmt: skip
    stdout.print(table)
    stdout.print(f"{len(jobs)} job(s)", style="dim")


@app.command("show")
def show_command(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The job's ref.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """One job as the console's Status pane shows it: customer, site, window, due, status, technician with
    the planned and actual times, description, the customer's past visits, the messages the customer was
    sent and the audit trail."""
    context = app_context(ctx)
    zone = context.settings.zone
    job = context.core().job_detail(ref)
    if job is None:
        fail(f"no job {ref!r} (dispatch jobs list shows the refs)", exit_codes.REJECTED)
    if as_json:
        print_json(_detail_json(job, zone))
        return
    _print_detail(job, zone)


def _detail_json(job: JobDetail, zone: ZoneInfo) -> dict[str, Any]:
    from dispatch_tui.localtime import local_iso

    def iso(value: datetime | None) -> str | None:
        return local_iso(value, zone)

    return {
        "ref": job.ref, "status": job.status, "priority": job.priority, "skill": job.skill,
        "duration_min": job.duration_min, "source": job.source, "description": job.description,
        "customer_ref": job.customer_ref, "customer_name": job.customer_name, "customer_phone": job.customer_phone,
        "address": job.address, "window_start": iso(job.window_start), "window_end": iso(job.window_end),
        "due_by": iso(job.due_by), "version": job.version, "technician_ref": job.technician_ref,
        "technician_name": job.technician_name, "start": iso(job.start), "end": iso(job.end),
        "travel_minutes": job.travel_minutes, "locked": job.locked, "actual_start": iso(job.actual_start),
        "actual_end": iso(job.actual_end),
        "past_visits": [
            {"job_ref": v.job_ref, "start": iso(v.start), "status": v.status, "technician": v.technician}
            for v in job.past_visits
        ],
        "events": [
            {"at": iso(e.at), "actor": e.actor, "from_status": e.from_status, "to_status": e.to_status, "note": e.note}
            for e in job.events
        ],
    }  # fmt: skip


def _print_detail(job: JobDetail, zone: ZoneInfo) -> None:
    def at(value: datetime | None, fmt: str = "%a %d %b %H:%M") -> str:
        return value.astimezone(zone).strftime(fmt) if value else "-"

    stdout.print(Text.assemble((f"{job.ref} ", "bold"), job.status, f"  P{job.priority} {job.skill} "
                               f"{job.duration_min} min"))  # fmt: skip
    facts = Table.grid(padding=(0, 1))
    facts.add_column(style="dim")
    facts.add_column()
    phone = f" {job.customer_phone}" if job.customer_phone else ""
    facts.add_row("customer", Text(f"{job.customer_name} ({job.customer_ref}){phone}"))
    facts.add_row("site", Text(job.address or "-"))
    facts.add_row("window", f"{at(job.window_start)}–{at(job.window_end, '%H:%M')}")
    facts.add_row("due", at(job.due_by))
    if job.technician_ref:
        planned = f"{job.technician_name} ({job.technician_ref}) {at(job.start)}–{at(job.end, '%H:%M')}"
        planned += f", {job.travel_minutes} min drive" + (", locked" if job.locked else "")
        facts.add_row("planned", Text(planned))
    if job.actual_start:
        facts.add_row("actual", f"on site since {at(job.actual_start)}" if job.status == JobStatus.ON_SITE
                      else f"{at(job.actual_start)}–{at(job.actual_end, '%H:%M')}")  # fmt: skip
    facts.add_row("source", job.source)
    if job.description:
        facts.add_row("what", Text(job.description))
    stdout.print(facts)
    if job.past_visits:
        stdout.print("past visits", style="bold")
        for v in job.past_visits:
            stdout.print(Text(f"  {at(v.start)}  {v.job_ref}  {v.technician}  {v.status}"))
    if job.messages:
        stdout.print("messages", style="bold")
        for m in job.messages:
            stdout.print(Text(f"  {m.summary(zone)}"))
    stdout.print("audit trail", style="bold")
    for e in job.events:
        line = f"  {at(e.at, '%d %b %H:%M')}  {e.actor:<10.10} {e.from_status or '-'} → {e.to_status}  {e.note}"
        stdout.print(Text(line.rstrip()))
