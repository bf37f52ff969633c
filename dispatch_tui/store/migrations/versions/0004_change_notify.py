"""PostgreSQL: a NOTIFY on every committed change the board shows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Open consoles LISTEN on ``dispatch_changes`` and reload when another process commits. Triggers, not
application code, send it, so that every writer counts: the CLI, the optimizer, another console, a
script with psql. NOTIFY is delivered at commit, once per transaction and channel (PostgreSQL folds
identical payloads), so a 100,000-row import costs one notification. SQLite has no such thing: its
consoles poll ``PRAGMA data_version`` instead, and this revision does nothing there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "dispatch_changes"  # also in dispatch_tui/services/change_feed.py
TABLES = ("job", "appointment", "jobevent", "technician", "shiftpattern", "absence", "customer")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION dispatch_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f'CREATE TRIGGER dispatch_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION dispatch_notify_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f'DROP TRIGGER IF EXISTS dispatch_notify_change ON "{table}"')
    op.execute("DROP FUNCTION IF EXISTS dispatch_notify_change()")
