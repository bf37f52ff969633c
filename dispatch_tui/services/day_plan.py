"""Loading the rules' view of a day from the store: technician-days with their visits, and jobs as specs.

Times become minutes from the day's local midnight (``DayFrame``). One query per table, whatever the
size of the team, so that ranking candidates over 200 technicians stays fast.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch_tui.localtime import local_at
from dispatch_tui.services.scheduling import Absence, DayFrame, JobSpec, TechDay, Visit
from dispatch_tui.store.models import Absence as AbsenceRow
from dispatch_tui.store.models import (
    Appointment,
    Job,
    ShiftPattern,
    Site,
    Skill,
    Technician,
    TechnicianSkill,
)


@dataclass(frozen=True)
class DayPlan:
    frame: DayFrame
    days: dict[str, TechDay]  # by technician ref
    tech_ids: dict[str, int]


def load_day(session: Session, day: date, zone: ZoneInfo, *, tech_refs: Collection[str] | None = None) -> DayPlan:
    """Every active technician's day (or only ``tech_refs``), with the visits placed on it."""
    frame = DayFrame(day, zone)
    origin = frame.origin
    end = frame.instant(frame.length)
    query = select(Technician).where(col(Technician.active))
    if tech_refs is not None:
        query = query.where(col(Technician.ref).in_(list(tech_refs)))
    techs = {t.id: t for t in session.scalars(query)}
    ids = list(techs)
    skills: dict[int, set[str]] = {}
    for tech_id, name in session.execute(
        select(col(TechnicianSkill.technician_id), col(Skill.name))
        .join(Skill, col(TechnicianSkill.skill_id) == col(Skill.id))
        .where(col(TechnicianSkill.technician_id).in_(ids))
    ):
        skills.setdefault(tech_id, set()).add(name)
    shifts = {
        s.technician_id: s
        for s in session.scalars(
            select(ShiftPattern).where(
                col(ShiftPattern.weekday) == day.weekday(), col(ShiftPattern.technician_id).in_(ids)
            )
        )
    }
    absences: dict[int, list[Absence]] = {}
    for a in session.scalars(
        select(AbsenceRow).where(
            col(AbsenceRow.technician_id).in_(ids), col(AbsenceRow.end) > origin, col(AbsenceRow.start) < end
        )
    ):
        absences.setdefault(a.technician_id, []).append(Absence(frame.minute(a.start), frame.minute(a.end), a.reason))
    visits: dict[int, list[Visit]] = {}
    for appointment, job, site in session.execute(
        select(Appointment, Job, Site)
        .join(Job, col(Appointment.job_id) == col(Job.id))
        .join(Site, col(Job.site_id) == col(Site.id))
        .where(col(Appointment.start) >= origin, col(Appointment.start) < end, col(Appointment.technician_id).in_(ids))
    ):
        start = frame.minute(appointment.start)
        visits.setdefault(appointment.technician_id, []).append(
            Visit(
                job_ref=job.ref,
                point=(site.lat, site.lon),
                start=start,
                duration=frame.minute(appointment.end) - start,
                window=(frame.minute(job.window_start), frame.minute(job.window_end)),
                locked=appointment.locked,
            )
        )
    days = {}
    for tech_id, tech in techs.items():
        assert tech_id is not None
        shift = shifts.get(tech_id)
        to_minute = frame.minute
        days[tech.ref] = TechDay(
            ref=tech.ref,
            name=tech.name,
            skills=frozenset(skills.get(tech_id, ())),
            home=(tech.home_lat, tech.home_lon),
            # Shift times are local clock times: through the frame they are right on DST days too.
            shift=(to_minute(_local(frame, shift.start_minute)), to_minute(_local(frame, shift.end_minute)))
            if shift
            else None,
            break_start=to_minute(_local(frame, shift.break_start_minute))
            if shift and shift.break_start_minute is not None
            else None,
            break_minutes=shift.break_minutes if shift else 0,
            absences=tuple(sorted(absences.get(tech_id, []), key=lambda a: a.start)),
            visits=tuple(sorted(visits.get(tech_id, []), key=lambda v: (v.start, v.job_ref))),
        )
    return DayPlan(frame, days, {t.ref: i for i, t in techs.items() if i is not None})


def _local(frame: DayFrame, clock_minute: int) -> datetime:
    return local_at(frame.day, clock_minute, frame.zone)


def job_spec(session: Session, job: Job, frame: DayFrame) -> JobSpec:
    site = session.get(Site, job.site_id)
    skill = session.get(Skill, job.skill_id)
    assert site is not None and skill is not None
    return JobSpec(
        ref=job.ref,
        skill=skill.name,
        point=(site.lat, site.lon),
        duration=job.duration_min,
        window=(frame.minute(job.window_start), frame.minute(job.window_end)),
        priority=job.priority,
    )
