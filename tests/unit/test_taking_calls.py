"""`dispatch request new|note` and `dispatch book`: a call taken, checked, guarded against duplicates,
promised a time and planned, as a dispatcher (or a script) does it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.store.models import FollowUp, Job, JobEvent
from tests.clock import DAY, NOW, ZONE, at, iso, naive
from tests.conftest import WEEKDAYS, dump
from tests.unit.importdata import ABSENCES, CUSTOMERS, REQUESTS, TECHNICIANS

WEDNESDAY = DAY + timedelta(days=1)


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


def events(engine: Engine, ref: str) -> list[tuple[str | None, str, str]]:
    with Session(engine) as session:
        job = session.exec(select(Job).where(Job.ref == ref)).one()
        found = session.exec(select(JobEvent).where(JobEvent.job_id == job.id).order_by(col(JobEvent.id))).all()
        return [(e.from_status, e.to_status, e.note) for e in found]


def test_a_new_request_gets_the_next_ref_and_stays_open_until_a_time_is_agreed(store: Path, engine: Engine) -> None:
    code, out, err = dispatch(store, "request", "new", "--customer", "C2", "--skill", "hvac", "--duration", "45",
                              "--priority", "2", "-m", "Unit rattles", "--anyway")  # fmt: skip
    assert code == 0, err
    assert out.strip() == "R4"  # after R1–R3: scripts read the ref from stdout
    assert "dispatch slots R4" in err
    code, out, _ = dispatch(store, "jobs", "show", "R4", "--json")
    shown = json.loads(out)
    assert (shown["status"], shown["skill"], shown["duration_min"], shown["priority"], shown["source"]) == (
        "new", "hvac", 45, 2, "phone")  # fmt: skip
    assert shown["description"] == "Unit rattles"
    assert shown["window_start"] == iso(NOW.astimezone(ZONE).date(), "18:01")  # from now …
    assert shown["window_end"] == iso(NOW.astimezone(ZONE).date() + timedelta(days=5), "23:59")  # … for slot_days
    assert events(engine, "R4") == [(None, "new", "request taken (phone)")]


def test_a_request_is_checked_like_an_imported_one_and_nothing_is_written(store: Path, engine: Engine) -> None:
    before = dump(engine)
    code, _, err = dispatch(store, "request", "new", "--customer", "C1", "--skill", "hvac", "--duration", "30",
                            "--window-start", naive(DAY, "11:00"), "--window-end", naive(DAY, "10:00"))  # fmt: skip
    assert code == 3 and "window_end: the window ends before (or when) it starts" in err
    code, _, err = dispatch(store, "request", "new", "--customer", "C9", "--skill", "hvac", "--duration", "30")
    assert code == 3 and "no customer 'C9'" in err and "dispatch customers new" in err
    code, _, err = dispatch(store, "request", "new", "--customer", "C1", "--skill", "roofing", "--duration", "30")
    assert code == 3 and "no technician has skill 'roofing'" in err
    code, _, err = dispatch(store, "request", "new", "--customer", "C1", "--skill", "hvac", "--due", "soon")
    assert code == 2 and "--due 'soon'" in err
    code, _, err = dispatch(store, "request", "new", "--customer", "C1", "--skill", "hvac", "--priority", "7")
    assert code == 2
    assert dump(engine) == before


def test_the_duration_defaults_to_what_the_skills_visits_really_took(
    store: Path, engine: Engine, set_clock: pytest.FixtureRequest
) -> None:
    code, _, err = dispatch(store, "request", "new", "--customer", "C2", "--skill", "boiler", "--anyway")
    assert code == 3 and "no finished visit of skill 'boiler'" in err and "--duration" in err
    assert dispatch(store, "assign", "R1", "T1", "--start", naive(DAY, "09:00"))[0] == 0
    set_clock(at(DAY, "12:00"))  # type: ignore[operator]  # the fixture is a function: move the clock
    assert dispatch(store, "status", "R1", "dispatched", "--at", "08:30")[0] == 0
    code, _, err = dispatch(store, "complete", "R1", "--started", "09:10", "--at", "09:50")  # 40 min, planned 60
    assert code == 0, err
    code, out, _ = dispatch(store, "request", "new", "--customer", "C2", "--skill", "boiler", "--anyway", "--json")
    assert code == 0 and json.loads(out)["duration_min"] == 40


def test_an_open_job_of_the_same_customer_and_skill_stops_a_second_request(store: Path, engine: Engine) -> None:
    before = dump(engine)
    code, out, err = dispatch(store, "request", "new", "--customer", "C1", "--skill", "boiler", "--duration", "30",
                              "--json")  # fmt: skip
    assert code == 3
    assert "possible duplicate: R1 (new, boiler) is open: same customer and skill" in err
    assert "dispatch request note R1" in err and "--anyway" in err
    assert json.loads(out) == {"duplicates": [{"ref": "R1", "status": "new", "skill": "boiler",
                                               "why": "same customer and skill"}]}  # fmt: skip
    assert dump(engine) == before
    # The same site within a week, another skill: C2's own address has R2 (plumbing) open.
    code, _, err = dispatch(store, "request", "new", "--customer", "C2", "--skill", "boiler", "--duration", "30")
    assert code == 3 and "R2 (new, plumbing) is open: same site, created today" in err
    # Recorded on the job instead: an audit note, and a version for the next writer.
    code, out, _ = dispatch(store, "request", "note", "R1", "--note", "called again: still cold", "--json")
    assert code == 0 and json.loads(out) == {"job_ref": "R1", "version": 2}
    assert events(engine, "R1")[-1] == ("new", "new", "call: called again: still cold")
    # Or taken anyway.
    code, out, _ = dispatch(store, "request", "new", "--customer", "C1", "--skill", "boiler", "--duration", "30",
                            "--anyway")  # fmt: skip
    assert code == 0 and out.strip() == "R4"


def test_a_request_reported_by_a_technician_names_them_and_links_the_visit(store: Path, engine: Engine) -> None:
    code, out, _ = dispatch(store, "request", "new", "--customer", "C2", "--skill", "hvac", "--duration", "30",
                            "--reported-by", "T1", "--from-visit", "R3", "--anyway", "--json")  # fmt: skip
    assert code == 0
    made = json.loads(out)
    assert (made["source"], made["reported_by"], made["from_visit"]) == ("technician", "T1", "R3")
    assert events(engine, made["ref"]) == [(None, "new", "reported by T1 (Ana Silva) at R3")]
    with Session(engine) as session:
        link = session.exec(select(FollowUp)).one()
        first = session.exec(select(Job).where(Job.ref == "R3")).one()
        assert link.of_job_id == first.id
    code, _, err = dispatch(store, "request", "new", "--customer", "C2", "--skill", "hvac", "--duration", "30",
                            "--reported-by", "T9")  # fmt: skip
    assert code == 3 and "no technician 'T9'" in err


def test_booking_promises_the_window_and_plans_the_visit_with_a_confirmation(
    store: Path, engine: Engine, tmp_path: Path
) -> None:
    code, out, err = dispatch(store, "book", "R3", "--slot", naive(WEDNESDAY, "10:00"), "--confirmation",
                              str(tmp_path / "out"), "--json")  # fmt: skip
    assert code == 0, err
    booked = json.loads(out)
    assert (booked["window_start"], booked["window_end"]) == (iso(WEDNESDAY, "10:00"), iso(WEDNESDAY, "12:00"))
    assert booked["technician_ref"] == "T1"  # the only one with hvac
    assert iso(WEDNESDAY, "10:00") <= booked["start"] <= iso(WEDNESDAY, "12:00")
    assert booked["confirmation"] == str(tmp_path / "out" / "R3.ics")
    notes = [note for _, _, note in events(engine, "R3")]
    assert notes[-2].startswith(f"promised {WEDNESDAY:%a %d %b} 10:00–12:00 (was ")
    assert notes[-1].startswith("assigned to T1 (Ana Silva)")
    [event] = Calendar.from_ical((tmp_path / "out" / "R3.ics").read_bytes()).walk("VEVENT")
    assert event.decoded("dtstart") == at(WEDNESDAY, "10:00") and event.decoded("dtend") == at(WEDNESDAY, "12:00")
    assert str(event["location"]) == "5 Quai Rambaud" and str(event["uid"]) == "R3@dispatch"
    assert "R3" in str(event["description"])
    code, _, err = dispatch(store, "book", "R3", "--slot", naive(WEDNESDAY, "14:00"))
    assert code == 3 and "R3 is scheduled: only a waiting request is booked" in err


def test_promise_only_leaves_the_technician_to_the_optimizer(store: Path) -> None:
    code, out, _ = dispatch(store, "book", "R1", "--slot", naive(WEDNESDAY, "08:30"), "--window-minutes", "60",
                            "--promise-only", "--json")  # fmt: skip
    assert code == 0
    booked = json.loads(out)
    assert (booked["window_start"], booked["window_end"]) == (iso(WEDNESDAY, "08:30"), iso(WEDNESDAY, "09:30"))
    assert booked["technician_ref"] is None and booked["start"] is None
    assert json.loads(dispatch(store, "jobs", "show", "R1", "--json")[1])["status"] == "new"


def test_a_window_nobody_can_keep_or_that_has_passed_is_refused_and_nothing_changes(
    store: Path, engine: Engine
) -> None:
    before = dump(engine)
    # Only T2 plumbs, and T2 is at the dentist from 13:00 on DAY (and ends at 15:30 anyway).
    code, _, err = dispatch(store, "book", "R2", "--slot", naive(DAY, "14:00"))
    assert code == 3 and "nobody can start R2 within" in err and "dispatch slots R2" in err
    # What can be offered instead: Ben's morning, before the dentist.
    assert "times left: " in err and f"{DAY:%a %d} 08:00–10:00" in err and f"{DAY:%a %d} 14:00" not in err
    code, _, err = dispatch(store, "book", "R2", "--slot", naive(NOW.astimezone(ZONE).date(), "08:00"))
    assert code == 3 and "has passed" in err
    code, _, err = dispatch(store, "book", "R9", "--slot", naive(DAY, "09:00"))
    assert code == 3 and "no job 'R9'" in err
    assert dump(engine) == before
