"""The same store on PostgreSQL: migrations, UTC times and the import behave as on SQLite."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.store import make_engine, upgrade
from dispatch_tui.store.models import Job
from dispatch_tui.store.schema import HEAD_REVISION
from tests.clock import DAY, ZONE, at
from tests.conftest import WEEKDAYS, dump
from tests.unit.importdata import CUSTOMERS, REQUESTS, TECHNICIANS


def test_migrations_produce_exactly_the_models_schema_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    engine.dispose()


def test_import_is_idempotent_and_times_are_utc_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    for kind, content in (
        (ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, CUSTOMERS), (ImportKind.REQUESTS, REQUESTS),
    ):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    before = dump(engine)
    report = import_data(engine, ImportKind.REQUESTS, REQUESTS.encode(), FileFormat.CSV, zone=ZONE,
                         working_days=WEEKDAYS)  # fmt: skip
    assert report.unchanged == 3
    assert dump(engine) == before
    with Session(engine) as session:
        assert session.exec(select(Job).where(Job.ref == "R1")).one().window_start == at(DAY, "09:00")
    engine.dispose()


def test_a_server_store_must_be_upgraded_on_purpose(pg_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    refused = runner.invoke(app, ["--db", pg_url, "jobs", "list"])
    assert refused.exit_code == 1 and "run `dispatch db upgrade`" in refused.stderr
    upgraded = runner.invoke(app, ["--db", pg_url, "db", "upgrade"])
    assert upgraded.exit_code == 0 and f"empty → {HEAD_REVISION}" in upgraded.stdout
    assert runner.invoke(app, ["--db", pg_url, "jobs", "list", "--json"]).stdout.strip() == "[]"
