"""`dispatch assign|move|unassign|lock|unlock|candidates|schedule` as ops scripts use them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from tests.clock import DAY, ZONE, at, iso, naive
from tests.conftest import WEEKDAYS, dump
from tests.unit.importdata import ABSENCES, CUSTOMERS, REQUESTS, TECHNICIANS, D  # D: DAY, the day of the files


@pytest.fixture
def store(db_path: Path, engine: Engine) -> Path:
    for kind, content in ((ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, CUSTOMERS),
                          (ImportKind.REQUESTS, REQUESTS), (ImportKind.ABSENCES, ABSENCES)):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    return db_path


def dispatch(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--db", str(db), "--tz", "Europe/Paris", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_assign_prints_the_visit_and_json_for_scripts(store: Path) -> None:
    code, out, _ = dispatch(store, "assign", "R1", "T1", "--start", naive(DAY, "09:30"), "--json")
    assert code == 0
    assert json.loads(out) == {
        "job_ref": "R1", "status": "scheduled", "version": 2, "technician_ref": "T1",
        "start": iso(DAY, "09:30"), "end": iso(DAY, "10:30"), "locked": False, "override": [],
    }  # fmt: skip


def test_a_refused_assignment_exits_3_with_its_reasons_and_changes_nothing(store: Path, engine: Engine) -> None:
    before = dump(engine)
    code, _, err = dispatch(store, "assign", "R2", "T2", "--start", naive(DAY, "13:30"))
    assert code == 3
    assert "refused: Ben Okafor is off 13:00–17:00 (dentist)" in err
    assert "use --force" in err
    assert dump(engine) == before
    code, out, err = dispatch(store, "assign", "R2", "T2", "--start", naive(DAY, "13:30"), "--force")
    assert code == 0 and "overridden: Ben Okafor is off" in err and "assigned R2 → T2" in out


def test_stale_version_is_a_conflict_exit_1(store: Path) -> None:
    dispatch(store, "assign", "R1", "T1", "--start", naive(DAY, "09:30"))
    code, _, err = dispatch(store, "move", "R1", "--start", naive(DAY, "10:00"), "--if-version", "1")
    assert code == 1 and "conflict: R1 is at version 2, not 1" in err
    code, out, _ = dispatch(store, "move", "R1", "--start", naive(DAY, "10:00"), "--if-version", "2")
    assert code == 0 and "version 3" in out


def test_lock_unlock_unassign(store: Path) -> None:
    dispatch(store, "assign", "R1", "T1", "--start", naive(DAY, "09:30"))
    assert dispatch(store, "lock", "R1")[0] == 0
    code, _, err = dispatch(store, "unassign", "R1")
    assert code == 3 and "R1 is locked: unlock it first" in err
    assert dispatch(store, "unlock", "R1")[0] == 0
    code, out, _ = dispatch(store, "unassign", "R1", "--json")
    assert code == 0 and json.loads(out)["status"] == "new"


def test_unknown_job_or_bad_start(store: Path) -> None:
    code, _, err = dispatch(store, "assign", "R404", "T1", "--start", naive(DAY, "09:30"))
    assert code == 3 and "no job 'R404'" in err
    code, _, err = dispatch(store, "assign", "R1", "T1", "--start", "half past nine")
    assert code == 2 and "--start 'half past nine'" in err


def test_candidates_rank_options_with_reasons(store: Path) -> None:
    code, out, _ = dispatch(store, "candidates", "R3", "--json")
    assert code == 0
    options = json.loads(out)
    assert [o["technician_ref"] for o in options] == ["T1"]  # the only hvac technician
    assert set(options[0]) == {"technician_ref", "start", "end", "added_travel_minutes", "score", "reasons"}
    assert options[0]["start"] == iso(DAY, "10:00")  # as early as the window allows
    assert "last visit of the day" in options[0]["reasons"]


def test_candidates_when_nobody_can(store: Path) -> None:
    code, out, _ = dispatch(store, "candidates", "R2", "--json")  # plumbing, 13-15, and Ben is off 13-17
    assert code == 0 and json.loads(out) == []
    code, out, _ = dispatch(store, "candidates", "R2")
    assert "no technician can take R2" in out


def test_schedule_json_follows_the_contract(store: Path) -> None:
    dispatch(store, "assign", "R1", "T1", "--start", naive(DAY, "09:30"))
    code, out, _ = dispatch(store, "schedule", "--date", D, "--format", "json")
    assert code == 0
    plan = json.loads(out)
    assert plan["date"] == D
    [route] = plan["routes"]
    assert route == {
        "technician_ref": "T1",
        "start": iso(DAY, "09:28"),  # 2 min drive to R1
        "end": iso(DAY, "10:32"),
        "break": {"start": iso(DAY, "12:00"), "end": iso(DAY, "12:30")},
        "stops": [
            {"job_ref": "R1", "arrival": iso(DAY, "09:30"), "start": iso(DAY, "09:30"),
             "end": iso(DAY, "10:30"), "travel_minutes": 2, "locked": False,
             "outside_window": False, "broken_promises": [], "actual_start": None, "actual_end": None},
        ],
    }  # fmt: skip
    reasons = {u["job_ref"]: u["reasons"] for u in plan["unassigned"]}
    assert reasons["R2"] == [  # the only plumber is at the dentist for the whole window
        "every technician with skill plumbing working that day is off in 13:00-15:00",
        "Ben Okafor is off 13:00–17:00 (dentist)",
    ]
    assert reasons["R3"][0].startswith("not assigned yet: 1 technician(s) could take it, best T1 at")


def test_a_job_that_would_fit_an_empty_day_is_reported_as_everyone_full(store: Path, tmp_path: Path) -> None:
    dispatch(store, "assign", "R1", "T1", "--start", naive(DAY, "09:30"))  # Ana, the only hvac, 09:30-10:30
    extra = tmp_path / "urgent.csv"
    extra.write_text(
        "ref,customer_ref,skill,duration_min,priority,window_start,window_end,description,source\n"
        f"R4,C1,hvac,60,1,{D}T09:45,{D}T10:00,Fan noise,phone\n"
    )
    assert dispatch(store, "import", "requests", str(extra))[0] == 0
    code, out, _ = dispatch(store, "schedule", "--date", D, "--format", "json")
    assert code == 0
    reasons = {u["job_ref"]: u["reasons"] for u in json.loads(out)["unassigned"]}
    assert reasons["R4"] == [  # the technician is named, with what stops her
        "all 1 technician(s) with skill hvac who could take it are full in 09:45-10:00",
        "Ana Silva: R4 at 09:45 overlaps R1 (until 10:30)",
    ]


def test_an_absent_technician_is_not_counted_as_full(store: Path, tmp_path: Path) -> None:
    """Issue 12, point 4: a second hvac technician off all day is named as off, not counted among the full."""
    dispatch(store, "assign", "R1", "T1", "--start", naive(DAY, "09:30"))
    files = {
        "technicians": "ref,name,skills,home_lat,home_lon,shift_start,shift_end\n"
        "T3,Cora Lenz,hvac,45.7600,4.8400,08:00,17:00\n",
        "absences": f"technician_ref,start,end,reason\nT3,{D}T07:00,{D}T18:00,training\n",
        "requests": "ref,customer_ref,skill,duration_min,priority,window_start,window_end,description,source\n"
        f"R4,C1,hvac,60,1,{D}T09:45,{D}T10:00,Fan noise,phone\n",
    }
    for kind, content in files.items():
        (tmp_path / f"{kind}.csv").write_text(content)
        assert dispatch(store, "import", kind, str(tmp_path / f"{kind}.csv"))[0] == 0
    _, out, _ = dispatch(store, "schedule", "--date", D, "--format", "json")
    reasons = {u["job_ref"]: u["reasons"] for u in json.loads(out)["unassigned"]}
    assert reasons["R4"] == [
        "all 1 technician(s) with skill hvac who could take it are full in 09:45-10:00",
        "Ana Silva: R4 at 09:45 overlaps R1 (until 10:30)",
        "Cora Lenz is off 07:00–18:00 (training)",
    ]


def test_a_passed_window_is_said_by_candidates_and_schedule_alike(
    store: Path, set_clock: Callable[[datetime], None]
) -> None:
    """Issue 12, point 4: at noon, R1's 09:00-11:00 window of that day has passed: `candidates` says so (not
    "try more --days") and `schedule` says the same (not "1 technician could take it")."""
    set_clock(at(DAY, "12:00"))
    code, out, _ = dispatch(store, "candidates", "R1")
    assert code == 0
    window = f"{DAY:%a %d} 09:00-11:00"
    assert f"its window {window} has passed" in out
    assert "its promised window has passed: agree a new one with the customer" in out
    assert "--days" not in out
    code, out, _ = dispatch(store, "schedule", "--date", D, "--format", "json")
    reasons = {u["job_ref"]: u["reasons"] for u in json.loads(out)["unassigned"]}
    assert reasons["R1"] == [f"its window {window} has passed"]
    assert reasons["R3"][0].startswith("not assigned yet: 1 technician(s) could take it, best T1 at 12:")


def test_schedule_table_and_calendar(store: Path, tmp_path: Path) -> None:
    dispatch(store, "assign", "R1", "T1", "--start", naive(DAY, "09:30"))
    code, out, _ = dispatch(store, "schedule", "--date", D)
    assert code == 0 and "T1 Ana Silva: out 09:28, home 10:32, break 12:00–12:30" in out
    assert "every technician with skill plumbing working that day is off" in out
    code, out, _ = dispatch(store, "schedule", "--date", D, "--format", "ics", "--tech", "T1")
    assert code == 0
    events = Calendar.from_ical(out).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["R1 boiler: Claire Dubois", "Break"]
    assert events[0].decoded("dtstart").isoformat() == at(DAY, "09:30").isoformat()  # in UTC
    assert str(events[0]["location"]) == "12 Rue Garibaldi"
    code, out, _ = dispatch(store, "schedule", "--date", D, "-f", "ics", "--out", str(tmp_path / "cal"))
    assert code == 0 and (tmp_path / "cal" / "T1.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    code, _, err = dispatch(store, "schedule", "--date", D, "--format", "ics")
    assert code == 2 and "--tech" in err


def test_candidates_prefer_the_customers_last_technician(store: Path, tmp_path: Path) -> None:
    # A second hvac technician living next door to C2; Ana (T1) lives 2 km away.
    extra = tmp_path / "techs.csv"
    extra.write_text(
        TECHNICIANS.splitlines()[0] + "\n" + "T3,Chloé Martin,hvac,45.7445,4.8195,08:00,17:00,,,40.00,,,\n"
    )
    assert dispatch(store, "import", "technicians", str(extra))[0] == 0
    first = json.loads(dispatch(store, "candidates", "R3", "--json")[1])
    assert [o["technician_ref"] for o in first] == ["T3", "T1"]  # the neighbour, on driving alone
    assert dispatch(store, "assign", "R3", "T3", "--start", naive(DAY, "10:00"))[0] == 0
    later = tmp_path / "more.csv"
    next_day = (DAY + timedelta(days=1)).isoformat()
    later.write_text(
        REQUESTS.splitlines()[0] + "\n" + f"R5,C2,hvac,30,4,{next_day}T10:00,{next_day}T12:00,,Check,web,,,\n"
    )
    assert dispatch(store, "import", "requests", str(later))[0] == 0
    options = {o["technician_ref"]: o for o in json.loads(dispatch(store, "candidates", "R5", "--json")[1])}
    assert "visited this customer last (R3)" in options["T3"]["reasons"]
    assert not any("visited" in reason for reason in options["T1"]["reasons"])
    # The bonus is worth ten minutes of driving: T3's score is its driving minus 10.
    assert options["T3"]["score"] == options["T3"]["added_travel_minutes"] - 10
