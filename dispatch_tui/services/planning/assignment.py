"""Manual assignment: assign, move, unassign, lock and unlock a job, through the feasibility rules.

Every change passes the gate of job changes (``services.jobs.record_change``: the version, the audit
event): a write based on a version someone else has already changed fails with ``Conflict``, never
overwriting silently. A refused change raises ``Refused`` with the reasons; ``force`` records them as
an override in the audit trail instead. A locked appointment never moves, forced or not.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dispatch_tui.domain import FINISHED, MOVABLE, AppointmentOrigin, JobStatus
from dispatch_tui.localtime import local_iso, local_moment
from dispatch_tui.services.errors import Conflict, NotFound, Refused
from dispatch_tui.services.jobs import record_change
from dispatch_tui.services.notify.outbox import PlannedVisit
from dispatch_tui.services.planning.day_plan import job_spec, load_day
from dispatch_tui.services.planning.scheduling import DayFrame, Travel, check_insert
from dispatch_tui.store.models import Appointment, FollowUp, Job, Technician

ASSIGNABLE = {JobStatus.NEW.value}


@dataclass(frozen=True)
class Change:
    job_ref: str
    status: str
    version: int
    technician_ref: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    locked: bool = False
    override: tuple[str, ...] = ()

    def as_dict(self, zone: ZoneInfo) -> dict[str, object]:
        return {
            "job_ref": self.job_ref,
            "status": self.status,
            "version": self.version,
            "technician_ref": self.technician_ref,
            "start": local_iso(self.start, zone),
            "end": local_iso(self.end, zone),
            "locked": self.locked,
            "override": list(self.override),
        }


def hold(session: Session, job_ref: str, tech_refs: Collection[str] = ()) -> None:
    """Hold what a booking reads until the transaction ends, so that concurrent bookings are checked
    one after another: two dispatchers assigning one job get one winner, and two bookings of one
    technician are never both checked against a day without the other. PostgreSQL: row locks, job first,
    then technicians in id order (one order everywhere: no deadlock). SQLite: the database's write lock
    now (BEGIN IMMEDIATE) rather than at the first write, after the checks."""
    if session.get_bind().dialect.name == "sqlite":
        connection = session.connection()
        if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # (a write already made holds it already)
        return
    session.exec(select(Job.id).where(Job.ref == job_ref).with_for_update()).all()
    if tech_refs:
        query = select(Technician.id).where(col(Technician.ref).in_(sorted(set(tech_refs))))
        session.exec(query.order_by(col(Technician.id)).with_for_update()).all()


def job_at_version(session: Session, ref: str, expected_version: int | None) -> Job:
    """The job ``ref``; with ``expected_version``, only if nobody changed it since (else Conflict)."""
    job = session.exec(select(Job).where(Job.ref == ref)).first()
    if job is None:
        raise NotFound(f"no job {ref!r}")
    if expected_version is not None and job.version != expected_version:
        raise Conflict(f"{ref} is at version {job.version}, not {expected_version}: someone changed it; reload")
    return job


def _technician(session: Session, ref: str) -> Technician:
    tech = session.exec(select(Technician).where(Technician.ref == ref)).first()
    if tech is None:
        raise NotFound(f"no technician {ref!r}")
    return tech


def appointment_of(session: Session, job: Job) -> Appointment | None:
    """The job's planned visit, if it has one."""
    return session.exec(select(Appointment).where(Appointment.job_id == job.id)).first()


def _check(session: Session, job: Job, tech: Technician, start: datetime, zone: ZoneInfo, travel: Travel) -> list[str]:
    """Why ``job`` may not start at ``start`` on ``tech``'s day (its own current visit set aside)."""
    frame = DayFrame(start.astimezone(zone).date(), zone)
    day = load_day(session, frame.day, zone, tech_refs=[tech.ref]).days.get(tech.ref)
    if day is None:
        return [f"{tech.name} is not an active technician"]
    spec = job_spec(session, job, frame)
    return [str(p) for p in check_insert(day.without(job.ref), spec, frame.minute(start), frame, travel)]


