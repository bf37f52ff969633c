"""`dispatch notify`: send the customers' messages, list them, send a failed one again; and
`dispatch customers notify`: how one customer wants to be told."""

from __future__ import annotations

import signal
import threading
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli import exit_codes
from cli.context import app_context, refusals
from cli.output import print_json, stderr, stdout

if TYPE_CHECKING:
    from dispatch_tui.services.notify.sender import PassReport

app = typer.Typer(help="Tell customers: send the outbox, list and retry messages.", no_args_is_help=True)


class StateChoice(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


@app.command("run", short_help="Send what is due: reminders, new messages, retries (cron: --once).")
def run_command(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="One pass over what is due now, then exit (for cron).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was done as JSON (with --once).")] = False,
) -> None:
    """Send what is due: reminders and running-late notices are made, new messages routed to each
    customer's channels, then sent; failures are retried later with backoff, and failed for good after
    notify.max_attempts. Without --once it runs until stopped (SIGTERM or Ctrl-C), every notify.poll_s.
    Exit code 1 when a message failed for good in this run (--once), else 0."""
    context = app_context(ctx)
    sender = context.core().sender()
    stop = threading.Event()
    try:
        if once:
            report = sender.run_once()
        else:
            for number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(number, lambda *_: stop.set())

            def said(report_: PassReport) -> None:
                if report_.sent or report_.failed or report_.retrying:
                    stderr.print(_line(report_), highlight=False, markup=False)

            report = sender.run(stop, on_pass=said)
    finally:
        sender.close()
    if as_json:
        print_json(report.as_json())
    else:
        stdout.print(_line(report), highlight=False, markup=False)
        for error in report.errors:
            stderr.print(f"failed: {error}", highlight=False, markup=False)
    if once and report.failed:
        raise typer.Exit(exit_codes.FAILED)


@app.command("list", short_help="Messages to customers with their state and last error.")
def list_command(
    ctx: typer.Context,
    state: Annotated[StateChoice | None, typer.Option("--state", help="Only messages in this state.")] = None,
    job: Annotated[str | None, typer.Option("--job", "-j", help="Only this job's messages.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, newest first.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Messages to customers, one per channel, newest first: kind, recipient, state, attempts, last error."""
    context = app_context(ctx)
    zone = context.settings.zone
    rows = context.core().messages(state=state.value if state else None, job_ref=job, limit=limit)
    if as_json:
        print_json([row.as_json(zone) for row in rows])
        return
    if not rows:
        stdout.print("no messages" + (f" for {job}" if job else ""), highlight=False)
        return
    table = Table("id", "job", "kind", "channel", "to", "state", "tries", "when", "last error", box=None)
    for row in rows:
        moment = row.sent_at if row.sent_at else row.due_at
        table.add_row(str(row.id), row.job_ref, row.kind, row.channel, row.recipient, row.state, str(row.attempts),
                      f"{moment.astimezone(zone):%m-%d %H:%M}", row.last_error[:60])  # fmt: skip
    stdout.print(table)


@app.command("retry", short_help="Send a failed message again.")
def retry_command(
    ctx: typer.Context,
    message: Annotated[int, typer.Argument(help="The failed message's id (dispatch notify list).", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the message as JSON.")] = False,
) -> None:
    """Send a failed message again: it is pending from now, its attempts counted anew."""
    context = app_context(ctx)
    with refusals():
        row = context.core().retry_message(message)
    if as_json:
        print_json(row.as_json(context.settings.zone))
        return
    stdout.print(f"message {row.id} ({row.job_ref} {row.kind} by {row.channel}) is pending again: the next "
                 "`dispatch notify run` sends it", highlight=False, markup=False)  # fmt: skip


def contact_command(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="The customer's ref.", show_default=False)],
    channels: Annotated[
        str | None,
        typer.Option(
            "--channels",
            help="Comma-separated: email, sms; none for no messages at all; default for the "
            "settings' own (notify.channels).",
        ),
    ] = None,
    opt_out: Annotated[
        list[str] | None, typer.Option("--opt-out", help="A kind of message not to send them (repeatable).")
    ] = None,
    opt_in: Annotated[list[str] | None, typer.Option("--opt-in", help="A kind opted out of, wanted again.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the choice as JSON.")] = False,
) -> None:
    """How a customer wants to be told: their channels, and the kinds of message they opted out of
    (confirmation, rescheduled, reminder, en_route, running_late, completed, follow_up). Without options:
    shows the choice."""
    context = app_context(ctx)
    core = context.core()
    chosen: list[str] | None = None
    if channels is not None:
        wanted = [c.strip() for c in channels.split(",") if c.strip()]
        chosen = [] if wanted == ["none"] else wanted
    with refusals():
        if chosen is None and not opt_out and not opt_in:
            choice = core.contact(customer)
        else:
            choice = core.set_contact(customer, channels=chosen, opt_out=opt_out or (), opt_in=opt_in or ())
    if as_json:
        print_json(choice.as_json())
        return
    told = ", ".join(choice.channels) if choice.channels is not None else "the default channels"
    told = told or "no channel: they are told nothing"
    out = f"; opted out of {', '.join(choice.opted_out)}" if choice.opted_out else ""
    stdout.print(f"{choice.customer_ref}: {told}{out}", highlight=False, markup=False)


def _line(report: PassReport) -> str:
    return (f"sent {report.sent}, retrying {report.retrying}, failed {report.failed} "
            f"(made {report.made}, routed {report.routed})")  # fmt: skip
