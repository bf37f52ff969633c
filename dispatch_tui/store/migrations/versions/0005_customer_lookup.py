"""customer lookup: the geocoder's cache, and a stamp the customer and site triggers bump

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

``customerstamp`` holds one row. Triggers bump its ``version`` at every change of ``customer`` or
``site``, whoever writes (the import, the CLI, psql), in the writer's transaction: a lookup index kept in
memory compares it with the version it was built at, one row read per lookup. SQLite has row triggers
only (one cheap UPDATE of that row per changed row); PostgreSQL bumps it once per statement.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import dispatch_tui.store.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("customer", "site")
BUMP = "UPDATE customerstamp SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "geocodecacheentry",
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("query", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("fetched_at", dispatch_tui.store.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name="ck_geocodecache_lat"),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name="ck_geocodecache_lon"),
        sa.PrimaryKeyConstraint("source", "query"),
    )
    op.create_table(
        "customerstamp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO customerstamp (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION dispatch_bump_customer_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {BUMP};
                RETURN NULL;
            END
            $$
            """
        )
        for table in TABLES:
            op.execute(
                f'CREATE TRIGGER dispatch_customer_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION dispatch_bump_customer_stamp()"
            )
        return
    for table in TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER customer_stamp_{table}_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f'DROP TRIGGER IF EXISTS dispatch_customer_stamp ON "{table}"')
        op.execute("DROP FUNCTION IF EXISTS dispatch_bump_customer_stamp()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS customer_stamp_{table}_{event}")
    op.drop_table("customerstamp")
    op.drop_table("geocodecacheentry")