DONE = {"assign": "assigned", "move": "moved", "unassign": "unassigned"}


def _state_refusal(session: Session, job: Job, verb: str) -> Refused:
    """Why ``job``'s status forbids ``verb`` (assign, move, unassign), with advice that works for that
    status: never a flag (``force`` changes no status), never the command just refused."""
    status, ref = job.status, job.ref
    if status in FINISHED:
        reason = f"{ref} is {status}: the visit is over, there is nothing to {verb}"
        if status == JobStatus.NEEDS_FOLLOW_UP:
            follow_up = session.exec(
                select(Job.ref)
                .join(FollowUp, col(FollowUp.job_id) == col(Job.id))
                .where(FollowUp.of_job_id == job.id)
                .order_by(col(Job.id).desc())
            ).first()
            if follow_up and verb == "assign":
                reason += f"; its follow-up request {follow_up} waits in the queue: assign that one"
    elif status == JobStatus.CANCELLED:
        reason = f"{ref} is cancelled: there is nothing to {verb}"
    elif status == JobStatus.ON_HOLD:
        reason = f"{ref} is on_hold: it cannot be {DONE[verb]} (a job on hold can only be cancelled)"
    elif status in (JobStatus.EN_ROUTE, JobStatus.ON_SITE):
        reason = f"{ref} is {status}: the visit is under way, it stays with its technician and cannot be {DONE[verb]}"
    elif status == JobStatus.NEW:  # not on anyone's day
        reason = (
            f"{ref} is new: it is in the queue, on nobody's day; use assign to give it a technician and a time"
            if verb == "move"
            else f"{ref} is new: it is already in the queue, there is nothing to {verb}"
        )
    else:  # scheduled or dispatched: assign refused, it is planned already
        appointment = appointment_of(session, job)
        reason = f"{ref} is already {status}: use move to change its technician or time"
        if appointment is not None and appointment.locked:
            reason = f"{ref} is already {status} and locked: unlock it, then move it to change its technician or time"
    return Refused([reason])


def _placed(session: Session, job: Job, verb: str) -> tuple[Appointment, Technician]:
    """The job's appointment and technician, if it may still be moved (not locked, not under way)."""
    appointment = appointment_of(session, job)
    if appointment is None or job.status not in MOVABLE:
        raise _state_refusal(session, job, verb)
    if appointment.locked:
        raise Refused([f"{job.ref} is locked: unlock it first"])
    tech = session.get(Technician, appointment.technician_id)
    assert tech is not None
    return appointment, tech


def assign(
    session: Session,
    job_ref: str,
    tech_ref: str,
    start: datetime,
    *,
    zone: ZoneInfo,
    travel: Travel,
    actor: str,
    force: bool = False,
    expected_version: int | None = None,
) -> Change:
    hold(session, job_ref, [tech_ref])
    job = job_at_version(session, job_ref, expected_version)
    if appointment_of(session, job) is not None or job.status not in ASSIGNABLE:
        raise _state_refusal(session, job, "assign")
    tech = _technician(session, tech_ref)
    reasons = _check(session, job, tech, start, zone, travel)
    if reasons and not force:
        raise Refused(reasons, overridable=True)
    end = start + _duration(job)
    note = f"assigned to {tech.ref} ({tech.name}) {local_moment(start, zone)}–{end.astimezone(zone):%H:%M}"
    note += _override(reasons)
    visit = PlannedVisit(start, tech.name, zone)
    version = record_change(session, job, JobStatus.SCHEDULED.value, actor, note, visit=visit)
    session.add(
        Appointment(
            job_id=job.id or 0,
            technician_id=tech.id or 0,
            start=start,
            end=end,
            origin=AppointmentOrigin.DISPATCHER.value,
        )
    )
    session.flush()
    retravel(session, tech, start, zone, travel)
    return Change(job.ref, JobStatus.SCHEDULED.value, version, tech.ref, start, end, False, tuple(reasons))


