"""Ranked candidates for one job: who could do it, when, and why that option ranks where it does.

Each technician's best feasible insertion (``insertion.insertions``) per day, scored by added driving,
idle time and lateness risk, with a bonus for the technician who last visited the customer (customers
like a familiar face, and that technician knows the site). Nothing already planned moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dispatch_tui.services.day_plan import DayPlan, job_spec, load_day
from dispatch_tui.services.insertion import TIGHT_MINUTES, WAIT_CAP_MINUTES, Insertion, insertions, legs_to_try
from dispatch_tui.services.scheduling import JobSpec, Travel
from dispatch_tui.services.travel import prefetch
from dispatch_tui.store.models import Appointment, Job, Technician

FAMILIAR_BONUS = 10.0  # score minutes: worth about ten minutes of extra driving


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
) -> list[Candidate]:
    """The best option per technician and day, best first. ``day`` defaults to the day the window opens."""
    job = session.exec(select(Job).where(Job.ref == job_ref)).first()
    if job is None:
        raise UnknownJob(f"no job {job_ref!r}")
    first = day or job.window_start.astimezone(zone).date()
    familiar = last_technician(session, job)
    options: list[Candidate] = []
    for offset in range(days):
        plan = load_day(session, first + timedelta(days=offset), zone)
        spec = job_spec(session, job, plan.frame)
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


def why_unplaceable(plan: DayPlan, spec: JobSpec) -> list[str]:
    """Why no technician can take ``spec`` on the plan's day, in a dispatcher's words."""
    qualified = [d for d in plan.days.values() if spec.skill in d.skills]
    if not qualified:
        return [f"no technician has skill {spec.skill}"]
    if not any(d.shift for d in qualified):
        return [f"no technician with skill {spec.skill} works on {plan.frame.day.strftime('%A')}"]
    clock = plan.frame.clock
    return [f"no technician with skill {spec.skill} is free in {clock(spec.window[0])}-{clock(spec.window[1])}"]
