"""Cheapest feasible insertion of one job into a technician's day, as pure functions.

For every gap of the day (before the first visit, between two, after the last) the job's start is
bounded by the drive from the previous stop and to the next, and by its window; within those bounds
a few start times are tried — the earliest, and just after each absence or break that might be in the
way — and the first that adds no problem (``scheduling.added_problems``) wins. Existing visits never
move, so nothing already promised gets later.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from dispatch_tui.services.planning.scheduling import (
    DayFrame,
    JobSpec,
    Point,
    Problem,
    TechDay,
    Travel,
    Visit,
    day_problems,
    skill_problem,
)

TIGHT_MINUTES = 15  # less slack than this before the window closes or the next stop is a lateness risk
WAIT_CAP_MINUTES = 60  # idle time past an hour is free time for other work, not waste this insertion causes


@dataclass(frozen=True, slots=True)
class Insertion:
    tech_ref: str
    start: int
    end: int
    added_travel: int
    waiting: int
    slack: int
    before: str | None  # the job it goes before (None: last of the day)

    @property
    def score(self) -> float:
        """Lower is better: minutes of driving added, half the idle minutes (up to an hour), lateness risk."""
        risk = max(0, TIGHT_MINUTES - self.slack) * 2
        return self.added_travel + 0.5 * min(self.waiting, WAIT_CAP_MINUTES) + risk


def insertions(day: TechDay, job: JobSpec, frame: DayFrame, travel: Travel) -> list[Insertion]:
    """Every gap where ``job`` fits on ``day``, each at its earliest feasible start."""
    if day.shift is None or skill_problem(day, job) is not None:
        return []
    shift_start, shift_end = day.shift
    baseline: set[tuple[str, ...]] | None = None  # the day's own problems, computed only if a gap looks open
    found = []
    visits = day.visits
    for position in range(len(visits) + 1):
        prev = visits[position - 1] if position else None
        nxt = visits[position] if position < len(visits) else None
        prev_point, prev_end = (prev.point, prev.end) if prev else (day.home, shift_start)
        next_point, next_start = (nxt.point, nxt.start) if nxt else (day.home, shift_end)
        drive_in = travel(prev_point, job.point)
        drive_out = travel(job.point, next_point)
        lower = max(job.window[0], prev_end + drive_in)
        upper = min(job.window[1], next_start - drive_out - job.duration)
        if lower > upper:
            continue
        if baseline is None:
            baseline = {p.key for p in day_problems(day, frame, travel)}
        for start in _trial_starts(day, lower, upper, prev_end, drive_in):
            after = day.with_visit(Visit(job.ref, job.point, start, job.duration, job.window))
            if not _adds_problems(after, baseline, frame, travel):
                waiting = start - (prev_end + drive_in) if prev else 0  # from home one simply leaves later
                found.append(
                    Insertion(
                        tech_ref=day.ref,
                        start=start,
                        end=start + job.duration,
                        added_travel=drive_in + drive_out - travel(prev_point, next_point),
                        waiting=waiting,
                        slack=min(job.window[1] - start, next_start - (start + job.duration + drive_out)),
                        before=nxt.job_ref if nxt else None,
                    )
                )
                break
    return found


def legs_to_try(day: TechDay, job: JobSpec) -> list[tuple[Point, Point]]:
    """Every drive ``insertions`` may ask for on ``day``: each leg of the day, and to and from the job
    at every gap. Handing them to a routing server in one go avoids one request per leg."""
    if day.shift is None or job.skill not in day.skills:
        return []
    places = [day.home, *(v.point for v in day.visits), day.home]
    legs = []
    for here, there in pairwise(places):
        legs += [(here, there), (here, job.point), (job.point, there)]
    return legs


def _trial_starts(day: TechDay, lower: int, upper: int, prev_end: int, drive_in: int) -> list[int]:
    """The earliest start, and starts just clear of each absence and each place the break could go."""
    trials = {lower}
    for absence in day.absences:
        trials.update((absence.end, absence.end + drive_in))
    if day.break_start is not None and day.break_minutes:
        for break_at in (prev_end, day.break_start, day.break_start + 90):
            trials.add(break_at + day.break_minutes + drive_in)
            trials.add(break_at + day.break_minutes)
    return sorted(t for t in trials if lower <= t <= upper)


def _adds_problems(day: TechDay, baseline: set[tuple[str, ...]], frame: DayFrame, travel: Travel) -> list[Problem]:
    return [p for p in day_problems(day, frame, travel) if p.key not in baseline]
