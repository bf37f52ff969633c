"""Booking a time agreed with the customer: it becomes the job's promised window, and the visit is placed.

The window is promised first (an audit event says who promised what, when), then the visit goes to the
best technician who can start inside it, through the same rules and locks as ``assign``. Two dispatchers
booking the last room in one window at once: the store serialises them (``assignment.hold``), the second
finds nobody left and is refused with ``SlotTaken``, and nothing of theirs is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dispatch_tui.domain import JobStatus
from dispatch_tui.localtime import local_iso, local_moment
from dispatch_tui.services.errors import Refused
from dispatch_tui.services.jobs import record_change
from dispatch_tui.services.planning.assignment import assign, hold, job_at_version
from dispatch_tui.services.planning.candidates import rank_candidates
from dispatch_tui.services.planning.scheduling import Travel

OPTIONS_TRIED = 50  # technicians tried in rank order before the window counts as taken


class SlotTaken(Refused):
    """Nobody can start the job inside that window (any more); nothing was written."""


@dataclass(frozen=True)
class Booking:
    job_ref: str
    window_start: datetime  # the promised window
    window_end: datetime
    version: int
    technician_ref: str | None = None  # None: promised only, the optimizer places it
    start: datetime | None = None
    end: datetime | None = None

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "job_ref": self.job_ref, "window_start": local_iso(self.window_start, zone),
            "window_end": local_iso(self.window_end, zone), "technician_ref": self.technician_ref,
            "start": local_iso(self.start, zone), "end": local_iso(self.end, zone), "version": self.version,
        }  # fmt: skip


def book(
    session: Session,
    job_ref: str,
    slot_start: datetime,
    *,
    window_minutes: int,
    zone: ZoneInfo,
    travel: Travel,
    actor: str,
    now: datetime,
    promise_only: bool = False,
    expected_version: int | None = None,
) -> Booking:
    """Promise ``job_ref`` the window [``slot_start``, + ``window_minutes``] and, unless ``promise_only``,
    place the visit on the best technician who can start inside it. Raises ``SlotTaken`` when nobody can,
    ``Refused`` when the job is not waiting or the window has passed, ``Conflict`` on a stale version."""
    hold(session, job_ref)
    job = job_at_version(session, job_ref, expected_version)
    if job.status != JobStatus.NEW:
        raise Refused([f"{job.ref} is {job.status}: only a waiting request is booked (a planned visit is moved: "
                       f"dispatch move {job.ref} --start …)"])  # fmt: skip
    slot_end = slot_start + timedelta(minutes=window_minutes)
    if slot_end <= now:
        passed = f"{local_moment(slot_start, zone)}–{slot_end.astimezone(zone):%H:%M} has passed"
        raise Refused([f"{passed} (it is {local_moment(now, zone)}): dispatch slots {job.ref} shows the times left"])
    if job.due_by is not None and slot_start > job.due_by:
        raise Refused([f"{job.ref} is due by {local_moment(job.due_by, zone)}: the window opens after it"])
    was = f"{local_moment(job.window_start, zone)}–{local_moment(job.window_end, zone)}"
    job.window_start, job.window_end = slot_start, slot_end
    session.add(job)
    session.flush()
    promised = f"{local_moment(slot_start, zone)}–{slot_end.astimezone(zone):%H:%M}"
    version = record_change(session, job, job.status, actor, f"promised {promised} (was {was})", promised=True)
    if promise_only:
        return Booking(job.ref, slot_start, slot_end, version)
    day = slot_start.astimezone(zone).date()
    options = rank_candidates(session, job.ref, zone=zone, travel=travel, day=day, limit=OPTIONS_TRIED, now=now)
    for option in options:
        try:
            change = assign(session, job.ref, option.technician_ref, option.start, zone=zone, travel=travel,
                            actor=actor)  # fmt: skip
        except Refused:
            continue  # taken by a booking that committed since the options were read: the next one
        return Booking(job.ref, slot_start, slot_end, change.version, change.technician_ref, change.start, change.end)
    raise SlotTaken([f"nobody can start {job.ref} within {promised} any more: dispatch slots {job.ref} shows "
                     "the times left"])  # fmt: skip
