"""Feasibility rules for a technician's day, as pure functions over minutes.

A day is a frame (the local day, as minutes from its midnight), a technician's shift, break, absences
and the visits already placed, each with a fixed start. ``day_problems`` lists everything wrong with a
day in words a dispatcher can act on; a change is acceptable when it adds no problem
(``added_problems``), so that "inserting a job must not make the following stops late" and "a forced
override earlier does not block everything after it" follow from one rule set.

Rules: the skill; the day is a working day; service starts inside the promised window; visits do not
overlap; each drive (home → first, between visits, last → home) fits in the time between them, outside
absences and inside the shift; no visit during an absence; a break of ``break_minutes`` starts within
[break_start, break_start + 90] in idle time (an absence that long in that span counts as the break).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from itertools import pairwise
from zoneinfo import ZoneInfo

from dispatch_tui.localtime import local_day_bounds

Point = tuple[float, float]
Travel = Callable[[Point, Point], int]

BREAK_SLIDE_MINUTES = 90  # docs/import-files.md: a break starts within [break_start, break_start + 90 min]


@dataclass(frozen=True)
class DayFrame:
    """A local calendar day measured in minutes from its local midnight (23 or 25 h on DST days)."""

    day: date
    zone: ZoneInfo

    @cached_property
    def _bounds(self) -> tuple[datetime, datetime]:
        return local_day_bounds(self.day, self.zone)

    @property
    def origin(self) -> datetime:
        return self._bounds[0]

    @property
    def length(self) -> int:
        start, end = self._bounds
        return int((end - start).total_seconds() // 60)

    def minute(self, instant: datetime) -> int:
        return int((instant - self.origin).total_seconds() // 60)

    def instant(self, minute: int) -> datetime:
        return self.origin + timedelta(minutes=minute)

    def clock(self, minute: int) -> str:
        """'HH:MM' local; a time on another day also names that day ('Mon 22:00')."""
        local = self.instant(minute).astimezone(self.zone)
        text = local.strftime("%H:%M")
        return text if local.date() == self.day else f"{local.strftime('%a')} {text}"


@dataclass(frozen=True, slots=True)
class Visit:
    job_ref: str
    point: Point
    start: int
    duration: int
    window: tuple[int, int]  # the promised arrival window: service starts inside it
    locked: bool = False

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class Absence:
    start: int
    end: int
    reason: str = ""


@dataclass(frozen=True)
class TechDay:
    ref: str
    name: str
    skills: frozenset[str]
    home: Point
    shift: tuple[int, int] | None  # None: not a working day
    break_start: int | None = None
    break_minutes: int = 0
    absences: tuple[Absence, ...] = ()
    visits: tuple[Visit, ...] = ()  # sorted by start

    def without(self, job_ref: str) -> TechDay:
        if all(v.job_ref != job_ref for v in self.visits):
            return self
        return self._with_visits(tuple(v for v in self.visits if v.job_ref != job_ref))

    def emptied(self) -> TechDay:
        """The same day with nothing planned: what the shift, break and absences alone allow."""
        return self._with_visits(())

    def with_visit(self, visit: Visit) -> TechDay:
        return self._with_visits(tuple(sorted((*self.visits, visit), key=lambda v: (v.start, v.job_ref))))

    def _with_visits(self, visits: tuple[Visit, ...]) -> TechDay:
        # Direct construction: dataclasses.replace costs several times more, and candidates make thousands.
        return TechDay(self.ref, self.name, self.skills, self.home, self.shift, self.break_start,
                       self.break_minutes, self.absences, visits)  # fmt: skip


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job as the rules see it: what skill, where, how long, and when it may start."""

    ref: str
    skill: str
    point: Point
    duration: int
    window: tuple[int, int]
    priority: int = 3


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    key: tuple[str, ...] = field(compare=True)  # what it is about, to tell new problems from old ones
    message: str = field(compare=False)

    def __str__(self) -> str:
        return self.message


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def _free_minutes(g0: int, g1: int, absences: Sequence[Absence]) -> list[tuple[int, int]]:
    """The parts of [g0, g1] outside every absence."""
    parts = [(g0, g1)]
    for absence in absences:
        parts = [
            piece
            for lo, hi in parts
            for piece in ((lo, min(hi, absence.start)), (max(lo, absence.end), hi))
            if piece[1] > piece[0]
        ]
    return parts


