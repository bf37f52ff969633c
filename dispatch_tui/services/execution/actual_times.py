"""When a visit really took place, from the audit trail: what every view shows once it is known.

A job's actual start is its (last) arrival on site: the ``at`` of the status change to ``on_site``. Its
actual end is the moment it was finished (the change to ``completed`` or ``needs_follow_up``); while it is
still on site, the end is the planned length from the arrival, or ``now`` once that has passed. Before
the arrival (and for a job that never got there: on hold, cancelled) nothing is known: the plan stands.

``actual_times`` reads them for many jobs in one query (the grid's day, a jobs list, a schedule);
``actual_span`` is the same rule over events already in hand (a job's detail).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch_tui.domain import FINISHED, JobStatus
from dispatch_tui.store.models import Appointment, Job, JobEvent

KNOWN = (JobStatus.ON_SITE.value, *FINISHED)  # the statuses whose actual times the trail holds
CHUNK = 5_000  # refs per query: well inside SQLite's (32,766) and PostgreSQL's bound-parameter limits


@dataclass(frozen=True, slots=True)
class Actual:
    start: datetime  # arrival on site
    end: datetime  # finished; while on site: the planned length from the arrival, or now once later
    done: bool  # the end is recorded (completed, needs follow-up), not expected


def actual_span(
    status: str, events: Iterable[tuple[datetime, str]], planned: timedelta, now: datetime
) -> Actual | None:
    """The actual times of a job in ``status`` from its status changes ``(at, to_status)`` in the order
    they were recorded; None while they are not known."""
    if status not in KNOWN:
        return None
    arrived: datetime | None = None
    finished: datetime | None = None
    for at, to_status in events:
        if to_status == JobStatus.ON_SITE.value:
            arrived, finished = at, None
        elif to_status == status and arrived is not None:
            finished = at
    if arrived is None:
        return None
    if status == JobStatus.ON_SITE.value:
        return Actual(arrived, max(arrived + planned, now), done=False)
    if finished is None:
        return None
    return Actual(arrived, max(finished, arrived), done=True)


def actual_times(session: Session, now: datetime, refs: Collection[str] | None = None) -> dict[str, Actual]:
    """Job ref → its actual times, for the jobs among ``refs`` (None: every job) whose times are known.
    One query per 5,000 refs, whatever the number of events."""
    if refs is None:
        return _read(session, now, None)
    wanted = sorted(set(refs))
    found: dict[str, Actual] = {}
    for first in range(0, len(wanted), CHUNK):
        found.update(_read(session, now, wanted[first : first + CHUNK]))
    return found


def _read(session: Session, now: datetime, refs: list[str] | None) -> dict[str, Actual]:
    query = (
        select(
            col(Job.id), col(Job.ref), col(Job.status), col(Job.duration_min), col(Appointment.start),
            col(Appointment.end), col(JobEvent.at), col(JobEvent.to_status),
        )
        .join(Job, col(JobEvent.job_id) == col(Job.id))
        .outerjoin(Appointment, col(Appointment.job_id) == col(Job.id))
        .where(
            col(Job.status).in_(KNOWN), col(JobEvent.to_status).in_(KNOWN),
            col(JobEvent.from_status).is_distinct_from(col(JobEvent.to_status)),  # status changes only
        )
        .order_by(col(Job.id), col(JobEvent.id))
    )  # fmt: skip
    if refs is not None:
        if not refs:
            return {}
        query = query.where(col(Job.ref).in_(refs))
    found: dict[str, Actual] = {}
    for _, group in groupby(session.execute(query), key=lambda row: row[0]):
        rows = list(group)
        _, ref, status, duration, start, end, _, _ = rows[0]
        planned = end - start if start is not None and end is not None else timedelta(minutes=duration)
        actual = actual_span(status, ((row[6], row[7]) for row in rows), planned, now)
        if actual is not None:
            found[ref] = actual
    return found
