"""A new request taken on a call (or reported by a technician, or entered by the back office).

The fields are checked by the import's own rules (``imports.rows``: one place for what a valid request
is) and the job is written by the import's writer, through the gate of job changes. What a call adds:
a ref the store gives, a duration that defaults to what this skill's visits really took, a window that
stays open until a time is agreed with the customer (``booking``), the duplicate guard, and who reported
it from which visit.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from dispatch_tui.domain import FINISHED, ImportKind, JobSource, JobStatus
from dispatch_tui.localtime import local_iso
from dispatch_tui.services.errors import NotFound, Refused
from dispatch_tui.services.execution.actual_times import actual_times
from dispatch_tui.services.intake.imports.reading import Record
from dispatch_tui.services.intake.imports.rows import RequestRow, columns_for, parse_record
from dispatch_tui.services.intake.imports.writing import write_requests
from dispatch_tui.services.jobs import record_change
from dispatch_tui.services.planning.assignment import hold
from dispatch_tui.services.planning.run_lock import advisory_key
from dispatch_tui.store.models import Customer, FollowUp, Job, Site, Skill, Technician

OPEN = (JobStatus.NEW, JobStatus.SCHEDULED, JobStatus.DISPATCHED, JobStatus.EN_ROUTE, JobStatus.ON_SITE,
        JobStatus.ON_HOLD)  # fmt: skip
SAME_SITE_DAYS = 7  # an open job at the same site created this recently is likely the same problem
SAME_SKILL = "same customer and skill"
MEDIAN_OF = 200  # the duration default is the median of this many of the skill's latest visits
NUMBERING_SAMPLE = 500  # the latest jobs the next ref is read from
_NUMBERED = re.compile(r"^([A-Za-z]*)(\d+)$")


@dataclass(frozen=True)
class Duplicate:
    """An open job that may be what the caller is asking about."""

    ref: str
    status: str
    skill: str
    why: str  # "same customer and skill", "same site, created 2 days ago"

    def as_json(self) -> dict[str, str]:
        return {"ref": self.ref, "status": self.status, "skill": self.skill, "why": self.why}


class PossibleDuplicate(Refused):
    """Open jobs look like this request; nothing was written. The caller may record the call on one of
    them (``note_call``) or take the request anyway."""

    def __init__(self, duplicates: list[Duplicate]) -> None:
        self.duplicates = duplicates
        reasons = [f"{d.ref} ({d.status}, {d.skill}) is open: {d.why}" for d in duplicates]
        super().__init__(reasons)


@dataclass(frozen=True)
class NewRequest:
    ref: str
    customer_ref: str
    skill: str
    duration_min: int
    priority: int
    window_start: datetime
    window_end: datetime
    due_by: datetime | None
    source: str
    reported_by: str | None
    from_visit: str | None
    version: int

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "ref": self.ref, "customer_ref": self.customer_ref, "skill": self.skill,
            "duration_min": self.duration_min, "priority": self.priority,
            "window_start": local_iso(self.window_start, zone), "window_end": local_iso(self.window_end, zone),
            "due_by": local_iso(self.due_by, zone), "source": self.source, "reported_by": self.reported_by,
            "from_visit": self.from_visit, "version": self.version,
        }  # fmt: skip


def new_request(
    session: Session,
    values: dict[str, str],
    *,
    zone: ZoneInfo,
    actor: str,
    now: datetime,
    open_days: int,
    reported_by: str | None = None,
    from_visit: str | None = None,
    allow_duplicate: bool = False,
) -> NewRequest:
    """Take a request: ``values`` are the import's request columns as text (docs/import-files.md), all
    optional but ``customer_ref``, ``skill`` and ``priority``. Without a window it is open from now for
    ``open_days`` days (or until ``due_by``), until a time is agreed; without ``duration_min``, the median
    of this skill's past visits. Raises ``PossibleDuplicate`` unless ``allow_duplicate``, ``Refused`` with
    every problem of the fields, ``NotFound`` for an unknown reporter or visit. Whatever it raises, the
    caller rolls the transaction back: nothing of the request stays."""
    _one_at_a_time(session)
    values = {name: text.strip() for name, text in values.items() if text and text.strip()}
    reporter = _technician(session, reported_by) if reported_by else None
    visit = _visit(session, from_visit) if from_visit else None
    values.setdefault("source", JobSource.TECHNICIAN.value if reporter else JobSource.PHONE.value)
    values.setdefault("ref", next_ref(session))
    if "duration_min" not in values and "skill" in values:
        usual = usual_duration(session, values["skill"], now)
        if usual is None:
            raise Refused([f"duration_min: no finished visit of skill {values['skill']!r} to take the usual length "
                           "from: give the minutes of work (--duration)"])  # fmt: skip
        values["duration_min"] = str(usual)
    if "window_start" not in values:
        opens = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        values["window_start"] = opens.astimezone(zone).isoformat()
        if "window_end" not in values:
            closes = (opens + timedelta(days=open_days)).astimezone(zone)
            values["window_end"] = closes.replace(hour=23, minute=59).isoformat()
            if "due_by" in values:
                values["window_end"] = values["due_by"]
    row = _checked(values, zone)
    if session.exec(select(Customer.id).where(Customer.ref == row.customer_ref)).first() is None:
        raise NotFound(f"no customer {row.customer_ref!r}: find them with `dispatch customers find`, or add them "
                       "with `dispatch customers new`")  # fmt: skip
    if session.exec(select(Job.id).where(Job.ref == row.ref)).first() is not None:
        raise Refused([f"ref: {row.ref} is taken by another job (leave --ref out and the store gives one)"])
    found = [] if allow_duplicate else duplicates(session, row, now)  # read before it is written
    errors: list[Any] = []
    note = f"request taken ({row.source})"
    if reporter is not None:
        note = f"reported by {reporter.ref} ({reporter.name})" + (f" at {visit.ref}" if visit else "")
    write_requests(session, [row], actor, errors, created_note=note)
    if errors:
        raise Refused([f"{error.column}: {error.reason}" for error in errors])
    if found:  # only a request that is valid in every other way is held back as a duplicate
        raise PossibleDuplicate(found)
    job = session.exec(select(Job).where(Job.ref == row.ref)).one()
    if visit is not None:
        session.add(FollowUp(job_id=job.id or 0, of_job_id=visit.id or 0))
        session.flush()
    return NewRequest(row.ref, row.customer_ref, row.skill, row.duration_min, row.priority, job.window_start,
                      job.window_end, job.due_by, row.source, reporter.ref if reporter else None,
                      visit.ref if visit else None, job.version)  # fmt: skip


def note_call(session: Session, job_ref: str, note: str, *, actor: str) -> int:
    """Record a call on an open job (rather than a second request for the same problem): an audit note.
    Returns the job's new version."""
    job = session.exec(select(Job).where(Job.ref == job_ref)).first()
    if job is None:
        raise NotFound(f"no job {job_ref!r}")
    if job.status not in OPEN:
        raise Refused([f"{job.ref} is {job.status}: take a new request instead"])
    return record_change(session, job, job.status, actor, f"call: {note}" if note else "call: customer called again")


