"""The job lifecycle with its times: every legal and illegal step, --at in order and never in the future,
job complete in one action, parts, follow-ups and feedback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from dispatch_tui.services.errors import Refused
from dispatch_tui.services.execution import lifecycle
from dispatch_tui.services.execution.feedback import record_feedback
from dispatch_tui.services.planning import assignment
from dispatch_tui.store.models import Feedback, FollowUp, Job, JobEvent, JobPart, utcnow
from tests.clock import ZONE
from tests.conftest import dump
from tests.unit.workdata import AFTER, DAY, at, call, load, travel

ALL = ("new", "scheduled", "dispatched", "en_route", "on_site", "completed", "needs_follow_up", "on_hold",
       "cancelled")  # fmt: skip
# docs/lifecycle.md, written out by hand: from → the statuses it may become.
LEGAL = {
    "new": {"on_hold", "cancelled"},
    "scheduled": {"dispatched", "on_hold", "cancelled"},
    "dispatched": {"en_route", "on_hold", "cancelled"},
    "en_route": {"on_site", "on_hold", "cancelled"},
    "on_site": {"completed", "needs_follow_up", "on_hold", "cancelled"},
    "completed": set(),
    "needs_follow_up": set(),
    "on_hold": {"cancelled"},
    "cancelled": set(),
}
WALK = (("dispatched", "08:50"), ("en_route", "09:10"), ("on_site", "09:30"))


@pytest.fixture
def store(store_engine: Engine) -> Engine:
    return load(store_engine)


def walk(engine: Engine, ref: str, until: str) -> None:
    """Take ``ref`` (planned) to ``until`` through the real service calls, at the day's times."""
    if until == "new":
        with Session(engine) as session:
            assignment.unassign(session, ref, zone=ZONE, travel=travel, actor="ann")
            session.commit()
        return
    if until in ("on_hold", "cancelled"):
        call(engine, lifecycle.set_status, ref, until, at=at("08:00"))
        return
    for status, hhmm in WALK:
        if until == "scheduled":
            return
        call(engine, lifecycle.set_status, ref, status, at=at(hhmm))
        if status == until:
            return
    call(engine, lifecycle.set_status, ref, until, at=at("10:20"))


def events(engine: Engine, ref: str) -> list[tuple[str | None, str, str]]:
    with Session(engine) as session:
        job = session.exec(select(Job).where(Job.ref == ref)).one()
        rows = session.exec(select(JobEvent).where(JobEvent.job_id == job.id).order_by(col(JobEvent.id))).all()
        return [(e.to_status, e.at.astimezone(ZONE).strftime("%H:%M"), e.note) for e in rows]


@pytest.mark.parametrize("start", ALL)
def test_every_transition_is_legal_or_refused_as_the_lifecycle_says(store: Engine, start: str) -> None:
    walk(store, "R1", start)
    for target in ALL:
        with Session(store) as session:
            if target in LEGAL[start]:
                change = lifecycle.set_status(session, "R1", target, zone=ZONE, travel=travel, actor="ann", now=AFTER)
                assert change.status == target
            else:
                with pytest.raises(Refused) as refused:
                    lifecycle.set_status(session, "R1", target, zone=ZONE, travel=travel, actor="ann", now=AFTER)
                assert f"R1 is {start} and cannot become {target}" in refused.value.reasons[0]
            session.rollback()


def test_status_times_are_the_reported_times_not_when_they_were_typed(store: Engine) -> None:
    typed_from = utcnow()  # the store was planned (by the fixture) before this
    walk(store, "R1", "completed")
    with Session(store) as session:
        job = session.exec(select(Job).where(Job.ref == "R1")).one()
        times = lifecycle.status_times(session, job.id or 0)
    assert times["new"] <= times.pop("scheduled") <= typed_from  # assigned by the planner, no --at: its "now"
    assert {k: v.astimezone(ZONE).strftime("%d %H:%M") for k, v in times.items() if k != "new"} == {
        "dispatched": f"{DAY:%d} 08:50", "en_route": f"{DAY:%d} 09:10", "on_site": f"{DAY:%d} 09:30",
        "completed": f"{DAY:%d} 10:20",
    }  # fmt: skip


