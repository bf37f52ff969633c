"""`dispatch db`: the store's schema."""

from __future__ import annotations

import typer

from cli.context import app_context
from cli.output import fail, stdout

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
    from dispatch_tui.store import make_engine
    from dispatch_tui.store.schema import current_revision

    print(current_revision(make_engine(app_context(ctx).settings.db)) or "")
