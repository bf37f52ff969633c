"""The notices no job change causes, made by the sender's run: reminders the day before a visit, and
"running late" when a technician is now expected after the promised window.

- reminder: from ``reminder_at`` (local) on the day before, for each visit of tomorrow still to come
  (scheduled or dispatched), once per job and day; not for a customer told of the visit today already
  (a confirmation or a new time written today).
- running late: for each visit of today not started whose projected start (``execution.lateness``) is
  after its window, once per job, with the new expected time; again only after a new time is promised.

Both are written with ``INSERT … ON CONFLICT DO NOTHING`` on the notice's (job, kind, version): two
senders scanning at once make one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from dispatch_tui.domain import JobStatus, NoticeKind
from dispatch_tui.services.notify.outbox import TOLD, notice_row
from dispatch_tui.store.models import Appointment, Job, Notice

if TYPE_CHECKING:
    from dispatch_tui.config import Settings
    from dispatch_tui.services.planning.scheduling import Travel

T_NOTICE = Notice.__table__  # type: ignore[attr-defined]  # SQLModel sets __table__ at runtime only
TO_COME = (JobStatus.SCHEDULED.value, JobStatus.DISPATCHED.value)


def make_due_notices(session: Session, settings: Settings, now: datetime, travel: Travel) -> int:
    """Write the reminders and running-late notices due ``now``; returns how many were made."""
    return _reminders(session, settings, now) + _running_late(session, settings, now, travel)


def _reminders(session: Session, settings: Settings, now: datetime) -> int:
    zone = settings.zone
    local = now.astimezone(zone)
    if local.time().replace(tzinfo=None) < settings.notify.reminder_at:
        return 0
    today = datetime.combine(local.date(), datetime.min.time(), tzinfo=zone)
    tomorrow, after = today + timedelta(days=1), today + timedelta(days=2)
    told_today = exists().where(
        col(Notice.job_id) == col(Job.id),
        col(Notice.created_at) >= today,
        col(Notice.kind).in_((*TOLD, NoticeKind.REMINDER.value)),
    )
    jobs = session.exec(
        select(Job)
        .join(Appointment, col(Appointment.job_id) == col(Job.id))
        .where(col(Appointment.start) >= tomorrow, col(Appointment.start) < after, col(Job.status).in_(TO_COME))
        .where(~told_today)
        .order_by(col(Appointment.start))
    ).all()
    return sum(_insert(session, job, NoticeKind.REMINDER, {}) for job in jobs)


def _running_late(session: Session, settings: Settings, now: datetime, travel: Travel) -> int:
    from dispatch_tui.services.execution.lateness import project_plan
    from dispatch_tui.services.planning.day_plan import load_day

    day = now.astimezone(settings.zone).date()
    projections = project_plan(session, load_day(session, day, settings.zone), now, travel)
    late = {visit.job_ref: visit for p in projections.values() for visit in p.visits if visit.misses_window}
    if not late:
        return 0
    made = 0
    for job in session.exec(select(Job).where(col(Job.ref).in_(list(late)))).all():
        if _told_late_since_promise(session, job):
            continue
        made += _insert(session, job, NoticeKind.RUNNING_LATE, {"eta": late[job.ref].projected_start})
    return made


def _told_late_since_promise(session: Session, job: Job) -> bool:
    kinds = session.execute(
        select(col(Notice.kind))
        .where(col(Notice.job_id) == job.id, col(Notice.kind).in_((*TOLD, NoticeKind.RUNNING_LATE.value)))
        .order_by(col(Notice.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    return kinds == NoticeKind.RUNNING_LATE.value


def _insert(session: Session, job: Job, kind: NoticeKind, extra: dict[str, Any]) -> int:
    row = notice_row(session, job, kind, job.version, **extra)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = session.connection().execute(dialect.insert(T_NOTICE).values(row).on_conflict_do_nothing())
    return int(result.rowcount or 0)
