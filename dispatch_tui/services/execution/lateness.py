"""Running late: each technician's day projected from the live statuses, and who is behind plan.

One definition of late, for ``dispatch late``, the console's late list, the grid's projected times and
the board's "running late" alert.

The projection walks a technician's visits of the day in planned order, from home, with the travel
model's drive times (``travel(a, b)``), as of ``now``:

- a finished visit (completed, needs follow-up) ends when it was reported done (its event's time; the
  planned end if none); the technician drives on from there;
- on site since S (the on_site event; the planned start if none): projected start = S, projected end =
  max(S + duration, now): a visit still running past its expected end ends no sooner than now;
- en route since E (the en_route event): projected arrival = max(E + drive, now);
- not started (scheduled, dispatched): projected arrival = max(previous projected end, now) + drive,
  where the previous end is that of the visit before (none: the technician leaves from home as late as
  now): a planned departure that passed with no en route pushes the visit;
- projected start = max(projected arrival, planned start) (a technician early waits for the planned
  time), except on site; projected end = projected start + planned duration.

A visit's delay = projected end − planned end (for a visit not begun, projected start − planned
start). A technician is behind plan by the largest delay among their unfinished visits, and running
late once that is ``LATE_GRACE_MINUTES`` or more. A visit misses its window when its projected start
(not yet on site) is after the window's end. The break is not moved: delays are measured on the visits.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from dispatch_tui.domain import FINISHED, JobStatus
from dispatch_tui.localtime import local_iso
from dispatch_tui.services.planning.day_plan import DayPlan, load_day
from dispatch_tui.services.planning.scheduling import Point, TechDay, Travel
from dispatch_tui.services.travel import prefetch
from dispatch_tui.store.models import Job, JobEvent

LATE_GRACE_MINUTES = 15  # a technician this far behind a visit's plan is running late
UNDER_WAY = (JobStatus.SCHEDULED.value, JobStatus.DISPATCHED.value, JobStatus.EN_ROUTE.value,
             JobStatus.ON_SITE.value)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProjectedVisit:
    job_ref: str
    status: str
    planned_start: datetime
    planned_end: datetime
    projected_start: datetime
    projected_end: datetime
    window_start: datetime
    window_end: datetime

    @property
    def delay_minutes(self) -> int:
        """Projected end − planned end: how far behind its plan this visit is (0 when on time or early)."""
        return max(0, _minutes(self.projected_end - self.planned_end))

    @property
    def misses_window(self) -> bool:
        """Service would now start after the promised window closes (an on-site visit has started)."""
        return self.status != JobStatus.ON_SITE.value and self.projected_start > self.window_end


@dataclass(frozen=True, slots=True)
class TechProjection:
    """A technician's unfinished visits of the day, projected; ``reason``: why the first one is late."""

    technician_ref: str
    name: str
    visits: tuple[ProjectedVisit, ...]
    reason: str

    @property
    def behind_minutes(self) -> int:
        return max((visit.delay_minutes for visit in self.visits), default=0)

    @property
    def late(self) -> bool:
        return self.behind_minutes >= LATE_GRACE_MINUTES

    @property
    def missed(self) -> tuple[ProjectedVisit, ...]:
        return tuple(visit for visit in self.visits if visit.misses_window)


@dataclass(frozen=True)
class LateList:
    day: date
    now: datetime
    technicians: tuple[TechProjection, ...]  # only those running late, most behind first

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        def iso(value: datetime) -> str | None:
            return local_iso(value, zone)

        return {
            "date": self.day.isoformat(),
            "now": iso(self.now),
            "grace_minutes": LATE_GRACE_MINUTES,
            "technicians": [
                {
                    "technician_ref": tech.technician_ref,
                    "name": tech.name,
                    "behind_minutes": tech.behind_minutes,
                    "reason": tech.reason,
                    "visits": [
                        {
                            "job_ref": v.job_ref,
                            "status": v.status,
                            "planned_start": iso(v.planned_start),
                            "planned_end": iso(v.planned_end),
                            "projected_start": iso(v.projected_start),
                            "projected_end": iso(v.projected_end),
                            "delay_minutes": v.delay_minutes,
                            "window_start": iso(v.window_start),
                            "window_end": iso(v.window_end),
                            "misses_window": v.misses_window,
                        }
                        for v in tech.visits
                    ],
                }
                for tech in self.technicians
            ],
        }


def late_list(
    session: Session,
    day: date,
    zone: ZoneInfo,
    now: datetime,
    travel: Travel,
    *,
    tech_refs: Collection[str] | None = None,
) -> LateList:
    """The technicians running late on ``day`` as of ``now`` (only ``tech_refs``, when given)."""
    projections = project_plan(session, load_day(session, day, zone, tech_refs=tech_refs), now, travel)
    return LateList(day, now, running_late(projections))


