"""`dispatch tui` (and bare `dispatch`): the full-screen dispatcher console on the configured store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli import exit_codes
from cli.context import app_context
from cli.output import fail

if TYPE_CHECKING:
    from dispatch_tui.config import Settings


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
    check_keymap(context.settings)
    core = context.core()  # refuses an unusable store with a clear message before the screen takes over
    settings = context.settings
    DispatchApp(settings, day=parse_day(day, settings.zone) if day else None, core=core).run()


def check_keymap(settings: Settings) -> None:
    """Refuse (exit 2) a keymap that names an action the console does not have: a typo (`asign`) would
    otherwise be ignored, and the dispatcher left wondering why the key does nothing."""
    import difflib
    import os

    from dispatch_tui.config import default_config_path
    from dispatch_tui.tui.keys import APP_ACTIONS, BOARD_ACTIONS

    known = [action.id for action in (*BOARD_ACTIONS, *APP_ACTIONS)]
    unknown = [name for name in settings.keymap if name not in known]
    if not unknown:
        return
    where = "DISPATCH_KEYMAP" if os.environ.get("DISPATCH_KEYMAP") else f"the settings file {default_config_path()}"
    named = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        named.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    fail(
        f"unknown keymap id {', '.join(named)} in {where}: fix or remove it; the ids are {', '.join(known)}",
        exit_codes.USAGE,
    )