def duplicates(session: Session, row: RequestRow, now: datetime) -> list[Duplicate]:
    """Open jobs of the same customer and skill, and open jobs at the same site created in the last
    ``SAME_SITE_DAYS`` days."""
    customer = session.exec(select(Customer).where(Customer.ref == row.customer_ref)).one()
    query = (
        select(Job, col(Skill.name))
        .join(Skill, col(Job.skill_id) == col(Skill.id))
        .where(col(Job.customer_id) == customer.id, col(Job.status).in_([s.value for s in OPEN]))
        .order_by(col(Job.created_at))
    )
    site_ids = _site_ids(session, customer, row)
    found = []
    for job, skill in session.exec(query).all():
        if skill == row.skill:
            found.append(Duplicate(job.ref, job.status, skill, SAME_SKILL))
        elif job.site_id in site_ids and job.created_at >= now - timedelta(days=SAME_SITE_DAYS):
            days = (now - job.created_at).days
            when = "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"
            found.append(Duplicate(job.ref, job.status, skill, f"same site, created {when}"))
    return sorted(found, key=lambda d: d.why != SAME_SKILL)  # the likeliest first; otherwise oldest first


def usual_duration(session: Session, skill: str, now: datetime) -> int | None:
    """The median length of this skill's latest finished visits (on site to done), in whole minutes; the
    median of their planned durations when no real times are known; None when the skill has none."""
    latest = session.exec(
        select(Job.ref, Job.duration_min)
        .join(Skill, col(Job.skill_id) == col(Skill.id))
        .where(col(Skill.name) == skill, col(Job.status).in_(list(FINISHED)))
        .order_by(col(Job.updated_at).desc())
        .limit(MEDIAN_OF)
    ).all()
    if not latest:
        return None
    known = actual_times(session, now, [ref for ref, _ in latest])
    real = [(a.end - a.start).total_seconds() / 60 for a in known.values() if a.end is not None and a.end > a.start]
    minutes = real or [duration for _, duration in latest]
    return max(1, round(statistics.median(minutes)))


