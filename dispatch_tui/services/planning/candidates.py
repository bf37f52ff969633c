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

from dispatch_tui.localtime import local_moment
from dispatch_tui.services.errors import NotFound
from dispatch_tui.services.planning.day_plan import DayPlan, job_spec, load_day
from dispatch_tui.services.planning.insertion import TIGHT_MINUTES, WAIT_CAP_MINUTES, Insertion, insertions, legs_to_try
from dispatch_tui.services.planning.scheduling import DayFrame, JobSpec, TechDay, Travel, check_insert
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


@dataclass(frozen=True)
class Nobody:
    """Why no technician can take a job, and what to do about it ("" when nothing would help)."""

    reasons: tuple[str, ...]
    advice: str


class UnknownJob(NotFound):
    """No job with that ref."""


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
        spec = still_open(job_spec(session, job, plan.frame), plan.frame, now)
        if spec is None:
            continue  # its window has passed on this day
        prefetch(travel, (leg for d in plan.days.values() for leg in legs_to_try(d.without(job.ref), spec)))
        for tech_day in plan.days.values():
            found = insertions(tech_day.without(job.ref), spec, plan.frame, travel)
            if found:
                best = min(found, key=lambda i: (i.score, i.start))
                options.append(_candidate(plan, tech_day.name, best, familiar))
    options.sort(key=lambda c: (c.score, c.start, c.technician_ref))
    return options[:limit]


def still_open(spec: JobSpec, frame: DayFrame, now: datetime | None) -> JobSpec | None:
    """``spec`` with its window cut to what is still ahead of ``now`` on the frame's day, or None when the
    window has passed or does not reach that day: then nobody can take it there."""
    opens = spec.window[0] if now is None else max(spec.window[0], frame.minute(now))
    if opens > spec.window[1] or spec.window[1] < 0 or opens > frame.length:
        return None
    return replace(spec, window=(opens, spec.window[1]))


def why_no_candidates(
    session: Session,
    job_ref: str,
    *,
    zone: ZoneInfo,
    travel: Travel,
    day: date | None = None,
    days: int = 1,
    now: datetime | None = None,
) -> Nobody:
    """Why ``rank_candidates`` with the same arguments found nobody, day by day, in a dispatcher's words
    (the window has passed or is not on that day, or ``why_unplaceable``'s reasons), and what to do."""
    job = session.exec(select(Job).where(Job.ref == job_ref)).first()
    if job is None:
        raise UnknownJob(f"no job {job_ref!r}")
    first = day or job.window_start.astimezone(zone).date()
    today = now.astimezone(zone).date() if now is not None else None
    reasons = []
    for offset in range(days):
        if now is not None and (the_day := first + timedelta(days=offset)) < now.astimezone(zone).date():
            reasons.append(f"{the_day:%a %d %b} is over (it is {local_moment(now, zone)})")
            continue
        plan = load_day(session, first + timedelta(days=offset), zone)
        spec = job_spec(session, job, plan.frame)
        label = f"{plan.frame.day:%a %d %b}"
        open_part = still_open(spec, plan.frame, now)
        if open_part is None:
            passed = now is not None and job.window_end <= now
            what = "has passed" if passed else "is not on that day"
            reasons.append(f"{label}: its window {window_text(job, zone)} {what}")
            continue
        others = DayPlan(plan.frame, {ref: d.without(job.ref) for ref, d in plan.days.items()}, plan.tech_ids)
        reasons += [f"{label}: {reason}" for reason in why_unplaceable(others, open_part, travel)]
    advice = ""
    if now is not None and job.window_end <= now:
        advice = ("its promised window has passed: agree a new one with the customer and import the request "
                  "with it (dispatch import requests FILE)")  # fmt: skip
    elif today is not None and first + timedelta(days=days - 1) < today:
        advice = f"those days are over: try --date {today.isoformat()} (today) or a later day"
    elif job.window_end.astimezone(zone).date() >= first + timedelta(days=days):
        advice = "its window goes on after the days tried: try more --days or a later --date"
    return Nobody(tuple(reasons), advice)


def window_text(job: Job, zone: ZoneInfo) -> str:
    start, end = job.window_start.astimezone(zone), job.window_end.astimezone(zone)
    last = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%a %d %H:%M}"
    return f"{start:%a %d %H:%M}-{last}"


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
    skill, nobody with it works that day or all who do are off in its window, all who could are full
    (each named, with what stops them), or its window cannot be reached even on an empty day."""
    qualified = [d for d in plan.days.values() if spec.skill in d.skills]
    if not qualified:
        return [f"no technician has skill {spec.skill}"]
    working = [d for d in qualified if d.shift]
    if not working:
        return [f"no technician with skill {spec.skill} works on {plan.frame.day.strftime('%A')}"]
    clock = plan.frame.clock
    window = f"{clock(spec.window[0])}-{clock(spec.window[1])}"
    off = [d for d in working if _off_through(d, spec)]
    present = [d for d in working if d not in off]
    off_note = [_off_note(d, spec, plan.frame) for d in off]
    if not present:
        return [f"every technician with skill {spec.skill} working that day is off in {window}", *off_note]
    could = [d for d in present if insertions(d.emptied(), spec, plan.frame, travel)]
    if could:
        reasons = [f"all {len(could)} technician(s) with skill {spec.skill} who could take it are full in {window}"]
        reasons += [f"{d.name}: {_first_problem(d, spec, plan, travel)}" for d in could[:UNREACHABLE_DETAILS]]
        return reasons + off_note
    reasons = [f"no technician with skill {spec.skill} can reach it in {window}, even with nothing else planned"]
    reasons += [f"{d.name}: {_first_problem(d.emptied(), spec, plan, travel)}" for d in present[:UNREACHABLE_DETAILS]]
    return reasons + off_note


def _first_problem(day: TechDay, spec: JobSpec, plan: DayPlan, travel: Travel) -> str:
    """What stops ``day``'s technician from starting ``spec`` when its window opens (the first rule broken)."""
    problems = check_insert(day, spec, spec.window[0], plan.frame, travel)
    return str(problems[0]) if problems else "no free slot long enough in the window"


def _off_note(day: TechDay, spec: JobSpec, frame: DayFrame) -> str:
    """'Ben Okafor is off 13:00–17:00 (dentist)': the absences that cover the job's window."""
    hi = spec.window[1] + spec.duration
    spans = [a for a in day.absences if a.start < hi and a.end > spec.window[0]]
    said = ", ".join(
        f"{frame.clock(a.start)}–{frame.clock(a.end)}" + (f" ({a.reason})" if a.reason else "") for a in spans
    )
    return f"{day.name} is off {said}"


def _off_through(day: TechDay, spec: JobSpec) -> bool:
    """Whether the technician's absences cover every minute of the shift the job's window could use."""
    assert day.shift is not None
    lo, hi = max(spec.window[0], day.shift[0]), min(spec.window[1] + spec.duration, day.shift[1])
    for absence in sorted(day.absences, key=lambda a: a.start):
        if absence.start <= lo < absence.end:
            lo = absence.end
    return lo >= hi
