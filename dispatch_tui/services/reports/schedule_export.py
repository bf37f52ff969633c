"""A day's plan as data: routes with their breaks and drives, and the jobs left unassigned, with reasons.

The JSON shape is the contract in docs/schedule-json.md. Technicians leave home just in time for
their first visit and drive on as soon as a visit ends (waiting, if any, happens on arrival); the break
sits where the rules place it (``scheduling.break_slot``), and a drive that overlaps it starts after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from dispatch_tui.domain import AlertKind, JobStatus
from dispatch_tui.localtime import local_iso
from dispatch_tui.services.execution.actual_times import Actual, actual_times
from dispatch_tui.services.planning.candidates import still_open, why_unplaceable, window_text
from dispatch_tui.services.planning.day_plan import DayPlan, job_spec, load_day
from dispatch_tui.services.planning.insertion import insertions, legs_to_try
from dispatch_tui.services.planning.promises import BrokenPromise, broken_promises
from dispatch_tui.services.planning.scheduling import Point, TechDay, Travel, break_slot
from dispatch_tui.services.travel import prefetch
from dispatch_tui.store.models import Customer, Job, Site, Skill, utcnow

WAITING_STATUSES = (JobStatus.NEW.value, JobStatus.ON_HOLD.value)


@dataclass(frozen=True)
class Stop:
    job_ref: str
    arrival: datetime
    start: datetime
    end: datetime
    travel_minutes: int
    locked: bool
    skill: str = ""
    customer: str = ""
    address: str = ""
    description: str = ""
    # What no longer keeps the job's promise (``promises``: a window changed after planning, …), worded.
    broken_promises: tuple[str, ...] = ()
    outside_window: bool = False
    # When the visit really began and ended (``actual_times``: on site since, done at); None until known.
    actual_start: datetime | None = None
    actual_end: datetime | None = None


@dataclass(frozen=True)
class Route:
    technician_ref: str
    technician_name: str
    start: datetime  # leaving home
    end: datetime  # back home
    break_: tuple[datetime, datetime] | None
    stops: tuple[Stop, ...]


@dataclass(frozen=True)
class Schedule:
    day: date
    routes: tuple[Route, ...]
    unassigned: tuple[tuple[str, tuple[str, ...]], ...]

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        def iso(value: datetime) -> str | None:
            return local_iso(value, zone)

        return {
            "date": self.day.isoformat(),
            "routes": [
                {
                    "technician_ref": r.technician_ref,
                    "start": iso(r.start),
                    "end": iso(r.end),
                    "break": {"start": iso(r.break_[0]), "end": iso(r.break_[1])} if r.break_ else None,
                    "stops": [
                        {
                            "job_ref": s.job_ref,
                            "arrival": iso(s.arrival),
                            "start": iso(s.start),
                            "end": iso(s.end),
                            "travel_minutes": s.travel_minutes,
                            "locked": s.locked,
                            "outside_window": s.outside_window,
                            "broken_promises": list(s.broken_promises),
                            "actual_start": iso(s.actual_start) if s.actual_start else None,
                            "actual_end": iso(s.actual_end) if s.actual_end else None,
                        }
                        for s in r.stops
                    ],
                }
                for r in self.routes
            ],
            "unassigned": [{"job_ref": ref, "reasons": list(reasons)} for ref, reasons in self.unassigned],
        }


def build_schedule(
    session: Session,
    day: date,
    zone: ZoneInfo,
    travel: Travel,
    *,
    tech_ref: str | None = None,
    now: datetime | None = None,
) -> Schedule:
    """The day's routes, and the waiting jobs nobody has yet with why; with ``now``, only what is still
    ahead of it is offered (as `dispatch candidates`): a window that has passed says so. Visits under way
    or done carry their actual times (as of ``now``, or the current time)."""
    plan = load_day(session, day, zone, tech_refs=[tech_ref] if tech_ref else None)
    details = _job_details(session, [v.job_ref for d in plan.days.values() for v in d.visits])
    actual = actual_times(session, now or utcnow(), [v.job_ref for d in plan.days.values() for v in d.visits])
    prefetch(travel, (leg for d in plan.days.values() for leg in _route_legs(d)))
    broken: dict[str, list[BrokenPromise]] = {}
    for promise in broken_promises(session, zone, tech_refs=[tech_ref] if tech_ref else None,
                                   since=plan.frame.origin, until=plan.frame.instant(plan.frame.length)):  # fmt: skip
        broken.setdefault(promise.job_ref, []).append(promise)
    routes = tuple(
        _route(plan, tech_day, travel, details, broken, actual)
        for ref, tech_day in sorted(plan.days.items())
        if tech_day.visits
    )
    unassigned = () if tech_ref else _unassigned(session, plan, travel, now)
    return Schedule(day, routes, unassigned)


def _route(
    plan: DayPlan,
    day: TechDay,
    travel: Travel,
    details: dict[str, tuple[str, str, str, str]],
    broken: dict[str, list[BrokenPromise]],
    actual: dict[str, Actual],
) -> Route:
    frame = plan.frame
    slot = break_slot(day, travel)
    stops = []
    here, free_from = day.home, None
    for visit in day.visits:
        drive = travel(here, visit.point)
        if free_from is None:  # leave home just in time
            arrival = visit.start
        else:
            arrival = free_from + drive
            if slot and free_from <= slot[0] < arrival:  # the break comes first, then the drive
                arrival = slot[1] + drive
        skill, customer, address, description = details.get(visit.job_ref, ("", "", "", ""))
        promises = broken.get(visit.job_ref, [])
        known = actual.get(visit.job_ref)
        stops.append(
            Stop(
                job_ref=visit.job_ref, arrival=frame.instant(arrival), start=frame.instant(visit.start),
                end=frame.instant(visit.end), travel_minutes=drive, locked=visit.locked, skill=skill,
                customer=customer, address=address, description=description,
                broken_promises=tuple(p.message for p in promises),
                outside_window=any(p.kind == AlertKind.OUTSIDE_WINDOW for p in promises),
                actual_start=known.start if known else None, actual_end=known.end if known else None,
            )
        )  # fmt: skip
        here, free_from = visit.point, visit.end
    first, last = day.visits[0], day.visits[-1]
    leave = first.start - travel(day.home, first.point)
    back = last.end + travel(last.point, day.home)
    if slot and last.end <= slot[0] < back:
        back = slot[1] + travel(last.point, day.home)
    return Route(
        technician_ref=day.ref, technician_name=day.name, start=frame.instant(leave), end=frame.instant(back),
        break_=(frame.instant(slot[0]), frame.instant(slot[1])) if slot else None, stops=tuple(stops),
    )  # fmt: skip


def _route_legs(day: TechDay) -> list[tuple[Point, Point]]:
    places = [day.home, *(v.point for v in day.visits), day.home] if day.visits else []
    return list(pairwise(places))


def _job_details(session: Session, refs: list[str]) -> dict[str, tuple[str, str, str, str]]:
    if not refs:
        return {}
    rows = session.execute(  # five columns: past sqlmodel.select's typed overloads
        sa_select(col(Job.ref), col(Skill.name), col(Customer.name), col(Site.address), col(Job.description))
        .join(Skill, col(Job.skill_id) == col(Skill.id))
        .join(Customer, col(Job.customer_id) == col(Customer.id))
        .join(Site, col(Job.site_id) == col(Site.id))
        .where(col(Job.ref).in_(refs))
    )
    return {ref: (skill, customer, address, description) for ref, skill, customer, address, description in rows}


def _unassigned(
    session: Session, plan: DayPlan, travel: Travel, now: datetime | None
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Waiting jobs whose window opens that day, each with why it is not on anyone's route."""
    start, end = plan.frame.origin, plan.frame.instant(plan.frame.length)
    jobs = session.exec(
        select(Job)
        .where(col(Job.status).in_(WAITING_STATUSES), col(Job.window_start) >= start, col(Job.window_start) < end)
        .order_by(col(Job.priority), col(Job.window_start), col(Job.ref))
    ).all()
    specs = {
        job.ref: still_open(job_spec(session, job, plan.frame), plan.frame, now)
        for job in jobs
        if job.status != JobStatus.ON_HOLD.value
    }
    legs = (leg for spec in specs.values() if spec for d in plan.days.values() for leg in legs_to_try(d, spec))
    prefetch(travel, legs)  # every waiting job's legs in one go: a few server requests, not some per job
    result: list[tuple[str, tuple[str, ...]]] = []
    for job in jobs:
        if job.ref not in specs:
            result.append((job.ref, ("on hold",)))
            continue
        spec = specs[job.ref]
        if spec is None:
            result.append((job.ref, (f"its window {window_text(job, plan.frame.zone)} has passed",)))
            continue
        options = [
            (option.score, option.start, option.tech_ref)
            for tech_day in plan.days.values()
            for option in insertions(tech_day, spec, plan.frame, travel)
        ]
        if not options:
            result.append((job.ref, tuple(why_unplaceable(plan, spec, travel))))
            continue
        _, best_start, best_tech = min(options)
        techs = len({tech for _, _, tech in options})
        best = f"best {best_tech} at {plan.frame.clock(best_start)}"
        result.append((job.ref, (f"not assigned yet: {techs} technician(s) could take it, {best}",)))
    return tuple(result)
