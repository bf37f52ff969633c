"""`dispatch tui` (and bare `dispatch`): the full-screen dispatcher console on the configured store."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import exit_codes
from cli.context import app_context
from cli.output import fail


def tui(
    ctx: typer.Context,
    day: Annotated[
        str | None, typer.Option("--date", "-d", help="The day the schedule opens on (default: today).")
    ] = None,
) -> None:
    """Open the dispatcher console: requests, technicians, the day's schedule and details, live."""
    import os
    import sys

    from cli.dates import parse_day
    from dispatch_tui.tui.app import DispatchApp

    context = app_context(ctx)
    if not sys.stdout.isatty() and "TEXTUAL_DRIVER" not in os.environ:  # the driver is set by `dispatch serve`
        fail("the console needs a terminal; for scripts use the other commands (dispatch --help)", exit_codes.USAGE)
    context.engine()  # refuses an unusable store with a clear message before the screen takes over
    settings = context.settings
    DispatchApp(settings, day=parse_day(day, settings.zone) if day else None, actor=context.actor).run()