def day_problems(day: TechDay, frame: DayFrame, travel: Travel) -> list[Problem]:
    """Everything that makes ``day`` impossible as planned; empty when it holds."""
    problems: list[Problem] = []
    clock = frame.clock

    def add(*key: str, message: str) -> None:
        problems.append(Problem(key, message))

    if day.shift is None:
        if day.visits:
            add("no-shift", message=f"{day.name} does not work on {frame.day.strftime('%A')}s")
        return problems
    shift_start, shift_end = day.shift
    absent: set[str] = set()  # visits inside an absence: saying so is enough, no drive problem on top
    for visit in day.visits:
        ref, lo, hi = visit.job_ref, visit.window[0], visit.window[1]
        if visit.start < lo:
            add("early", ref, message=f"{ref} would start {clock(visit.start)}, before its window opens {clock(lo)}")
        elif visit.start > hi:
            add("late", ref, message=f"{ref}: would arrive {clock(visit.start)}, window ends {clock(hi)}")
        for absence in day.absences:
            if _overlap(visit.start, visit.end, absence.start, absence.end):
                add("absent", ref, message=_off(day, absence, frame))
                absent.add(ref)
    # The legs of the day: home -> v1 -> ... -> vn -> home, each needing its drive in the time between.
    legs: list[tuple[int, int, int]] = []  # (gap start, gap end, drive minutes)
    for (a, a_point, _, a_end), (b, b_point, b_start, _) in pairwise(_stops(day, shift_start, shift_end)):
        drive = travel(a_point, b_point)
        legs.append((a_end, b_start, drive))
        if a in absent or b in absent:
            continue
        free = sum(hi - lo for lo, hi in _free_minutes(a_end, b_start, day.absences))
        if b_start < a_end:
            if a == "home":
                add("before-shift", b, message=f"{b} would start {clock(b_start)}, before the shift starts "
                    f"{clock(shift_start)}")  # fmt: skip
            elif b == "home":
                add("after-shift", a, message=f"{a} would end {clock(a_end)}, after the shift ends {clock(shift_end)}")
            else:
                add("overlap", a, b, message=f"{b} at {clock(b_start)} overlaps {a} (until {clock(a_end)})")
        elif free < drive:
            if a == "home":
                add("reach", b, message=f"cannot reach {b} by {clock(b_start)}: the shift starts {clock(shift_start)} "
                    f"and the drive from home takes {drive} min")  # fmt: skip
            elif b == "home":
                home_at = a_end + drive + (b_start - a_end - free)  # absences on the way delay the drive
                add("home", a, message=f"would be home at {clock(home_at)}, after the shift ends {clock(shift_end)} "
                    f"({drive} min drive after {a})")  # fmt: skip
            else:
                add("drive", a, b, message=f"{b} at {clock(b_start)} would be late: {a} ends {clock(a_end)} and the "
                    f"drive takes {drive} min")  # fmt: skip
    if day.break_minutes and day.break_start is not None and not _break_fits(day, legs):
        latest = day.break_start + BREAK_SLIDE_MINUTES
        add("break", message=f"no room for {day.name}'s {day.break_minutes}-min break starting between "
            f"{clock(day.break_start)} and {clock(latest)}")  # fmt: skip
    return problems


def _off(day: TechDay, absence: Absence, frame: DayFrame) -> str:
    why = f" ({absence.reason})" if absence.reason else ""
    return f"{day.name} is off {frame.clock(absence.start)}–{frame.clock(absence.end)}{why}"


def _break_fits(day: TechDay, legs: Sequence[tuple[int, int, int]]) -> bool:
    return _break_slot(day, legs) is not None


def _break_slot(day: TechDay, legs: Sequence[tuple[int, int, int]]) -> tuple[int, int] | None:
    """The earliest (start, end) the break can take, or None. Time off in the break's span serves as it."""
    assert day.break_start is not None
    earliest, latest, length = day.break_start, day.break_start + BREAK_SLIDE_MINUTES, day.break_minutes
    for absence in day.absences:
        if absence.end - absence.start >= length and absence.start <= latest and absence.end >= earliest:
            start = max(absence.start, earliest)
            return start, start + length
    for g0, g1, drive in legs:
        free = _free_minutes(g0, g1, day.absences)
        if sum(hi - lo for lo, hi in free) - length < drive:
            continue
        for lo, hi in free:
            start = max(lo, earliest)
            if start <= min(hi - length, latest):
                return start, start + length
    return None


def break_slot(day: TechDay, travel: Travel) -> tuple[int, int] | None:
    """Where the break falls on a feasible day: the earliest slot the rules allow."""
    if day.shift is None or day.break_start is None or not day.break_minutes:
        return None
    legs = [(a[3], b[2], travel(a[1], b[1])) for a, b in pairwise(_stops(day, *day.shift))]
    return _break_slot(day, legs)


def _stops(day: TechDay, shift_start: int, shift_end: int) -> list[tuple[str, Point, int, int]]:
    """(ref, place, start, end) from leaving home to being back: the day's legs run between these."""
    visits = [(v.job_ref, v.point, v.start, v.end) for v in day.visits]
    return [("home", day.home, shift_start, shift_start), *visits, ("home", day.home, shift_end, shift_end)]


def added_problems(before: TechDay, after: TechDay, frame: DayFrame, travel: Travel) -> list[Problem]:
    """Problems ``after`` has that ``before`` did not: what a change would break."""
    old = {p.key for p in day_problems(before, frame, travel)}
    return [p for p in day_problems(after, frame, travel) if p.key not in old]


def skill_problem(day: TechDay, job: JobSpec) -> Problem | None:
    if job.skill in day.skills:
        return None
    return Problem(("skill", job.ref), f"{day.name} has no {job.skill} skill")


def check_insert(day: TechDay, job: JobSpec, start: int, frame: DayFrame, travel: Travel) -> list[Problem]:
    """Why ``job`` cannot start at ``start`` on ``day`` (empty: it can). The job must not be on ``day`` yet."""
    problems = [p for p in (skill_problem(day, job),) if p]
    visit = Visit(job.ref, job.point, start, job.duration, job.window)
    return problems + added_problems(day, day.with_visit(visit), frame, travel)
