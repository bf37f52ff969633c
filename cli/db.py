"""`dispatch db`: the store's schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli import exit_codes
from cli.context import app_context
from cli.output import fail, stdout

if TYPE_CHECKING:
    from dispatch_tui.services.backup import StoreSummary

app = typer.Typer(help="Create or upgrade the store's schema.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Bring the store's schema up to this version (creates it on an empty database)."""
    from sqlalchemy.exc import SQLAlchemyError

    from dispatch_tui.store import make_engine
    from dispatch_tui.store.schema import current_revision
    from dispatch_tui.store.schema import upgrade as run_upgrade

    target = app_context(ctx).settings.db
    try:
        engine = make_engine(target)
        before = current_revision(engine)
        run_upgrade(engine)
        after = current_revision(engine)
    except SQLAlchemyError as exc:
        fail(f"cannot upgrade the store {target}: {getattr(exc, 'orig', None) or exc}")
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        stdout.print(f"{where} is up to date (revision {after})", highlight=False)
    else:
        stdout.print(f"{where}: revision {before or 'empty'} → {after}", highlight=False)


@app.command()
def current(ctx: typer.Context) -> None:
    """Print the store's schema revision (empty if none)."""
    from dispatch_tui.store import StoreMissing, make_engine
    from dispatch_tui.store.schema import current_revision

    try:
        engine = make_engine(app_context(ctx).settings.db, create=False)
    except StoreMissing as missing:
        fail(str(missing), exit_codes.USAGE)
    print(current_revision(engine) or "")


def backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="The backup file to write (refused if it exists, unless --force).")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
) -> None:
    """Copy the store to FILE while it is in use: a consistent snapshot of what is committed."""
    from dispatch_tui.services import backup as backups
    from dispatch_tui.store import StoreMissing, database_url

    settings = app_context(ctx).settings
    store = backups.sqlite_path(database_url(settings.db))
    if store is None:
        fail(backups.server_backup_advice(database_url(settings.db)))
    if not store.exists():
        fail(str(StoreMissing(store)), exit_codes.USAGE)
    if target.exists() and not force:  # yesterday's backup is never lost to a typo or a rerun
        fail(f"{target} exists: give --force to replace it", exit_codes.USAGE)
    try:
        summary = backups.backup(store, target)
    except (OSError, backups.BadBackup) as exc:
        fail(f"the backup to {target} failed: {exc}; no backup file was written")
    stdout.print(f"backed up {store} to {target}: {_described(summary)}", highlight=False)


def restore(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A file written by `dispatch backup`.", exists=True, dir_okay=False)],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: every record in the store is replaced.")] = False,
) -> None:
    """Replace the store's content with a backup's (the store is upgraded to this version's schema)."""
    from dispatch_tui.services import backup as backups
    from dispatch_tui.services.planning.run_lock import Busy, exclusive
    from dispatch_tui.store import database_url, ensure_ready, make_engine

    settings = app_context(ctx).settings
    url = database_url(settings.db)
    store = backups.sqlite_path(url)
    if store is None:
        fail(backups.server_backup_advice(url))
    try:
        summary = backups.summarise(source)
    except backups.BadBackup as exc:
        fail(f"{exc}; the store was not touched", exit_codes.REJECTED)
    if not yes:
        fail(f"restoring replaces every record in {store} with the {_described(summary)} of {source}: "
             "add --yes to do it")  # fmt: skip
    try:
        with exclusive(url):  # not under a running optimizer, which would write its plan over the restore
            backups.restore(source, store, checked=summary)
            ensure_ready(make_engine(store), auto_upgrade=True)
    except Busy as busy:
        fail(str(busy), exit_codes.BUSY)
    stdout.print(f"restored {store} from {source}: {_described(summary)}", highlight=False)


def _described(summary: StoreSummary) -> str:
    return (f"{summary.jobs} jobs, {summary.technicians} technicians, schema {summary.revision}, "
            f"{summary.size_bytes / 1e6:.1f} MB")  # fmt: skip
