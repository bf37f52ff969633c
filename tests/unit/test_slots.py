"""Times to offer the customer (`dispatch slots`): the start ranges of a technician's day, and the windows
read off them, on hand-checkable days and against brute force.

Pure days: places are points on a line and driving takes one minute per unit (``line_travel``). Store
days: every drive between two different places takes 15 minutes (``fifteen``), so the times can be
checked by hand; the properties use the straight-line model.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from dispatch_tui.localtime import format_clock, local_at
from dispatch_tui.services.errors import NotFound, Refused
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.services.planning import assignment, booking
from dispatch_tui.services.planning.day_plan import job_spec, load_day
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
from dispatch_tui.services.planning.slots import Offer, Wishes, feasible_starts, offer_slots
from dispatch_tui.store import make_engine, upgrade
from dispatch_tui.store.models import Job
from dispatch_tui.travel.haversine import travel_minutes
from tests.clock import DAY, MONDAY, NOW, ZONE, at, naive
from tests.conftest import WEEKDAYS

FRAME = DayFrame(DAY, ZONE)
WEDNESDAY = DAY + timedelta(days=1)


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def on(x: float) -> Point:
    return (x, 0.0)


def line_travel(a: Point, b: Point) -> int:
    return int(abs(a[0] - b[0]))


def ana(**changes: object) -> TechDay:
    base = TechDay(ref="T1", name="Ana", skills=frozenset({"boiler"}), home=on(0), shift=(hm("08:00"), hm("17:00")))
    return TechDay(**{**base.__dict__, **changes})


def visit(ref: str, x: float, start: str, end: str) -> Visit:
    return Visit(ref, on(x), hm(start), hm(end) - hm(start), (hm(start), hm(start)))


def job(x: float = 10, minutes: int = 60) -> JobSpec:
    return JobSpec("J", "boiler", on(x), minutes, (0, FRAME.length))


def ranges(day: TechDay, spec: JobSpec) -> list[tuple[str, str, int]]:
    found = feasible_starts(day, spec, line_travel)
    return [(FRAME.clock(s.first), FRAME.clock(s.last), s.added_travel) for s in found]


def accepted(day: TechDay, spec: JobSpec, travel: object = line_travel, frame: DayFrame = FRAME) -> set[int]:
    """Brute force: every minute of the day at which ``check_insert`` lets the job start, its window set to
    that minute (the only rule that reads the window is that service starts inside it)."""
    return {
        s
        for s in range(frame.length)
        if not check_insert(day, replace(spec, window=(s, s)), s, frame, travel)  # type: ignore[arg-type]
    }


def minutes_of(day: TechDay, spec: JobSpec, travel: object = line_travel) -> set[int]:
    return {m for s in feasible_starts(day, spec, travel) for m in range(s.first, s.last + 1)}  # type: ignore[arg-type]


# --- a technician's day: the ranges of feasible starts -------------------------------------------------


def test_an_empty_day_takes_the_job_from_the_first_drive_there_to_the_last_drive_home() -> None:
    assert ranges(ana(), job()) == [("08:10", "15:50", 20)]  # 17:00 - 10 min home - 60 min of work
    assert ranges(ana(shift=None), job()) == []  # not a working day
    assert ranges(ana(), replace(job(), skill="hvac")) == []  # not her skill


def test_each_gap_between_visits_gives_its_range_and_the_driving_it_adds() -> None:
    day = ana(visits=(visit("V1", 30, "10:00", "11:00"),))
    # Before V1: home (0) → J (-10) → V1 (30) instead of home → V1: 10 + 40 - 30 = 20 more; it must end by
    # 10:00 - 40. After V1: V1 → J → home instead of V1 → home: 40 + 10 - 30.
    assert ranges(day, job(x=-10)) == [("08:10", "08:20", 20), ("11:40", "15:50", 20)]
    assert minutes_of(day, job(x=-10)) == accepted(day, job(x=-10))


def test_time_off_cuts_the_visit_out_of_it_and_no_drive_happens_during_it() -> None:
    dentist = ana(absences=(Absence(hm("13:00"), hm("14:00"), "dentist"),))
    assert ranges(dentist, job()) == [("08:10", "12:00", 20), ("14:00", "15:50", 20)]
    late_start = ana(absences=(Absence(hm("08:00"), hm("09:00")),))
    assert ranges(late_start, job()) == [("09:10", "15:50", 20)]  # the drive waits for the end of the absence
    for day in (dentist, late_start):
        assert minutes_of(day, job()) == accepted(day, job())


def test_the_break_keeps_room_before_or_after_the_job_when_it_has_nowhere_else() -> None:
    # The only idle time is 11:30-14:00; the 30-min break starts between 12:00 and 13:30. A 90-min job there
    # leaves the break before it (starting 12:30 or later) or after it (ending by 13:30): never 12:01-12:29.
    day = ana(break_start=hm("12:00"), break_minutes=30,
              visits=(visit("V1", 0, "08:00", "11:30"), visit("V2", 0, "14:00", "17:00")))  # fmt: skip
    assert ranges(day, job(x=0, minutes=90)) == [("11:30", "12:00", 0), ("12:30", "12:30", 0)]
    assert minutes_of(day, job(x=0, minutes=90)) == accepted(day, job(x=0, minutes=90))
    # With idle time 09:00-12:00 and 12:30-14:30, the job in the first leaves the break the second, and
    # the job in the second only leaves it room when it starts at 13:00 (the first has no room for it).
    two = replace(day, visits=(visit("V1", 0, "08:00", "09:00"), visit("V2", 0, "12:00", "12:30"),
                               visit("V3", 0, "14:30", "17:00")))  # fmt: skip
    assert ranges(two, job(x=0, minutes=90)) == [("09:00", "10:30", 0), ("13:00", "13:00", 0)]
    assert minutes_of(two, job(x=0, minutes=90)) == accepted(two, job(x=0, minutes=90))


def five(lo: str, hi: str) -> st.SearchStrategy[int]:
    """A clock time (in minutes) from ``lo`` to ``hi`` on the five minutes."""
    return st.integers(hm(lo) // 5, hm(hi) // 5).map(lambda m: m * 5)


def lengths(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo // 5, hi // 5).map(lambda m: m * 5)


@st.composite
def days(draw: st.DrawFn) -> tuple[TechDay, JobSpec]:
    """A day that holds: a shift, maybe a break and time off, and visits added one by one where the rules
    accept them; and a job to place."""

    def place() -> Point:
        return (draw(st.integers(0, 20)), draw(st.integers(0, 20)))

    spans = draw(st.lists(st.tuples(five("07:00", "17:00"), lengths(10, 180)), max_size=2))
    absences = sorted((Absence(s, s + length) for s, length in spans), key=lambda a: a.start)
    has_break = draw(st.booleans())
    day = TechDay("T", "T", frozenset({"boiler"}), place(), (hm("08:00"), hm("17:00")),
                  hm("12:00") if has_break else None, draw(st.sampled_from([30, 45, 60])) if has_break else 0,
                  tuple(absences))  # fmt: skip
    if day_problems(day, FRAME, line_grid):
        day = replace(day, absences=())
    tries = draw(st.lists(st.tuples(five("07:00", "17:00"), st.sampled_from([30, 45, 60, 90, 120])), max_size=8))
    for k, (start, minutes) in enumerate(tries):
        spec = JobSpec(f"V{k}", "boiler", place(), minutes, (start, start))
        if not check_insert(day, spec, start, FRAME, line_grid):
            day = day.with_visit(Visit(spec.ref, spec.point, start, minutes, spec.window))
    return day, JobSpec("J", "boiler", place(), draw(st.sampled_from([30, 60, 90])), (0, FRAME.length))


def line_grid(a: Point, b: Point) -> int:
    return int(abs(a[0] - b[0]) + abs(a[1] - b[1]))


@settings(max_examples=60, deadline=None)
@given(drawn=days())
def test_on_a_day_that_holds_the_ranges_are_exactly_the_starts_the_rules_accept(drawn: tuple[TechDay, JobSpec]) -> None:
    day, spec = drawn
    assert day_problems(day, FRAME, line_grid) == []
    assert minutes_of(day, spec, line_grid) == accepted(day, spec, line_grid)


# --- the windows offered, from a store ------------------------------------------------------------------

TECHS = """ref,name,skills,home_lat,home_lon,shift_start,shift_end,break_start,break_minutes,hourly_cost,phone,email,territory
T1,Ana Silva,boiler;hvac,45.7600,4.8400,08:00,17:00,12:00,30,42.50,,,centre
T2,Ben Okafor,boiler,45.7800,4.8700,08:00,16:00,,,38.00,,,north
T3,Chloé Roux,plumbing,45.7500,4.8300,07:00,15:00,,,38.00,,,south
"""  # noqa: E501

CUSTOMERS = """ref,name,address,lat,lon,phone,email,contract
C1,Claire Dubois,12 Rue Garibaldi,45.7590,4.8520,,,
C2,Harbour Bakery,3 Quai Rambaud,45.7430,4.8180,,,gold
C3,Care Home,8 Rue Royale,45.7700,4.8350,,,care
"""


def requests_csv() -> str:
    d, w = DAY.isoformat(), (DAY + timedelta(days=4)).isoformat()
    rows = [
        f"R1,C1,boiler,60,3,{d}T07:00,{w}T18:00,,Annual check,phone",  # the call being taken: open all week
        f"R2,C2,boiler,60,2,{d}T07:00,{w}T18:00,{d}T12:00,No heat,phone",  # due by noon on DAY
        f"R3,C3,hvac,45,3,{d}T07:00,{w}T18:00,,Noisy unit,web",
        f"R4,C3,boiler,45,3,{d}T07:00,{w}T18:00,,Filler,web",
        f"R5,C2,plumbing,30,3,{d}T07:00,{w}T18:00,,Tap,web",
    ]
    rows += [f"F{i},C{i % 3 + 1},{'boiler' if i % 4 else 'plumbing'},{(30, 45, 60, 90)[i % 4]},3,{d}T07:00,"
             f"{(DAY + timedelta(days=1)).isoformat()}T18:00,,Filler,web" for i in range(1, 9)]  # fmt: skip
    return "ref,customer_ref,skill,duration_min,priority,window_start,window_end,due_by,description,source\n" + (
        "\n".join(rows) + "\n"
    )


def fifteen(a: Point, b: Point) -> int:
    return 0 if a == b else 15


def haversine(a: Point, b: Point) -> int:
    return travel_minutes(a[0], a[1], b[0], b[1])


def fill(engine: Engine) -> Engine:
    for kind, content in ((ImportKind.TECHNICIANS, TECHS), (ImportKind.CUSTOMERS, CUSTOMERS),
                          (ImportKind.REQUESTS, requests_csv())):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    return engine


@pytest.fixture
def store(engine: Engine) -> Engine:
    return fill(engine)


def offer(engine: Engine, ref: str = "R1", *, now: datetime = NOW, days: int = 2, window: int = 120,
          wishes: Wishes | None = None, travel: object = fifteen) -> Offer:  # fmt: skip
    with Session(engine) as session:
        return offer_slots(session, ref, zone=ZONE, travel=travel, now=now, days=days,  # type: ignore[arg-type]
                           window_minutes=window, wishes=wishes)  # fmt: skip


def windows(found: Offer) -> list[tuple[str, int, int, str, str, bool]]:
    """(day and start, technicians, least added driving, who, their start, best) per window offered."""
    return [
        (f"{s.start.astimezone(ZONE):%a %H:%M}", s.technicians, s.least_added_travel_minutes, s.technician_ref,
         f"{s.technician_start.astimezone(ZONE):%H:%M}", s.best)
        for s in found.slots
    ]  # fmt: skip


def test_windows_on_the_half_hour_in_which_a_technician_can_start_soonest_first(store: Engine) -> None:
    found = offer(store, days=2)  # from now, Monday 18:00: Monday's shifts are over, Tuesday is all ahead
    assert found.days == (MONDAY, DAY)
    tuesday = windows(found)
    # Ana can start 08:15-15:45 (15 min there, 60 min, 15 min home by 17:00), Ben 08:15-14:45: any window
    # [a, a + 2 h] holding one of those starts, a on the half hour, from the half hour of the first
    # possible arrival (08:00: never "06:30–08:30" for nobody before 08:15); both add 30 min of driving.
    starts = [w[0] for w in tuesday]
    assert starts == [f"Tue {m // 60:02d}:{m % 60:02d}" for m in range(hm("08:00"), hm("15:30") + 1, 30)]
    assert {w[1] for w in tuesday if w[0] <= "Tue 14:30"} == {2} and [w[1] for w in tuesday[-2:]] == [1, 1]
    assert {w[2] for w in tuesday} == {30}
    assert tuesday[0][3:5] == ("T1", "08:15") and tuesday[1][3:5] == ("T1", "08:30")
    # Best: the least driving, then the windows the technician can start as they open (08:30, 09:00, 09:30).
    assert [w[0] for w in tuesday if w[5]] == ["Tue 08:30", "Tue 09:00", "Tue 09:30"]
    assert found.reasons == () and found.advice == ""
    first = found.slots[0]
    assert first.start == at(DAY, "08:00") and first.end == at(DAY, "10:00")


def test_the_customers_wishes_narrow_the_offer(store: Engine) -> None:
    def starts(wishes: Wishes) -> list[str]:
        return [w[0] for w in windows(offer(store, wishes=wishes, days=3))]

    assert starts(Wishes(part="morning")) == [f"{d} {t}" for d in ("Tue", "Wed") for t in
                                               ("08:00", "08:30", "09:00", "09:30", "10:00")]  # fmt: skip
    assert starts(Wishes(part="afternoon", day=WEDNESDAY)) == [f"Wed {t}" for t in
                                                               ("12:00", "12:30", "13:00", "13:30", "14:00",
                                                                "14:30", "15:00", "15:30")]  # fmt: skip
    assert starts(Wishes(day=DAY, not_before=time(14, 0))) == ["Tue 14:00", "Tue 14:30", "Tue 15:00", "Tue 15:30"]
    with pytest.raises(ValueError, match="evening"):
        Wishes(part="evening")


def test_nothing_starts_before_now_and_a_window_that_has_begun_is_not_offered(store: Engine) -> None:
    found = offer(store, now=at(DAY, "10:10"), days=1)
    assert found.days == (DAY,)
    assert windows(found)[0][:1] == ("Tue 10:30",) and windows(found)[0][4] == "10:30"
    assert all(s.start >= at(DAY, "10:10") and s.technician_start >= s.start for s in found.slots)
    late = offer(store, now=at(DAY, "16:45"), days=1)
    assert late.slots == ()
    assert late.reasons == (f"{DAY:%a %d %b}: the technicians with skill boiler working that day finish by 17:00",)


def test_the_due_time_bounds_the_offer(store: Engine) -> None:
    found = offer(store, "R2", days=3)  # due by Tuesday 12:00, 60 min: a start at 11:00 at the latest
    assert found.slots and found.slots[-1].start == at(DAY, "11:00")
    assert all(s.technician_start + timedelta(minutes=60) <= at(DAY, "12:00") for s in found.slots)
    assert offer(store, "R2", now=at(DAY, "11:10"), days=2).reasons == (
        "Tue 01 Dec: R2 is due by Tue 01 Dec 12:00: no window that day leaves time to finish by then".replace(
            "Tue 01 Dec", f"{DAY:%a %d %b}"),
        f"{WEDNESDAY:%a %d %b}: R2 is due by {DAY:%a %d %b} 12:00: no window that day leaves time to finish by then",
    )  # fmt: skip


def test_planned_locked_and_under_way_visits_stay_where_they_are(store: Engine) -> None:
    with Session(store) as session:
        assignment.assign(session, "R4", "T1", at(DAY, "10:00"), zone=ZONE, travel=fifteen, actor="t")
        assignment.set_locked(session, "R4", True, zone=ZONE, actor="t")
        session.commit()
    found = {w[0]: w for w in windows(offer(store, days=2, window=60))}
    # Ana is at C3 10:00-10:45: R1 (at C1) ends by 10:00 - 15 (starts by 08:45) or starts from 11:00, and
    # either way adds only 15 min to her route (C3 is on the way); Ben's empty day takes 30 more.
    assert "Tue 07:30" not in found  # nobody can be there before 08:15: the first window opens at 08:00
    assert found["Tue 08:00"][1:5] == (2, 15, "T1", "08:15")
    assert found["Tue 09:00"][1:4] == (1, 30, "T2")  # 09:00-10:00 and 09:30-10:30: only Ben can start in them
    assert found["Tue 09:30"][1:4] == (1, 30, "T2")
    assert found["Tue 10:00"][1:5] == (2, 15, "T1", "11:00")  # the window's last minute is in it
    with pytest.raises(Refused, match="R4 is scheduled: times are offered for a waiting request only"):
        offer(store, "R4")


def test_unknown_job_no_one_qualified_and_why_there_is_no_window(store: Engine) -> None:
    with pytest.raises(NotFound, match="no job 'R404'"):
        offer(store, "R404")
    saturday = DAY + timedelta(days=4)
    weekend = offer(store, wishes=Wishes(day=saturday))
    assert weekend.slots == () and weekend.days == (saturday,)
    assert weekend.reasons == (f"{saturday:%a %d %b}: no technician with skill boiler works on Saturday",)
    assert "--date" in weekend.advice
    evening = offer(store, days=1)
    assert evening.reasons == (f"{MONDAY:%a %d %b}: the technicians with skill boiler working that day finish by "
                               "17:00",)  # fmt: skip
    assert "--days" in evening.advice
    morning = offer(store, "R1", now=at(DAY, "11:00"), days=1, wishes=Wishes(part="morning"))
    assert morning.reasons == (f"{DAY:%a %d %b}: no 120-min window is left that day in the morning (it is 11:00)",)
    assert morning.advice == "10 window(s) on the same day(s) if the customer drops the wish to be seen in the morning"
    past = offer(store, wishes=Wishes(day=MONDAY - timedelta(days=7)))
    assert past.reasons == (f"{MONDAY - timedelta(days=7):%a %d %b}: it has passed",)


def test_as_json_has_the_documented_keys(store: Engine) -> None:
    shown = offer(store, days=2, wishes=Wishes(part="afternoon", not_before=time(13, 0))).as_json(ZONE)
    assert set(shown) == {"job_ref", "window_minutes", "days", "wishes", "slots", "reasons", "advice"}
    assert shown["wishes"] == {"date": None, "part": "afternoon", "not_before": "13:00"}
    assert shown["days"] == [MONDAY.isoformat(), DAY.isoformat()]
    assert set(shown["slots"][0]) == {"start", "end", "technicians", "least_added_travel_minutes", "best",
                                      "technician_ref", "technician_name", "technician_start"}  # fmt: skip


# --- the properties: every window offered can be booked; no bookable window is missing ------------------


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("slots-seed") / "seed.db"
    engine = make_engine(path)
    upgrade(engine)
    fill(engine)
    engine.dispose()
    yield path


TWO_DAYS = st.sampled_from([DAY, WEDNESDAY])
FILLERS = st.sampled_from([f"F{i}" for i in range(1, 9)])
placements = st.lists(
    st.tuples(FILLERS, st.sampled_from(["T1", "T2", "T3"]), TWO_DAYS, five("07:00", "17:00")), max_size=8
)
absences = st.lists(
    st.tuples(st.sampled_from(["T1", "T2"]), TWO_DAYS, five("07:00", "16:40"), lengths(10, 240)),
    max_size=2,
    unique_by=lambda a: (a[0], a[1]),  # one absence per technician and day
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(placed=placements, off=absences, ref=st.sampled_from(["R1", "R3", "R4"]),
       now_minute=st.one_of(st.none(), five("06:00", "16:00")),
       window=st.sampled_from([60, 120]))  # fmt: skip
def test_every_window_offered_can_be_booked_and_none_bookable_is_missing(
    seed: Path, tmp_path_factory: pytest.TempPathFactory, placed: list[tuple[str, str, date, int]],
    off: list[tuple[str, date, int, int]], ref: str, now_minute: int | None, window: int,
) -> None:  # fmt: skip
    path = tmp_path_factory.mktemp("slots-run") / "run.db"
    shutil.copy(seed, path)
    engine = make_engine(path)
    if off:
        rows = "".join(f"{t},{naive(d, format_clock(m))},{naive(d, format_clock(m + n))},away\n" for t, d, m, n in off)
        import_data(engine, ImportKind.ABSENCES, ("technician_ref,start,end,reason\n" + rows).encode(),
                    FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)  # fmt: skip
    for job_ref, tech, day, minute in placed:  # a plan made through the rules: its days hold
        with Session(engine) as session:
            try:
                assignment.assign(session, job_ref, tech, local_at(day, minute, ZONE), zone=ZONE, travel=haversine,
                                  actor="prop")  # fmt: skip
            except Refused:
                continue
            session.commit()
    now = NOW if now_minute is None else local_at(DAY, now_minute, ZONE)
    days = 3 if now_minute is None else 2  # from Monday evening, or from Tuesday: through Wednesday
    found = offer(engine, ref, now=now, days=days, window=window, travel=haversine)

    for slot in found.slots:  # (a) each can be booked right after: the window promised, the visit assigned
        with Session(engine) as session:
            job = session.exec(select(Job).where(Job.ref == ref)).one()
            job.window_start, job.window_end = slot.start, slot.end
            session.add(job)
            session.flush()
            assignment.assign(session, ref, slot.technician_ref, slot.technician_start, zone=ZONE, travel=haversine,
                              actor="prop")  # fmt: skip
            session.rollback()
        with Session(engine) as session:  # and through `dispatch book` itself, which picks its own technician
            booking.book(session, ref, slot.start, window_minutes=window, zone=ZONE, travel=haversine, actor="prop",
                         now=now)  # fmt: skip
            session.rollback()

    # (b) brute force: every technician, every start minute of the day; a half-hour window is bookable when
    # a start in it passes the rules (with the job's window set to the slot), it opens at or after now and
    # not before the half hour of the day's first possible arrival.
    bookable: dict[datetime, int] = {}
    with Session(engine) as session:
        job = session.exec(select(Job).where(Job.ref == ref)).one()
        for day in found.days:
            plan = load_day(session, day, ZONE)
            spec = job_spec(session, job, plan.frame)
            frame = plan.frame
            good_by_tech = [accepted(tech_day.without(ref), spec, haversine, frame) for tech_day in plan.days.values()]
            # Windows open from the half hour of the day's first possible arrival on.
            opening = min((min(good) for good in good_by_tech if good), default=0) // 30 * 30
            for good in good_by_tech:
                for a in range(opening, frame.length, 30):
                    if frame.instant(a) >= now and any(s in good for s in range(a, a + window + 1)):
                        bookable[frame.instant(a)] = bookable.get(frame.instant(a), 0) + 1
    assert {s.start: s.technicians for s in found.slots} == bookable
    engine.dispose()
