"""Calendars (RFC 5545): a technician's day for the calendar on their phone, and a booking's
confirmation for the customer's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from dispatch_tui.services.execution.board import JobDetail
from dispatch_tui.services.reports.schedule_export import Route, Schedule
from dispatch_tui.store.models import utcnow

PRODUCT_ID = "-//dispatch//field-service schedule//EN"


def route_calendar(schedule: Schedule, route: Route, *, stamp: datetime | None = None) -> bytes:
    """One VEVENT per visit (and one for the break). UIDs are stable per job and day, so re-importing an
    updated file moves the events instead of duplicating them. A visit under way or done is at its actual
    times. Every event's DTSTAMP (RFC 5545 requires one) is ``stamp``: when the file was made, by default
    the clock's now, in UTC to the second."""
    made = (stamp or utcnow()).astimezone(UTC).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{route.technician_name} — {schedule.day.isoformat()}")
    for stop in route.stops:
        event = Event()
        event.add("uid", f"{stop.job_ref}-{schedule.day.isoformat()}@dispatch")
        event.add("dtstamp", made)
        event.add("summary", f"{stop.job_ref} {stop.skill}: {stop.customer}".strip())
        event.add("dtstart", stop.actual_start or stop.start)
        event.add("dtend", stop.actual_end or stop.end)
        if stop.address:
            event.add("location", stop.address)
        lines = [stop.description, f"Drive from the previous stop: {stop.travel_minutes} min"]
        if stop.locked:
            lines.append("Locked by the dispatcher")
        event.add("description", "\n".join(line for line in lines if line))
        calendar.add_component(event)
    if route.break_:
        lunch = Event()
        lunch.add("uid", f"break-{route.technician_ref}-{schedule.day.isoformat()}@dispatch")
        lunch.add("dtstamp", made)
        lunch.add("summary", "Break")
        lunch.add("dtstart", route.break_[0])
        lunch.add("dtend", route.break_[1])
        calendar.add_component(lunch)
    ical: bytes = calendar.to_ical()
    return ical


@dataclass(frozen=True)
class BookedVisit:
    """What a booking's calendar says: the job's plain fields (a job read from the store, or a notice's facts)."""

    ref: str
    version: int
    skill: str
    window_start: datetime
    window_end: datetime
    address: str
    duration_min: int
    description: str


def booking_calendar(
    visit: BookedVisit, zone: ZoneInfo, *, company: str = "", stamp: datetime | None = None
) -> bytes:  # fmt: skip
    """The customer's copy of a booking: one VEVENT over the promised arrival window at the site, with the
    job ref and a short text. Its UID is the job's, so a new time for the same job replaces the event in
    the customer's calendar (with a higher SEQUENCE: the job's version) instead of adding a second one."""
    made = (stamp or utcnow()).astimezone(UTC).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{visit.ref}@dispatch")
    event.add("sequence", visit.version)
    event.add("dtstamp", made)
    who = f" — {company}" if company else ""
    event.add("summary", f"{visit.skill.capitalize()} visit, {visit.ref}{who}")
    event.add("dtstart", visit.window_start)
    event.add("dtend", visit.window_end)
    if visit.address:
        event.add("location", visit.address)
    opens, closes = visit.window_start.astimezone(zone), visit.window_end.astimezone(zone)
    lines = [
        f"Our technician arrives on {opens:%A %d %B} between {opens:%H:%M} and {closes:%H:%M}, for about "
        f"{visit.duration_min} minutes of work.",
        f"Your reference: {visit.ref}. Quote it if you call us about this visit.",
        visit.description,
    ]
    event.add("description", "\n".join(line for line in lines if line))
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


def booking_confirmation(job: JobDetail, zone: ZoneInfo, *, company: str = "", stamp: datetime | None = None) -> bytes:
    """The customer's copy of ``job``'s booking (``booking_calendar``)."""
    return booking_calendar(
        BookedVisit(job.ref, job.version, job.skill, job.window_start, job.window_end, job.address,
                    job.duration_min, job.description),
        zone, company=company, stamp=stamp,
    )  # fmt: skip