def running_late(projections: dict[str, TechProjection]) -> tuple[TechProjection, ...]:
    """Those of ``projections`` running late, most behind first."""
    late = sorted((p for p in projections.values() if p.late), key=lambda p: (-p.behind_minutes, p.technician_ref))
    return tuple(late)


def project_plan(session: Session, plan: DayPlan, now: datetime, travel: Travel) -> dict[str, TechProjection]:
    """Every technician's projection of ``plan``'s day, by ref (those with unfinished visits only)."""
    refs = [visit.job_ref for tech_day in plan.days.values() for visit in tech_day.visits]
    if not refs:
        return {}
    live = _live(session, refs)
    prefetch(travel, (leg for tech_day in plan.days.values() for leg in _legs(tech_day)))
    found = {}
    for ref, tech_day in sorted(plan.days.items()):
        projection = _project(plan, tech_day, live, now, travel)
        if projection.visits:
            found[ref] = projection
    return found


def _live(session: Session, refs: list[str]) -> dict[str, tuple[str, dict[str, datetime]]]:
    """Each job's status and the latest time it entered each execution status."""
    statuses = dict(session.execute(select(col(Job.ref), col(Job.status)).where(col(Job.ref).in_(refs))).all())
    moments: dict[str, dict[str, datetime]] = {ref: {} for ref in statuses}
    steps = (JobStatus.EN_ROUTE.value, JobStatus.ON_SITE.value, *FINISHED)
    query = (
        select(col(Job.ref), col(JobEvent.to_status), func.max(col(JobEvent.at)))
        .join(JobEvent, col(JobEvent.job_id) == col(Job.id))
        .where(col(Job.ref).in_(refs), col(JobEvent.to_status).in_(steps))
        .group_by(col(Job.ref), col(JobEvent.to_status))
    )
    for ref, status, at in session.execute(query):
        moments[ref][status] = at
    return {ref: (status, moments[ref]) for ref, status in statuses.items()}


def _legs(tech_day: TechDay) -> list[tuple[Point, Point]]:
    points = [tech_day.home, *(visit.point for visit in tech_day.visits)]
    return list(pairwise(points))


def _project(
    plan: DayPlan, tech_day: TechDay, live: dict[str, tuple[str, dict[str, datetime]]], now: datetime, travel: Travel
) -> TechProjection:
    frame = plan.frame
    here: Point = tech_day.home
    free_from: datetime | None = None  # when the technician is free to drive on (None: at home)
    visits: list[ProjectedVisit] = []
    reason = ""
    for visit in tech_day.visits:
        status, moments = live.get(visit.job_ref, (JobStatus.SCHEDULED.value, {}))
        planned_start, planned_end = frame.instant(visit.start), frame.instant(visit.end)
        duration = timedelta(minutes=visit.duration)
        drive = timedelta(minutes=travel(here, visit.point))
        here = visit.point
        if status in FINISHED:
            free_from = next((moments[s] for s in FINISHED if s in moments), planned_end)
            continue
        if status not in UNDER_WAY:
            continue
        if status == JobStatus.ON_SITE.value:
            start = moments.get(JobStatus.ON_SITE.value, planned_start)
            end = max(start + duration, now)
            why = f"on site at {visit.job_ref} since {_clock(start, plan)}, ends {_clock(end, plan)}"
            why += f" (planned {_clock(planned_end, plan)})"
        else:
            if status == JobStatus.EN_ROUTE.value:
                left = moments.get(JobStatus.EN_ROUTE.value, planned_start - drive)
                arrival = max(left + drive, now)
                why = f"en route to {visit.job_ref} since {_clock(left, plan)}"
            else:
                arrival = max(free_from or now, now) + drive
                why = f"has not left for {visit.job_ref} (planned to leave {_clock(planned_start - drive, plan)})"
            start = max(arrival, planned_start)
            end = start + duration
            why += f", starts {_clock(start, plan)} (planned {_clock(planned_start, plan)})"
        window = (frame.instant(visit.window[0]), frame.instant(visit.window[1]))
        projected = ProjectedVisit(visit.job_ref, status, planned_start, planned_end, start, end, *window)
        if not reason and projected.delay_minutes >= LATE_GRACE_MINUTES:
            reason = why
        visits.append(projected)
        free_from = end
    return TechProjection(tech_day.ref, tech_day.name, tuple(visits), reason)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _clock(value: datetime, plan: DayPlan) -> str:
    return plan.frame.clock(plan.frame.minute(value))
