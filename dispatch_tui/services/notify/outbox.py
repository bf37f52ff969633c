"""The outbox: what the gate of job changes (``services.jobs``) writes, in the change's own transaction,
when a change is one the customer is to be told of.

Which changes tell the customer (docs/webhooks.md lists the kinds):

- a time promised (``book``): ``confirmation`` the first time, ``rescheduled`` after;
- a visit planned (assign, the optimizer, an emergency insertion) when the customer was told nothing yet:
  ``confirmation``; a visit moved to another day, or out of the window the customer was told:
  ``rescheduled``. A move inside what the customer knows tells them nothing;
- en route: ``en_route`` with the expected arrival (the drive from the previous stop), when the report is
  live (a step recorded after the fact, or inferred by "job complete", tells nobody);
- done: ``completed``, for a visit reported done within a day;
- a visit that needs another: ``follow_up``, on the follow-up request;
- a job cancelled whose customer was told a time: ``cancelled`` (one never told hears nothing);
- an import's new window for a job whose customer was told another: ``rescheduled`` (new requests in
  bulk tell nobody: a request in the queue is not a promise);
- ``reminder`` and ``running_late`` are not job changes: the sender's run makes them (``sender``).

FACTS (the notice's JSON; times ISO 8601 UTC, or null): job_ref, version, customer, address, skill,
duration_min, description, window_start, window_end, planned_start, planned_end, technician (first name),
eta (en_route, running_late), of_job_ref (follow_up).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch_tui.domain import JobStatus, NoticeKind
from dispatch_tui.store.models import Appointment, Customer, Job, Notice, Site, Skill, Technician, utcnow

# How old a report may be and still tell the customer: "on the way" is news for minutes, "done" for a day.
LIVE_EN_ROUTE = timedelta(minutes=30)
LIVE_COMPLETED = timedelta(hours=24)
TOLD = (NoticeKind.CONFIRMATION.value, NoticeKind.RESCHEDULED.value)


@dataclass(frozen=True)
class PlannedVisit:
    """Where a change puts the job's visit: its new start, who goes, and the zone its day is counted in."""

    start: datetime
    technician: str
    zone: ZoneInfo


def notice_key(job_ref: str, kind: str, version: int) -> str:
    return f"{job_ref}:{kind}:{version}"


def write(session: Session, job: Job, kind: NoticeKind, version: int, **extra: Any) -> Notice:
    """The notice of ``kind`` for ``job`` at ``version``, with the job's facts as of now (``extra`` adds
    to them or overrides them)."""
    notice = Notice(**notice_row(session, job, kind, version, **extra))
    session.add(notice)
    return notice


def notice_row(session: Session, job: Job, kind: NoticeKind, version: int, **extra: Any) -> dict[str, Any]:
    """The columns of that notice (for a writer that inserts it itself)."""
    facts = facts_of(session, job, version) | {k: plain(v) for k, v in extra.items()}
    return {
        "job_id": job.id or 0, "kind": kind.value, "job_version": version,
        "key": notice_key(job.ref, kind.value, version), "facts": json.dumps(facts), "created_at": utcnow(),
    }  # fmt: skip


def implied(
    session: Session, job: Job, was: str, status: str, version: int, at: datetime | None, visit: PlannedVisit | None,
    promised: bool,
) -> None:  # fmt: skip
    """Write what a change of ``job`` from ``was`` to ``status`` (at ``version``) tells the customer."""
    now = utcnow()
    moment = at or now
    if promised:
        write(session, job, _promise_kind(session, job), version)
    elif visit is not None:
        kind = _plan_kind(session, job, visit)
        if kind is not None:
            write(session, job, kind, version, planned_start=visit.start, planned_end=_end(job, visit.start),
                  technician=visit.technician.split()[0])  # fmt: skip
    if status == was:
        return
    if status == JobStatus.EN_ROUTE and now - moment <= LIVE_EN_ROUTE:
        write(session, job, NoticeKind.EN_ROUTE, version, eta=moment + timedelta(minutes=_drive(session, job)))
    elif status == JobStatus.COMPLETED and now - moment <= LIVE_COMPLETED:
        write(session, job, NoticeKind.COMPLETED, version)
    elif status == JobStatus.CANCELLED and last_told(session, job.id or 0) is not None:
        write(session, job, NoticeKind.CANCELLED, version)


