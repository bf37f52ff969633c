"""The schema is made only by the migrations, and they make exactly the model's schema."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from dispatch_tui.store import StoreNotReady, ensure_ready, make_engine, upgrade
from dispatch_tui.store.models import Customer, Job, Site, Skill
from dispatch_tui.store.schema import HEAD_REVISION, current_revision, script_head
from tests.clock import DAY


def test_migrations_from_empty_produce_exactly_the_models_schema(store_engine: Engine) -> None:
    with store_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
    tables = set(inspect(store_engine).get_table_names())
    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}


def test_head_revision_constant_matches_the_migration_scripts() -> None:
    assert script_head() == HEAD_REVISION


def test_downgrade_to_base_removes_every_table(store_engine: Engine) -> None:
    upgrade(store_engine, "head")
    from alembic import command

    from dispatch_tui.store.schema import alembic_config

    config = alembic_config(store_engine)
    with store_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(store_engine).get_table_names()) == {"alembic_version"}
    assert current_revision(store_engine) is None


# SQLite only by nature: the PRAGMAs are what make_engine sets on SQLite connections; PostgreSQL has none.
def test_every_sqlite_connection_gets_wal_foreign_keys_and_busy_timeout(engine: Engine) -> None:
    for _ in range(2):  # a second pooled/new connection gets them too
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        engine.dispose()


def test_foreign_keys_are_enforced(store_engine: Engine) -> None:
    with Session(store_engine) as session, pytest.raises(IntegrityError):
        session.add(Site(customer_id=999, lat=1.0, lon=1.0))
        session.commit()


def test_times_come_back_aware_utc_whatever_offset_went_in(store_engine: Engine) -> None:
    plus_one = timezone(timedelta(hours=1))  # a fixed offset, not the zone: 09:00 is 08:00 UTC on any day
    with Session(store_engine) as session:
        customer = Customer(ref="C1", name="Claire")
        session.add(customer)
        session.flush()
        site = Site(customer_id=customer.id or 0, lat=45.0, lon=4.0, is_primary=True)
        skill = Skill(name="boiler")
        session.add_all([site, skill])
        session.flush()
        session.add(
            Job(
                ref="J1", customer_id=customer.id or 0, site_id=site.id or 0, skill_id=skill.id or 0,
                duration_min=60, priority=2, source="phone",
                window_start=datetime.combine(DAY, time(9, 0), plus_one),
                window_end=datetime.combine(DAY, time(11, 0), plus_one),
            )
        )  # fmt: skip
        session.commit()
    with Session(store_engine) as session:
        job = session.exec(select(Job)).one()
        assert job.window_start == datetime.combine(DAY, time(8, 0), UTC)
        assert job.window_start.tzinfo is UTC


def test_a_naive_datetime_is_refused_rather_than_guessed(store_engine: Engine) -> None:
    with Session(store_engine) as session:
        session.add(Customer(ref="C1", name="Claire"))
        session.flush()
        session.add(Site(customer_id=1, lat=45.0, lon=4.0))
        session.add(Skill(name="boiler"))
        session.flush()
        session.add(
            Job(ref="J1", customer_id=1, site_id=1, skill_id=1, duration_min=60, priority=2, source="phone",
                window_start=datetime.combine(DAY, time(9)), window_end=datetime.combine(DAY, time(11)))
        )  # fmt: skip
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


def test_check_constraints_guard_the_store_beyond_the_importer(store_engine: Engine) -> None:
    with store_engine.begin() as connection:
        connection.execute(text("INSERT INTO customer (ref, name, phone, email) VALUES ('C1', 'x', '', '')"))
    with pytest.raises(IntegrityError), store_engine.begin() as connection:  # TRUE: PostgreSQL takes no 1 for a boolean
        connection.execute(
            text("INSERT INTO site (customer_id, address, lat, lon, is_primary) VALUES (1, '', 91, 0, TRUE)")
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store with no schema at all, on each backend."""
    return str(tmp_path / "empty.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")


def test_a_server_store_without_schema_is_refused_with_the_command_to_run(empty_store: str) -> None:
    engine = make_engine(empty_store)
    with pytest.raises(StoreNotReady, match="run `dispatch db upgrade`"):
        ensure_ready(engine, auto_upgrade=False)
    ensure_ready(engine, auto_upgrade=True)
    assert current_revision(engine) == HEAD_REVISION
    engine.dispose()


def test_database_urls_and_paths() -> None:
    from dispatch_tui.store import database_url

    assert database_url("/srv/x.db") == "sqlite:////srv/x.db"
    assert database_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url("~/d.db").startswith("sqlite:////")
