"""The import service's upsert semantics: what lands, how updates are recorded, how times are read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from dispatch_tui.services.intake.imports import FileFormat, ImportKind, ImportRejected, ImportReport, import_data
from dispatch_tui.store.models import Job, JobEvent, ShiftPattern, Site, Skill, Technician, TechnicianSkill
from tests.clock import DAY, ZONE, at
from tests.conftest import WEEKDAYS
from tests.unit.importdata import CUSTOMERS, REQUESTS, TECHNICIANS, D


def load(
    engine: Engine, kind: ImportKind, content: str, fmt: FileFormat = FileFormat.CSV, dry_run: bool = False
) -> ImportReport:
    return import_data(
        engine, kind, content.encode(), fmt, zone=ZONE, working_days=WEEKDAYS, actor="ops", dry_run=dry_run
    )


@pytest.fixture
def loaded(store_engine: Engine) -> Engine:
    load(store_engine, ImportKind.TECHNICIANS, TECHNICIANS)
    load(store_engine, ImportKind.CUSTOMERS, CUSTOMERS)
    load(store_engine, ImportKind.REQUESTS, REQUESTS)
    return store_engine


def test_naive_times_are_local_and_offsets_are_honoured(loaded: Engine) -> None:
    with Session(loaded) as session:
        r1 = session.exec(select(Job).where(Job.ref == "R1")).one()
        r2 = session.exec(select(Job).where(Job.ref == "R2")).one()
    assert r1.window_start == at(DAY, "09:00")  # 09:00 in Paris, stored as UTC
    assert r2.window_start == at(DAY, "13:00")  # 13:00 with the offset Paris has that day
    assert r2.due_by == at(DAY, "18:00")


def test_a_new_request_is_new_with_a_creation_event(loaded: Engine) -> None:
    with Session(loaded) as session:
        job = session.exec(select(Job).where(Job.ref == "R1")).one()
        events = session.exec(select(JobEvent).where(JobEvent.job_id == job.id)).all()
    assert job.status == "new" and job.version == 1
    assert [(e.actor, e.from_status, e.to_status, e.note) for e in events] == [
        ("ops", None, "new", "created by import")
    ]


def test_an_updated_request_bumps_its_version_and_records_what_changed(loaded: Engine) -> None:
    report = load(loaded, ImportKind.REQUESTS, REQUESTS.replace("R1,C1,boiler,60,2", "R1,C1,boiler,90,1"))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    with Session(loaded) as session:
        job = session.exec(select(Job).where(Job.ref == "R1")).one()
        last = session.exec(select(JobEvent).where(JobEvent.job_id == job.id).order_by(col(JobEvent.id).desc())).first()
    assert (job.duration_min, job.priority, job.version) == (90, 1, 2)
    assert last is not None and last.note == "updated by import: duration_min, priority"


def test_work_elsewhere_gets_its_own_site_once(loaded: Engine) -> None:
    with Session(loaded) as session:
        r3 = session.exec(select(Job).where(Job.ref == "R3")).one()
        site = session.get(Site, r3.site_id)
        assert site is not None and (site.address, site.lat, site.is_primary) == ("5 Quai Rambaud", 45.744, False)
    thursday = (DAY + timedelta(days=2)).isoformat()
    extra = f"R5,C2,hvac,30,4,{thursday}T10:00,{thursday}T12:00,,Follow-up,email,45.7440,4.8190,5 Quai Rambaud\n"
    load(loaded, ImportKind.REQUESTS, REQUESTS + extra)
    with Session(loaded) as session:
        r5 = session.exec(select(Job).where(Job.ref == "R5")).one()
        assert r5.site_id == r3.site_id
        assert session.scalar(select(func.count()).select_from(Site)) == 3


def test_technician_import_defines_skills_and_the_working_week(loaded: Engine) -> None:
    with Session(loaded) as session:
        ana = session.exec(select(Technician).where(Technician.ref == "T1")).one()
        shifts = session.exec(select(ShiftPattern).where(ShiftPattern.technician_id == ana.id)).all()
        skills = session.exec(
            select(Skill.name).join(TechnicianSkill).where(TechnicianSkill.technician_id == ana.id)
        ).all()
    assert ana.hourly_cost_cents == 4250
    assert sorted(skills) == ["boiler", "hvac"]
    assert sorted((s.weekday, s.start_minute, s.end_minute, s.break_start_minute, s.break_minutes) for s in shifts) == [
        (day, 480, 1020, 720, 30) for day in WEEKDAYS
    ]


def test_changing_a_technicians_skills_replaces_them(loaded: Engine) -> None:
    report = load(loaded, ImportKind.TECHNICIANS, TECHNICIANS.replace("boiler;hvac", "HVAC; electrical"))
    assert (report.updated, report.unchanged) == (1, 1)
    with Session(loaded) as session:
        names = session.exec(
            select(Skill.name).join(TechnicianSkill).join(Technician).where(Technician.ref == "T1")
        ).all()
    assert sorted(names) == ["electrical", "hvac"]


@pytest.mark.clock("2026-03-28T12:00+01:00")  # the eve of the spring change: 02:00-03:00 is skipped on 29 March
def test_a_time_skipped_by_daylight_saving_is_refused(loaded: Engine) -> None:
    spring = REQUESTS.replace(f"{D}T09:00,{D}T11:00", "2026-03-29T02:30,2026-03-29T04:00")
    with pytest.raises(ImportRejected) as rejected:
        load(loaded, ImportKind.REQUESTS, spring)
    assert str(rejected.value.errors[0]) == (
        "line 2, window_start: 2026-03-29T02:30:00 does not exist in Europe/Paris (clocks skip it); give an offset"
    )


def test_skill_names_are_case_insensitive(loaded: Engine) -> None:
    report = load(loaded, ImportKind.REQUESTS, REQUESTS.replace("R1,C1,boiler", "R1,C1,Boiler"))
    assert report.unchanged == 3


def test_break_outside_the_shift_is_refused(store_engine: Engine) -> None:
    with pytest.raises(ImportRejected) as rejected:
        load(store_engine, ImportKind.TECHNICIANS, TECHNICIANS.replace("08:00,17:00,12:00,30", "08:00,17:00,18:00,30"))
    assert [str(e) for e in rejected.value.errors] == ["line 2, break_start: 18:00 is outside the shift"]


def test_dry_run_of_a_first_import_leaves_an_empty_store(store_engine: Engine) -> None:
    report = load(store_engine, ImportKind.TECHNICIANS, TECHNICIANS, dry_run=True)
    assert report.created == 2 and report.dry_run
    with Session(store_engine) as session:
        assert session.scalar(select(func.count()).select_from(Technician)) == 0
        assert session.scalar(select(func.count()).select_from(Skill)) == 0


def test_every_import_kind_reads_exactly_its_documented_columns_in_order() -> None:
    from dispatch_tui.domain import IMPORT_COLUMNS
    from dispatch_tui.services.intake.imports.rows import columns_for

    for kind, documented in IMPORT_COLUMNS.items():
        assert tuple(column.name for column in columns_for(kind, ZONE)) == documented
