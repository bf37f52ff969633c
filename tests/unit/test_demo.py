"""The demo: a believable day under way, built through the import path, and its sample import files."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.localtime import local_at
from dispatch_tui.services.intake.demo import build_demo
from dispatch_tui.services.intake.demo_data import DemoSpec
from dispatch_tui.store.models import Absence, Appointment, Job, JobEvent, ShiftPattern, Site, Technician
from dispatch_tui.store.models import TechnicianSkill as TS
from dispatch_tui.travel.haversine import travel_minutes
from tests.clock import DAY, ZONE
from tests.demofiles import IMPORT_ORDER, demo_files
from tests.rows import id_of

NOON = local_at(DAY, 12 * 60, ZONE)


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_demo(engine, DemoSpec(day=DAY), ZONE, now=NOON)
    return engine


def test_at_noon_the_day_is_under_way(demo: Engine) -> None:
    with Session(demo) as session:
        statuses = [job.status for job in session.exec(select(Job))]
    assert len(statuses) == 60
    assert {"completed", "scheduled", "new"} <= set(statuses)
    assert set(statuses) & {"en_route", "on_site"}, "someone should be on the road or on site at noon"
    assert statuses.count("new") < 30, "most of the day should be planned"


def test_every_planned_visit_is_feasible(demo: Engine) -> None:
    """Skill, shift, window, absences, no overlaps and enough time to drive between stops."""
    with Session(demo) as session:
        rows = session.exec(
            select(Appointment, Job, Site)
            .join(Job, col(Appointment.job_id) == Job.id)
            .join(Site, col(Job.site_id) == Site.id)
        ).all()
        skills = {(ts.technician_id, ts.skill_id) for ts in session.exec(select(TS))}
        shifts = {s.technician_id: s for s in session.exec(select(ShiftPattern).where(ShiftPattern.weekday == 1))}
        techs = {t.id: t for t in session.exec(select(Technician))}
        absences = session.exec(select(Absence)).all()
    by_tech: dict[int, list[tuple[Appointment, Job, Site]]] = {}
    for appointment, job, site in rows:
        assert (appointment.technician_id, job.skill_id) in skills
        assert job.window_start <= appointment.start <= job.window_end
        assert appointment.end - appointment.start == timedelta(minutes=job.duration_min)
        shift = shifts[appointment.technician_id]
        assert local_at(DAY, shift.start_minute, ZONE) <= appointment.start - timedelta(
            minutes=appointment.travel_minutes
        )
        assert appointment.end <= local_at(DAY, shift.end_minute, ZONE)
        if shift.break_start_minute is not None and shift.break_minutes:
            lunch = local_at(DAY, shift.break_start_minute, ZONE)
            assert appointment.end <= lunch or appointment.start >= lunch + timedelta(minutes=shift.break_minutes)
        for absence in absences:
            if absence.technician_id == appointment.technician_id:
                assert appointment.end <= absence.start or appointment.start >= absence.end
        by_tech.setdefault(appointment.technician_id, []).append((appointment, job, site))
    for tech_id, visits in by_tech.items():
        visits.sort(key=lambda v: v[0].start)
        here = (techs[tech_id].home_lat, techs[tech_id].home_lon)
        free = datetime.min.replace(tzinfo=NOON.tzinfo)
        for appointment, _, site in visits:
            drive = travel_minutes(here[0], here[1], site.lat, site.lon)
            assert appointment.travel_minutes == drive
            assert appointment.start >= free + timedelta(minutes=drive)
            free, here = appointment.end, (site.lat, site.lon)


def test_each_job_has_an_audit_trail_that_ends_in_its_status(demo: Engine) -> None:
    with Session(demo) as session:
        for job in session.exec(select(Job)):
            events = session.exec(select(JobEvent).where(JobEvent.job_id == job.id).order_by(col(JobEvent.at))).all()
            assert events[0].from_status is None and events[0].to_status == "new"
            assert events[-1].to_status == job.status
            assert all(a.to_status == b.from_status for a, b in pairwise(events))
            assert all(e.at <= NOON for e in events[1:])


def test_technicians_work_monday_to_friday(demo: Engine) -> None:
    """As an import with the default working week does: candidates never offer a weekend on a weekday demo."""
    with Session(demo) as session:
        weekdays = {shift.weekday for shift in session.exec(select(ShiftPattern))}
    assert weekdays == {0, 1, 2, 3, 4}


def test_a_demo_on_a_weekend_day_also_works_that_day(engine: Engine) -> None:
    saturday = DAY + timedelta(days=4)  # DAY is a Tuesday
    build_demo(engine, DemoSpec(day=saturday), ZONE, now=local_at(saturday, 12 * 60, ZONE))
    with Session(engine) as session:
        weekdays = {shift.weekday for shift in session.exec(select(ShiftPattern))}
        planned = session.exec(select(Appointment)).all()
    assert weekdays == {0, 1, 2, 3, 4, 5}
    assert planned, "a Saturday demo has a planned day"


def test_the_demo_is_deterministic_for_a_seed_and_time(tmp_path: Path, engine: Engine) -> None:
    from dispatch_tui.store import make_engine, upgrade

    build_demo(engine, DemoSpec(day=DAY), ZONE, now=NOON)
    other = make_engine(tmp_path / "other.db")
    upgrade(other)
    build_demo(other, DemoSpec(day=DAY), ZONE, now=NOON)

    def plan(e: Engine) -> list[tuple[str, str, int, datetime]]:
        with Session(e) as session:
            return sorted(
                (job.ref, job.status, a.technician_id, a.start)
                for a, job in session.exec(select(Appointment, Job).join(Job, col(Appointment.job_id) == Job.id))
            )

    assert plan(engine) == plan(other)


def test_sample_files_for_a_chosen_day_are_the_generator_output_and_make_a_plannable_day(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "files"
    result = runner.invoke(app, ["demo", "--files", str(out), "--date", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == sorted(f"{name}.csv" for name in IMPORT_ORDER)
    expected = demo_files(tmp_path / "expected", day=DAY)
    for name in IMPORT_ORDER:
        assert (out / f"{name}.csv").read_bytes() == (expected / f"{name}.csv").read_bytes(), name
    with (out / "requests.csv").open(encoding="utf-8", newline="") as handle:
        requests = list(csv.DictReader(handle))
    assert len(requests) == 60
    for request in requests:
        start, end = datetime.fromisoformat(request["window_start"]), datetime.fromisoformat(request["window_end"])
        assert start.date() == end.date() == DAY, request["ref"]
    db = tmp_path / "samples.db"
    for name in IMPORT_ORDER:
        result = runner.invoke(app, ["--db", str(db), "import", name, str(out / f"{name}.csv")])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["--db", str(db), "candidates", requests[0]["ref"], "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout), "a request of the sample day has candidates: the day can be planned"


def test_tomorrows_sample_files_are_for_the_day_after_the_clock(tmp_path: Path) -> None:
    out = tmp_path / "tomorrow"
    result = CliRunner().invoke(app, ["demo", "--files", str(out), "--date", "tomorrow"])
    assert result.exit_code == 0, result.output  # the suite's clock reads NOW, the evening before DAY
    expected = demo_files(tmp_path / "day", day=DAY)
    for name in IMPORT_ORDER:
        assert (out / f"{name}.csv").read_bytes() == (expected / f"{name}.csv").read_bytes(), name


def test_demo_command_refuses_to_overwrite_data_without_replace(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "demo.db")
    first = runner.invoke(app, ["demo", "--db", db, "--requests", "20", "--technicians", "4", "--json"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["demo", "--db", db])
    assert again.exit_code == 2 and "--replace" in again.stderr
    replaced = runner.invoke(app, ["demo", "--db", db, "--replace", "--requests", "10", "--technicians", "3"])
    assert replaced.exit_code == 0, replaced.output
    listed = runner.invoke(app, ["--db", db, "jobs", "list", "--json"])
    assert listed.exit_code == 0 and listed.stdout.count('"ref"') == 10


def test_the_global_db_flag_names_the_demo_store_but_the_environment_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flagged = tmp_path / "flagged.db"
    result = CliRunner().invoke(app, ["--db", str(flagged), "demo", "--requests", "5", "--technicians", "2"])
    assert result.exit_code == 0, result.output
    assert flagged.exists()
    everyday = tmp_path / "everyday.db"
    monkeypatch.setenv("DISPATCH_DB", str(everyday))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["demo", "--requests", "5", "--technicians", "2"])
    assert result.exit_code == 0, result.output
    assert not everyday.exists()  # the everyday store is never where a demo goes by default


@pytest.mark.parametrize("built_at_minute", [12 * 60, -6 * 60])  # at noon of the day; the evening before it
def test_requests_were_received_before_anything_happened_to_them(engine: Engine, built_at_minute: int) -> None:
    now = local_at(DAY, built_at_minute, ZONE)
    build_demo(engine, DemoSpec(day=DAY), ZONE, now=now)
    day_start = local_at(DAY, 0, ZONE)
    with Session(engine) as session:
        jobs = {id_of(job): job for job in session.exec(select(Job))}
        events = session.exec(select(JobEvent).order_by(col(JobEvent.id))).all()
    created = {e.job_id: e.at for e in events if e.from_status is None}
    assert created.keys() == jobs.keys()
    for job_id, job in jobs.items():
        assert job.created_at == created[job_id]
        assert min(now, day_start) - timedelta(hours=48) <= job.created_at <= min(now, day_start) - timedelta(hours=1)
    assert all(created[e.job_id] <= e.at <= now for e in events), "a step before the request came in, or ahead"
