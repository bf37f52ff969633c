"""The late list's projection (``services.lateness``) on one technician's day of three visits, a 20-minute
drive between any two places, and the board's alerts and grid that use it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from dispatch_tui.services.execution import board
from dispatch_tui.services.execution.lateness import late_list, project_plan
from dispatch_tui.services.planning.day_plan import load_day
from dispatch_tui.store.models import (
    Appointment,
    Customer,
    Job,
    JobEvent,
    ShiftPattern,
    Site,
    Skill,
    Technician,
    TechnicianSkill,
)  # fmt: skip
from tests.clock import DAY, ZONE, at
from tests.rows import id_of

DRIVE = 20


def drive(a: tuple[float, float], b: tuple[float, float]) -> int:
    return 0 if a == b else DRIVE


# job: (planned start, planned end, window start, window end)
PLAN = {
    "A": ("09:00", "10:00", "09:00", "11:00"),
    "B": ("10:30", "11:30", "10:30", "11:00"),
    "C": ("13:00", "14:00", "13:00", "15:00"),
}


@pytest.fixture
def day_store(engine: Engine) -> Callable[..., Engine]:
    """``day_store(A=("on_site", {"on_site": "09:00"}), …)``: the plan above with these statuses and event times."""

    def make(**live: tuple[str, dict[str, str]]) -> Engine:
        with Session(engine) as s:
            skill = Skill(name="boiler")
            ann = Technician(ref="T1", name="Ann", home_lat=45.70, home_lon=4.80)
            customer = Customer(ref="C1", name="Acme")
            s.add_all([skill, ann, customer])
            s.flush()
            s.add_all([TechnicianSkill(technician_id=id_of(ann), skill_id=id_of(skill)),
                       ShiftPattern(technician_id=id_of(ann), weekday=DAY.weekday(), start_minute=8 * 60,
                                    end_minute=17 * 60)])  # fmt: skip
            for n, (ref, (start, end, w0, w1)) in enumerate(PLAN.items()):
                site = Site(customer_id=id_of(customer), lat=45.75 + n / 100, lon=4.85, is_primary=n == 0)
                s.add(site)
                s.flush()
                status, moments = live.get(ref, ("scheduled", {}))
                job = Job(ref=ref, customer_id=id_of(customer), site_id=id_of(site), skill_id=id_of(skill),
                          duration_min=60, priority=2, window_start=at(DAY, w0), window_end=at(DAY, w1),
                          source="phone", status=status)  # fmt: skip
                s.add(job)
                s.flush()
                s.add(Appointment(job_id=id_of(job), technician_id=id_of(ann), start=at(DAY, start), end=at(DAY, end),
                                  travel_minutes=DRIVE))  # fmt: skip
                for step, clock in moments.items():
                    s.add(JobEvent(job_id=id_of(job), actor="t", at=at(DAY, clock), from_status=None, to_status=step))
            s.commit()
        return engine

    return make


def projected(engine: Engine, now: datetime) -> dict[str, tuple[str, str, int, bool]]:
    """job → (projected start, projected end, delay, misses window), local HH:MM."""
    with Session(engine) as s:
        (tech,) = project_plan(s, load_day(s, DAY, ZONE), now, drive).values()
    hm = "%H:%M"
    return {
        v.job_ref: (f"{v.projected_start.astimezone(ZONE):{hm}}", f"{v.projected_end.astimezone(ZONE):{hm}}",
                    v.delay_minutes, v.misses_window)
        for v in tech.visits
    }  # fmt: skip


def test_nothing_started_a_passed_departure_pushes_the_day_from_now(day_store: Callable[..., Engine]) -> None:
    engine = day_store()
    # 08:55: A needs a 20-minute drive, so it starts 09:15; B, 20 minutes after A ends, at its planned 10:30.
    assert projected(engine, at(DAY, "08:55")) == {
        "A": ("09:15", "10:15", 15, False), "B": ("10:35", "11:35", 5, False), "C": ("13:00", "14:00", 0, False),
    }  # fmt: skip
    with Session(engine) as s:
        found = late_list(s, DAY, ZONE, at(DAY, "08:55"), drive)
    (tech,) = found.technicians
    assert (tech.technician_ref, tech.behind_minutes) == ("T1", 15)
    assert tech.reason == "has not left for A (planned to leave 08:40), starts 09:15 (planned 09:00)"
    with Session(engine) as s:
        assert late_list(s, DAY, ZONE, at(DAY, "08:50"), drive).technicians == (), "10 minutes: within the grace"


def test_en_route_late_arrives_a_drive_after_leaving_and_never_before_now(day_store: Callable[..., Engine]) -> None:
    engine = day_store(A=("en_route", {"en_route": "09:10"}))
    assert projected(engine, at(DAY, "09:15"))["A"] == ("09:30", "10:30", 30, False)
    # Still driving at 09:45: the drive takes longer than the model says; it arrives no sooner than now.
    assert projected(engine, at(DAY, "09:45"))["A"] == ("09:45", "10:45", 45, False)


def test_on_site_overrunning_ends_no_sooner_than_now_and_pushes_a_visit_past_its_window(
    day_store: Callable[..., Engine],
) -> None:
    engine = day_store(A=("on_site", {"en_route": "08:40", "on_site": "09:00"}))
    assert projected(engine, at(DAY, "09:30")) == {
        "A": ("09:00", "10:00", 0, False), "B": ("10:30", "11:30", 0, False), "C": ("13:00", "14:00", 0, False),
    }  # fmt: skip
    # 10:45 and still on site: B (window to 11:00) now starts 11:05; C has the slack to stay on plan.
    assert projected(engine, at(DAY, "10:45")) == {
        "A": ("09:00", "10:45", 45, False), "B": ("11:05", "12:05", 35, True), "C": ("13:00", "14:00", 0, False),
    }  # fmt: skip
    with Session(engine) as s:
        (tech,) = late_list(s, DAY, ZONE, at(DAY, "10:45"), drive).technicians
    assert tech.behind_minutes == 45 and [v.job_ref for v in tech.missed] == ["B"]
    assert tech.reason == "on site at A since 09:00, ends 10:45 (planned 10:00)"


def test_a_finished_visit_frees_the_technician_when_it_was_reported_done(day_store: Callable[..., Engine]) -> None:
    engine = day_store(A=("completed", {"on_site": "09:00", "completed": "10:40"}))
    assert projected(engine, at(DAY, "10:41")) == {
        "B": ("11:01", "12:01", 31, True), "C": ("13:00", "14:00", 0, False),
    }  # fmt: skip


def test_the_board_alerts_marks_and_projects_from_the_same_definition(day_store: Callable[..., Engine]) -> None:
    engine = day_store(A=("on_site", {"on_site": "09:00"}))
    now = at(DAY, "10:45")
    with Session(engine) as s:
        found = board.load_board(s, zone=ZONE, now=now, day=DAY, travel=drive)
    (late,) = [a for a in found.plan_alerts if a.kind == "running_late"]
    assert late.subject == "T1"
    assert late.message == (
        "Ann is running late (45 min behind plan): on site at A since 09:00, ends 10:45 (planned 10:00);"
        " will miss the window of B"
    )
    blocks = {b.job_ref: b.projected for b in found.grid.rows[0].blocks}
    assert blocks == {"A": (540, 645), "B": (665, 725), "C": None}, "the grid shows the late visits' projected times"


def test_a_visit_outside_its_window_is_an_alert_and_a_marked_block(day_store: Callable[..., Engine]) -> None:
    engine = day_store()
    with Session(engine) as s:
        job = s.exec(select(Job).where(Job.ref == "C")).one()
        job.window_start, job.window_end = at(DAY, "08:00"), at(DAY, "10:00")  # as a re-import would
        s.add(job)
        s.commit()
        found = board.load_board(s, zone=ZONE, now=at(DAY, "07:00"), day=DAY, travel=drive)
    assert [(a.kind, a.subject, a.message) for a in found.plan_alerts if a.subject == "C"] == [
        ("outside_window", "C", "C: visit at 13:00 is outside its window 08:00–10:00")
    ]
    assert "C" in found.flagged
    assert {b.job_ref: b.broken_promise for b in found.grid.rows[0].blocks} == {"A": "", "B": "", "C": "outside_window"}
