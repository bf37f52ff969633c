"""`dispatch jobs list` and `dispatch techs list`: what scripts read."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.services.intake.demo import build_demo
from dispatch_tui.services.intake.demo_data import DemoSpec
from tests.clock import DAY, ZONE, offset
from tests.unit.test_demo import NOON

IMPORT_REQUEST_COLUMNS = {
    "ref", "customer_ref", "skill", "duration_min", "priority", "window_start", "window_end", "due_by",
    "description", "source", "lat", "lon", "address",
}  # fmt: skip
IMPORT_TECHNICIAN_COLUMNS = {
    "ref", "name", "skills", "home_lat", "home_lon", "shift_start", "shift_end", "break_start", "break_minutes",
    "hourly_cost", "phone", "email", "territory",
}  # fmt: skip


@pytest.fixture
def demo_db(db_path: Path, engine: Engine) -> Path:
    build_demo(engine, DemoSpec(day=DAY), ZONE, now=NOON)
    return db_path


def run(db: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--db", str(db), "--tz", "Europe/Paris", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_jobs_json_keys_are_the_import_columns_plus_status_and_placement(demo_db: Path) -> None:
    jobs = json.loads(run(demo_db, "jobs", "list", "--json"))
    assert len(jobs) == 60
    for job in jobs:
        placed = job["status"] != "new"
        expected = IMPORT_REQUEST_COLUMNS | {"status", "actual_start", "actual_end"}
        assert set(job) == expected | ({"technician_ref", "start", "end"} if placed else set())
        assert (job["actual_start"] is None) == (job["status"] not in ("on_site", "completed", "needs_follow_up"))
    first = jobs[0]
    assert first["priority"] == 1
    assert first["window_start"].startswith(f"{DAY.isoformat()}T") and first["window_start"].endswith(offset(DAY))


def test_jobs_filter_by_status_and_day(demo_db: Path) -> None:
    done = json.loads(run(demo_db, "jobs", "list", "--json", "--status", "completed", "--status", "needs_follow_up"))
    assert done and {j["status"] for j in done} <= {"completed", "needs_follow_up"}
    assert json.loads(run(demo_db, "jobs", "list", "--json", "--date", (DAY + timedelta(days=1)).isoformat())) == []
    assert len(json.loads(run(demo_db, "jobs", "list", "--json", "--date", DAY.isoformat()))) == 60


def test_a_bad_status_or_date_is_a_usage_error(demo_db: Path) -> None:
    result = CliRunner().invoke(app, ["--db", str(demo_db), "jobs", "list", "--status", "lost"])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["--db", str(demo_db), "jobs", "list", "--date", "1st of May"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr


def test_techs_json_keys_are_the_import_columns_plus_status(demo_db: Path) -> None:
    techs = json.loads(run(demo_db, "techs", "list", "--json"))
    assert len(techs) == 12
    assert all(set(t) == IMPORT_TECHNICIAN_COLUMNS | {"status"} for t in techs)
    assert all(isinstance(t["skills"], list) and t["skills"] for t in techs)
    assert {t["status"] for t in techs} <= {"off_shift", "on_shift", "on_break", "absent", "en_route", "on_site"}


def test_table_output_for_people(demo_db: Path) -> None:
    out = run(demo_db, "jobs", "list")
    assert "60 job(s)" in out and "R000" in out
    assert "12 technician(s)" in run(demo_db, "techs", "list")


def test_a_store_url_that_cannot_be_opened_fails_cleanly() -> None:
    result = CliRunner().invoke(app, ["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "jobs", "list"])
    assert result.exit_code == 1
    assert "cannot open the store" in result.stderr
