"""How the service performs over a period of local days, overall, by technician and day by day.

Every figure comes from the audit trail (status times), the jobs and the time sheets:

- requests received: jobs created in the period, by source (follow-ups count, as source technician);
- waiting time, of the requests received in the period: created → first scheduled, created → first on
  site, in minutes; median and p90 (nearest rank: the value at position ⌈0.9·n⌉ of the sorted list);
  a report entered after the fact can put a time before the request was imported: that wait counts 0;
- on-time arrival: arrivals (on_site) in the period no later than the end of the promised window;
- first-time fix: first visits (not follow-ups) finished in the period that ended completed, out of
  those ended completed or needs_follow_up;
- utilization: work / shift minutes; travel share: travel / (travel + work) (from the time sheets);
- SLA breaches: jobs due in the period (due_by) whose due time has passed (by ``now``), not cancelled, not
  completed by then (a job due later today is not a breach yet, however it is planned);
- average rating: the ratings of the visits finished in the period.

Percentages and ratios are ``None`` when there is nothing to count.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from dispatch_tui.domain import FINISHED
from dispatch_tui.domain import JobStatus as S
from dispatch_tui.localtime import local_period_bounds
from dispatch_tui.services.billing.timesheets import TimesheetDay, timesheets
from dispatch_tui.store.models import Appointment, Feedback, FollowUp, Job, JobEvent, Technician, utcnow

T_JOB = Job.__table__  # type: ignore[attr-defined]
T_EVENT = JobEvent.__table__  # type: ignore[attr-defined]
T_APPOINTMENT = Appointment.__table__  # type: ignore[attr-defined]
T_TECH = Technician.__table__  # type: ignore[attr-defined]
T_FEEDBACK = Feedback.__table__  # type: ignore[attr-defined]
T_FOLLOW_UP = FollowUp.__table__  # type: ignore[attr-defined]


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 3) if whole else None


def p90(values: list[int]) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def summary(values: list[int]) -> dict[str, Any]:
    return {
        "count": len(values),
        "median": statistics.median(values) if values else None,
        "p90": p90(values),
    }


@dataclass
class Tally:
    """The counts one set of figures is made from (overall, a technician, a day)."""

    arrivals: int = 0
    on_time: int = 0
    first_visits: int = 0
    fixed_first_time: int = 0
    finished: int = 0
    shift: int = 0
    travel: int = 0
    work: int = 0
    ratings: list[int] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "visits_finished": self.finished,
            "arrivals": self.arrivals,
            "on_time_pct": percent(self.on_time, self.arrivals),
            "first_time_fix_pct": percent(self.fixed_first_time, self.first_visits),
            "shift_minutes": self.shift,
            "work_minutes": self.work,
            "travel_minutes": self.travel,
            "utilization": ratio(self.work, self.shift),
            "travel_share": ratio(self.travel, self.travel + self.work),
            "ratings": len(self.ratings),
            "average_rating": round(statistics.fmean(self.ratings), 2) if self.ratings else None,
        }


def kpis(session: Session, first: date, last: date, *, zone: ZoneInfo, now: datetime | None = None) -> dict[str, Any]:
    conn = session.connection()
    start, end = local_period_bounds(first, last, zone)

    def day_of(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    overall = Tally()
    by_tech: dict[str, Tally] = defaultdict(Tally)
    by_day: dict[date, Tally] = defaultdict(Tally)
    received_by_day: Counter[date] = Counter()

    # Requests received, and how long they waited.
    in_period = (T_JOB.c.created_at >= start) & (T_JOB.c.created_at < end)
    received = conn.execute(select(T_JOB.c.id, T_JOB.c.source, T_JOB.c.created_at).where(in_period)).all()
    sources = Counter(row.source for row in received)
    for row in received:
        received_by_day[day_of(row.created_at)] += 1
    firsts = {
        (job_id, status): at
        for job_id, status, at in conn.execute(
            select(T_EVENT.c.job_id, T_EVENT.c.to_status, func.min(T_EVENT.c.at))
            .where(T_EVENT.c.to_status.in_((S.SCHEDULED.value, S.ON_SITE.value)))
            .where(T_EVENT.c.job_id.in_(select(T_JOB.c.id).where(in_period)))
            .group_by(T_EVENT.c.job_id, T_EVENT.c.to_status)
        )
    }
    waits: dict[str, list[int]] = {"to_scheduled": [], "to_on_site": []}
    for row in received:
        for key, status in (("to_scheduled", S.SCHEDULED.value), ("to_on_site", S.ON_SITE.value)):
            reached = firsts.get((row.id, status))
            if reached is not None:
                waits[key].append(max(0, round((reached - row.created_at).total_seconds() / 60)))

    technician = {
        job_id: ref
        for job_id, ref in conn.execute(
            select(T_APPOINTMENT.c.job_id, T_TECH.c.ref).join(T_TECH, T_TECH.c.id == T_APPOINTMENT.c.technician_id)
        )
    }

    def tallies(job_id: int, moment: datetime) -> list[Tally]:
        found = [overall, by_day[day_of(moment)]]
        if job_id in technician:
            found.append(by_tech[technician[job_id]])
        return found

    # Arrivals: the last on_site of each job, inside the period.
    arrivals = conn.execute(
        select(T_EVENT.c.job_id, func.max(T_EVENT.c.at).label("at"), T_JOB.c.window_end)
        .join(T_JOB, T_JOB.c.id == T_EVENT.c.job_id)
        .where(T_EVENT.c.to_status == S.ON_SITE.value)
        .group_by(T_EVENT.c.job_id, T_JOB.c.window_end)
    ).all()
    for row in arrivals:
        if start <= row.at < end:
            for tally in tallies(row.job_id, row.at):
                tally.arrivals += 1
                tally.on_time += row.at <= row.window_end

    # Finished visits: first-time fix and ratings.
    follow_ups = {job_id for (job_id,) in conn.execute(select(T_FOLLOW_UP.c.job_id))}
    ratings: dict[int, int] = dict(conn.execute(select(T_FEEDBACK.c.job_id, T_FEEDBACK.c.rating)).all())
    finished = conn.execute(
        select(T_EVENT.c.job_id, T_EVENT.c.to_status, T_EVENT.c.at).where(
            T_EVENT.c.to_status.in_(FINISHED),
            T_EVENT.c.from_status == S.ON_SITE.value,
            T_EVENT.c.at >= start,
            T_EVENT.c.at < end,
        )
    ).all()
    for row in finished:
        for tally in tallies(row.job_id, row.at):
            tally.finished += 1
            if row.job_id not in follow_ups:
                tally.first_visits += 1
                tally.fixed_first_time += row.to_status == S.COMPLETED.value
            if row.job_id in ratings:
                tally.ratings.append(ratings[row.job_id])

    # Time: shift, work and travel from the time sheets.
    sheets: list[TimesheetDay] = timesheets(session, first, last, zone=zone, now=now)
    for sheet in sheets:
        for tally in (overall, by_tech[sheet.technician_ref], by_day[sheet.day]):
            tally.shift += sheet.shift
            tally.travel += sheet.travel
            tally.work += sheet.work

    # SLA: due in the period and already past due (at ``now``), not cancelled, not completed by the due time.
    moment = now if now is not None else utcnow()
    completed_at = {
        job_id: at
        for job_id, at in conn.execute(
            select(T_EVENT.c.job_id, func.min(T_EVENT.c.at))
            .where(T_EVENT.c.to_status == S.COMPLETED.value, T_EVENT.c.from_status == S.ON_SITE.value)
            .group_by(T_EVENT.c.job_id)
        )
    }
    breaches = sorted(
        row.ref
        for row in conn.execute(
            select(T_JOB.c.id, T_JOB.c.ref, T_JOB.c.due_by).where(
                T_JOB.c.due_by >= start, T_JOB.c.due_by < end, T_JOB.c.status != S.CANCELLED.value
            )
        )
        if row.due_by <= moment and (completed_at.get(row.id) is None or completed_at[row.id] > row.due_by)
    )

    names: dict[str, str] = dict(conn.execute(select(T_TECH.c.ref, T_TECH.c.name)).all())
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "requests_received": {"total": len(received), "by_source": dict(sorted(sources.items()))},
        "waiting_minutes": {key: summary(values) for key, values in waits.items()},
        "sla_breaches": {"count": len(breaches), "jobs": breaches},
        "overall": overall.figures(),
        "technicians": [
            {"technician_ref": ref, "name": names.get(ref, "")} | by_tech[ref].figures() for ref in sorted(by_tech)
        ],
        "daily": [
            {"day": day.isoformat(), "requests_received": received_by_day[day]} | by_day[day].figures() for day in days
        ],
    }


# --- presenting the figures: the same words in `dispatch report kpi` and the console's KPI screen ------

WAIT_LABELS = (("to_scheduled", "created → scheduled"), ("to_on_site", "created → on site"))
TECHNICIAN_COLUMNS = ("", "done", "on time", "1st fix", "use", "travel", "rating")


def figure(value: Any, unit: str = "") -> str:
    """A figure for people: – when there is nothing to count; 12.0 → 12 (a median of whole minutes)."""
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer() and not unit.strip().startswith("%"):
        value = int(value)
    return f"{value}{unit}"


def as_percent(share: float | None) -> str:
    """A ratio (0.306) as a percentage (30.6 %)."""
    return figure(None if share is None else round(100 * share, 1), " %")


def technician_rows(report: dict[str, Any]) -> list[tuple[str, ...]]:
    """The overall line, then one per technician, under ``TECHNICIAN_COLUMNS``."""
    rows = [("overall", report["overall"])] + [(f"{t['technician_ref']} {t['name']}", t) for t in report["technicians"]]
    return [
        (
            label,
            str(figures["visits_finished"]),
            figure(figures["on_time_pct"], " %"),
            figure(figures["first_time_fix_pct"], " %"),
            as_percent(figures["utilization"]),
            as_percent(figures["travel_share"]),
            figure(figures["average_rating"]),
        )
        for label, figures in rows
    ]