def next_ref(session: Session) -> str:
    """The next free ref in the store's own numbering (R00042 after R00041, whatever follow-ups are
    called), read from the latest jobs; R00001 in a store without numbered refs."""
    latest = session.exec(select(Job.ref).order_by(col(Job.id).desc()).limit(NUMBERING_SAMPLE)).all()
    numbered = [(m.group(1), m.group(2)) for ref in latest if (m := _NUMBERED.match(ref))]
    if not numbered:
        return "R00001"
    prefix, digits = max(numbered, key=lambda n: (int(n[1]), n[0]))
    number = int(digits) + 1
    while session.exec(select(Job.id).where(Job.ref == f"{prefix}{number:0{len(digits)}d}")).first() is not None:
        number += 1
    return f"{prefix}{number:0{len(digits)}d}"


def _one_at_a_time(session: Session) -> None:
    """Hold the store's request numbering until the transaction ends, so that two calls taken at once
    never get one ref: SQLite's write lock now; on PostgreSQL a transaction-scoped advisory lock."""
    if session.get_bind().dialect.name == "sqlite":
        hold(session, "")
    else:
        session.execute(select(func.pg_advisory_xact_lock(advisory_key("request numbering"))))


def _checked(values: dict[str, str], zone: ZoneInfo) -> RequestRow:
    columns = columns_for(ImportKind.REQUESTS, zone)
    row, errors = parse_record(ImportKind.REQUESTS, columns, Record(0, values))
    if errors or not isinstance(row, RequestRow):
        raise Refused([f"{error.column}: {error.reason}" for error in errors])
    return row


def _site_ids(session: Session, customer: Customer, row: RequestRow) -> set[int]:
    """The sites the request is for: the one at its position, else the customer's primary site."""
    query = select(Site.id).where(col(Site.customer_id) == customer.id)
    if row.lat is not None and row.lon is not None:
        query = query.where(col(Site.lat) == row.lat, col(Site.lon) == row.lon)
    else:
        query = query.where(col(Site.is_primary))
    return {site_id for site_id in session.exec(query).all() if site_id is not None}


def _technician(session: Session, ref: str) -> Technician:
    tech = session.exec(select(Technician).where(Technician.ref == ref)).first()
    if tech is None:
        raise NotFound(f"no technician {ref!r} (--reported-by names a technician's ref)")
    return tech


def _visit(session: Session, ref: str) -> Job:
    job = session.exec(select(Job).where(Job.ref == ref)).first()
    if job is None:
        raise NotFound(f"no job {ref!r} (--from-visit names the visit the request came from)")
    return job
