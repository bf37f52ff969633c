"""`dispatch status|complete|feedback` as a dispatcher types them: results, refusals (3), usage errors (2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.clock import DAY as AHEAD
from tests.clock import naive
from tests.conftest import dump
from tests.unit.test_billing import dispatch
from tests.unit.workdata import DAY, load


@pytest.fixture
def db(engine: Engine, db_path: Path) -> Path:
    load(engine)
    return db_path


def test_a_day_entered_after_the_fact(db: Path) -> None:
    code, out, err = dispatch(db, "status", "R1", "dispatched", "--at", naive(DAY, "08:50"), "--note", "by phone")
    assert code == 0, err
    assert out.strip() == f"set R1 → T1 {DAY:%a %d %b} 09:30–10:30 (dispatched, version 3)"
    code, out, err = dispatch(db, "complete", "R1", "--at", naive(DAY, "10:45"), "--started", naive(DAY, "09:40"),
                              "--part", "FLT-20:2", "--part", "VLV-3", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["status"] == "completed"
    code, out, err = dispatch(db, "feedback", "R1", "--rating", "4", "--comment", "quick and tidy")
    assert (code, out.strip()) == (0, "rated R1 4/5")
    code, out, _ = dispatch(db, "export", "billing", "--from", f"{DAY}", "--to", f"{DAY}", "--format", "json")
    (line,) = json.loads(out)
    # 09:40 → 10:45 = 65 min → 75 billed at 60.00/h = 75.00, call-out 25.00, parts 2 × 12.40 + 7.05 = 31.85
    assert (line["work_minutes"], line["labor"], line["callout"], line["parts"], line["total"]) == (
        65, "75.00", "25.00", "31.85", "131.85",
    )  # fmt: skip


def test_needs_follow_up_says_which_request_it_queued(db: Path) -> None:
    for state, moment in (("dispatched", "08:00"), ("en_route", "08:10"), ("on_site", "08:30")):
        assert dispatch(db, "status", "R5", state, "--at", naive(DAY, moment))[0] == 0
    code, out, _ = dispatch(db, "status", "R5", "needs_follow_up", "--at", naive(DAY, "09:00"), "--note", "part")
    assert code == 0
    assert "follow-up request R5-F1 is in the queue" in out
    code, out, _ = dispatch(db, "jobs", "list", "--status", "new", "--json")
    assert "R5-F1" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("status", "R1", "completed"),
            3,
            "refused: R1 is scheduled and cannot become completed: it can become dispatched, on_hold, cancelled",
        ),
        (("status", "R1", "dispatched", "--at", naive(AHEAD, "09:00")), 3, "is in the future"),  # the suite's tomorrow
        (("status", "R1", "dispatched", "--at", "tuesday"), 2, "--at 'tuesday'"),
        (("status", "R1", "flying"), 2, "flying"),
        (("status", "NOPE", "dispatched"), 3, "no job 'NOPE'"),
        (("complete", "R1"), 3, "it was never dispatched"),
        (("complete", "R1", "--part", "FLT-20:x"), 2, "give SKU:QTY"),
        (("feedback", "R1", "--rating", "9"), 2, "less than or equal to 5"),
        (("feedback", "R1", "--rating", "3"), 3, "a visit is rated once it is completed"),
    ],
)
def test_bad_input_says_why_exits_with_its_code_and_changes_nothing(
    db: Path, engine: Engine, args: tuple[str, ...], code: int, message: str
) -> None:
    before = dump(engine)
    got, _, err = dispatch(db, *args)
    assert got == code
    assert message in " ".join(err.split())
    assert "--force" not in err  # no override to suggest: these commands have none
    assert dump(engine) == before


def test_a_clock_time_alone_means_today(db: Path, engine: Engine) -> None:
    from sqlmodel import Session, col, select

    from dispatch_tui import clock
    from dispatch_tui.store.models import JobEvent
    from tests.clock import ZONE, at

    code, _, err = dispatch(db, "status", "R1", "dispatched", "--at", "0:00")
    assert code == 0, err
    with Session(engine) as session:
        event = session.exec(select(JobEvent).order_by(col(JobEvent.id).desc())).first()
    assert event is not None and event.to_status == "dispatched"
    today = clock.current().today(ZONE)  # by the suite's clock: NOW, Monday evening
    assert event.at.astimezone(ZONE) == at(today, "00:00")
    assert dispatch(db, "status", "R1", "en_route", "--at", "25:00")[0] == 2
