"""Issue 12, points 2 and 15, as a script runs them: a re-import that breaks a planned visit's promise is
named (and the visit kept), the schedule marks it, the optimizer copes; `dispatch late` lists who is behind."""

from __future__ import annotations

import json
from pathlib import Path

from tests.clock import DAY, iso, naive
from tests.e2e.test_cli_process import run
from tests.unit.importdata import CUSTOMERS, TECHNICIANS

HEADER = "ref,customer_ref,skill,duration_min,priority,window_start,window_end,source\n"


def requests_file(tmp_path: Path, window: tuple[str, str], duration: int = 60) -> Path:
    path = tmp_path / "requests.csv"
    path.write_text(HEADER + f"R1,C1,boiler,{duration},2,{naive(DAY, window[0])},{naive(DAY, window[1])},phone\n")
    return path


def planned_store(tmp_path: Path) -> str:
    """T1 (boiler) visits R1 at 14:00 on DAY, inside its window 13:00–15:00."""
    tmp_path.mkdir(exist_ok=True)
    db = str(tmp_path / "store.db")
    (tmp_path / "technicians.csv").write_text(TECHNICIANS)
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    for kind in ("technicians", "customers"):
        assert run("--db", db, "import", kind, str(tmp_path / f"{kind}.csv")).returncode == 0
    assert run("--db", db, "import", "requests", str(requests_file(tmp_path, ("13:00", "15:00")))).returncode == 0
    placed = run("--db", db, "assign", "R1", "T1", "--start", naive(DAY, "14:00"))
    assert placed.returncode == 0, placed.stderr
    return db


def test_a_reimport_that_moves_the_window_keeps_the_visit_and_names_it(tmp_path: Path) -> None:
    db = planned_store(tmp_path)
    moved = requests_file(tmp_path, ("08:00", "10:00"))
    preview = run("--db", db, "import", "requests", str(moved), "--dry-run", "--json")
    assert preview.returncode == 0, preview.stderr
    assert json.loads(preview.stdout)["broken_promises"] == [
        {
            "job_ref": "R1",
            "technician_ref": "T1",
            "kind": "outside_window",
            "message": "R1: visit at 14:00 is outside its window 08:00–10:00 — move it: dispatch candidates R1",
        }
    ]
    done = run("--db", db, "import", "requests", str(moved))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "imported 1 requests from requests.csv: 0 created, 1 updated, 0 unchanged",
        "1 planned visit(s) no longer keep their promise:",
        "  R1: visit at 14:00 is outside its window 08:00–10:00 — move it: dispatch candidates R1",
    ]
    plan = json.loads(run("--db", db, "schedule", "--date", DAY.isoformat(), "--format", "json").stdout)
    (stop,) = plan["routes"][0]["stops"]
    assert (stop["job_ref"], stop["start"], stop["outside_window"]) == ("R1", iso(DAY, "14:00"), True)
    assert stop["broken_promises"] == ["R1: visit at 14:00 is outside its window 08:00–10:00"]
    table = run("--db", db, "schedule", "--date", DAY.isoformat())
    assert "! outside window" in table.stdout
    assert "! R1: visit at 14:00 is outside its window 08:00–10:00 — move it: dispatch candidates R1" in table.stdout


def test_a_longer_duration_is_named_too_and_an_unchanged_file_names_nothing(tmp_path: Path) -> None:
    db = planned_store(tmp_path)
    same = run("--db", db, "import", "requests", str(requests_file(tmp_path, ("13:00", "15:00"))), "--json")
    assert json.loads(same.stdout)["broken_promises"] == []
    longer = run("--db", db, "import", "requests", str(requests_file(tmp_path, ("13:00", "15:00"), 90)))
    assert longer.returncode == 0, longer.stderr
    assert "  R1: 60 min are planned at 14:00, the job now takes 90 min — move it: dispatch candidates R1" in (
        longer.stdout.splitlines()
    )


def test_the_optimizer_replans_an_unlocked_visit_into_its_new_window_and_keeps_a_locked_one(tmp_path: Path) -> None:
    db = planned_store(tmp_path)
    assert run("--db", db, "import", "requests", str(requests_file(tmp_path, ("08:00", "10:00")))).returncode == 0
    applied = run("--db", db, "optimize", "--date", DAY.isoformat(), "--apply", "--time-limit", "1", "--json")
    assert applied.returncode == 0, applied.stderr
    plan = json.loads(run("--db", db, "schedule", "--date", DAY.isoformat(), "--format", "json").stdout)
    (stop,) = [s for route in plan["routes"] for s in route["stops"]]
    assert iso(DAY, "08:00") <= stop["start"] <= iso(DAY, "10:00") and not stop["outside_window"]

    db = planned_store(tmp_path / "locked")
    assert run("--db", db, "lock", "R1").returncode == 0
    assert run("--db", db, "import", "requests", str(requests_file(tmp_path, ("08:00", "10:00")))).returncode == 0
    kept = run("--db", db, "optimize", "--date", DAY.isoformat(), "--apply", "--time-limit", "1", "--json")
    assert kept.returncode == 0, kept.stderr
    plan = json.loads(run("--db", db, "schedule", "--date", DAY.isoformat(), "--format", "json").stdout)
    (stop,) = [s for route in plan["routes"] for s in route["stops"]]
    assert (stop["start"], stop["locked"], stop["outside_window"]) == (iso(DAY, "14:00"), True, True)


def test_late_lists_who_is_behind_and_the_visits_that_will_miss_their_window(tmp_path: Path) -> None:
    db = planned_store(tmp_path)
    at_noon = {"DISPATCH_NOW": DAY.isoformat() + "T12:00"}
    assert run("--db", db, "status", "R1", "dispatched", env_extra=at_noon).returncode == 0
    on_time = run("--db", db, "late", "--date", DAY.isoformat(), env_extra=at_noon)
    assert on_time.returncode == 0, on_time.stderr
    assert on_time.stdout.startswith("nobody is running late on ")

    # 15:10 and T1 has not left for R1 (14:00, window to 15:00): it cannot start before 15:10 + the drive.
    late_now = {"DISPATCH_NOW": DAY.isoformat() + "T15:10"}
    listed = run("--db", db, "late", "--date", DAY.isoformat(), "--json", env_extra=late_now)
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert (found["date"], found["now"], found["grace_minutes"]) == (DAY.isoformat(), iso(DAY, "15:10"), 15)
    (tech,) = found["technicians"]
    (visit,) = tech["visits"]
    assert visit["projected_start"] > iso(DAY, "15:10"), "now plus the drive"
    assert (tech["technician_ref"], visit["job_ref"], visit["status"], visit["misses_window"]) == (
        "T1", "R1", "dispatched", True,
    )  # fmt: skip
    assert tech["behind_minutes"] == visit["delay_minutes"] >= 70
    assert tech["reason"].startswith("has not left for R1 (planned to leave ")
    text = run("--db", db, "late", "--date", DAY.isoformat(), env_extra=late_now)
    assert text.returncode == 0
    assert "1 technician(s) running late on " in text.stdout
    assert "T1 Ana Silva: " in text.stdout
    projected = visit["projected_start"][11:16]
    assert f"! R1 now starts {projected}, after its window closes 15:00: dispatch candidates R1" in text.stdout