def test_a_moment_in_the_future_is_refused_and_nothing_is_written(store: Engine) -> None:
    before = dump(store)
    with pytest.raises(Refused) as refused:
        call(store, lifecycle.set_status, "R1", "dispatched", at=AFTER + timedelta(minutes=1))
    assert "is in the future" in refused.value.reasons[0]
    assert dump(store) == before


def test_execution_times_must_stay_in_order(store: Engine) -> None:
    walk(store, "R1", "on_site")  # on site 09:30
    before = dump(store)
    with pytest.raises(Refused) as refused:
        call(store, lifecycle.set_status, "R1", "completed", at=at("09:29"))
    assert refused.value.reasons == [
        f"R1 became on_site at {DAY:%a %d %b} 09:30: completed at {DAY:%a %d %b} 09:29 would be earlier "
        "(dispatched ≤ en_route ≤ on_site ≤ completed)"
    ]
    assert dump(store) == before
    call(store, lifecycle.set_status, "R1", "completed", at=at("09:30"))  # the same minute is in order


def test_a_job_planned_again_starts_its_execution_times_anew(store: Engine) -> None:
    call(store, lifecycle.set_status, "R1", "dispatched", at=at("09:00"))
    with Session(store) as session:
        assignment.unassign(session, "R1", zone=ZONE, travel=travel, actor="ann")
        assignment.assign(session, "R1", "T1", at("09:30"), zone=ZONE, travel=travel, actor="ann", force=True)
        session.commit()
    call(store, lifecycle.set_status, "R1", "dispatched", at=at("08:40"))  # the first dispatch no longer counts


def test_complete_from_on_site_records_parts_at_todays_price(store: Engine) -> None:
    walk(store, "R1", "on_site")
    change = call(store, lifecycle.complete, "R1", at=at("10:35"), parts=[("FLT-20", 2), ("VLV-3", 1), ("FLT-20", 1)],
                  note="replaced the filter")  # fmt: skip
    assert change.status == "completed"
    with Session(store) as session:
        used = session.exec(select(JobPart).order_by(col(JobPart.unit_price_cents))).all()
    assert [(p.quantity, p.unit_price_cents) for p in used] == [(1, 705), (3, 1240)]
    assert events(store, "R1")[-1] == ("completed", "10:35", "on_site → completed: replaced the filter")


def test_unknown_parts_and_parts_before_the_end_are_refused(store: Engine) -> None:
    walk(store, "R1", "on_site")
    before = dump(store)
    with pytest.raises(Refused) as refused:
        call(store, lifecycle.complete, "R1", at=at("10:35"), parts=[("NOPE", 1), ("FLT-20", 0)])
    assert refused.value.reasons == [
        "part FLT-20: the quantity must be a whole number above 0, got 0",
        "no part 'NOPE' in the catalogue (dispatch import parts FILE)",
    ]
    with pytest.raises(Refused, match="parts are recorded when the visit ends"):
        call(store, lifecycle.set_status, "R1", "on_hold", at=at("10:35"), parts=[("FLT-20", 1)])
    assert dump(store) == before


def test_complete_from_dispatched_records_the_missing_steps_at_the_planned_times(store: Engine) -> None:
    call(store, lifecycle.set_status, "R1", "dispatched", at=at("08:30"))
    change = call(store, lifecycle.complete, "R1", at=at("10:40"))
    assert (change.status, change.version) == ("completed", 6)  # assigned 2, dispatched 3, +3 steps
    with Session(store) as session:
        drive = session.exec(select(Job).where(Job.ref == "R1")).one()
        from dispatch_tui.store.models import Appointment

        minutes = session.exec(select(Appointment).where(Appointment.job_id == drive.id)).one().travel_minutes
    leave = (at("09:30") - timedelta(minutes=minutes)).astimezone(ZONE).strftime("%H:%M")
    assert events(store, "R1")[-3:] == [
        ("en_route", leave, "dispatched → en_route: recorded by job complete (time from the plan, less the drive)"),
        ("on_site", "09:30", "en_route → on_site: recorded by job complete (time from the plan)"),
        ("completed", "10:40", "on_site → completed"),
    ]


