"""The demo store: a generated city imported through the normal import path, then a day that is under
way — some visits done, some in progress, some planned, the rest waiting for the dispatcher.

The day is planned with a plain greedy pass (earliest window first, append to the technician who can
arrive soonest). It respects skills, shifts, breaks, absences, windows and travel, but it is demo
scaffolding, not the scheduling engine: the candidates service and the optimizer replace it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from random import Random
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from dispatch_tui.localtime import local_at, local_day_bounds
from dispatch_tui.services.intake.demo_data import DemoData, DemoSpec, generate_demo, write_demo_files
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.services.jobs import record_change
from dispatch_tui.store.models import (
    Absence,
    Appointment,
    AppointmentOrigin,
    Job,
    JobEvent,
    JobStatus,
    ShiftPattern,
    Site,
    Technician,
    TechnicianSkill,
    utcnow,
)
from dispatch_tui.travel.haversine import travel_minutes

DEMO_ACTOR = "demo"
WORKING_WEEK = (0, 1, 2, 3, 4)  # Monday to Friday, as an import without `working_days` set
SHARE_PLANNED = 0.7  # of the day's requests; the rest wait in the queue for the dispatcher


@dataclass
class DemoSummary:
    day: date
    technicians: int = 0
    customers: int = 0
    requests: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class _Route:
    tech_id: int
    lat: float
    lon: float
    free_at: datetime
    shift_end: datetime
    home: tuple[float, float]
    break_start: datetime | None
    break_end: datetime | None
    off: list[tuple[datetime, datetime]]


def build_demo(
    engine: Engine,
    spec: DemoSpec,
    zone: ZoneInfo,
    *,
    road_factor: float = 1.3,
    speed_kmh: float = 40.0,
    now: datetime | None = None,
    data: DemoData | None = None,
) -> DemoSummary:
    """Fill an empty store with the demo: import its files, then plan and advance the day to ``now``.

    ``data`` replaces the generated city (benchmarks shape it to their scenario)."""
    data = data or generate_demo(spec)
    summary = DemoSummary(day=spec.day)
    with tempfile.TemporaryDirectory(prefix="dispatch-demo-") as folder:
        for path in write_demo_files(data, Path(folder)):
            report = import_data(
                engine,
                ImportKind(path.stem),
                path.read_bytes(),
                FileFormat.CSV,
                zone=zone,
                working_days=demo_working_days(spec.day),
                actor=DEMO_ACTOR,
            )
            if hasattr(summary, path.stem):
                setattr(summary, path.stem, report.rows)
    with Session(engine) as session:
        _backdate_receipts(session, spec, zone, now or utcnow())
        _plan_and_advance(session, spec, zone, road_factor, speed_kmh, now or utcnow())
        session.commit()
        for (status,) in session.execute(select(col(Job.status))):
            summary.statuses[status] = summary.statuses.get(status, 0) + 1
    return summary


def demo_working_days(day: date) -> list[int]:
    """Monday to Friday; a demo of a weekend day also works that day, so that it is not empty."""
    return sorted({*WORKING_WEEK, day.weekday()})


def _routes(session: Session, day: date, zone: ZoneInfo) -> dict[int, _Route]:
    day_start, day_end = local_day_bounds(day, zone)
    routes = {}
    absences: dict[int, list[tuple[datetime, datetime]]] = {}
    for absence in session.scalars(select(Absence).where(Absence.end > day_start, Absence.start < day_end)):  # type: ignore[arg-type]
        absences.setdefault(absence.technician_id, []).append((absence.start, absence.end))
    query = select(Technician, ShiftPattern).join(ShiftPattern, ShiftPattern.technician_id == Technician.id)  # type: ignore[arg-type]
    for tech, shift in session.execute(query.where(col(ShiftPattern.weekday) == day.weekday())):
        assert tech.id is not None
        break_start = local_at(day, shift.break_start_minute, zone) if shift.break_start_minute is not None else None
        routes[tech.id] = _Route(
            tech_id=tech.id,
            lat=tech.home_lat,
            lon=tech.home_lon,
            free_at=local_at(day, shift.start_minute, zone),
            shift_end=local_at(day, shift.end_minute, zone),
            home=(tech.home_lat, tech.home_lon),
            break_start=break_start,
            break_end=break_start + timedelta(minutes=shift.break_minutes)
            if break_start and shift.break_minutes
            else None,
            off=absences.get(tech.id, []),
        )
    return routes


def _try_append(route: _Route, job: Job, site: Site, road_factor: float, speed: float) -> tuple[datetime, int] | None:
    """Start time and travel minutes if the job fits at the end of the route, else None."""
    travel = travel_minutes(route.lat, route.lon, site.lat, site.lon, road_factor, speed)
    start = max(route.free_at + timedelta(minutes=travel), job.window_start)
    end = start + timedelta(minutes=job.duration_min)
    if route.break_start and route.break_end and start < route.break_end and end > route.break_start:
        start = max(start, route.break_end)  # take the break first, then go
        end = start + timedelta(minutes=job.duration_min)
    if start > job.window_end:
        return None
    home = travel_minutes(site.lat, site.lon, route.home[0], route.home[1], road_factor, speed)
    if end + timedelta(minutes=home) > route.shift_end:
        return None
    leave = start - timedelta(minutes=travel)
    if any(leave < off_end and end > off_start for off_start, off_end in route.off):
        return None
    return start, travel


def _backdate_receipts(session: Session, spec: DemoSpec, zone: ZoneInfo, now: datetime) -> None:
    """The import stamps every request with the moment it ran; a believable day has them called in
    before it: 1 to 48 hours before the day begins (or before now, if that is earlier), so that the
    queue shows real waiting times and no request is planned or visited before it was received."""
    rng = Random(spec.seed + 1)  # its own draw: the plan stays what the seed always gave
    day_start, _ = local_day_bounds(spec.day, zone)
    latest = min(now, day_start)
    received = {}
    for job in session.scalars(select(Job).order_by(col(Job.ref))):
        job.created_at = latest - timedelta(minutes=rng.randint(60, 48 * 60))
        received[job.id] = job.created_at
        session.add(job)
    for event in session.scalars(select(JobEvent).where(col(JobEvent.from_status).is_(None))):
        event.at = received[event.job_id]
        session.add(event)


def _plan_and_advance(
    session: Session, spec: DemoSpec, zone: ZoneInfo, road_factor: float, speed: float, now: datetime
) -> None:
    rng = Random(spec.seed)
    routes = _routes(session, spec.day, zone)
    skills: dict[int, set[int]] = {}
    for tech_id, skill_id in session.execute(select(col(TechnicianSkill.technician_id), col(TechnicianSkill.skill_id))):
        skills.setdefault(skill_id, set()).add(tech_id)
    query = select(Job, Site).join(Site, Job.site_id == Site.id).order_by(Job.window_start, Job.priority, Job.ref)  # type: ignore[arg-type]
    for job, site in session.execute(query).all():
        if rng.random() > SHARE_PLANNED and job.priority > 1:
            continue
        options = []
        for tech_id in sorted(skills.get(job.skill_id, set())):
            route = routes.get(tech_id)
            fit = _try_append(route, job, site, road_factor, speed) if route else None
            if fit:
                options.append((fit[0], fit[1], tech_id))
        if not options:
            continue
        start, travel, tech_id = min(options)
        route = routes[tech_id]
        end = start + timedelta(minutes=job.duration_min)
        route.free_at, route.lat, route.lon = end, site.lat, site.lon
        assert job.id is not None
        session.add(
            Appointment(
                job_id=job.id,
                technician_id=tech_id,
                start=start,
                end=end,
                travel_minutes=travel,
                origin=AppointmentOrigin.DISPATCHER.value,
            )
        )
        _advance(session, job, start, end, travel, now, rng)


def _advance(
    session: Session, job: Job, start: datetime, end: datetime, travel: int, now: datetime, rng: Random
) -> None:
    """Walk the job through the lifecycle as far as ``now`` allows, one audit event per step."""
    leave = start - timedelta(minutes=travel)
    planned_at = min(now, leave - timedelta(hours=2))
    steps: list[tuple[JobStatus, datetime, str]] = [(JobStatus.SCHEDULED, planned_at, "planned")]
    if leave - timedelta(minutes=30) <= now:
        steps.append((JobStatus.DISPATCHED, max(planned_at, leave - timedelta(minutes=30)), "sent to technician"))
    if leave <= now:
        steps.append((JobStatus.EN_ROUTE, leave, "left for the site"))
    if start <= now:
        steps.append((JobStatus.ON_SITE, start, "arrived"))
    if end <= now:
        done = JobStatus.NEEDS_FOLLOW_UP if rng.random() < 0.1 else JobStatus.COMPLETED
        steps.append(
            (done, end, "part on order, second visit needed" if done is JobStatus.NEEDS_FOLLOW_UP else "job complete")
        )
    for status, at, note in steps:
        record_change(session, job, status.value, DEMO_ACTOR, note, at.astimezone(UTC), silent=True)
