"""Read models for scripts and screens: jobs and technicians as typed rows, JSON only at the edge.

``as_json`` gives the shape of `dispatch jobs list --json` and `dispatch techs list --json`
(docs/cli-json.md): the import columns (docs/import-files.md) plus ``status``, ``actual_start`` and
``actual_end`` (when the visit really began and ended, from the audit trail: ``actual_times``; null until
known) and, for a placed job, ``technician_ref``, ``start`` and ``end`` (the plan), so that what a script
reads matches what it imports. Times are local ISO 8601 there, aware datetimes here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from dispatch_tui.localtime import format_clock, local_day_bounds, local_iso
from dispatch_tui.services.execution.actual_times import KNOWN, actual_times
from dispatch_tui.store.models import (
    Absence,
    Appointment,
    Customer,
    Job,
    JobStatus,
    ShiftPattern,
    Site,
    Skill,
    Technician,
    TechnicianSkill,
    utcnow,
)


@dataclass(frozen=True, kw_only=True)
class JobRow:
    ref: str
    customer_ref: str
    skill: str
    duration_min: int
    priority: int
    window_start: datetime
    window_end: datetime
    due_by: datetime | None
    description: str
    source: str
    lat: float
    lon: float
    address: str
    status: str
    actual_start: datetime | None  # on site since, from the audit trail; None until known
    actual_end: datetime | None
    technician_ref: str | None = None  # the plan, for a placed job
    start: datetime | None = None
    end: datetime | None = None

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        item: dict[str, Any] = {
            "ref": self.ref,
            "customer_ref": self.customer_ref,
            "skill": self.skill,
            "duration_min": self.duration_min,
            "priority": self.priority,
            "window_start": local_iso(self.window_start, zone),
            "window_end": local_iso(self.window_end, zone),
            "due_by": local_iso(self.due_by, zone),
            "description": self.description,
            "source": self.source,
            "lat": self.lat,
            "lon": self.lon,
            "address": self.address,
            "status": self.status,
            "actual_start": local_iso(self.actual_start, zone),
            "actual_end": local_iso(self.actual_end, zone),
        }
        if self.start is not None:
            item |= {"technician_ref": self.technician_ref, "start": local_iso(self.start, zone),
                     "end": local_iso(self.end, zone)}  # fmt: skip
        return item


@dataclass(frozen=True, kw_only=True)
class TechnicianRow:
    ref: str
    name: str
    skills: tuple[str, ...]
    home_lat: float
    home_lon: float
    shift_start: str | None  # the usual shift, HH:MM local
    shift_end: str | None
    break_start: str | None
    break_minutes: int
    hourly_cost: float
    phone: str
    email: str
    territory: str | None
    status: str  # now: on_shift, on_break, off_shift, absent, inactive, en_route or on_site

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref, "name": self.name, "skills": list(self.skills), "home_lat": self.home_lat,
            "home_lon": self.home_lon, "shift_start": self.shift_start, "shift_end": self.shift_end,
            "break_start": self.break_start, "break_minutes": self.break_minutes, "hourly_cost": self.hourly_cost,
            "phone": self.phone, "email": self.email, "territory": self.territory, "status": self.status,
        }  # fmt: skip


def list_jobs(
    session: Session,
    zone: ZoneInfo,
    *,
    statuses: Sequence[str] = (),
    day: date | None = None,
    customer: str | None = None,
    now: datetime | None = None,
) -> list[JobRow]:
    """Jobs ordered by priority then window. ``day`` keeps jobs whose window opens that local day or
    whose appointment starts on it; ``customer`` those of the customer with that ref or whose name holds
    it (in any case). Actual times are as of ``now`` (default: the current time)."""
    query = (
        select(Job, col(Customer.ref), col(Skill.name), Site, col(Technician.ref), Appointment)
        .join(Customer, Job.customer_id == Customer.id)  # type: ignore[arg-type]
        .join(Skill, Job.skill_id == Skill.id)  # type: ignore[arg-type]
        .join(Site, Job.site_id == Site.id)  # type: ignore[arg-type]
        .outerjoin(Appointment, Appointment.job_id == Job.id)  # type: ignore[arg-type]
        .outerjoin(Technician, Appointment.technician_id == Technician.id)  # type: ignore[arg-type]
        .order_by(Job.priority, Job.window_start, Job.ref)  # type: ignore[arg-type]
    )
    if statuses:
        query = query.where(Job.status.in_(list(statuses)))  # type: ignore[attr-defined]
    if day is not None:
        start, end = local_day_bounds(day, zone)
        query = query.where(
            or_(
                and_(Job.window_start >= start, Job.window_start < end),  # type: ignore[arg-type]
                and_(Appointment.start >= start, Appointment.start < end),  # type: ignore[arg-type]
            )
        )
    if customer:
        query = query.where(
            or_(
                col(Customer.ref) == customer,
                func.lower(col(Customer.name)).contains(customer.lower(), autoescape=True),
            )
        )
    rows = session.execute(query).all()
    filtered = bool(statuses) or day is not None or bool(customer)
    known = [job.ref for job, *_ in rows if job.status in KNOWN]
    actual = actual_times(session, now or utcnow(), known if filtered else None) if known else {}
    jobs = []
    for job, customer_ref, skill, site, technician_ref, appointment in rows:
        done = actual.get(job.ref)
        jobs.append(
            JobRow(
                ref=job.ref, customer_ref=customer_ref, skill=skill, duration_min=job.duration_min,
                priority=job.priority, window_start=job.window_start, window_end=job.window_end, due_by=job.due_by,
                description=job.description, source=job.source, lat=site.lat, lon=site.lon, address=site.address,
                status=job.status, actual_start=done.start if done else None, actual_end=done.end if done else None,
                technician_ref=technician_ref if appointment is not None else None,
                start=appointment.start if appointment is not None else None,
                end=appointment.end if appointment is not None else None,
            )
        )  # fmt: skip
    return jobs


def list_technicians(
    session: Session, zone: ZoneInfo, *, now: datetime | None = None, refs: Collection[str] | None = None
) -> list[TechnicianRow]:
    """Technicians by ref (or only ``refs``: a console reading back one write's technicians), with their
    status at ``now`` (default: the current time)."""
    now = now or utcnow()
    local_now = now.astimezone(zone)
    minute_now = local_now.hour * 60 + local_now.minute
    chosen = select(col(Technician.id)).where(col(Technician.ref).in_(list(refs))) if refs is not None else None
    skill_query = (
        select(col(TechnicianSkill.technician_id), col(Skill.name))
        .join(Skill, TechnicianSkill.skill_id == Skill.id)  # type: ignore[arg-type]
        .order_by(Skill.name)
    )
    if chosen is not None:
        skill_query = skill_query.where(col(TechnicianSkill.technician_id).in_(chosen))
    skills: dict[int, list[str]] = {}
    for tech_id, name in session.execute(skill_query):
        skills.setdefault(tech_id, []).append(name)
    shift_query = select(ShiftPattern).order_by(ShiftPattern.weekday)  # type: ignore[arg-type]
    if chosen is not None:
        shift_query = shift_query.where(col(ShiftPattern.technician_id).in_(chosen))
    shifts: dict[int, list[ShiftPattern]] = {}
    for shift in session.scalars(shift_query):
        shifts.setdefault(shift.technician_id, []).append(shift)
    absent = set(
        session.scalars(
            select(col(Absence.technician_id)).where(Absence.start <= now, Absence.end > now)  # type: ignore[arg-type]
        )
    )
    busy = {
        tech_id: status
        for tech_id, status in session.execute(
            select(col(Appointment.technician_id), col(Job.status))
            .join(Job, Appointment.job_id == Job.id)  # type: ignore[arg-type]
            .where(Job.status.in_([JobStatus.EN_ROUTE.value, JobStatus.ON_SITE.value]))  # type: ignore[attr-defined]
        )
    }
    result = []
    tech_query = select(Technician).order_by(Technician.ref)
    if refs is not None:
        tech_query = tech_query.where(col(Technician.ref).in_(list(refs)))
    for tech in session.scalars(tech_query):
        patterns = shifts.get(tech.id or 0, [])
        usual = patterns[0] if patterns else None
        today = next((p for p in patterns if p.weekday == local_now.weekday()), None)
        result.append(
            TechnicianRow(
                ref=tech.ref, name=tech.name, skills=tuple(skills.get(tech.id or 0, [])), home_lat=tech.home_lat,
                home_lon=tech.home_lon, shift_start=format_clock(usual.start_minute) if usual else None,
                shift_end=format_clock(usual.end_minute) if usual else None,
                break_start=format_clock(usual.break_start_minute)
                if usual and usual.break_start_minute is not None else None,
                break_minutes=usual.break_minutes if usual else 0, hourly_cost=tech.hourly_cost_cents / 100,
                phone=tech.phone, email=tech.email, territory=tech.territory,
                status=_technician_status(tech, today, minute_now, tech.id in absent, busy.get(tech.id)),
            )
        )  # fmt: skip
    return result


def _technician_status(
    tech: Technician, today: ShiftPattern | None, minute: int, absent: bool, job_status: str | None
) -> str:
    if not tech.active:
        return "inactive"
    if absent:
        return "absent"
    if job_status is not None:
        return job_status  # en_route or on_site, whatever the clock says
    if today is None or not today.start_minute <= minute < today.end_minute:
        return "off_shift"
    if today.break_start_minute is not None and today.break_start_minute <= minute < (
        today.break_start_minute + today.break_minutes
    ):
        return "on_break"
    return "on_shift"
