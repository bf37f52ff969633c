"""Time sheets per technician and day, from the audit trail.

A job's time with its technician (the appointment's) is cut by its status events: from en_route to the
next status change is travel, from on_site to the next change (completed, needs_follow_up, on hold…)
is work. For each local day:

- shift: the day's shift pattern length, less any absence inside it;
- travel, work: the minutes of those spans that day (a span still open counts up to ``now``);
- break: the shift pattern's break minutes (breaks are planned, not reported);
- idle: shift − break − travel and work inside the shift hours (never below 0);
- overtime: travel and work outside the shift hours (all of it on a day without a shift).

A row is given for every day a technician has a shift or recorded time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from dispatch_tui.domain import JobStatus as S
from dispatch_tui.localtime import local_at, local_day_bounds, local_period_bounds
from dispatch_tui.store.models import Absence, Appointment, JobEvent, ShiftPattern, Technician, utcnow

T_EVENT = JobEvent.__table__  # type: ignore[attr-defined]
T_APPOINTMENT = Appointment.__table__  # type: ignore[attr-defined]
T_TECH = Technician.__table__  # type: ignore[attr-defined]
T_SHIFT = ShiftPattern.__table__  # type: ignore[attr-defined]
T_ABSENCE = Absence.__table__  # type: ignore[attr-defined]

TIMED = {S.EN_ROUTE.value: "travel", S.ON_SITE.value: "work"}
Span = tuple[datetime, datetime]
LOOK_BACK = timedelta(days=1)


@dataclass(frozen=True)
class TimesheetDay:
    technician_ref: str
    technician_name: str
    day: date
    shift: int
    travel: int
    work: int
    break_minutes: int
    idle: int
    overtime: int

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["day"] = self.day.isoformat()
        values["break"] = values.pop("break_minutes")
        return values


COLUMNS = ("technician_ref", "technician_name", "day", "shift", "travel", "work", "break", "idle", "overtime")


def spans(session: Session, start: datetime, end: datetime, now: datetime) -> dict[int, dict[str, list[Span]]]:
    """technician id → "travel"/"work" → the spans of that kind overlapping [start, end)."""
    conn = session.connection()
    rows = conn.execute(
        select(T_EVENT.c.job_id, T_EVENT.c.at, T_EVENT.c.to_status, T_APPOINTMENT.c.technician_id)
        .join(T_APPOINTMENT, T_APPOINTMENT.c.job_id == T_EVENT.c.job_id)
        .where(T_EVENT.c.from_status.is_distinct_from(T_EVENT.c.to_status))  # status changes only
        # A span reaching into the period starts at most a day before it (nobody drives or works 24 h on
        # one visit); the bound keeps a week's report from reading the whole history.
        .where(T_EVENT.c.at >= start - LOOK_BACK, T_EVENT.c.at < end)
        .order_by(T_EVENT.c.job_id, T_EVENT.c.id)
    ).all()
    result: dict[int, dict[str, list[Span]]] = defaultdict(lambda: defaultdict(list))
    for index, row in enumerate(rows):
        kind = TIMED.get(row.to_status)
        if kind is None:
            continue
        following = rows[index + 1] if index + 1 < len(rows) and rows[index + 1].job_id == row.job_id else None
        until = following.at if following is not None else min(now, end)
        if until > start and until > row.at:
            result[row.technician_id][kind].append((max(row.at, start), min(until, end)))
    return result


def timesheets(
    session: Session, first: date, last: date, *, zone: ZoneInfo, now: datetime | None = None
) -> list[TimesheetDay]:
    conn = session.connection()
    now = now or utcnow()
    start, end = local_period_bounds(first, last, zone)
    worked = spans(session, start, end, now)
    shifts = {(r.technician_id, r.weekday): r for r in conn.execute(select(T_SHIFT))}
    absences: dict[int, list[Span]] = defaultdict(list)
    for row in conn.execute(select(T_ABSENCE).where(T_ABSENCE.c.start < end, T_ABSENCE.c.end > start)):
        absences[row.technician_id].append((row.start, row.end))
    sheets: list[TimesheetDay] = []
    techs = conn.execute(select(T_TECH.c.id, T_TECH.c.ref, T_TECH.c.name).order_by(T_TECH.c.ref)).all()
    day = first
    while day <= last:
        day_start, day_end = local_day_bounds(day, zone)
        for tech in techs:
            pattern = shifts.get((tech.id, day.weekday()))
            window: Span | None = None
            shift = pause = 0
            if pattern is not None:
                window = (local_at(day, pattern.start_minute, zone), local_at(day, pattern.end_minute, zone))
                away = sum(_overlap(window, absence) for absence in absences.get(tech.id, []))
                shift = _minutes(_length(window) - away)
                pause = pattern.break_minutes if shift else 0
            inside = outside = 0.0
            totals = {"travel": 0.0, "work": 0.0}
            for kind, kind_spans in worked.get(tech.id, {}).items():
                for span in kind_spans:
                    piece = (max(span[0], day_start), min(span[1], day_end))
                    if piece[1] <= piece[0]:
                        continue
                    totals[kind] += _length(piece)
                    within = _overlap(piece, window) if window is not None else 0.0
                    inside += within
                    outside += _length(piece) - within
            if not shift and not totals["travel"] and not totals["work"]:
                continue
            sheets.append(
                TimesheetDay(
                    tech.ref, tech.name, day, shift, _minutes(totals["travel"]), _minutes(totals["work"]), pause,
                    max(0, shift - pause - _minutes(inside)), _minutes(outside),
                )
            )  # fmt: skip
        day += timedelta(days=1)
    return sheets


def _length(span: Span) -> float:
    return max(0.0, (span[1] - span[0]).total_seconds())


def _overlap(a: Span, b: Span | None) -> float:
    if b is None:
        return 0.0
    return max(0.0, (min(a[1], b[1]) - max(a[0], b[0])).total_seconds())


def _minutes(seconds: float) -> int:
    """Seconds → whole minutes, half a minute up."""
    return int(seconds // 60 + (1 if seconds % 60 >= 30 else 0))