def test_complete_with_the_reported_arrival_uses_it(store: Engine) -> None:
    walk(store, "R1", "en_route")  # en route 09:10
    call(store, lifecycle.complete, "R1", at=at("10:40"), started_at=at("09:41"))
    assert events(store, "R1")[-2:] == [
        ("on_site", "09:41", "en_route → on_site: recorded by job complete (time as reported)"),
        ("completed", "10:40", "on_site → completed"),
    ]


def test_complete_refuses_what_has_not_started_or_has_no_evidence(store: Engine) -> None:
    before = dump(store)
    with pytest.raises(Refused) as refused:
        call(store, lifecycle.complete, "R1", at=at("10:40"))
    assert refused.value.reasons == [
        "R1 is scheduled and cannot be completed: it was never dispatched: dispatch it first"
    ]
    assert dump(store) == before
    call(store, lifecycle.set_status, "R4", "dispatched", at=at("08:00"))  # planned 15:00
    before = dump(store)
    with pytest.raises(Refused) as refused:
        call(store, lifecycle.complete, "R4", at=at("14:00"))
    assert refused.value.reasons == [
        f"R4 was never marked on site and its plan starts at {DAY:%a %d %b} 15:00, after it ended "
        f"({DAY:%a %d %b} 14:00): give the arrival time"
    ]
    assert dump(store) == before


def test_needs_follow_up_queues_a_linked_request_numbered_on_the_first_visit(store: Engine) -> None:
    walk(store, "R1", "on_site")
    call(store, lifecycle.set_status, "R1", "needs_follow_up", at=at("10:00"), note="part on order")
    with Session(store) as session:
        first = session.exec(select(Job).where(Job.ref == "R1")).one()
        follow = session.exec(select(Job).where(Job.ref == "R1-F1")).one()
        assert (follow.status, follow.source, follow.customer_id, follow.skill_id, follow.duration_min) == (
            "new", "technician", first.customer_id, first.skill_id, 60,
        )  # fmt: skip
        assert follow.description == "Follow-up of R1: part on order"
        assert follow.created_at == at("10:00") == follow.window_start
        link = session.get(FollowUp, follow.id)
        assert link is not None
        assert link.of_job_id == first.id
        assert lifecycle.follow_ups(session, "R1") == ["R1-F1"]
        assignment.assign(session, "R1-F1", "T1", at("16:00"), zone=ZONE, travel=travel, actor="ann", force=True)
        session.commit()
    for status, hhmm in (("dispatched", "15:30"), ("en_route", "15:40"), ("on_site", "16:00")):
        call(store, lifecycle.set_status, "R1-F1", status, at=at(hhmm))
    call(store, lifecycle.set_status, "R1-F1", "needs_follow_up", at=at("16:30"))
    with Session(store) as session:
        assert lifecycle.follow_ups(session, "R1-F1") == ["R1-F2"]
    assert events(store, "R1-F1")[0][::2] == ("new", "follow-up of R1")


def test_feedback_rates_a_finished_visit_and_a_later_rating_replaces_it(store: Engine) -> None:
    with Session(store) as session, pytest.raises(Refused) as refused:
        record_feedback(session, "R1", 6, actor="ann")
    assert refused.value.reasons == [
        "the rating must be 1 to 5, got 6",
        "R1 is scheduled: a visit is rated once it is completed or needs_follow_up",
    ]
    walk(store, "R1", "completed")
    with Session(store) as session:
        assert record_feedback(session, "R1", 3, "late", actor="ann").replaced is None
        session.commit()
    with Session(store) as session:
        rated = record_feedback(session, "R1", 5, "fixed for good", actor="ann")
        session.commit()
        assert rated.replaced == 3
        assert [(f.rating, f.comment) for f in session.exec(select(Feedback)).all()] == [(5, "fixed for good")]
    assert [e[2] for e in events(store, "R1")[-2:]] == [
        "customer rating 3/5: late", "customer rating 5/5 (was 3/5): fixed for good",
    ]  # fmt: skip
