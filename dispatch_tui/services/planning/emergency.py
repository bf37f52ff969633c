"""An emergency taken today: who could be there soonest, and what it would cost the rest of their day.

For each qualified technician working today, the job is tried at every place in their sequence that is
still ahead (after what is under way, locked or past). The visits after it start later when they must
(the drive and the new job in between); one that would then miss its window goes back to the queue if it
is less urgent than the emergency, and otherwise that place is not an option. The day that results must
add no problem to the rules (``scheduling.added_problems``): shift, break, absences, drives. A
technician's option is their soonest arrival; the options are ranked soonest first, then by what they
displace. Applying one writes the whole change in one transaction, through the gate of job changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dispatch_tui.domain import MOVABLE, AppointmentOrigin, JobStatus
from dispatch_tui.localtime import local_iso
from dispatch_tui.services.errors import Conflict, Refused
from dispatch_tui.services.jobs import record_change
from dispatch_tui.services.notify.outbox import PlannedVisit
from dispatch_tui.services.planning.assignment import hold, job_at_version, retravel
from dispatch_tui.services.planning.day_plan import DayPlan, job_spec, load_day
from dispatch_tui.services.planning.scheduling import (
    DayFrame,
    JobSpec,
    TechDay,
    Travel,
    Visit,
    added_problems,
    skill_problem,
)
from dispatch_tui.store.models import Appointment, Job, Technician

OPTIONS_SHOWN = 5


@dataclass(frozen=True)
class Consequence:
    job_ref: str
    priority: int
    later_minutes: int  # 0 when it goes back to the queue
    dropped: bool

    def words(self, frame: DayFrame, new_start: int | None) -> str:
        if self.dropped:
            return f"{self.job_ref} (P{self.priority}) goes back to the queue"
        when = f" at {frame.clock(new_start)}" if new_start is not None else ""
        return f"{self.job_ref} starts {self.later_minutes} min later{when}, still in its window"


@dataclass(frozen=True)
class InsertOption:
    technician_ref: str
    technician_name: str
    start: datetime
    end: datetime
    drive_minutes: int
    consequences: tuple[str, ...]  # in words, in the order of the day
    dropped: tuple[str, ...]  # job refs back to the queue
    later: tuple[tuple[str, datetime, datetime], ...]  # (job ref, new start, new end) of the visits pushed

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "technician_ref": self.technician_ref, "technician_name": self.technician_name,
            "start": local_iso(self.start, zone), "end": local_iso(self.end, zone),
            "drive_minutes": self.drive_minutes, "consequences": list(self.consequences),
            "dropped": list(self.dropped),
            "later": [{"job_ref": ref, "start": local_iso(start, zone), "end": local_iso(end, zone)}
                      for ref, start, end in self.later],
        }  # fmt: skip


@dataclass(frozen=True)
class _Plan:
    """One technician's day with the emergency in it, in minutes of the frame."""

    start: int
    drive: int
    day: TechDay
    consequences: tuple[Consequence, ...]
    new_starts: dict[str, int]


def insert_options(
    session: Session, job_ref: str, *, zone: ZoneInfo, travel: Travel, now: datetime, limit: int = OPTIONS_SHOWN
) -> list[InsertOption]:
    """The technicians who could start ``job_ref`` soonest today, each with what it does to their day."""
    spec, plan = _setting(session, job_ref, zone, now)
    priorities, statuses = _visit_facts(session, plan)
    options = []
    for tech_day in plan.days.values():
        found = _soonest(tech_day, spec, plan.frame, travel, plan.frame.minute(now), priorities, statuses)
        if found is not None:
            options.append((found, tech_day))
    options.sort(key=lambda o: (o[0].start, sum(c.dropped for c in o[0].consequences),
                                sum(c.later_minutes for c in o[0].consequences), o[1].ref))  # fmt: skip
    return [_option(found, tech_day, spec, plan.frame) for found, tech_day in options[:limit]]


