"""`dispatch insert JOB`: an emergency taken this morning goes to whoever can be there soonest, pushing
their later visits within their windows and sending a less urgent one that no longer fits back to the
queue; said in words, and applied in one change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.store.models import Appointment, Job, JobEvent
from tests.clock import DAY, ZONE, at, iso, naive
from tests.conftest import WEEKDAYS, dump

TECHNICIANS = """ref,name,skills,home_lat,home_lon,shift_start,shift_end,hourly_cost
T1,Ana Silva,hvac,45.7600,4.8400,08:00,17:00,40
T2,Ben Okafor,hvac,45.7600,4.8400,08:00,17:00,40
"""
CUSTOMERS = """ref,name,address,lat,lon
C1,Claire Dubois,12 Rue Garibaldi,45.7600,4.8410
C2,Harbour Bakery,3 Quai Rambaud,45.7610,4.8400
C3,Rose Martin,8 Rue Royale,45.7605,4.8405
"""


def requests(tight_priority: int) -> str:
    return f"""ref,customer_ref,skill,duration_min,priority,window_start,window_end,description,source
A1,C1,hvac,60,3,{naive(DAY, "09:00")},{naive(DAY, "12:00")},Service,phone
A2,C2,hvac,60,{tight_priority},{naive(DAY, "10:00")},{naive(DAY, "10:15")},Tight window,phone
B1,C2,hvac,240,3,{naive(DAY, "08:00")},{naive(DAY, "08:30")},Long job,phone
E1,C3,hvac,60,1,{naive(DAY, "08:00")},{naive(DAY, "12:00")},Gas smell,phone
"""


def dispatch(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--db", str(db), "--tz", "Europe/Paris", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def build(db: Path, engine: Engine, tight_priority: int) -> None:
    for kind, content in ((ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, CUSTOMERS),
                          (ImportKind.REQUESTS, requests(tight_priority))):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    # T1: A1 at 09:00, A2 at 10:05 (its window closes 10:15). T2: busy with B1 08:15–12:15.
    for job, tech, start in (("A1", "T1", "09:00"), ("A2", "T1", "10:05"), ("B1", "T2", "08:15")):
        assert dispatch(db, "assign", job, tech, "--start", naive(DAY, start))[0] == 0


@pytest.fixture
def morning(db_path: Path, engine: Engine, set_clock: pytest.FixtureRequest) -> Path:
    build(db_path, engine, tight_priority=4)
    set_clock(at(DAY, "08:30"))  # type: ignore[operator]  # the fixture is a function: move the clock
    return db_path


def test_the_soonest_technician_and_what_it_costs_their_day(morning: Path) -> None:
    code, out, _ = dispatch(morning, "insert", "E1", "--json")
    assert code == 0
    [option, *_] = json.loads(out)
    assert option["technician_ref"] == "T1"  # T2 is on a long job until 12:15
    assert iso(DAY, "08:30") < option["start"] < iso(DAY, "08:40")  # now, plus a short drive
    assert option["dropped"] == ["A2"]  # pushed past 10:15 it misses its window, and it is only P4
    assert option["consequences"][0].startswith("A1 starts ") and "still in its window" in option["consequences"][0]
    assert option["consequences"][1] == "A2 (P4) goes back to the queue"
    [(ref, start, _)] = [(m["job_ref"], m["start"], m["end"]) for m in option["later"]]
    assert ref == "A1" and start > iso(DAY, "09:30")
    code, out, _ = dispatch(morning, "insert", "E1")
    assert code == 0 and "T1 Ana Silva" in out and "A2 (P4) goes back to the queue" in out


def test_applying_an_option_changes_the_whole_day_at_once(morning: Path, engine: Engine) -> None:
    _, out, _ = dispatch(morning, "insert", "E1", "--json")
    chosen = json.loads(out)[0]
    code, out, _ = dispatch(morning, "insert", "E1", "--apply", "1")
    assert code == 0 and "inserted E1 → T1" in out
    with Session(engine) as session:
        planned = {
            ref: start
            for ref, start in session.exec(
                select(Job.ref, Appointment.start).join(Appointment, col(Appointment.job_id) == col(Job.id))
            )
        }
        statuses = dict(session.exec(select(Job.ref, Job.status)).all())
        notes = {
            ref: note
            for ref, note in session.exec(
                select(Job.ref, JobEvent.note)
                .join(JobEvent, col(JobEvent.job_id) == col(Job.id))
                .order_by(col(JobEvent.id))
            )
        }  # the last note of each job
    assert statuses["E1"] == "scheduled" and statuses["A2"] == "new" and "A2" not in planned
    assert iso(DAY, planned["A1"].astimezone(ZONE).strftime("%H:%M")) == chosen["later"][0]["start"]
    assert notes["A2"] == "back to the queue: emergency E1 takes T1's time"
    assert "emergency E1 first, still in its window" in notes["A1"]
    assert notes["E1"].startswith("emergency: on T1 (Ana Silva)") and "A2 (P4) goes back to the queue" in notes["E1"]


def test_a_visit_as_urgent_as_the_emergency_is_never_pushed_out(
    db_path: Path, engine: Engine, set_clock: pytest.FixtureRequest
) -> None:
    build(db_path, engine, tight_priority=1)
    set_clock(at(DAY, "08:30"))  # type: ignore[operator]
    _, out, _ = dispatch(db_path, "insert", "E1", "--json")
    options = json.loads(out)
    assert all("A2" not in option["dropped"] for option in options)
    # T1 can still take it after A2, without displacing anyone.
    assert any(option["technician_ref"] == "T1" and option["start"] >= iso(DAY, "11:05") for option in options)


def test_only_a_waiting_request_is_inserted_and_a_wrong_number_changes_nothing(morning: Path, engine: Engine) -> None:
    before = dump(engine)
    code, _, err = dispatch(morning, "insert", "A1")
    assert code == 3 and "A1 is scheduled: only a waiting request is inserted" in err
    code, _, err = dispatch(morning, "insert", "E1", "--apply", "9")
    assert code == 3 and "not 9: list them again" in err
    code, _, err = dispatch(morning, "insert", "E9")
    assert code == 3 and "no job 'E9'" in err
    assert dump(engine) == before
