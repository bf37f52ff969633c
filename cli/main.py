"""`dispatch`: the root command, its global options and the command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import (
    assign,
    book,
    candidates,
    customers,
    db,
    demo,
    export,
    imports,
    insert,
    jobs,
    late,
    lifecycle,
    notify,
    optimize,
    report,
    requests,
    schedule,
    serve,
    slots,
    techs,
    tui,
)
from cli.context import AppContext

app = typer.Typer(
    name="dispatch",
    help="Field-service dispatch console: import, plan and track the day's work.",
    no_args_is_help=False,  # bare `dispatch` opens the console
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.add_typer(jobs.app, name="jobs")
app.add_typer(techs.app, name="techs")
app.add_typer(export.app, name="export")
app.add_typer(report.app, name="report")
app.add_typer(requests.app, name="request")
app.add_typer(customers.app, name="customers")
app.add_typer(notify.app, name="notify")
customers.app.command("notify")(notify.contact_command)
app.command("import")(imports.import_command)
app.command("demo")(demo.demo_command)
app.command("assign")(assign.assign)
app.command("move")(assign.move)
app.command("unassign")(assign.unassign)
app.command("lock")(assign.lock)
app.command("unlock")(assign.unlock)
app.command("candidates")(candidates.candidates)
app.command("slots")(slots.slots)
app.command("schedule")(schedule.schedule)
app.command("optimize")(optimize.optimize)
app.command("backup")(db.backup)
app.command("restore")(db.restore)
app.command("status")(lifecycle.status)
app.command("complete")(lifecycle.complete)
app.command("feedback")(lifecycle.feedback)
app.command("late")(late.late)
app.command("book")(book.book)
app.command("insert")(insert.insert)
app.command("tui")(tui.tui)
app.command("serve")(serve.serve)


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    db_option: Annotated[
        str | None,
        typer.Option("--db", envvar="DISPATCH_DB", help="Store: a file path (SQLite) or an SQLAlchemy URL."),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", "--tz", envvar="DISPATCH_TIMEZONE", help="IANA zone for shown and naive times."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            envvar="DISPATCH_NOW",
            help="Set the clock (a replay, a demo): YYYY-MM-DDTHH:MM, local, or HH:MM today; it runs on from there.",
        ),
    ] = None,
    now_frozen: Annotated[
        bool | None,
        typer.Option("--now-frozen/--now-running", envvar="DISPATCH_NOW_FROZEN", help="Hold the set clock still."),
    ] = None,
) -> None:
    ctx.obj = AppContext(db=db_option, timezone=timezone, now=now, now_frozen=now_frozen)
    if ctx.invoked_subcommand is None:
        tui.tui(ctx)


def run() -> None:
    """The console script: store failures become one clear line and exit 1, never a traceback."""
    try:
        app()
    except Exception as exc:
        from sqlalchemy.exc import DBAPIError

        if not isinstance(exc, DBAPIError):
            raise
        from cli import exit_codes
        from cli.output import stderr

        reason = str(exc.orig).strip() if exc.orig is not None else str(exc)
        hint = " (another process is writing; try again)" if "locked" in reason or "busy" in reason else ""
        stderr.print(f"error: the store failed: {reason}{hint}; nothing was written", highlight=False, markup=False)
        raise SystemExit(exit_codes.FAILED) from None