def apply_insert(
    session: Session, job_ref: str, number: int, *, zone: ZoneInfo, travel: Travel, actor: str, now: datetime
) -> InsertOption:
    """Apply option ``number`` (1 = the soonest) of ``insert_options``, read again under the locks: the
    emergency planned, the visits after it later, the displaced ones back in the queue, in one transaction."""
    hold(session, job_ref)
    options = insert_options(session, job_ref, zone=zone, travel=travel, now=now)
    if not 1 <= number <= len(options):
        raise Refused([f"there are {len(options)} option(s) for {job_ref} now, not {number}: list them again"])
    chosen = options[number - 1]
    hold(session, job_ref, [chosen.technician_ref])
    again = insert_options(session, job_ref, zone=zone, travel=travel, now=now)
    if number > len(again) or again[number - 1] != chosen:
        raise Conflict(f"{chosen.technician_ref}'s day changed while this ran: list the options again")
    job = job_at_version(session, job_ref, None)
    tech = session.exec(select(Technician).where(Technician.ref == chosen.technician_ref)).one()
    moved = {ref: (start, end) for ref, start, end in chosen.later}
    refs = [*chosen.dropped, *moved]
    rows = session.exec(
        select(Appointment, Job).join(Job, col(Appointment.job_id) == col(Job.id)).where(col(Job.ref).in_(refs))
    ).all()
    for appointment, other in rows:
        if other.ref in chosen.dropped:
            record_change(session, other, JobStatus.NEW.value, actor,
                          f"back to the queue: emergency {job.ref} takes {tech.ref}'s time")  # fmt: skip
            session.delete(appointment)
        else:
            start, end = moved[other.ref]
            was = appointment.start.astimezone(zone)
            record_change(session, other, other.status, actor, f"starts {start.astimezone(zone):%H:%M} instead of "
                          f"{was:%H:%M}: emergency {job.ref} first, still in its window",
                          visit=PlannedVisit(start, tech.name, zone))  # fmt: skip
            appointment.start, appointment.end = start, end
            session.add(appointment)
    session.flush()
    note = f"emergency: on {tech.ref} ({tech.name}) {chosen.start.astimezone(zone):%a %d %b %H:%M}"
    record_change(session, job, JobStatus.SCHEDULED.value, actor, note + "".join(f"; {c}" for c in chosen.consequences),
                  visit=PlannedVisit(chosen.start, tech.name, zone))  # fmt: skip
    session.add(Appointment(job_id=job.id or 0, technician_id=tech.id or 0, start=chosen.start, end=chosen.end,
                            origin=AppointmentOrigin.DISPATCHER.value))  # fmt: skip
    session.flush()
    retravel(session, tech, chosen.start, zone, travel)
    return chosen


def _setting(session: Session, job_ref: str, zone: ZoneInfo, now: datetime) -> tuple[JobSpec, DayPlan]:
    job = job_at_version(session, job_ref, None)
    if job.status != JobStatus.NEW:
        raise Refused([f"{job.ref} is {job.status}: only a waiting request is inserted"])
    plan = load_day(session, now.astimezone(zone).date(), zone)
    spec = job_spec(session, job, plan.frame)
    opens = max(spec.window[0], plan.frame.minute(now))
    if opens > spec.window[1]:
        raise Refused([f"{job.ref}'s window ended at {plan.frame.clock(spec.window[1])}: give it a new one first"])
    return JobSpec(spec.ref, spec.skill, spec.point, spec.duration, (opens, spec.window[1]), spec.priority), plan


def _visit_facts(session: Session, plan: DayPlan) -> tuple[dict[str, int], dict[str, str]]:
    refs = [visit.job_ref for day in plan.days.values() for visit in day.visits]
    rows = session.exec(select(Job.ref, Job.priority, Job.status).where(col(Job.ref).in_(refs))).all()
    return {ref: priority for ref, priority, _ in rows}, {ref: status for ref, _, status in rows}


