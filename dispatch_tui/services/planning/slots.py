"""Times to offer the customer: the arrival windows in which a qualified technician could start a waiting job.

A window offered becomes the job's promised window when it is booked, so each window is judged with the
job's own window replaced by it: the job may start anywhere in [window start, window end], and the rest
of the rules (skill, shift, break, absences, the other visits' windows and the drives between them) must
hold as for ``assign``. Nothing already planned moves — neither what is locked or under way nor anything
else —, so a window offered can be booked as the plan stands.

The search is cheap because it does not try windows one by one: for each technician-day,
``feasible_starts`` computes once the ranges of minutes at which the job could start (each gap of the day
gives one range, cut by absences and, when the break has nowhere else to go, by the break), and every
window is then read off those ranges. On a day that already holds (no problem of its own) the ranges are
exactly the starts ``scheduling.check_insert`` accepts; on a day that already breaks a rule (a forced
override) they stay inside what the rules allow around the new visit, so they can only be fewer.

What is offered:
- windows of ``window_minutes`` starting on the half hour (local), from ``days`` days starting today (or
  the one day the customer asks for), soonest first;
- nothing that has begun: a window opens at or after ``now``, so every start in it is ahead too;
- the customer's wishes: ``morning`` windows end by 12:00 local, ``afternoon`` ones start at 12:00 or later,
  ``not_before`` a local time of day: the window opens then or later;
- the job's ``due_by``, when set: a start counts only if the visit would be finished by it (start +
  duration <= due_by), so the technician and start shown for a window keep the due time; a window in
  which no start does is not offered (and no window opens after the due time, which booking refuses).

For each window: how many technicians could take it, the least driving it adds to a route (minutes), and
the technician and start that add the least (the earliest such start on a tie); the ``BEST_MARKED``
windows that add the least driving are marked ``best`` (on a tie, those the technician can start
soonest after they open).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dispatch_tui.domain import MOVABLE, JobStatus
from dispatch_tui.localtime import local_at, local_iso, local_moment
from dispatch_tui.services.errors import NotFound, Refused
from dispatch_tui.services.planning.candidates import why_unplaceable
from dispatch_tui.services.planning.day_plan import DayPlan, job_spec, load_day
from dispatch_tui.services.planning.insertion import legs_to_try
from dispatch_tui.services.planning.scheduling import DayFrame, JobSpec, TechDay, Travel, _break_slot
from dispatch_tui.services.travel import prefetch
from dispatch_tui.store.models import Job, Technician, TechnicianSkill

ALIGN_MINUTES = 30  # windows start on the half hour
BEST_MARKED = 3  # windows marked best: those that add the least driving
NOON = 12 * 60
PARTS = ("morning", "afternoon")


@dataclass(frozen=True, slots=True)
class Starts:
    """Minutes ``first``..``last`` (both included, from the frame's midnight) at which the job could start
    on ``tech_ref``'s day, in the gap before ``before`` (None: after the last visit), adding
    ``added_travel`` minutes of driving to the route."""

    tech_ref: str
    first: int
    last: int
    added_travel: int
    before: str | None


@dataclass(frozen=True)
class Wishes:
    """What the customer asked for: one day, a part of the day, not before a time (local)."""

    day: date | None = None
    part: str | None = None  # "morning" (ends by 12:00) or "afternoon" (starts at 12:00 or later)
    not_before: time | None = None

    def __post_init__(self) -> None:
        if self.part is not None and self.part not in PARTS:
            raise ValueError(f"part {self.part!r}: give one of {', '.join(PARTS)}")

    @property
    def any(self) -> bool:
        return self.day is not None or self.part is not None or self.not_before is not None

    def words(self) -> str:
        said = [f"on {self.day:%a %d %b}" if self.day else "", f"in the {self.part}" if self.part else "",
                f"not before {self.not_before:%H:%M}" if self.not_before else ""]  # fmt: skip
        return ", ".join(s for s in said if s)


@dataclass(frozen=True)
class Slot:
    start: datetime  # the window offered: the promise if it is booked
    end: datetime
    technicians: int  # how many could start the job in it
    least_added_travel_minutes: int
    technician_ref: str  # who adds the least driving, and when they would start
    technician_name: str
    technician_start: datetime
    best: bool = False

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "start": local_iso(self.start, zone), "end": local_iso(self.end, zone), "technicians": self.technicians,
            "least_added_travel_minutes": self.least_added_travel_minutes, "best": self.best,
            "technician_ref": self.technician_ref, "technician_name": self.technician_name,
            "technician_start": local_iso(self.technician_start, zone),
        }  # fmt: skip


@dataclass(frozen=True)
class Offer:
    job_ref: str
    window_minutes: int
    days: tuple[date, ...]
    wishes: Wishes
    slots: tuple[Slot, ...]  # soonest first
    reasons: tuple[str, ...] = ()  # why there is no window at all, day by day (empty when there are some)
    advice: str = ""

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        wishes = self.wishes
        return {
            "job_ref": self.job_ref, "window_minutes": self.window_minutes,
            "days": [d.isoformat() for d in self.days],
            "wishes": {"date": wishes.day.isoformat() if wishes.day else None, "part": wishes.part,
                       "not_before": f"{wishes.not_before:%H:%M}" if wishes.not_before else None},
            "slots": [s.as_json(zone) for s in self.slots], "reasons": list(self.reasons), "advice": self.advice,
        }  # fmt: skip


class JobNotWaiting(Refused):
    """Times are offered for a waiting request only."""


def offer_slots(
    session: Session,
    job_ref: str,
    *,
    zone: ZoneInfo,
    travel: Travel,
    now: datetime,
    days: int = 5,
    window_minutes: int = 120,
    wishes: Wishes | None = None,
) -> Offer:
    """The windows to offer for waiting job ``job_ref`` over ``days`` days from today (``now``'s local day),
    or on ``wishes.day`` alone. Raises ``NotFound`` for an unknown job, ``JobNotWaiting`` for one that is
    not waiting (status new)."""
    if days < 1 or window_minutes < 1:
        raise ValueError(f"days ({days}) and window_minutes ({window_minutes}) must be at least 1")
    wishes = wishes or Wishes()
    job = session.exec(select(Job).where(Job.ref == job_ref)).first()
    if job is None:
        raise NotFound(f"no job {job_ref!r}")
    if job.status != JobStatus.NEW:
        reason = f"{job.ref} is {job.status}: times are offered for a waiting request only"
        if job.status in MOVABLE:
            reason += f" (to change its visit: dispatch candidates {job.ref}, then dispatch move)"
        raise JobNotWaiting([reason])
    today = now.astimezone(zone).date()
    wanted = (wishes.day,) if wishes.day else tuple(today + timedelta(days=i) for i in range(days))
    qualified = _qualified(session, job)
    found: list[Slot] = []
    looked: list[_Day] = []
    for day in wanted:
        if day < today:
            looked.append(_Day(day, None, None, "it has passed"))
            continue
        plan = load_day(session, day, zone, tech_refs=qualified)
        frame = plan.frame
        spec = job_spec(session, job, frame)
        bounds = _Bounds.of(frame, now, job, window_minutes, wishes)
        if bounds.first_start > bounds.last_start:
            looked.append(_Day(day, plan, spec, bounds.empty_because(frame, job, now, wishes)))
            continue
        starts = _day_starts(plan, spec, travel)
        found += derive_slots(frame, starts, plan, bounds)
        looked.append(_Day(day, plan, spec, "", starts))
    _mark_best(found)
    offer = Offer(job.ref, window_minutes, wanted, wishes, tuple(found))
    if found:
        return offer
    return replace(offer, **_why_none(looked, job, now, window_minutes, wishes, travel))


def feasible_starts(day: TechDay, job: JobSpec, travel: Travel) -> list[Starts]:
    """Every range of start minutes at which ``job`` (its window aside) fits on ``day`` without moving
    anything and without adding a problem; ``job`` must not be on ``day``. On a day without problems of its
    own, start ``s`` is in a range exactly when ``check_insert`` with the job's window set to contain ``s``
    finds nothing wrong."""
    if day.shift is None or job.skill not in day.skills:
        return []
    shift_start, shift_end = day.shift
    off = _merged((a.start, a.end) for a in day.absences)
    stops = [(day.home, shift_start, shift_start, None), *((v.point, v.start, v.end, v.job_ref) for v in day.visits),
             (day.home, shift_end, shift_end, None)]  # fmt: skip
    legs = [(a[2], b[1], travel(a[0], b[0])) for a, b in pairwise(stops)]
    # Whether the break needs one of the two legs around the job: not when time off serves as the break, nor
    # when another leg of the day has room for it (a leg kept as it is keeps its room).
    break_free = not day.break_minutes or day.break_start is None or _break_slot(day, []) is not None
    roomy = [] if break_free else [_break_slot(day, [leg]) is not None for leg in legs]
    duration = job.duration
    found = []
    for i, ((prev_point, _, prev_end, _), (next_point, next_start, _, next_ref)) in enumerate(pairwise(stops)):
        drive_in, drive_out = travel(prev_point, job.point), travel(job.point, next_point)
        first = _arrival(prev_end, drive_in, off)  # the drive there fits in the free time before
        last = _departure(next_start, drive_out, off) - duration  # and the drive on after it
        if first > last:
            continue
        ranges = _without_absences([(first, last)], off, duration)
        if not break_free and not any(room for j, room in enumerate(roomy) if j != i):
            ranges = _intersect(ranges, _break_ranges(day, first, last, prev_end, drive_in, next_start, drive_out,
                                                      duration))  # fmt: skip
        added = drive_in + drive_out - legs[i][2]
        found += [Starts(day.ref, lo, hi, added, next_ref) for lo, hi in ranges]
    return found


@dataclass(frozen=True)
class _Bounds:
    """Where windows may lie on one day, in the frame's minutes: the first and last window start, and the
    last minute a start may take (the due time less the duration)."""

    window: int
    first_start: int  # aligned
    last_start: int  # aligned; < first_start: no window that day
    last_begin: int | None  # latest start of the job (due_by), None: no due time
    why: str = ""  # what empties the day, when it is empty before any technician is looked at

    @staticmethod
    def of(frame: DayFrame, now: datetime, job: Job, window: int, wishes: Wishes) -> _Bounds:
        # Minutes from local midnight that are multiples of 30 are on the local half hour: every zone's
        # offset, and every daylight-saving shift, is a whole number of half hours.
        low, high = 0, frame.length - 1  # a window starts on its day
        why = ""
        if frame.minute(now) > low:
            low, why = frame.minute(now), "passed"
        noon = frame.minute(local_at(frame.day, NOON, frame.zone))
        if wishes.not_before is not None:
            wished = frame.minute(local_at(frame.day, wishes.not_before.hour * 60 + wishes.not_before.minute,
                                           frame.zone))  # fmt: skip
            if wished >= low:
                low, why = wished, "not_before"
        if wishes.part == "afternoon" and noon >= low:
            low, why = noon, "afternoon"
        if wishes.part == "morning":
            high = min(high, noon - window)
        last_begin = None if job.due_by is None else frame.minute(job.due_by) - job.duration_min
        if last_begin is not None:
            high = min(high, last_begin)  # a window opening after the last start has no start in it
        first = -(-low // ALIGN_MINUTES) * ALIGN_MINUTES
        last = high // ALIGN_MINUTES * ALIGN_MINUTES if high >= 0 else -ALIGN_MINUTES
        return _Bounds(window, first, last, last_begin, why)

    def empty_because(self, frame: DayFrame, job: Job, now: datetime, wishes: Wishes) -> str:
        """Why no window can lie on the day at all, whoever works it ("" when some could)."""
        if self.first_start <= self.last_start:
            return ""
        if self.last_begin is not None and self.last_begin < self.first_start and job.due_by is not None:
            due = local_moment(job.due_by, frame.zone)
            return f"{job.ref} is due by {due}: no window that day leaves time to finish by then"
        said = f"no {self.window}-min window is left that day"
        if wishes.part or wishes.not_before:
            said += f" {Wishes(part=wishes.part, not_before=wishes.not_before).words()}"
        return said + (f" (it is {now.astimezone(frame.zone):%H:%M})" if self.why == "passed" else "")


@dataclass
class _Day:
    day: date
    plan: DayPlan | None
    spec: JobSpec | None
    empty_because: str
    starts: list[Starts] | None = None  # None: not looked at (no window could lie on that day)


def _day_starts(plan: DayPlan, spec: JobSpec, travel: Travel) -> list[Starts]:
    """Every technician's start ranges for ``spec`` on the plan's day (its own visit, if any, set aside)."""
    tech_days = [d.without(spec.ref) for d in plan.days.values()]
    prefetch(travel, (leg for d in tech_days for leg in legs_to_try(d, spec)))
    return [s for d in tech_days for s in feasible_starts(d, spec, travel)]


def derive_slots(frame: DayFrame, starts: Iterable[Starts], plan: DayPlan, bounds: _Bounds) -> list[Slot]:
    """The windows of one day read off the technicians' start ranges, soonest first."""
    window, step = bounds.window, ALIGN_MINUTES
    if bounds.first_start > bounds.last_start:
        return []
    taken: dict[int, tuple[set[str], tuple[int, int, str]]] = {}
    usable = [(s, s.last if bounds.last_begin is None else min(s.last, bounds.last_begin)) for s in starts]
    usable = [(s, last) for s, last in usable if last >= s.first]
    # No window opens before the half hour in which the first technician could arrive: a customer told
    # "05:30–07:30" for an arrival at 07:13 would wait for nobody.
    opening = min((s.first for s, _ in usable), default=0) // step * step
    for s, last in usable:
        # Windows [a, a + window] that contain a start of [s.first, last]: a <= last and a + window >= s.first.
        lo = max(bounds.first_start, opening, -(-(s.first - window) // step) * step)
        hi = min(bounds.last_start, last // step * step)
        for a in range(lo, hi + 1, step):
            option = (s.added_travel, max(s.first, a), s.tech_ref)
            entry = taken.get(a)
            if entry is None:
                taken[a] = ({s.tech_ref}, option)
            else:
                entry[0].add(s.tech_ref)
                if option < entry[1]:
                    taken[a] = (entry[0], option)
    instant = frame.instant
    return [
        Slot(instant(a), instant(a + window), len(techs), added, ref, plan.days[ref].name, instant(begin))
        for a, (techs, (added, begin, ref)) in sorted(taken.items())
    ]


def _mark_best(slots: list[Slot]) -> None:
    """Mark the windows that add the least driving; on a tie, those the technician can start soonest after
    they open (the customer waits least within the window), then the soonest."""

    def rank(i: int) -> tuple[int, timedelta, datetime]:
        slot = slots[i]
        return slot.least_added_travel_minutes, slot.technician_start - slot.start, slot.start

    ranked = sorted(range(len(slots)), key=rank)
    for i in ranked[:BEST_MARKED]:
        slots[i] = replace(slots[i], best=True)


def _why_none(looked: list[_Day], job: Job, now: datetime, window: int, wishes: Wishes,
              travel: Travel) -> dict[str, Any]:  # fmt: skip
    """Why no window is offered, day by day, in a dispatcher's words, and what might help."""
    reasons = []
    relaxed = 0  # windows there would be without the customer's wishes
    for seen in looked:
        label = f"{seen.day:%a %d %b}"
        if seen.plan is not None and seen.spec is not None and (wishes.part or wishes.not_before):
            free = _Bounds.of(seen.plan.frame, now, job, window, Wishes())
            starts = seen.starts if seen.starts is not None else _day_starts(seen.plan, seen.spec, travel)
            relaxed += len(derive_slots(seen.plan.frame, starts, seen.plan, free))
        if seen.empty_because:
            reasons.append(f"{label}: {seen.empty_because}")
            continue
        assert seen.plan is not None and seen.spec is not None
        frame = seen.plan.frame
        bounds = _Bounds.of(frame, now, job, window, wishes)
        last = min(bounds.last_start + window, frame.length - 1)
        last = last if bounds.last_begin is None else min(last, bounds.last_begin)
        spec = replace(seen.spec, window=(bounds.first_start, last))
        shifts = [d.shift for d in seen.plan.days.values() if d.shift]
        if shifts and all(end <= bounds.first_start for _, end in shifts):
            ends = frame.clock(max(end for _, end in shifts))
            reasons.append(f"{label}: the technicians with skill {spec.skill} working that day finish by {ends}")
            continue
        said = why_unplaceable(seen.plan, spec, travel)
        if not said and seen.starts:  # someone could start it, but not where a window of the wishes lies
            said = [f"no {window}-min window fits the customer's wishes"]
        reasons += [f"{label}: {reason}" for reason in said]
    if relaxed:
        advice = (f"{relaxed} window(s) on the same day(s) if the customer drops the wish to be seen "
                  f"{Wishes(part=wishes.part, not_before=wishes.not_before).words()}")  # fmt: skip
    elif wishes.day is None:
        advice = f"try more days (dispatch slots {job.ref} --days N), or free capacity (dispatch optimize)"
    else:
        advice = f"try another day (dispatch slots {job.ref} --date D), or no --date to look at the next days"
    return {"reasons": tuple(reasons), "advice": advice}


def _qualified(session: Session, job: Job) -> list[str]:
    """The refs of the active technicians with the job's skill: only their days are loaded."""
    return list(
        session.exec(
            select(Technician.ref)
            .join(TechnicianSkill, col(TechnicianSkill.technician_id) == col(Technician.id))
            .where(col(TechnicianSkill.skill_id) == job.skill_id, col(Technician.active))
        )
    )


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans sorted and merged where they overlap or touch: the same minutes, disjoint."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if hi <= lo:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _arrival(start: int, drive: int, off: list[tuple[int, int]]) -> int:
    """The earliest minute ``t`` >= ``start`` with ``drive`` minutes outside ``off`` in [start, t]."""
    t, need = start, drive
    for lo, hi in off:
        if need == 0 or lo >= t + need:
            break
        if hi <= t:
            continue
        if lo > t:
            need -= lo - t
        t = hi
    return t + need


def _departure(end: int, drive: int, off: list[tuple[int, int]]) -> int:
    """The latest minute ``t`` <= ``end`` with ``drive`` minutes outside ``off`` in [t, end]."""
    t, need = end, drive
    for lo, hi in reversed(off):
        if need == 0 or hi <= t - need:
            break
        if lo >= t:
            continue
        if hi < t:
            need -= t - hi
        t = lo
    return t - need


Ranges = list[tuple[int, int]]  # closed ranges of minutes, sorted and disjoint


def _without_absences(ranges: Ranges, off: Ranges, duration: int) -> Ranges:
    """``ranges`` less the starts whose visit [s, s + duration) would overlap time off."""
    for lo, hi in off:  # overlap: s < hi and s + duration > lo, i.e. s in [lo - duration + 1, hi - 1]
        ranges = _intersect(ranges, [(-(10**9), lo - duration), (hi, 10**9)])
    return ranges


def _break_ranges(day: TechDay, first: int, last: int, prev_end: int, drive_in: int, next_start: int, drive_out: int,
                  duration: int) -> list[tuple[int, int]]:  # fmt: skip
    """The starts in [first, last] that leave the break room on one of the two legs around the job: before
    it (more room the later it starts) or after it (more room the earlier)."""

    def before(s: int) -> bool:
        return _break_slot(day, [(prev_end, s, drive_in)]) is not None

    def after(s: int) -> bool:
        return _break_slot(day, [(s + duration, next_start, drive_out)]) is not None

    ranges = []
    if after(first):
        lo, hi = first, last  # the last start that leaves room after it
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if after(mid) else (lo, mid - 1)
        ranges.append((first, lo))
    if before(last):
        lo, hi = first, last  # the first start that leaves room before it
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if before(mid) else (mid + 1, hi)
        ranges.append((lo, last))
    return _merged_closed(ranges)


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The minutes in both lists of closed ranges (each sorted and disjoint)."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _merged_closed(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
