"""Planned visits that no longer keep the job's promise: one check for the import, the board and the schedule.

A request can change after it was planned (a re-import from the CRM: a new window, a longer visit, another
skill). The visit is kept where it is, so that one customer's change never blocks a whole import, and it is
flagged wherever it shows: the import names it, the board alerts on it and marks its block, ``dispatch
schedule`` marks the stop. Only visits not yet begun are checked (scheduled, dispatched, en route): once
the technician is on site, the promise was kept or broken already.

Problems (``kind``):
- ``outside_window``: the visit starts before its window opens or after it closes;
- ``duration_changed``: the job now takes longer than the time planned for it (it would overrun into
  what follows);
- ``skill_missing``: the technician lacks the skill the job now needs.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlmodel import Session, col

from dispatch_tui.domain import BROKEN_PROMISES, AlertKind, JobStatus
from dispatch_tui.store.models import Appointment, Job, Skill, Technician, TechnicianSkill

CHECKED = (JobStatus.SCHEDULED.value, JobStatus.DISPATCHED.value, JobStatus.EN_ROUTE.value)
KINDS = BROKEN_PROMISES


@dataclass(frozen=True, slots=True)
class BrokenPromise:
    kind: AlertKind  # one of KINDS
    job_ref: str
    technician_ref: str
    start: datetime  # the visit as planned
    message: str  # "R00008: visit at 14:00 is outside its window 08:00–10:00"

    @property
    def advice(self) -> str:
        """What to do about it: a command that works."""
        return f"move it: dispatch candidates {self.job_ref}"


def broken_promises(
    session: Session,
    zone: ZoneInfo,
    *,
    job_refs: Collection[str] | None = None,
    tech_refs: Collection[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[BrokenPromise]:
    """Every problem of the visits not yet begun (only ``job_refs``', ``tech_refs``', or those starting
    in [since, until) when given), in order of start then ref; a visit may have more than one."""
    has_skill = exists().where(
        col(TechnicianSkill.technician_id) == col(Appointment.technician_id),
        col(TechnicianSkill.skill_id) == col(Job.skill_id),
    )
    query = (
        select(
            col(Job.ref), col(Appointment.start), col(Appointment.end), col(Job.window_start), col(Job.window_end),
            col(Job.duration_min), col(Skill.name), col(Technician.ref), col(Technician.name), has_skill,
        )
        .join(Appointment, col(Appointment.job_id) == col(Job.id))
        .join(Technician, col(Appointment.technician_id) == col(Technician.id))
        .join(Skill, col(Job.skill_id) == col(Skill.id))
        .where(col(Job.status).in_(CHECKED))
        .order_by(col(Appointment.start), col(Job.ref))
    )  # fmt: skip
    if job_refs is not None:
        query = query.where(col(Job.ref).in_(list(job_refs)))
    if tech_refs is not None:
        query = query.where(col(Technician.ref).in_(list(tech_refs)))
    if since is not None:
        query = query.where(col(Appointment.start) >= since)
    if until is not None:
        query = query.where(col(Appointment.start) < until)
    found = []
    for ref, start, end, w_start, w_end, duration, skill, tech_ref, tech_name, skilled in session.execute(query):
        if not w_start <= start <= w_end:
            window = f"{_when(w_start, start, zone)}–{_when(w_end, start, zone)}"
            message = f"{ref}: visit at {_clock(start, zone)} is outside its window {window}"
            found.append(BrokenPromise(AlertKind.OUTSIDE_WINDOW, ref, tech_ref, start, message))
        planned = int((end - start).total_seconds() // 60)
        if duration > planned:
            message = f"{ref}: {planned} min are planned at {_clock(start, zone)}, the job now takes {duration} min"
            found.append(BrokenPromise(AlertKind.DURATION_CHANGED, ref, tech_ref, start, message))
        if not skilled:
            message = f"{ref}: {tech_name} ({tech_ref}) does not have skill {skill}, which the job now needs"
            found.append(BrokenPromise(AlertKind.SKILL_MISSING, ref, tech_ref, start, message))
    return found


def _clock(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%H:%M")


def _when(value: datetime, visit: datetime, zone: ZoneInfo) -> str:
    """HH:MM, with the date when it is not the visit's day (a window moved to another day)."""
    local = value.astimezone(zone)
    if local.date() == visit.astimezone(zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%a %d %b %H:%M")
