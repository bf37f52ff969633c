"""A job's status after it is planned: dispatched, en route, on site, completed; on hold or cancelled.

Only the transitions of docs/lifecycle.md are legal: scheduled → dispatched → en_route →
on_site → completed | needs_follow_up, and on_hold or cancelled from any open state. (new → scheduled
happens by assigning the job, never by setting a status.) Each change is an audit event and a version
bump, like every other write. Holding or cancelling a job that has not started takes it off its
technician's day, so that the time is free again; a locked one must be unlocked first.

When it happened: every change has a moment (``at``, default now) that becomes the event's time, so a
technician's report can be entered after the fact, even for a day already past. It is never in the
future, and a job's execution times stay in order: dispatched ≤ en_route ≤ on_site ≤ completed. Time
sheets, billing and the KPIs read these event times, never the time the change was typed in.

A visit that ends ``needs_follow_up`` creates the follow-up request (``<ref>-F1``, ``-F2``… numbered
on the first visit's ref) in the queue, linked to the visit by a ``FollowUp`` row; parts used on a
visit are recorded with the unit price of the moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dispatch_tui.domain import FINISHED, STARTED, JobSource
from dispatch_tui.domain import JobStatus as S
from dispatch_tui.localtime import local_moment
from dispatch_tui.services.errors import Refused
from dispatch_tui.services.jobs import create_job, record_change
from dispatch_tui.services.planning.assignment import (
    Change,
    appointment_of,
    job_at_version,
    retravel,
)
from dispatch_tui.services.planning.scheduling import Travel
from dispatch_tui.store.models import Appointment, FollowUp, Job, JobEvent, JobPart, Part, Technician, utcnow

FORWARD: dict[str, tuple[str, ...]] = {
    S.SCHEDULED: (S.DISPATCHED,),
    S.DISPATCHED: (S.EN_ROUTE,),
    S.EN_ROUTE: (S.ON_SITE,),
    S.ON_SITE: (S.COMPLETED, S.NEEDS_FOLLOW_UP),
}
OPEN = (S.NEW, S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE)
NOT_STARTED = (S.SCHEDULED, S.DISPATCHED)
EXECUTION = (S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.COMPLETED, S.NEEDS_FOLLOW_UP)
# What "job complete" in one action accepts: the technician has been sent out.
# How long a follow-up request's window stays open: until a visit is agreed with the customer.
FOLLOW_UP_WINDOW = timedelta(days=14)

PartUse = tuple[str, int]  # (sku, quantity)


def next_statuses(status: str) -> list[str]:
    """The statuses a job in ``status`` may be set to, in lifecycle order."""
    options = [str(s) for s in FORWARD.get(status, ())]
    if status in OPEN:
        options += [S.ON_HOLD.value, S.CANCELLED.value]
    elif status == S.ON_HOLD:
        options.append(S.CANCELLED.value)
    return options


def set_status(
    session: Session,
    job_ref: str,
    status: str,
    *,
    zone: ZoneInfo,
    travel: Travel,
    actor: str,
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
    parts: Sequence[PartUse] = (),
    now: datetime | None = None,
) -> Change:
    """Move the job one legal step, as of ``at`` (default now); ``parts`` only when the visit ends."""
    job = job_at_version(session, job_ref, expected_version)
    allowed = next_statuses(job.status)
    if status not in allowed:
        hint = f"it can become {', '.join(allowed)}" if allowed else "it is closed"
        if status == S.SCHEDULED and job.status == S.NEW:
            hint = "assign it to a technician to schedule it"
        elif status in EXECUTION and job.status == S.NEW:
            hint = "it is not planned yet: assign it to a technician first"
        raise Refused([f"{job.ref} is {job.status} and cannot become {status}: {hint}"])
    now = now or utcnow()
    at = at or now
    _check_moment(session, job, status, at, now, zone)
    if parts and status not in FINISHED:
        raise Refused([f"parts are recorded when the visit ends (completed or needs_follow_up), not on {status}"])
    part_rows = _parts(session, parts)
    appointment = appointment_of(session, job)
    unplan = appointment is not None and status in (S.ON_HOLD, S.CANCELLED) and job.status in NOT_STARTED
    if unplan and appointment is not None and appointment.locked:
        raise Refused([f"{job.ref} is locked: unlock it first"])
    text = f"{job.status} → {status}" + (f": {note}" if note else "")
    if unplan:
        text += " (taken off the plan)"
    version = record_change(session, job, status, actor, text, at)
    _record_parts(session, job, part_rows)
    if status == S.NEEDS_FOLLOW_UP:
        _create_follow_up(session, job, actor, note, at)
    if unplan and appointment is not None:
        owner = session.exec(select(Technician).where(Technician.id == appointment.technician_id)).one()
        when = appointment.start
        session.delete(appointment)
        session.flush()
        retravel(session, owner, when, zone, travel)
        return Change(job.ref, status, version)
    return _change(session, job, status, version, appointment)


def complete(
    session: Session,
    job_ref: str,
    *,
    zone: ZoneInfo,
    travel: Travel,
    actor: str,
    expected_version: int | None = None,
    at: datetime | None = None,
    started_at: datetime | None = None,
    parts: Sequence[PartUse] = (),
    note: str = "",
    now: datetime | None = None,
) -> Change:
    """ "Job complete" in one action, from any started state (dispatched, en route, on site).

    The technician who calls in "done" often never pressed en route or on site. A dispatcher expects the
    visit to be closed AND billed right, so the missing steps are recorded, each as its own audit event
    marked as inferred, at the times the evidence gives: arrival (on_site) at ``started_at`` when given,
    else the planned start of the appointment; leaving (en_route) that visit's planned drive earlier.
    Recording them at the completion instant instead would make zero minutes of work: an invoice with
    no labour, the silent zero billing must never produce. A plan that starts after the completion
    time is no evidence at all: then ``started_at`` is required.
    """
    job = job_at_version(session, job_ref, expected_version)
    if job.status not in STARTED:
        hint = "it is closed"
        if job.status == S.SCHEDULED:
            hint = "it was never dispatched: dispatch it first"
        elif job.status == S.NEW:
            hint = "it is not planned yet: assign it to a technician, then dispatch it"
        elif job.status == S.ON_HOLD:
            hint = "it is on hold (a job on hold can only be cancelled)"
        raise Refused([f"{job.ref} is {job.status} and cannot be completed: {hint}"])
    now = now or utcnow()
    at = at or now
    _parts(session, parts)  # refuse unknown parts before any step is written
    if started_at is not None and job.status == S.ON_SITE:
        raise Refused([f"{job.ref} is already on site: its arrival time is recorded, --started would change nothing"])
    steps: list[tuple[str, datetime, str]] = []
    if job.status != S.ON_SITE:
        appointment = appointment_of(session, job)
        last = _last_execution(session, job)  # the latest execution step recorded so far
        arrival, how = started_at, "as reported"
        if arrival is None:
            if appointment is None or appointment.start > at:
                plan = "has no planned start"
                if appointment is not None:
                    planned, ended = local_moment(appointment.start, zone), local_moment(at, zone)
                    plan = f"its plan starts at {planned}, after it ended ({ended})"
                raise Refused([f"{job.ref} was never marked on site and {plan}: give the arrival time"])
            arrival, how = max(appointment.start, last or appointment.start), "from the plan"
        if job.status == S.DISPATCHED:
            drive = timedelta(minutes=appointment.travel_minutes if appointment else 0)
            leave = max(arrival - drive, last or arrival - drive)
            steps.append((S.EN_ROUTE.value, leave, f"recorded by job complete (time {how}, less the drive)"))
        steps.append((S.ON_SITE.value, arrival, f"recorded by job complete (time {how})"))
    for status, when, text in steps:
        _check_moment(session, job, status, when, now, zone)
        record_change(session, job, status, actor, f"{job.status} → {status}: {text}", when, silent=True)
    return set_status(
        session, job.ref, S.COMPLETED.value, zone=zone, travel=travel, actor=actor, note=note, at=at,
        parts=parts, now=now,
    )  # fmt: skip


def status_times(session: Session, job_id: int) -> dict[str, datetime]:
    """When the job last entered each status (from its audit events)."""
    events = session.exec(select(JobEvent).where(JobEvent.job_id == job_id).order_by(col(JobEvent.id))).all()
    return {event.to_status: event.at for event in events}


def follow_ups(session: Session, job_ref: str) -> list[str]:
    """The refs of the follow-up requests a visit asked for, oldest first."""
    visit = select(Job.id).where(Job.ref == job_ref).scalar_subquery()
    rows = session.exec(
        select(Job.ref)
        .join(FollowUp, col(FollowUp.job_id) == col(Job.id))
        .where(FollowUp.of_job_id == visit)
        .order_by(col(Job.id))
    ).all()
    return list(rows)


# --- helpers -----------------------------------------------------------------------------------------


def _current_run(session: Session, job: Job) -> list[JobEvent]:
    """The events since the job was last (re)planned: a job unassigned and planned again starts anew."""
    events = session.exec(select(JobEvent).where(JobEvent.job_id == job.id).order_by(col(JobEvent.id))).all()
    start = 0
    for index, event in enumerate(events):
        if event.to_status in (S.NEW, S.SCHEDULED) and event.from_status != event.to_status:
            start = index + 1
    return list(events[start:])


def _times(session: Session, job: Job) -> dict[str, datetime]:
    return {e.to_status: e.at for e in _current_run(session, job) if e.to_status in EXECUTION}


def _last_execution(session: Session, job: Job) -> datetime | None:
    times = _times(session, job)
    return max(times.values()) if times else None


def _check_moment(session: Session, job: Job, status: str, at: datetime, now: datetime, zone: ZoneInfo) -> None:
    if at > now:
        raise Refused([f"{job.ref}: {local_moment(at, zone)} is in the future (it is {local_moment(now, zone)})"])
    done = [(when, step) for step, when in _times(session, job).items()]
    if done:
        when, step = max(done)
        if at < when:
            raise Refused(
                [
                    f"{job.ref} became {step} at {local_moment(when, zone)}: {status} at "
                    f"{local_moment(at, zone)} would be earlier (dispatched ≤ en_route ≤ on_site ≤ completed)"
                ]
            )


def _parts(session: Session, parts: Sequence[PartUse]) -> list[tuple[Part, int]]:
    wanted: dict[str, int] = {}
    problems = []
    for sku, quantity in parts:
        if quantity <= 0:
            problems.append(f"part {sku}: the quantity must be a whole number above 0, got {quantity}")
        wanted[sku] = wanted.get(sku, 0) + quantity
    found = {p.sku: p for p in session.exec(select(Part).where(col(Part.sku).in_(list(wanted)))).all()}
    problems += [f"no part {sku!r} in the catalogue (dispatch import parts FILE)" for sku in wanted if sku not in found]
    if problems:
        raise Refused(problems)
    return [(found[sku], quantity) for sku, quantity in wanted.items()]


def _record_parts(session: Session, job: Job, parts: list[tuple[Part, int]]) -> None:
    for part, quantity in parts:
        used = session.exec(select(JobPart).where(JobPart.job_id == job.id, JobPart.part_id == part.id)).first()
        if used is None:
            used = JobPart(job_id=job.id or 0, part_id=part.id or 0, quantity=0, unit_price_cents=part.unit_price_cents)
        used.quantity += quantity
        session.add(used)
    session.flush()


def _create_follow_up(session: Session, visit: Job, actor: str, note: str, at: datetime) -> Job:
    """The request for the second visit: same customer, place, skill and length, in the queue."""
    first = visit
    while (link := session.get(FollowUp, first.id)) is not None:
        parent = session.get(Job, link.of_job_id)
        if parent is None:
            break
        first = parent
    taken = set(session.exec(select(Job.ref).where(col(Job.ref).startswith(f"{first.ref[:58]}-F"))).all())
    number = 1
    while f"{first.ref[:58]}-F{number}" in taken:
        number += 1
    follow_up = Job(
        ref=f"{first.ref[:58]}-F{number}",
        customer_id=visit.customer_id,
        site_id=visit.site_id,
        skill_id=visit.skill_id,
        duration_min=visit.duration_min,
        priority=visit.priority,
        window_start=at,
        window_end=at + FOLLOW_UP_WINDOW,
        source=JobSource.TECHNICIAN.value,
        description=f"Follow-up of {visit.ref}" + (f": {note}" if note else ""),
        created_at=at,
        updated_at=utcnow(),
    )
    create_job(session, follow_up, actor, f"follow-up of {visit.ref}", at, follow_up_of=visit)
    session.add(FollowUp(job_id=follow_up.id or 0, of_job_id=visit.id or 0))
    session.flush()
    return follow_up


def _change(session: Session, job: Job, status: str, version: int, appointment: Appointment | None) -> Change:
    if appointment is None:
        return Change(job.ref, status, version)
    tech = session.get(Technician, appointment.technician_id)
    return Change(
        job.ref, status, version, tech.ref if tech else None, appointment.start, appointment.end, appointment.locked
    )
