"""Ranked candidates for one job: who could do it, when, and why that option ranks where it does.

Each technician's best feasible insertion (``insertion.insertions``) per day, scored by added driving,
idle time and lateness risk, with a bonus for the technician who last visited the customer (customers
like a familiar face, and that technician knows the site). Nothing already planned moves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dispatch_tui.services.day_plan import DayPlan, job_spec, load_day
from dispatch_tui.services.insertion import TIGHT_MINUTES, WAIT_CAP_MINUTES, Insertion, insertions, legs_to_try
from dispatch_tui.services.scheduling import JobSpec, Travel, check_insert
from dispatch_tui.services.travel import prefetch
from dispatch_tui.store.models import Appointment, Job, Technician

FAMILIAR_BONUS = 10.0  # score minutes: worth about ten minutes of extra driving
UNREACHABLE_DETAILS = 3  # technicians whose reason is spelled out for a job nobody can reach


@dataclass(frozen=True)
class Candidate:
    technician_ref: str
    technician_name: str
    start: datetime
    end: datetime
    added_travel_minutes: int
    waiting_minutes: int
    score: float
    reasons: tuple[str, ...]


class UnknownJob(Exception):
    pass


def rank_candidates(
    session: Session,
    job_ref: str,
    *,
    zone: ZoneInfo,
    travel: Travel,
    day: date | None = None,
    days: int = 1,
    limit: int = 10,
    now: datetime | None = None,
) -> list[Candidate]:
    """The best option per technician and day, best first. ``day`` defaults to the day the window opens.
    With ``now``, no option starts before it: the part of today that has passed is offered to nobody."""
    job = session.exec(select(Job).where(Job.ref == job_ref)).first()
    if job is None:
        raise UnknownJob(f"no job {job_ref!r}")
    first = day or job.window_start.astimezone(zone).date()
    familiar = last_technician(session, job)
    options: list[Candidate] = []
    for offset in range(days):
        plan = load_day(session, first + timedelta(days=offset), zone)
        spec = job_spec(session, job, plan.frame)
        if now is not None:
            opens = max(spec.window[0], plan.frame.minute(now))
            if opens > spec.window[1]:
                continue  # its window has passed on this day
            spec = replace(spec, window=(opens, spec.window[1]))
        prefetch(travel, (leg for d in plan.days.values() for leg in legs_to_try(d.without(job.ref), spec)))
        for tech_day in plan.days.values():
            found = insertions(tech_day.without(job.ref), spec, plan.frame, travel)
            if found:
                best = min(found, key=lambda i: (i.score, i.start))
                options.append(_candidate(plan, tech_day.name, best, familiar))
    options.sort(key=lambda c: (c.score, c.start, c.technician_ref))
    return options[:limit]


def _candidate(plan: DayPlan, name: str, option: Insertion, familiar: tuple[str, str] | None) -> Candidate:
    reasons = [f"+{option.added_travel} min driving"]
    if 0 < option.waiting <= WAIT_CAP_MINUTES:
        reasons.append(f"waits {option.waiting} min before starting")
    elif option.waiting:
        reasons.append(f"{option.waiting} min free before it")
    if option.slack < TIGHT_MINUTES:
        reasons.append(f"tight: {option.slack} min to spare")
    reasons.append(f"before {option.before}" if option.before else "last visit of the day")
    score = option.score
    if familiar and familiar[0] == option.tech_ref:
        score -= FAMILIAR_BONUS
        reasons.append(f"visited this customer last ({familiar[1]})")
    return Candidate(
        technician_ref=option.tech_ref,
        technician_name=name,
        start=plan.frame.instant(option.start),
        end=plan.frame.instant(option.end),
        added_travel_minutes=option.added_travel,
        waiting_minutes=option.waiting,
        score=round(score, 1),
        reasons=tuple(reasons),
    )


def last_technician(session: Session, job: Job) -> tuple[str, str] | None:
    """(ref, job ref) of the technician of this customer's latest other appointment, if any."""
    row = session.exec(
        select(Technician.ref, Job.ref)
        .join(Appointment, col(Appointment.technician_id) == col(Technician.id))
        .join(Job, col(Appointment.job_id) == col(Job.id))
        .where(Job.customer_id == job.customer_id, Job.id != job.id)
        .order_by(col(Appointment.start).desc())
    ).first()
    return (row[0], row[1]) if row else None


def why_unplaceable(plan: DayPlan, spec: JobSpec, travel: Travel) -> list[str]:
    """Why no technician can take ``spec`` on the plan's day, in a dispatcher's words: nobody has the
    skill, nobody with it works that day, all of them are full in its window, or its window cannot be
    reached even on an empty day (then each qualified technician's first reason)."""
    qualified = [d for d in plan.days.values() if spec.skill in d.skills]
    if not qualified:
        return [f"no technician has skill {spec.skill}"]
    working = [d for d in qualified if d.shift]
    if not working:
        return [f"no technician with skill {spec.skill} works on {plan.frame.day.strftime('%A')}"]
    clock = plan.frame.clock
    window = f"{clock(spec.window[0])}-{clock(spec.window[1])}"
    if any(insertions(d.emptied(), spec, plan.frame, travel) for d in working):
        return [f"all {len(working)} technician(s) with skill {spec.skill} are full in {window}"]
    reasons = [f"no technician with skill {spec.skill} can reach it in {window}, even with nothing else planned"]
    for day in working[:UNREACHABLE_DETAILS]:
        problems = check_insert(day.emptied(), spec, spec.window[0], plan.frame, travel)
        if problems:
            reasons.append(str(problems[0]))
    return reasons