def new_windows(session: Session, changed: Sequence[tuple[int, int, datetime, datetime]]) -> None:
    """New windows written in bulk (an import), as (job id, new version, start, end): a customer told of
    another window is told the new one (``rescheduled``); one told nothing yet, nothing."""
    if not changed:
        return
    told: dict[int, dict[str, Any]] = {}
    rows = session.execute(
        select(col(Notice.job_id), col(Notice.facts))
        .where(col(Notice.job_id).in_([job_id for job_id, *_ in changed]), col(Notice.kind).in_(TOLD))
        .order_by(col(Notice.id))
    )
    for job_id, facts in rows:
        told[job_id] = json.loads(facts)  # the latest wins
    for job_id, version, start, end in changed:
        facts = told.get(job_id)
        if facts is None or (_moment(facts["window_start"]), _moment(facts["window_end"])) == (start, end):
            continue
        job = session.get(Job, job_id, populate_existing=True)  # written in bulk: not through this session's copy
        if job is not None:
            write(session, job, NoticeKind.RESCHEDULED, version)


def last_told(session: Session, job_id: int) -> dict[str, Any] | None:
    """The facts of the latest confirmation or rescheduling the customer was sent, if any."""
    row = session.execute(
        select(col(Notice.facts))
        .where(col(Notice.job_id) == job_id, col(Notice.kind).in_(TOLD))
        .order_by(col(Notice.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if row is None else dict(json.loads(row))


def facts_of(session: Session, job: Job, version: int) -> dict[str, Any]:
    """What the texts may say of ``job`` now (FACTS above)."""
    customer, address, skill = session.execute(
        select(col(Customer.name), col(Site.address), col(Skill.name))
        .select_from(Job)
        .join(Customer, col(Customer.id) == col(Job.customer_id))
        .join(Site, col(Site.id) == col(Job.site_id))
        .join(Skill, col(Skill.id) == col(Job.skill_id))
        .where(col(Job.id) == job.id)
    ).one()
    planned = session.execute(
        select(col(Appointment.start), col(Appointment.end), col(Technician.name))
        .join(Technician, col(Technician.id) == col(Appointment.technician_id))
        .where(col(Appointment.job_id) == job.id)
    ).one_or_none()
    start, end, technician = planned if planned is not None else (None, None, None)
    return {
        "job_ref": job.ref, "version": version, "customer": customer, "address": address, "skill": skill,
        "duration_min": job.duration_min, "description": job.description,
        "window_start": plain(job.window_start), "window_end": plain(job.window_end),
        "planned_start": plain(start), "planned_end": plain(end),
        "technician": technician.split()[0] if technician else None,
    }  # fmt: skip


def _promise_kind(session: Session, job: Job) -> NoticeKind:
    return NoticeKind.CONFIRMATION if last_told(session, job.id or 0) is None else NoticeKind.RESCHEDULED


def _plan_kind(session: Session, job: Job, visit: PlannedVisit) -> NoticeKind | None:
    told = last_told(session, job.id or 0)
    if told is None:
        return NoticeKind.CONFIRMATION
    window = (_moment(told["window_start"]), _moment(told["window_end"]))
    if window != (job.window_start, job.window_end):
        return NoticeKind.RESCHEDULED  # the promise itself changed since (an import's new window)
    if not window[0] <= visit.start <= window[1]:
        return NoticeKind.RESCHEDULED  # (a forced move) the visit no longer keeps what they were told
    before = _moment(told["planned_start"]) if told.get("planned_start") else None
    if before is None:
        return None  # they were told the window only: any time inside it keeps the promise
    other_day = before.astimezone(visit.zone).date() != visit.start.astimezone(visit.zone).date()
    return NoticeKind.RESCHEDULED if other_day else None


def _drive(session: Session, job: Job) -> int:
    minutes = session.execute(
        select(col(Appointment.travel_minutes)).where(col(Appointment.job_id) == job.id)
    ).scalar_one_or_none()
    return int(minutes or 0)


def _end(job: Job, start: datetime) -> datetime:
    return start + timedelta(minutes=job.duration_min)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value
