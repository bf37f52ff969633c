"""`dispatch backup` / `dispatch restore`: a consistent copy of a store in use, a restore that puts it
back exactly, and a bad backup or a missing --yes that touches nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.services.intake.demo import build_demo
from dispatch_tui.services.intake.demo_data import DemoSpec
from dispatch_tui.store import make_engine
from tests.clock import DAY, at
from tests.conftest import dump

ZONE = ZoneInfo("Europe/Paris")


def dispatch(db: Path | str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--db", str(db), "--tz", "Europe/Paris", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def demo(engine: Engine) -> None:
    build_demo(engine, DemoSpec(day=DAY, technicians=4, requests=20), ZONE, now=at(DAY, "11:00"))


def test_a_backup_taken_during_a_write_holds_what_was_committed(db_path: Path, engine: Engine, tmp_path: Path) -> None:
    demo(engine)
    committed = dump(engine)
    writer = sqlite3.connect(db_path)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write, not committed
    writer.execute("UPDATE job SET description = 'half-written' WHERE id = 1")
    try:
        code, out, err = dispatch(db_path, "backup", str(tmp_path / "nightly.db"))
    finally:
        writer.rollback()
        writer.close()
    assert code == 0, err
    assert "backed up" in out and "20 jobs, 4 technicians" in out
    assert dump(make_engine(tmp_path / "nightly.db")) == committed
    assert not list(tmp_path.glob(".*.partial"))


def test_restore_puts_the_store_back_exactly(db_path: Path, engine: Engine, tmp_path: Path) -> None:
    demo(engine)
    before = dump(engine)
    assert dispatch(db_path, "backup", str(tmp_path / "b.db"))[0] == 0
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM jobevent"))
        connection.execute(text("UPDATE job SET priority = 4"))
    assert dump(engine) != before
    code, _, err = dispatch(db_path, "restore", str(tmp_path / "b.db"))
    assert code == 1 and "add --yes" in err  # nothing happens without the confirmation
    code, out, err = dispatch(db_path, "restore", str(tmp_path / "b.db"), "--yes")
    assert code == 0, err
    assert "restored" in out
    assert dump(make_engine(db_path)) == before


def test_a_file_that_is_not_a_dispatch_backup_is_refused_and_the_store_untouched(
    db_path: Path, engine: Engine, tmp_path: Path
) -> None:
    demo(engine)
    before = dump(engine)
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    for bad, reason in ((junk, "not an SQLite database"), (other, "not a dispatch store")):
        code, _, err = dispatch(db_path, "restore", str(bad), "--yes")
        assert code == 3 and reason in err and "the store was not touched" in err, err
    assert dump(engine) == before


def test_a_server_store_is_pointed_to_pg_dump(tmp_path: Path) -> None:
    code, _, err = dispatch("postgresql+psycopg://ops@db.example.test/dispatch", "backup", str(tmp_path / "x"))
    assert code == 1
    assert "pg_dump --format=custom" in err and "postgresql://ops@db.example.test/dispatch" in err
    assert not (tmp_path / "x").exists()