def move(
    session: Session,
    job_ref: str,
    start: datetime,
    *,
    tech_ref: str | None = None,
    zone: ZoneInfo,
    travel: Travel,
    actor: str,
    force: bool = False,
    expected_version: int | None = None,
) -> Change:
    hold(session, job_ref)
    job = job_at_version(session, job_ref, expected_version)
    appointment, old_tech = _placed(session, job, "move")
    hold(session, job_ref, [old_tech.ref, tech_ref or old_tech.ref])
    tech = _technician(session, tech_ref) if tech_ref else old_tech
    reasons = _check(session, job, tech, start, zone, travel)
    if reasons and not force:
        raise Refused(reasons, overridable=True)
    old_start = appointment.start
    end = start + _duration(job)
    note = f"moved from {old_tech.ref} {local_moment(old_start, zone)} to {tech.ref} {local_moment(start, zone)}"
    note += _override(reasons)
    version = record_change(session, job, job.status, actor, note, visit=PlannedVisit(start, tech.name, zone))
    appointment.technician_id, appointment.start, appointment.end = tech.id or 0, start, end
    appointment.origin = AppointmentOrigin.DISPATCHER.value
    session.add(appointment)
    session.flush()
    retravel(session, old_tech, old_start, zone, travel)
    retravel(session, tech, start, zone, travel)
    return Change(job.ref, job.status, version, tech.ref, start, end, False, tuple(reasons))


def unassign(
    session: Session, job_ref: str, *, zone: ZoneInfo, travel: Travel, actor: str, expected_version: int | None = None
) -> Change:
    hold(session, job_ref)
    job = job_at_version(session, job_ref, expected_version)
    appointment, tech = _placed(session, job, "unassign")
    old_start = appointment.start
    version = record_change(
        session, job, JobStatus.NEW.value, actor, f"unassigned from {tech.ref} {local_moment(old_start, zone)}"
    )
    session.delete(appointment)
    session.flush()
    retravel(session, tech, old_start, zone, travel)
    return Change(job.ref, JobStatus.NEW.value, version)


def set_locked(
    session: Session, job_ref: str, locked: bool, *, zone: ZoneInfo, actor: str, expected_version: int | None = None
) -> Change:
    hold(session, job_ref)
    job = job_at_version(session, job_ref, expected_version)
    appointment = appointment_of(session, job)
    if appointment is None:
        raise Refused(
            [f"{job.ref} is {job.status} and not on anyone's day: nothing to {'lock' if locked else 'unlock'}"]
        )
    tech = session.get(Technician, appointment.technician_id)
    assert tech is not None
    if appointment.locked == locked:
        return Change(job.ref, job.status, job.version, tech.ref, appointment.start, appointment.end, locked)
    version = record_change(session, job, job.status, actor, "locked" if locked else "unlocked")
    appointment.locked = locked
    session.add(appointment)
    return Change(job.ref, job.status, version, tech.ref, appointment.start, appointment.end, locked)


def retravel(session: Session, tech: Technician, when: datetime, zone: ZoneInfo, travel: Travel) -> None:
    """Recompute each appointment's drive from the stop before it on that technician's day."""
    day = load_day(session, when.astimezone(zone).date(), zone, tech_refs=[tech.ref]).days.get(tech.ref)
    if day is None:
        return
    drives = {}
    here = day.home
    for visit in day.visits:
        drives[visit.job_ref] = travel(here, visit.point)
        here = visit.point
    if not drives:
        return
    rows = session.exec(
        select(Appointment, Job.ref)
        .join(Job, col(Appointment.job_id) == col(Job.id))
        .where(col(Job.ref).in_(list(drives)), Appointment.technician_id == tech.id)
    ).all()
    for appointment, ref in rows:
        if appointment.travel_minutes != drives[ref]:
            appointment.travel_minutes = drives[ref]
            session.add(appointment)
    session.flush()


def _duration(job: Job) -> timedelta:
    return timedelta(minutes=job.duration_min)


def _override(reasons: list[str]) -> str:
    return f" — override: {'; '.join(reasons)}" if reasons else ""
