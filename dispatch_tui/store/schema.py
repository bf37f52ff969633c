"""The schema is made and changed only by the Alembic migrations shipped with the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The newest revision; a test checks it against the migration scripts, so reading it costs no parse.
HEAD_REVISION = "0001"


class StoreNotReady(Exception):
    """The database exists but its schema is not the one this version of dispatch expects."""


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def script_head() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def ensure_ready(engine: Engine, *, auto_upgrade: bool) -> None:
    """Make sure the store is at the schema this code expects.

    A local SQLite store is brought up to date on open (``auto_upgrade``); a shared server is upgraded
    only on purpose, with ``dispatch db upgrade``, because other consoles use it.
    """
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return
    if auto_upgrade:
        upgrade(engine)
        return
    where = engine.url.render_as_string(hide_password=True)
    if revision is None:
        raise StoreNotReady(f"the store at {where} has no dispatch schema yet: run `dispatch db upgrade`")
    raise StoreNotReady(
        f"the store at {where} is at schema revision {revision}, this version needs {HEAD_REVISION}: "
        "run `dispatch db upgrade`"
    )
