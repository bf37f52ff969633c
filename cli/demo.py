"""`dispatch demo`: a believable store to try the console on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli import exit_codes
from cli.context import app_context
from cli.output import fail, print_json, stdout


def default_demo_db() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("dispatch")) / "demo.db"


def demo_command(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Where to build it (default: the global --db, else demo.db in the user's data directory)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same city.")] = 7,
    technicians: Annotated[int, typer.Option(min=2, max=900, help="How many technicians.")] = 12,
    requests: Annotated[int, typer.Option(min=1, max=200_000, help="How many requests for the day.")] = 60,
    day: Annotated[
        str, typer.Option("--date", help="The requests' day: YYYY-MM-DD, today, tomorrow or a weekday (the next).")
    ] = "today",
    replace: Annotated[bool, typer.Option("--replace", help="Delete an existing demo file at --db first.")] = False,
    files: Annotated[
        Path | None,
        typer.Option("--files", help="Write the demo's import files (CSV) to this folder instead of building a store."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Build a demo store: a city of customers, a team of technicians and a day under way.

    Some visits are done, some in progress, some planned; the rest wait in the queue.
    Deterministic for a seed and a date (the progress of the day follows the clock).
    """
    from sqlalchemy import func, select

    from cli.dates import parse_day
    from dispatch_tui.services.intake.demo import build_demo
    from dispatch_tui.services.intake.demo_data import DemoSpec, generate_demo, write_demo_files
    from dispatch_tui.store import database_url
    from dispatch_tui.store.models import Customer

    context = app_context(ctx)
    settings = context.settings
    spec = DemoSpec(day=parse_day(day, settings.zone), seed=seed, technicians=technicians, requests=requests)
    if files is not None:
        for path in write_demo_files(generate_demo(spec), files):
            stdout.print(f"wrote {path}", highlight=False)
        return
    target = db or _global_db_flag(ctx) or str(default_demo_db())
    url = database_url(target)
    if replace:
        if not url.startswith("sqlite:///"):
            fail("--replace only deletes SQLite files; empty a server database yourself", exit_codes.USAGE)
        path = Path(url.removeprefix("sqlite:///"))
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
    core = context.core(target, create=True)
    with core.session() as session:
        if session.scalar(select(func.count()).select_from(Customer)):
            fail(f"{target} already holds data: pass --replace to rebuild the demo there", exit_codes.USAGE)
    summary = build_demo(
        core.engine, spec, settings.zone, road_factor=settings.travel_road_factor, speed_kmh=settings.travel_speed_kmh
    )
    result = {
        "db": target,
        "date": summary.day.isoformat(),
        "technicians": summary.technicians,
        "customers": summary.customers,
        "requests": summary.requests,
        "statuses": summary.statuses,
    }
    if as_json:
        print_json(result)
        return
    table = Table("status", "jobs", box=None, title=f"Demo day {summary.day.isoformat()}", title_justify="left")
    for status, count in sorted(summary.statuses.items()):
        table.add_row(status, str(count))
    stdout.print(f"Demo store: {target}", highlight=False)
    stdout.print(f"{summary.technicians} technicians, {summary.customers} customers, {summary.requests} requests")
    stdout.print(table)
    stdout.print(f"Try: dispatch --db {target} jobs list --date {summary.day.isoformat()}", highlight=False)


def _global_db_flag(ctx: typer.Context) -> str | None:
    """`dispatch --db X demo` means X too. Only a flag typed on this command line counts: a DISPATCH_DB in
    the environment names the everyday store, which a demo (and its --replace) must never touch."""
    root = ctx.find_root()
    source = root.get_parameter_source("db_option")  # Typer's own click: compare the name, not the enum class
    if getattr(source, "name", None) != "COMMANDLINE":
        return None
    value = root.params.get("db_option")
    return str(value) if value else None
