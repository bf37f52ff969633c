"""The board's read side and the job lifecycle, on a small hand-made store at a fixed moment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from dispatch_tui.domain import JobStatus
from dispatch_tui.localtime import local_at
from dispatch_tui.services.errors import Refused
from dispatch_tui.services.execution import board, lifecycle
from dispatch_tui.services.planning.assignment import assign, unassign
from dispatch_tui.store.models import (
    Absence,
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
from dispatch_tui.travel.haversine import travel_minutes
from tests.clock import DAY, ZONE  # DAY: a Tuesday
from tests.rows import id_of

NOW = local_at(DAY, 10 * 60, ZONE)


def travel(a: tuple[float, float], b: tuple[float, float]) -> int:
    return travel_minutes(a[0], a[1], b[0], b[1])


def at(hour: float) -> datetime:
    return local_at(DAY, int(hour * 60), ZONE)


@pytest.fixture
def store(store_engine: Engine) -> Engine:
    with Session(store_engine) as s:
        boiler, alarm = Skill(name="boiler"), Skill(name="alarm")
        ann = Technician(ref="T1", name="Ann", home_lat=48.85, home_lon=2.35)
        bob = Technician(ref="T2", name="Bob", home_lat=48.86, home_lon=2.36, territory="north")
        customer = Customer(ref="C1", name="Acme")
        s.add_all([boiler, alarm, ann, bob, customer])
        s.flush()
        s.add_all([TechnicianSkill(technician_id=id_of(ann), skill_id=id_of(boiler)),
                   TechnicianSkill(technician_id=id_of(bob), skill_id=id_of(alarm)),
                   ShiftPattern(technician_id=id_of(ann), weekday=1, start_minute=8 * 60, end_minute=17 * 60,
                                break_start_minute=12 * 60, break_minutes=30),
                   ShiftPattern(technician_id=id_of(bob), weekday=1, start_minute=8 * 60, end_minute=17 * 60),
                   Absence(technician_id=id_of(bob), start=at(14), end=at(16), reason="dentist")])  # fmt: skip
        site = Site(customer_id=id_of(customer), address="1 Main St", lat=48.855, lon=2.355, is_primary=True)
        s.add(site)
        s.flush()

        def job(ref: str, priority: int, start: float, end: float, skill: Skill, due_by: datetime | None = None,
                status: str = JobStatus.NEW.value) -> Job:  # fmt: skip
            row = Job(ref=ref, customer_id=id_of(customer), site_id=id_of(site), skill_id=id_of(skill), duration_min=60,
                      priority=priority, window_start=at(start), window_end=at(end), source="phone",
                      created_at=at(8), due_by=due_by, status=status)  # fmt: skip
            s.add(row)
            s.flush()
            s.add(JobEvent(job_id=id_of(row), actor="import", to_status=row.status, note="created"))
            return row

        job("LATER", 3, 13, 15, boiler)
        job("URGENT", 1, 9, 10.5, boiler)  # closes in 30 minutes, unassigned
        job("OVERDUE", 2, 13, 15, alarm, due_by=at(9.5))
        job("HELD", 4, 13, 15, boiler, status="on_hold")
        planned = job("PLANNED", 3, 9, 11, boiler, status="scheduled")
        s.add(Appointment(job_id=id_of(planned), technician_id=id_of(ann), start=at(9), end=at(10),
                          travel_minutes=10))  # fmt: skip
        s.commit()
    return store_engine


def test_the_queue_is_unscheduled_work_by_priority_then_due_time(store: Engine) -> None:
    with Session(store) as s:
        rows = board.requests_queue(s, NOW)
    assert [r.ref for r in rows] == ["URGENT", "OVERDUE", "LATER", "HELD"]
    urgent, overdue, later = rows[0], rows[1], rows[2]
    assert urgent.urgency == "soon" and urgent.due_in_minutes == 30
    assert overdue.urgency == "overdue" and overdue.due_in_minutes == -30
    assert later.urgency == "ok" and later.waiting_minutes == 120


def test_the_queue_filters_by_skill_source_status_and_text(store: Engine) -> None:
    with Session(store) as s:
        assert [r.ref for r in board.requests_queue(s, NOW, board.RequestFilter.parse("skill:ALARM"))] == ["OVERDUE"]
        assert board.requests_queue(s, NOW, board.RequestFilter.parse("source:web")) == []
        assert [r.ref for r in board.requests_queue(s, NOW, board.RequestFilter.parse("status:on_hold"))] == ["HELD"]
        assert [r.ref for r in board.requests_queue(s, NOW, board.RequestFilter.parse("urg"))] == ["URGENT"]
    assert board.RequestFilter.parse("skill:boiler oak").describe() == "skill:boiler oak"


def test_grid_rows_show_blocks_with_travel_the_break_and_absences(store: Engine) -> None:
    with Session(store) as s:
        grid = board.grid(s, DAY, ZONE, NOW, travel)
    ann, bob = grid.rows
    assert (ann.tech_ref, [b.job_ref for b in ann.blocks]) == ("T1", ["PLANNED"])
    block = ann.blocks[0]
    assert (block.start, block.end, block.travel_before, block.status) == (540, 600, 10, "scheduled")
    assert ann.break_ == (720, 750)
    assert bob.absences == ((840, 960, "dentist"),) and bob.blocks == ()
    assert grid.now_minute == 600


def test_technicians_have_a_status_skills_and_the_days_load(store: Engine) -> None:
    with Session(store) as s:
        grid = board.grid(s, DAY, ZONE, NOW, travel)
        team = board.technicians(s, ZONE, NOW, grid)
    ann = team[0]
    assert (ann.ref, ann.status, ann.skills, ann.visits) == ("T1", "on_shift", ("boiler",), 1)
    assert ann.load_percent == round(100 * 70 / 540)
    assert team[1].territory == "north"


def test_alerts_name_windows_at_risk_waits_past_due_and_late_technicians(store: Engine) -> None:
    with Session(store) as s:
        alerts = board.alerts(s, ZONE, NOW, board.requests_queue(s, NOW))
    kinds = {(a.kind, a.subject) for a in alerts}
    assert ("past_due", "OVERDUE") in kinds
    assert ("window_at_risk", "URGENT") in kinds
    # PLANNED should have been left for at 08:50; it is 10:00 and it is still only scheduled.
    assert ("running_late", "T1") in kinds
    assert all(a.subject != "LATER" for a in alerts)


def test_the_change_token_changes_when_another_writer_assigns(store: Engine) -> None:
    with Session(store) as s:
        before = board.change_token(s)
        assign(s, "LATER", "T1", at(13), zone=ZONE, travel=travel, actor="cli")
        s.commit()
        assert board.change_token(s) != before


def test_job_detail_has_the_customer_the_plan_and_the_audit_trail(store: Engine) -> None:
    with Session(store) as s:
        detail = board.job_detail(s, "PLANNED", NOW)
        past = board.job_detail(s, "LATER", NOW)
        assert board.job_detail(s, "NOPE", NOW) is None
    assert detail is not None and past is not None
    assert (detail.customer_name, detail.address, detail.technician_ref, detail.travel_minutes) == (
        "Acme", "1 Main St", "T1", 10,
    )  # fmt: skip
    assert [e.note for e in detail.events] == ["created"]
    assert [v.job_ref for v in past.past_visits] == ["PLANNED"]


def test_lifecycle_walks_forward_one_step_at_a_time_with_an_event_each(store: Engine) -> None:
    with Session(store) as s:
        for status in ("dispatched", "en_route", "on_site"):
            lifecycle.set_status(s, "PLANNED", status, zone=ZONE, travel=travel, actor="ann")
        with pytest.raises(Refused, match="cannot become dispatched"):
            lifecycle.set_status(s, "PLANNED", "dispatched", zone=ZONE, travel=travel, actor="ann")
        lifecycle.complete(s, "PLANNED", zone=ZONE, travel=travel, actor="ann")
        s.commit()
        job = s.exec(select(Job).where(Job.ref == "PLANNED")).one()
        # In id order: PostgreSQL returns rows in no particular order unless asked.
        trail = s.exec(select(JobEvent).where(JobEvent.job_id == job.id).order_by(col(JobEvent.id)))
        steps = [(e.from_status, e.to_status) for e in trail]
    assert job.status == "completed" and job.version == 5
    assert steps[1:] == [("scheduled", "dispatched"), ("dispatched", "en_route"), ("en_route", "on_site"),
                         ("on_site", "completed")]  # fmt: skip


def test_holding_a_planned_job_frees_its_time_and_new_cannot_be_set_scheduled(store: Engine) -> None:
    with Session(store) as s:
        with pytest.raises(Refused, match="assign it"):
            lifecycle.set_status(s, "LATER", "scheduled", zone=ZONE, travel=travel, actor="ann")
        lifecycle.set_status(s, "PLANNED", "on_hold", zone=ZONE, travel=travel, actor="ann")
        s.commit()
        assert s.exec(select(Appointment)).all() == []
    assert lifecycle.next_statuses("on_hold") == ["cancelled"]
    assert lifecycle.next_statuses("completed") == []
    assert lifecycle.next_statuses("new") == ["on_hold", "cancelled"]


def whole_board(
    s: Session,
    flt: board.RequestFilter | None = None,
    first_page: int | None = None,
    on_first_page: Callable[[board.Board], None] | None = None,
) -> board.Board:
    return board.load_board(s, zone=ZONE, now=NOW, day=DAY, travel=travel, flt=flt, first_page=first_page,
                            on_first_page=on_first_page)  # fmt: skip


def shown(b: board.Board) -> tuple[object, ...]:
    """What the panes draw from a board."""
    alerts = sorted((a.kind, a.subject, a.message) for a in b.alerts())
    return [r.ref for r in b.requests], b.waiting, b.technicians, b.grid.rows, alerts


@pytest.mark.parametrize(
    ("write", "job_ref", "tech_refs"),
    [
        (lambda s: assign(s, "LATER", "T1", at(13), zone=ZONE, travel=travel, actor="ui"), "LATER", {"T1"}),
        (lambda s: unassign(s, "PLANNED", zone=ZONE, travel=travel, actor="ui"), "PLANNED", {"T1"}),
        (lambda s: lifecycle.set_status(s, "PLANNED", "on_hold", zone=ZONE, travel=travel, actor="ui"), "PLANNED",
         {"T1"}),
        (lambda s: lifecycle.set_status(s, "PLANNED", "dispatched", zone=ZONE, travel=travel, actor="ui"),
         "PLANNED", {"T1"}),
    ],
    ids=["assign", "unassign", "hold", "dispatch"],
)  # fmt: skip
def test_a_write_read_back_as_a_patch_shows_what_a_whole_reload_would(
    store: Engine, write: Callable[[Session], object], job_ref: str, tech_refs: set[str]
) -> None:
    with Session(store) as s:
        before = whole_board(s)
        write(s)
        s.commit()
        patch = board.load_patch(s, zone=ZONE, now=NOW, day=DAY, travel=travel, job_refs=[job_ref],
                                 tech_refs=tech_refs)  # fmt: skip
        after = whole_board(s)
    patched = before.patched(patch)
    assert shown(patched) == shown(after)
    assert shown(patched) != shown(before)
    assert patched.token == before.token != after.token, "the next token check still reloads to reconcile"


def test_a_patch_keeps_a_filtered_queue_filtered(store: Engine) -> None:
    only_alarm = board.RequestFilter.parse("skill:alarm")
    with Session(store) as s:
        before = whole_board(s, flt=only_alarm)
        unassign(s, "PLANNED", zone=ZONE, travel=travel, actor="ui")  # a boiler job back in the queue
        s.commit()
        patch = board.load_patch(s, zone=ZONE, now=NOW, day=DAY, travel=travel, job_refs=["PLANNED"],
                                 tech_refs=["T1"], flt=only_alarm)  # fmt: skip
    assert [r.ref for r in before.patched(patch).requests] == ["OVERDUE"]


def test_the_first_page_comes_before_the_rest_with_the_queues_size(store: Engine) -> None:
    pages: list[board.Board] = []
    with Session(store) as s:
        full = whole_board(s, first_page=2, on_first_page=pages.append)
    (page,) = pages
    assert page.partial and not full.partial
    assert [r.ref for r in page.requests] == ["URGENT", "OVERDUE"] and page.waiting == 4
    assert page.grid.rows == full.grid.rows and page.technicians == full.technicians
    assert [r.ref for r in full.requests] == ["URGENT", "OVERDUE", "LATER", "HELD"] and full.waiting == 4


def test_a_requests_alerts_follow_from_its_row_and_are_worded_when_asked(store: Engine) -> None:
    with Session(store) as s:
        b = whole_board(s)
    assert {r.ref for r in b.requests if r.alerted} == {"URGENT", "OVERDUE"}
    assert b.alert_keys() == {(a.kind, a.subject) for a in b.alerts()}
    assert [a.message for a in b.alerts_for("URGENT")] == ["URGENT is unassigned and its window closes at 10:30"]
    assert [a.kind for a in b.alerts_for("T1")] == ["running_late"]
    assert "T1" in b.flagged and "URGENT" not in b.flagged
