"""The installed `dispatch` script as cron and ops scripts run it: a real process, no terminal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clock import DAY, naive

DISPATCH = shutil.which("dispatch", path=str(Path(sys.executable).parent)) or "dispatch"
KINDS = ("technicians", "customers", "requests", "absences", "rates", "parts")


def run(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command; it inherits the suite's clock (DISPATCH_NOW: the evening before DAY)."""
    env = {**os.environ, "DISPATCH_TIMEZONE": "Europe/Paris", **(env_extra or {})}
    return subprocess.run([DISPATCH, *args], capture_output=True, text=True, env=env, timeout=60, check=False)


def sample_files(tmp_path: Path) -> Path:
    """The sample import files for DAY, made the way the README tells a user to: `dispatch demo --files`."""
    files = tmp_path / "samples"
    made = run("demo", "--files", str(files), "--date", "tomorrow")  # DAY: the suite's clock reads the evening before
    assert made.returncode == 0, made.stderr
    return files


def test_import_the_sample_files_then_read_them_back_as_json(tmp_path: Path) -> None:
    db, files = str(tmp_path / "store.db"), sample_files(tmp_path)
    for kind in KINDS:
        done = run("--db", db, "import", kind, str(files / f"{kind}.csv"))
        assert done.returncode == 0, done.stderr
        assert "created" in done.stdout
    listed = run("--db", db, "jobs", "list", "--json", "--date", DAY.isoformat())
    jobs = json.loads(listed.stdout)  # plain JSON: no colour codes, no wrapping when piped
    assert len(jobs) == 60 and all(j["status"] == "new" for j in jobs)
    techs = json.loads(run("techs", "list", "--json", env_extra={"DISPATCH_DB": db}).stdout)
    assert len(techs) == 12


def test_a_rejected_file_exits_3_with_one_line_per_problem_on_stderr(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    bad = tmp_path / "requests.csv"
    bad.write_text(
        "ref,customer_ref,skill,duration_min,priority,window_start,window_end,source\n"
        f"R1,C1,boiler,sixty,2,{naive(DAY, '09:00')},{naive(DAY, '11:00')},phone\n"
        f"R2,C1,boiler,60,9,{naive(DAY, '09:00')},{naive(DAY, '11:00')},fax\n"
    )
    done = run("--db", db, "import", "requests", str(bad))
    assert done.returncode == 3
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[:3] == [
        "requests.csv: line 2, duration_min: must be a whole number of minutes from 1 to 1440, got 'sixty'",
        "requests.csv: line 3, priority: must be 1 (emergency), 2, 3 or 4 (low), got '9'",
        "requests.csv: line 3, source: must be one of phone, web, email, technician, back_office, got 'fax'",
    ]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("heavy", ["sqlmodel", "sqlalchemy", "ortools", "textual"])
def test_the_cli_start_path_stays_light(heavy: str) -> None:
    code = f"import sys, cli.main; sys.exit(1 if {heavy!r} in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0, f"{heavy} loaded at start"


def test_usage_errors_exit_2() -> None:
    assert run("import", "plumbers", "x.csv").returncode == 2
    assert run("jobs", "list", "--bogus").returncode == 2


def test_a_store_locked_by_another_writer_fails_cleanly_and_writes_nothing(tmp_path: Path) -> None:
    import sqlite3

    db, files = tmp_path / "store.db", sample_files(tmp_path)
    assert run("--db", str(db), "import", "technicians", str(files / "technicians.csv")).returncode == 0
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process mid-write, for longer than the busy timeout
    try:
        done = run("--db", str(db), "import", "customers", str(files / "customers.csv"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 1
    assert "database is locked (another process is writing; try again); nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads(run("--db", str(db), "jobs", "list", "--json").stdout) == []
    customers = sqlite3.connect(db).execute("SELECT count(*) FROM customer").fetchone()[0]
    assert customers == 0


def test_plan_a_job_from_the_shell(tmp_path: Path) -> None:
    """candidates -> assign the best -> schedule JSON, as an ops script would; exit codes per docs/exit-codes.md."""
    db, files = str(tmp_path / "store.db"), sample_files(tmp_path)
    for kind in KINDS:
        assert run("--db", db, "import", kind, str(files / f"{kind}.csv")).returncode == 0
    options = json.loads(run("--db", db, "candidates", "R00001", "--json").stdout)
    assert options, "the demo's first request has takers"
    best = options[0]
    done = run("--db", db, "assign", "R00001", best["technician_ref"], "--start", best["start"], "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "scheduled"
    again = run("--db", db, "assign", "R00001", best["technician_ref"], "--start", best["start"])
    assert again.returncode == 3 and "use move" in again.stderr
    plan = json.loads(run("--db", db, "schedule", "--date", "tomorrow", "--format", "json").stdout)
    assert plan["date"] == DAY.isoformat()
    [route] = plan["routes"]
    assert route["technician_ref"] == best["technician_ref"]
    assert route["stops"][0]["start"] == best["start"]
    assert len(plan["unassigned"]) == 59 and all(u["reasons"] for u in plan["unassigned"])
