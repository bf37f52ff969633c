"""The outbox is written by the gate of job changes, in the change's own transaction: what each change tells
the customer, and that a change rolled back tells nobody."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.services.planning import booking
from dispatch_tui.store.models import Notice
from tests.clock import DAY, ZONE
from tests.conftest import WEEKDAYS
from tests.unit import notifydata
from tests.unit.notifydata import kinds, notices
from tests.unit.workdata import at, travel


@pytest.fixture
def store(engine: Engine) -> Engine:
    return notifydata.load(engine)


def test_a_booking_sends_one_confirmation_with_the_promised_window_and_its_key(store: Engine) -> None:
    core = notifydata.core(store)
    done = core.book("R1", at("09:30", DAY))
    ((ref, kind, facts),) = notices(store)
    assert (ref, kind) == ("R1", "confirmation")  # the visit placed by the booking adds no second message
    assert datetime.fromisoformat(facts["window_start"]) == at("09:30", DAY)
    assert datetime.fromisoformat(facts["window_end"]) == at("11:30", DAY)
    with Session(store) as session:
        (notice,) = session.exec(select(Notice)).all()
    assert notice.key == f"R1:confirmation:{done.version - 1}"  # the promise's version; the placement is the next


def test_a_change_rolled_back_leaves_no_message(store: Engine) -> None:
    with Session(store) as session:
        booking.book(session, "R1", at("09:30", DAY), window_minutes=120, zone=ZONE, travel=travel, actor="ann",
                     now=at("08:00", DAY) - timedelta(days=1))  # fmt: skip
        session.flush()
        assert len(session.exec(select(Notice)).all()) == 1  # written, in the transaction…
        session.rollback()  # …which fails
    assert notices(store) == []


def test_a_first_plan_confirms_and_a_move_to_another_day_reschedules(store: Engine) -> None:
    core = notifydata.core(store)
    core.assign("R3", "T1", at("10:00", DAY))
    ((_, kind, facts),) = notices(store, "R3")
    assert kind == "confirmation" and facts["technician"] == "Ana"
    assert datetime.fromisoformat(facts["planned_start"]) == at("10:00", DAY)
    core.move("R3", None, at("14:00", DAY))  # same day, inside what they were told: nothing to tell
    assert kinds(store, "R3") == ["confirmation"]
    later = DAY + timedelta(days=1)
    core.move("R3", None, at("10:00", later), force=True)  # outside the window, another day
    assert kinds(store, "R3") == ["confirmation", "rescheduled"]
    assert datetime.fromisoformat(notices(store, "R3")[-1][2]["planned_start"]) == at("10:00", later)


def test_en_route_tells_the_expected_arrival_when_live_and_nobody_after_the_fact(
    store: Engine, set_clock: Callable[[datetime], None]
) -> None:
    core = notifydata.core(store)
    core.assign("R1", "T1", at("09:30", DAY))
    core.assign("R3", "T1", at("11:00", DAY))
    set_clock(at("09:05", DAY))
    core = notifydata.core(store)
    for ref in ("R1", "R3"):
        core.set_status(ref, "dispatched", at("08:30", DAY))
    core.set_status("R1", "en_route")  # now: live
    (_, kind, facts) = notices(store, "R1")[-1]
    drive = core.job_detail("R1").travel_minutes  # type: ignore[union-attr]
    assert kind == "en_route" and drive
    assert datetime.fromisoformat(facts["eta"]) == at("09:05", DAY) + timedelta(minutes=drive)
    core.set_status("R3", "en_route", at("08:31", DAY))  # reported 34 minutes late: old news
    assert kinds(store, "R3") == ["confirmation"]


def test_job_complete_in_one_action_says_done_only_and_a_follow_up_is_announced(
    store: Engine, set_clock: Callable[[datetime], None]
) -> None:
    core = notifydata.core(store)
    core.assign("R1", "T1", at("09:30", DAY))
    core.assign("R2", "T2", at("13:00", DAY))
    set_clock(at("16:00", DAY))
    core = notifydata.core(store)
    core.set_status("R1", "dispatched", at("09:00", DAY))
    core.complete("R1", at("15:50", DAY))  # en route and on site inferred: nobody is told of those
    assert kinds(store, "R1") == ["confirmation", "completed"]
    for status, hhmm in (("dispatched", "12:00"), ("en_route", "12:40"), ("on_site", "13:00")):
        core.set_status("R2", status, at(hhmm, DAY))
    core.set_status("R2", "needs_follow_up", note="part on order")
    (follow_up,) = core.follow_ups("R2")
    ((_, kind, facts),) = notices(store, follow_up)
    assert kind == "follow_up" and facts["of_job_ref"] == "R2"
    assert "completed" not in kinds(store, "R2")  # not done: a second visit is needed
    core.set_status(follow_up, "cancelled")  # never told a time: nothing to take back
    assert kinds(store, follow_up) == ["follow_up"]


def test_a_cancelled_visit_the_customer_was_told_of_is_taken_back(store: Engine) -> None:
    core = notifydata.core(store)
    core.book("R1", at("09:30", DAY))
    core.set_status("R1", "cancelled", note="customer fixed it")
    assert kinds(store, "R1") == ["confirmation", "cancelled"]
    (_, _, facts) = notices(store, "R1")[-1]
    assert datetime.fromisoformat(facts["planned_start"]) == at("09:30", DAY)  # what they were told, kept


def test_an_import_that_moves_a_promised_window_tells_the_customer_and_one_that_does_not_tells_nobody(
    store: Engine,
) -> None:
    core = notifydata.core(store)
    core.book("R1", at("09:30", DAY))  # promised 09:30–11:30
    core.assign("R2", "T2", at("13:00", DAY))  # told 13:00–15:00
    d = notifydata.D  # R1 as booked, with a new text only: nothing to tell
    later = notifydata.REQUESTS.replace(f"{d}T09:00,{d}T11:00,,No heat", f"{d}T09:30,{d}T11:30,,No heat at all")
    later = later.replace(f"R2,C2,plumbing,45,3,{d}T13:00", f"R2,C2,plumbing,45,3,{d}T14:00")
    import_data(store, ImportKind.REQUESTS, later.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    assert kinds(store, "R1") == ["confirmation"]
    assert kinds(store, "R3") == []  # never told anything: still nothing
    assert kinds(store, "R2") == ["confirmation", "rescheduled"]
    assert datetime.fromisoformat(notices(store, "R2")[-1][2]["window_start"]) == at("14:00", DAY)