def _soonest(
    day: TechDay, job: JobSpec, frame: DayFrame, travel: Travel, now: int, priorities: dict[str, int],
    statuses: dict[str, str],
) -> _Plan | None:  # fmt: skip
    """The technician's soonest start for ``job`` over every place in their day still ahead."""
    if day.shift is None or skill_problem(day, job) is not None:
        return None
    visits = day.visits
    movable = {v.job_ref for v in visits if not v.locked and statuses.get(v.job_ref) in MOVABLE and v.start >= now}
    # Places after the last visit that must stay (under way, locked, past): the job cannot go before them.
    first = max((i + 1 for i, v in enumerate(visits) if v.job_ref not in movable), default=0)
    best: _Plan | None = None
    for position in range(first, len(visits) + 1):
        found = _at(day, job, frame, travel, now, position, movable, priorities)
        if found is not None and (best is None or (found.start, _cost(found)) < (best.start, _cost(best))):
            best = found
    return best


def _at(
    day: TechDay, job: JobSpec, frame: DayFrame, travel: Travel, now: int, position: int, movable: set[str],
    priorities: dict[str, int],
) -> _Plan | None:  # fmt: skip
    """``job`` placed before ``day.visits[position]``, the visits after it pushed (or dropped); None if the
    rules say no."""
    assert day.shift is not None
    visits = day.visits
    before = visits[:position]
    here, free_at = (before[-1].point, before[-1].end) if before else (day.home, day.shift[0])
    drive = travel(here, job.point)
    start = max(job.window[0], max(free_at, now) + drive)
    if start > job.window[1]:
        return None
    placed = [*before, Visit(job.ref, job.point, start, job.duration, job.window)]
    consequences: list[Consequence] = []
    new_starts: dict[str, int] = {}
    for visit in visits[position:]:
        last = placed[-1]
        earliest = last.end + travel(last.point, visit.point)
        if earliest <= visit.start:
            placed.append(visit)
            continue
        if earliest <= visit.window[1] and visit.job_ref in movable:
            placed.append(Visit(visit.job_ref, visit.point, earliest, visit.duration, visit.window, visit.locked))
            consequences.append(Consequence(visit.job_ref, priorities[visit.job_ref], earliest - visit.start, False))
            new_starts[visit.job_ref] = earliest
        elif visit.job_ref in movable and priorities[visit.job_ref] > job.priority:
            consequences.append(Consequence(visit.job_ref, priorities[visit.job_ref], 0, True))
        else:
            return None  # it would push out something as urgent, or something that must stay
    after = TechDay(day.ref, day.name, day.skills, day.home, day.shift, day.break_start, day.break_minutes,
                    day.absences, tuple(placed))  # fmt: skip
    dropped = {c.job_ref for c in consequences if c.dropped}
    compared = TechDay(day.ref, day.name, day.skills, day.home, day.shift, day.break_start, day.break_minutes,
                       day.absences, tuple(v for v in visits if v.job_ref not in dropped))  # fmt: skip
    if added_problems(compared, after, frame, travel):
        return None
    return _Plan(start, drive, after, tuple(consequences), new_starts)


def _cost(plan: _Plan) -> tuple[int, int]:
    return sum(c.dropped for c in plan.consequences), sum(c.later_minutes for c in plan.consequences)


def _option(found: _Plan, day: TechDay, job: JobSpec, frame: DayFrame) -> InsertOption:
    pushed = [v for v in found.day.visits if v.job_ref in found.new_starts]
    later = tuple((v.job_ref, frame.instant(v.start), frame.instant(v.end)) for v in pushed)
    words = tuple(c.words(frame, found.new_starts.get(c.job_ref)) for c in found.consequences)
    dropped = tuple(c.job_ref for c in found.consequences if c.dropped)
    start, end = frame.instant(found.start), frame.instant(found.start + job.duration)
    return InsertOption(day.ref, day.name, start, end, found.drive, words, dropped, later)
