"""Issue 12, points 3, 16 and 18 (DTSTAMP): a visit is shown at its actual times once the audit trail has
them (grid, `jobs list`, the schedule JSON, the .ics export), `jobs show REF`, `jobs list --customer`.

The store is ``workdata``'s past day: R1 (T1 Ana) planned 09:30–10:30, R3 (T1) planned 11:00–12:30.
R1 is taken on site at 09:40 and completed at 10:45; R3 arrives at 11:20 and is still on site.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import Engine
from sqlmodel import Session

from dispatch_tui.services.execution import board
from dispatch_tui.services.execution.actual_times import actual_times
from tests.clock import ZONE, iso, naive
from tests.unit.test_billing import dispatch
from tests.unit.workdata import DAY, at, load, travel

D = DAY.isoformat()


@pytest.fixture
def db(engine: Engine, db_path: Path) -> Path:
    load(engine)
    steps = (("R1", "dispatched", "08:50"), ("R1", "en_route", "09:00"), ("R1", "on_site", "09:40"),
             ("R1", "completed", "10:45"), ("R3", "dispatched", "10:50"), ("R3", "en_route", "11:00"),
             ("R3", "on_site", "11:20"))  # fmt: skip
    for ref, status, moment in steps:
        code, _, err = dispatch(db_path, "status", ref, status, "--at", naive(DAY, moment))
        assert code == 0, err
    return db_path


@pytest.fixture
def at_1330(set_clock: Callable[[datetime], None]) -> None:
    """The day itself at 13:30: R3 has been on site longer than its planned 90 minutes."""
    set_clock(at("13:30"))


def test_one_query_reads_the_actual_times_of_many_jobs(db: Path, engine: Engine, at_1330: None) -> None:
    with Session(engine) as session:
        found = actual_times(session, at("13:30"), ["R1", "R2", "R3", "R4", "R5"])
        assert actual_times(session, at("12:00"), ["R3"])["R3"].end == at("12:50")  # planned length from 11:20
    assert set(found) == {"R1", "R3"}  # the others have not started: their plan stands
    assert (found["R1"].start, found["R1"].end, found["R1"].done) == (at("09:40"), at("10:45"), True)
    assert (found["R3"].start, found["R3"].end, found["R3"].done) == (at("11:20"), at("13:30"), False)  # now


def test_the_grid_draws_visits_at_their_actual_times(db: Path, engine: Engine, at_1330: None) -> None:
    with Session(engine) as session:
        day_grid = board.grid(session, DAY, ZONE, at("13:30"), travel)
    (row,) = [r for r in day_grid.rows if r.tech_ref == "T1"]
    blocks = {b.job_ref: (day_grid.frame.clock(b.start), day_grid.frame.clock(b.end)) for b in row.blocks}
    assert blocks["R1"] == ("09:40", "10:45")  # planned 09:30–10:30
    assert blocks["R3"] == ("11:20", "13:30")  # planned 11:00–12:30; on site since 11:20, now is later
    assert blocks["R4"] == ("15:00", "16:00")  # not started: the plan


def test_jobs_list_gives_actual_times_once_known(db: Path, at_1330: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # the table's full width, as on a wide terminal
    code, out, err = dispatch(db, "jobs", "list", "--json")
    assert code == 0, err
    jobs = {job["ref"]: job for job in json.loads(out)}
    assert (jobs["R1"]["start"], jobs["R1"]["end"]) == (iso(DAY, "09:30"), iso(DAY, "10:30"))  # the plan, kept
    assert (jobs["R1"]["actual_start"], jobs["R1"]["actual_end"]) == (iso(DAY, "09:40"), iso(DAY, "10:45"))
    assert (jobs["R3"]["actual_start"], jobs["R3"]["actual_end"]) == (iso(DAY, "11:20"), iso(DAY, "13:30"))
    assert (jobs["R4"]["actual_start"], jobs["R4"]["actual_end"]) == (None, None)
    code, out, _ = dispatch(db, "jobs", "list", "--status", "completed", "--json")  # a filtered list too
    assert [(j["ref"], j["actual_end"]) for j in json.loads(out)] == [("R1", iso(DAY, "10:45"))]
    code, out, _ = dispatch(db, "jobs", "list")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip().startswith("R")}
    assert "09:30–10:30" in lines["R1"] and lines["R1"].rstrip().endswith("09:40–10:45")
    assert lines["R3"].rstrip().endswith("since 11:20")
    assert "since" not in lines["R4"] and lines["R4"].rstrip().endswith("15:00–16:00")


def test_the_schedule_json_adds_actual_times_to_its_stops(db: Path, at_1330: None) -> None:
    code, out, err = dispatch(db, "schedule", "--date", D, "--format", "json", "--tech", "T1")
    assert code == 0, err
    stops = {s["job_ref"]: s for s in json.loads(out)["routes"][0]["stops"]}
    assert (stops["R1"]["start"], stops["R1"]["end"]) == (iso(DAY, "09:30"), iso(DAY, "10:30"))  # contract kept
    assert (stops["R1"]["actual_start"], stops["R1"]["actual_end"]) == (iso(DAY, "09:40"), iso(DAY, "10:45"))
    assert (stops["R3"]["actual_start"], stops["R3"]["actual_end"]) == (iso(DAY, "11:20"), iso(DAY, "13:30"))
    assert (stops["R4"]["actual_start"], stops["R4"]["actual_end"]) == (None, None)


def test_the_calendar_has_actual_times_and_one_dtstamp_per_event(db: Path, at_1330: None) -> None:
    code, out, err = dispatch(db, "schedule", "--date", D, "--format", "ics", "--tech", "T1")
    assert code == 0, err
    assert out.count("BEGIN:VEVENT") == out.count("DTSTAMP:") == 4  # R1, R3, R4 and the break
    stamp = at("13:30").astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")  # the clock's now, in UTC
    assert all(line == f"DTSTAMP:{stamp}" for line in out.splitlines() if line.startswith("DTSTAMP"))
    events = Calendar.from_ical(out).walk("VEVENT")
    assert all(len(event.get("DTSTAMP").to_ical()) == 16 for event in events)  # one, YYYYMMDDTHHMMSSZ
    times = {str(e.get("SUMMARY")).split()[0]: (e.decoded("DTSTART"), e.decoded("DTEND")) for e in events}
    assert times["R1"] == (at("09:40"), at("10:45"))
    assert times["R3"] == (at("11:20"), at("13:30"))
    assert times["R4"] == (at("15:00"), at("16:00"))


def test_jobs_show_is_the_status_panes_content(db: Path, at_1330: None) -> None:
    code, out, err = dispatch(db, "jobs", "show", "R1", "--json")
    assert code == 0, err
    job = json.loads(out)
    assert (job["ref"], job["status"], job["customer_name"], job["address"]) == (
        "R1", "completed", "Claire Dubois", "12 Rue Garibaldi",
    )  # fmt: skip
    assert (job["window_start"], job["window_end"], job["due_by"]) == (
        iso(DAY, "09:00"), iso(DAY, "11:00"), iso(DAY, "12:00"),
    )  # fmt: skip
    assert (job["technician_ref"], job["technician_name"]) == ("T1", "Ana Silva")
    assert (job["start"], job["end"]) == (iso(DAY, "09:30"), iso(DAY, "10:30"))
    assert (job["actual_start"], job["actual_end"]) == (iso(DAY, "09:40"), iso(DAY, "10:45"))
    assert job["description"] == "No heat"
    assert [e["to_status"] for e in job["events"]][-4:] == ["dispatched", "en_route", "on_site", "completed"]
    assert job["events"][-1]["at"] == iso(DAY, "10:45")
    code, out, _ = dispatch(db, "jobs", "show", "R5", "--json")  # C1's other job: R1 is a past visit of it
    assert [(v["job_ref"], v["status"]) for v in json.loads(out)["past_visits"]] == [("R1", "completed")]

    code, out, err = dispatch(db, "jobs", "show", "R1")
    assert code == 0, err
    for fact in ("R1", "completed", "Claire Dubois (C1)", "12 Rue Garibaldi", "window", "due", "Ana Silva (T1)",
                 "09:30–10:30", "actual", "09:40–10:45", "No heat", "audit trail", "on_site → completed"):  # fmt: skip
        assert fact in out, fact
    code, out, _ = dispatch(db, "jobs", "show", "R3")
    assert "on site since" in out and "11:20" in out


def test_jobs_show_of_an_unknown_ref_says_so(db: Path) -> None:
    code, out, err = dispatch(db, "jobs", "show", "R404")
    assert (code, out) == (3, "")  # as status, assign and candidates do for a ref that does not exist
    assert "no job 'R404'" in err and "dispatch jobs list" in err and "Traceback" not in err


def test_jobs_list_by_customer_ref_or_part_of_its_name(db: Path) -> None:
    def refs(*args: str) -> list[str]:
        code, out, err = dispatch(db, "jobs", "list", "--json", *args)
        assert code == 0, err
        return sorted(job["ref"] for job in json.loads(out))

    assert refs("--customer", "C2") == ["R2", "R3"]
    assert refs("--customer", "hARBOUR") == ["R2", "R3"]  # Harbour Bakery, any case
    assert refs("--customer", "dubois", "--status", "completed") == ["R1"]
    assert refs("--customer", "nobody") == []
    assert refs("--customer", "%") == []  # a LIKE wildcard is a plain character
    code, out, _ = dispatch(db, "jobs", "list", "-c", "care")
    assert code == 0 and "R4" in out and "1 job(s)" in out
