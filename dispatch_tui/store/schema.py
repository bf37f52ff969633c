"""The schema is made and changed only by the Alembic migrations shipped with the package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The newest revision; a test checks it against the migration scripts, so reading it costs no parse.
HEAD_REVISION = "0006"


class StoreNotReady(Exception):
    """The database exists but its schema is not the one this version of dispatch expects."""


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def script_head() -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    # Plain SQL rather than Alembic's MigrationContext: every command checks this, and importing Alembic
    # costs about 90 ms of start-up; Alembic is loaded only to upgrade.
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

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
