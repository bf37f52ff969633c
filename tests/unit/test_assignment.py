"""Manual assignment through the service: rules, audit trail, versions, locks, travel upkeep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from dispatch_tui.services.errors import Conflict, NotFound, Refused
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.services.jobs import record_change
from dispatch_tui.services.planning import assignment
from dispatch_tui.services.planning.scheduling import Point
from dispatch_tui.store.models import Appointment, Job, JobEvent
from dispatch_tui.travel.haversine import travel_minutes
from tests.clock import DAY, ZONE, at
from tests.conftest import WEEKDAYS, dump
from tests.unit.importdata import ABSENCES, CUSTOMERS, REQUESTS, TECHNICIANS

Result = TypeVar("Result")


def travel(a: Point, b: Point) -> int:
    return travel_minutes(a[0], a[1], b[0], b[1])


def local(text: str) -> datetime:
    """Local clock time ``text`` (HH:MM) on DAY, the day of the import files."""
    return at(DAY, text)


@pytest.fixture
def store(store_engine: Engine) -> Engine:
    for kind, content in ((ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, CUSTOMERS),
                          (ImportKind.REQUESTS, REQUESTS), (ImportKind.ABSENCES, ABSENCES)):  # fmt: skip
        import_data(store_engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    return store_engine


def run(engine: Engine, action: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """One service call in its own committed transaction, as the CLI does."""
    with Session(engine) as session:
        result = action(session, *args, zone=ZONE, actor="tester", **kwargs)
        session.commit()
        return result


def assign(engine: Engine, job: str, tech: str, start: str, **kw: Any) -> assignment.Change:
    return run(engine, assignment.assign, job, tech, local(start), travel=travel, **kw)


def events(engine: Engine, ref: str) -> list[tuple[str | None, str, str]]:
    with Session(engine) as session:
        job = session.exec(select(Job).where(Job.ref == ref)).one()
        rows = session.exec(select(JobEvent).where(JobEvent.job_id == job.id).order_by(col(JobEvent.id))).all()
        return [(e.from_status, e.to_status, e.note) for e in rows]


def test_assign_schedules_the_job_records_it_and_bumps_the_version(store: Engine) -> None:
    change = assign(store, "R1", "T1", "09:30")
    assert (change.status, change.version, change.technician_ref) == ("scheduled", 2, "T1")
    assert change.end == local("10:30")
    assert events(store, "R1")[-1] == ("new", "scheduled", f"assigned to T1 (Ana Silva) {DAY:%a %d %b} 09:30–10:30")
    with Session(store) as session:
        appointment = session.exec(select(Appointment)).one()
        assert (appointment.origin, appointment.travel_minutes) == ("dispatcher", 2)  # 0.94 km * 1.3 at 40 km/h


def test_a_refused_assignment_lists_its_reasons_and_writes_nothing(store: Engine) -> None:
    before = dump(store)
    with pytest.raises(Refused) as refused:
        assign(store, "R2", "T1", "13:30")
    assert refused.value.reasons == ["Ana Silva has no plumbing skill"]
    with pytest.raises(Refused) as refused:
        assign(store, "R2", "T2", "13:30")
    assert refused.value.reasons == ["Ben Okafor is off 13:00–17:00 (dentist)"]
    assert dump(store) == before


def test_force_overrides_and_says_so_in_the_audit_trail(store: Engine) -> None:
    change = assign(store, "R2", "T2", "13:30", force=True)
    assert change.override == ("Ben Okafor is off 13:00–17:00 (dentist)",)
    assert events(store, "R2")[-1][2].endswith("— override: Ben Okafor is off 13:00–17:00 (dentist)")


def test_assigning_a_scheduled_job_is_refused_use_move(store: Engine) -> None:
    assign(store, "R1", "T1", "09:30")
    with pytest.raises(Refused, match="already scheduled: use move"):
        assign(store, "R1", "T1", "10:00")


def test_move_changes_time_and_keeps_the_audit_trail(store: Engine) -> None:
    assign(store, "R1", "T1", "09:30")
    change = run(store, assignment.move, "R1", local("10:00"), travel=travel)
    assert (change.start, change.version) == (local("10:00"), 3)
    assert events(store, "R1")[-1] == (
        "scheduled",
        "scheduled",
        f"moved from T1 {DAY:%a %d %b} 09:30 to T1 {DAY:%a %d %b} 10:00",
    )
    with pytest.raises(Refused, match="would arrive 11:30, window ends 11:00"):
        run(store, assignment.move, "R1", local("11:30"), travel=travel)


def test_a_locked_job_never_moves_even_forced(store: Engine) -> None:
    assign(store, "R1", "T1", "09:30")
    assert run(store, assignment.set_locked, "R1", True).locked
    with pytest.raises(Refused, match="R1 is locked: unlock it first"):
        run(store, assignment.move, "R1", local("10:00"), travel=travel, force=True)
    with pytest.raises(Refused, match="locked"):
        run(store, assignment.unassign, "R1", travel=travel)
    run(store, assignment.set_locked, "R1", False)
    change = run(store, assignment.unassign, "R1", travel=travel)
    assert (change.status, change.version) == ("new", 5)
    with Session(store) as session:
        assert session.exec(select(Appointment)).all() == []


def test_a_stale_version_is_a_conflict_never_an_overwrite(store: Engine) -> None:
    assign(store, "R1", "T1", "09:30")
    with pytest.raises(Conflict, match="version 2, not 1"):
        run(store, assignment.move, "R1", local("10:00"), travel=travel, expected_version=1)
    # Two consoles: A read the job, B moved it meanwhile; A's write must fail.
    with Session(store) as console_a:
        job_seen_by_a = console_a.exec(select(Job).where(Job.ref == "R1")).one()
        run(store, assignment.move, "R1", local("10:00"), travel=travel)
        with pytest.raises(Conflict):
            record_change(console_a, job_seen_by_a, "scheduled", "console A", "late write")
    assert events(store, "R1")[-1][2].startswith("moved from T1")


def test_drives_are_kept_up_to_date_when_a_stop_is_inserted_before_another(store: Engine) -> None:
    assign(store, "R1", "T1", "10:00")
    assign(store, "R3", "T1", "08:00", force=True)  # far site first; R1's drive now starts from there
    with Session(store) as session:
        drive = {
            ref: a.travel_minutes
            for a, ref in session.exec(select(Appointment, Job.ref).join(Job, col(Appointment.job_id) == Job.id))
        }
    assert drive["R1"] == travel((45.744, 4.819), (45.759, 4.852))
    assert drive["R3"] == travel((45.76, 4.84), (45.744, 4.819))


def test_unknown_refs(store: Engine) -> None:
    with pytest.raises(NotFound, match="no job 'R404'"):
        assign(store, "R404", "T1", "09:30")
    with pytest.raises(NotFound, match="no technician 'T404'"):
        assign(store, "R1", "T404", "09:30")
