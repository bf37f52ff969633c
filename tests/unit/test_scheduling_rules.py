"""The feasibility rules, on hand-checkable days.

Places are points on a line and driving takes one minute per unit (``line_travel``), so every expected
time below can be checked by hand. Minutes count from local midnight of ``DAY`` (tests/clock.py, a Tuesday)
in Paris.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from dispatch_tui.services.planning.insertion import insertions
from dispatch_tui.services.planning.scheduling import (
    Absence,
    DayFrame,
    JobSpec,
    Point,
    TechDay,
    Visit,
    check_insert,
    day_problems,
)
from tests.clock import DAY, MONDAY

FRAME = DayFrame(DAY, ZoneInfo("Europe/Paris"))


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def at(x: float) -> Point:
    return (x, 0.0)


def line_travel(a: Point, b: Point) -> int:
    return int(abs(a[0] - b[0]))


def ana(**changes: object) -> TechDay:
    base = TechDay(ref="T1", name="Ana", skills=frozenset({"hvac", "plumbing"}), home=at(0),
                   shift=(hm("08:00"), hm("17:00")))  # fmt: skip
    return TechDay(**{**base.__dict__, **changes})


def visit(ref: str, x: float, start: str, minutes: int, window: tuple[str, str], locked: bool = False) -> Visit:
    return Visit(ref, at(x), hm(start), minutes, (hm(window[0]), hm(window[1])), locked)


def job(ref: str = "J", x: float = 10, minutes: int = 60, window: tuple[str, str] = ("08:00", "17:00"),
        skill: str = "hvac") -> JobSpec:  # fmt: skip
    return JobSpec(ref, skill, at(x), minutes, (hm(window[0]), hm(window[1])))


def refusals(day: TechDay, spec: JobSpec, start: str) -> list[str]:
    return [str(p) for p in check_insert(day, spec, hm(start), FRAME, line_travel)]


def test_an_empty_day_takes_a_job_that_fits() -> None:
    assert refusals(ana(), job(), "09:00") == []


def test_skill() -> None:
    assert refusals(ana(), job(skill="boiler"), "09:00") == ["Ana has no boiler skill"]


def test_service_starts_inside_the_promised_window() -> None:
    late = job(window=("09:00", "10:30"))
    assert refusals(ana(), late, "10:40") == ["J: would arrive 10:40, window ends 10:30"]
    assert refusals(ana(), late, "08:50") == ["J would start 08:50, before its window opens 09:00"]
    assert refusals(ana(), late, "10:30") == []


def test_no_overlap() -> None:
    day = ana(visits=(visit("R1", 10, "09:00", 60, ("08:00", "12:00")),))
    assert refusals(day, job(x=10), "09:30") == ["J at 09:30 overlaps R1 (until 10:00)"]


def test_the_drive_from_home_must_fit_after_the_shift_starts() -> None:
    assert refusals(ana(), job(x=30), "08:15") == [
        "cannot reach J by 08:15: the shift starts 08:00 and the drive from home takes 30 min"
    ]
    assert refusals(ana(), job(x=30), "08:30") == []


def test_back_home_within_the_shift() -> None:
    assert refusals(ana(), job(x=20, minutes=50), "16:00") == [
        "would be home at 17:10, after the shift ends 17:00 (20 min drive after J)"
    ]


def test_inserting_before_a_tight_window_stop_must_not_make_it_late() -> None:
    # R2 is promised 10:00-10:15 and planned at 10:00, 20 minutes' drive from where J would be.
    day = ana(visits=(visit("R2", 30, "10:00", 30, ("10:00", "10:15")),))
    assert refusals(day, job(x=10, minutes=30), "09:20") == [
        "R2 at 10:00 would be late: J ends 09:50 and the drive takes 20 min"
    ]
    assert refusals(day, job(x=10, minutes=30), "09:10") == []


def test_a_break_that_must_slide() -> None:
    # Break 30 min, may start 12:00-13:30. R1 covers 12:00-13:00, so the break must slide to 13:00.
    day = ana(break_start=hm("12:00"), break_minutes=30, visits=(visit("R1", 10, "12:00", 60, ("12:00", "12:00")),))
    assert day_problems(day, FRAME, line_travel) == []
    assert refusals(day, job(x=15, minutes=30), "13:10") == [
        "no room for Ana's 30-min break starting between 12:00 and 13:30"
    ]
    assert refusals(day, job(x=15, minutes=30), "13:35") == []  # break 13:00-13:30, 5 min drive
    [best] = [i for i in insertions(day, job(x=15, minutes=30, window=("13:00", "15:00")), FRAME, line_travel)
              if i.before is None]  # fmt: skip
    assert (best.start, best.waiting) == (hm("13:35"), 30)


def test_an_absence_across_midnight() -> None:
    # Off from Monday 22:00 to Tuesday 10:00: nothing before 10:00, and the drive cannot start earlier.
    day = ana(absences=(Absence(hm("22:00") - 24 * 60, hm("10:00"), "sick"),))
    assert refusals(day, job(x=15), "09:00") == [f"Ana is off {MONDAY:%a} 22:00–10:00 (sick)"]
    assert refusals(day, job(x=15), "10:05") == [
        "cannot reach J by 10:05: the shift starts 08:00 and the drive from home takes 15 min"
    ]
    assert refusals(day, job(x=15), "10:15") == []


def test_not_a_working_day() -> None:
    assert refusals(ana(shift=None), job(), "09:00") == [f"Ana does not work on {DAY:%A}s"]


def test_an_earlier_override_does_not_block_unrelated_work() -> None:
    forced = visit("R1", 10, "09:00", 60, ("07:00", "08:00"))  # already late: someone forced it
    day = ana(visits=(forced,))
    assert [str(p) for p in day_problems(day, FRAME, line_travel)] == ["R1: would arrive 09:00, window ends 08:00"]
    assert refusals(day, job(x=10), "10:00") == []


@pytest.mark.parametrize(("day", "minutes"), [  # the DST changes of 2026, each with the clock set on its eve
    pytest.param(date(2026, 3, 29), 23 * 60, marks=pytest.mark.clock("2026-03-28T12:00+01:00")),
    pytest.param(date(2026, 10, 25), 25 * 60, marks=pytest.mark.clock("2026-10-24T12:00+02:00")),
])  # fmt: skip
def test_dst_days_have_their_real_length(day: date, minutes: int) -> None:
    assert DayFrame(day, ZoneInfo("Europe/Paris")).length == minutes


def test_insertions_find_the_earliest_start_in_each_gap_and_never_move_visits() -> None:
    day = ana(
        visits=(visit("R1", 10, "10:00", 60, ("10:00", "10:00")), visit("R2", 10, "14:00", 60, ("14:00", "14:00")))
    )
    found = insertions(day, job(x=20, minutes=60, window=("08:00", "16:00")), FRAME, line_travel)
    assert [(i.before, FRAME.clock(i.start), i.added_travel) for i in found] == [
        ("R1", "08:20", 20),  # home (0) -> 20 -> R1 (10): 20 + 10 - 10; must end by 08:50 + 60
        ("R2", "11:10", 20),  # R1 ends 11:00 at 10, 10 min to 20
        (None, "15:10", 20),  # after R2 (ends 15:00), home by 16:30
    ]
    # Nothing planned moves: each option ends in time to drive to the visit after it at its fixed start.
    fixed_starts = {"R1": hm("10:00"), "R2": hm("14:00")}
    assert all(i.end + 10 <= fixed_starts[i.before] for i in found if i.before)  # the job (20) to R1/R2 (10)


def test_no_insertion_for_a_technician_without_the_skill() -> None:
    assert insertions(ana(), job(skill="boiler"), FRAME, line_travel) == []
