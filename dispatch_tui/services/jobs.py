"""The one gate of every change to a job: its creation, its status, its version and its audit event.

Every writer goes through here — manual planning, the optimizer, lifecycle steps, feedback, follow-ups,
imports (in bulk) and the demo — so that whatever else a job change must write is written in one place,
in the change's own transaction. A change is made only if nobody else has written the job since it was
read (``UPDATE ... WHERE version = seen``), otherwise ``Conflict``: never a silent overwrite.

What a change tells the customer (a confirmation, "on the way", "done"…) is written here too, into the
outbox (``services.notify.outbox``), in the same transaction: a change rolled back leaves no message, a
committed one always leaves its own. New requests in bulk (imports) tell nobody: a request in the queue
is not a promise; an import's new window for a customer told another is told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from dispatch_tui.domain import JobStatus, NoticeKind
from dispatch_tui.services.errors import Conflict
from dispatch_tui.services.notify import outbox
from dispatch_tui.services.notify.outbox import PlannedVisit
from dispatch_tui.store.models import Job, JobEvent, utcnow

T_JOB = Job.__table__  # type: ignore[attr-defined]  # SQLModel sets __table__ at runtime only
T_EVENT = JobEvent.__table__  # type: ignore[attr-defined]  # (the same)


def record_change(
    session: Session, job: Job, status: str, actor: str, note: str, at: datetime | None = None, *,
    visit: PlannedVisit | None = None, promised: bool = False, silent: bool = False,
) -> int:  # fmt: skip
    """``job`` becomes ``status`` (its own, for a change of its plan or details) at the next version, with
    its audit event dated ``at`` (a report entered after the fact), else now. ``job`` is kept in step, so
    that a next change of it in this transaction starts from this one. Returns the new version.

    What the customer is told of it follows from the change (``outbox.implied``): ``visit``, where the
    change puts the visit (a plan or a move); ``promised``, a window was just promised (a booking);
    ``silent``, nobody is told (steps inferred after the fact, the demo's history)."""
    seen = job.version
    was = job.status
    result = session.connection().execute(
        update(Job)
        .where(col(Job.id) == job.id, col(Job.version) == seen)
        .values(version=seen + 1, status=status, updated_at=utcnow())
    )
    if result.rowcount != 1:
        raise Conflict(f"{job.ref} was changed by someone else while this ran; reload and try again")
    event = JobEvent(job_id=job.id or 0, actor=actor, from_status=job.status, to_status=status, note=note)
    if at is not None:
        event.at = at
    session.add(event)
    set_committed_value(job, "version", seen + 1)
    set_committed_value(job, "status", status)
    if not silent:
        outbox.implied(session, job, was, status, seen + 1, at, visit, promised)
    return seen + 1


def create_job(
    session: Session, job: Job, actor: str, note: str, at: datetime | None = None, *, follow_up_of: Job | None = None
) -> Job:
    """A new job, in the queue at version 1, with the audit event of its creation (dated ``at``, else now).
    A follow-up request (``follow_up_of``: the visit that asked for it) tells the customer."""
    job.status, job.version = JobStatus.NEW.value, 1
    session.add(job)
    session.flush()
    event = JobEvent(job_id=job.id or 0, actor=actor, from_status=None, to_status=job.status, note=note)
    if at is not None:
        event.at = at
    session.add(event)
    if follow_up_of is not None:
        outbox.write(session, job, NoticeKind.FOLLOW_UP, 1, of_job_ref=follow_up_of.ref)
    session.flush()
    return job


def create_jobs(session: Session, rows: Sequence[dict[str, Any]], actor: str, note: str) -> int:
    """``create_job`` in bulk, for an import: each row a job's columns (ref and details). One executemany
    for the jobs, one for their events; no ORM objects. Returns how many were made."""
    if not rows:
        return 0
    now = utcnow()
    conn = session.connection()
    fresh = {"status": JobStatus.NEW.value, "version": 1, "created_at": now, "updated_at": now}
    # Plain executemany: an ordered INSERT ... RETURNING would fall back to one statement per row on SQLite.
    conn.execute(insert(T_JOB), [row | fresh for row in rows])
    refs = [row["ref"] for row in rows]
    made = [job_id for (job_id,) in conn.execute(select(T_JOB.c.id).where(T_JOB.c.ref.in_(refs)).order_by(T_JOB.c.id))]
    creation = {"actor": actor, "at": now, "from_status": None, "to_status": JobStatus.NEW.value, "note": note}
    conn.execute(insert(T_EVENT), [{"job_id": job_id} | creation for job_id in made])
    return len(made)


@dataclass(frozen=True)
class DetailsChange:
    """New details for a job read at ``seen_version`` (an import's row for a job already there)."""

    job_id: int
    ref: str
    seen_version: int
    status: str
    values: dict[str, Any]
    note: str


def change_details(session: Session, changes: Sequence[DetailsChange], actor: str) -> None:
    """``record_change`` in bulk for new details (the status stays): one executemany for the jobs, one for
    their events. All or nothing: if any job moved on since it was read, ``Conflict``."""
    if not changes:
        return
    now = utcnow()
    columns = list(changes[0].values)
    # Bind names are prefixed: SQLAlchemy reserves the column names for the SET clause.
    statement = (
        update(T_JOB)
        .where(T_JOB.c.id == bindparam("b_id"), T_JOB.c.version == bindparam("b_seen"))
        .values({"version": bindparam("b_version"), "updated_at": now} | {c: bindparam(f"b_{c}") for c in columns})
    )
    params = [
        {"b_id": c.job_id, "b_seen": c.seen_version, "b_version": c.seen_version + 1}
        | {f"b_{name}": value for name, value in c.values.items()}
        for c in changes
    ]
    conn = session.connection()
    result = conn.execute(statement, params)
    if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(changes):
        raise Conflict("a job was changed by someone else while this ran; nothing was written: run it again")
    events = [
        {"job_id": c.job_id, "actor": actor, "at": now, "from_status": c.status, "to_status": c.status, "note": c.note}
        for c in changes
    ]
    conn.execute(insert(T_EVENT), events)
    windows = [(c.job_id, c.seen_version + 1, c.values["window_start"], c.values["window_end"])
               for c in changes if "window_start" in c.values and "window_end" in c.values]  # fmt: skip
    outbox.new_windows(session, windows)
