"""Candidates on the day itself: the part of the day that has passed is offered to nobody."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from dispatch_tui.config import Settings
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.services.planning.candidates import rank_candidates
from dispatch_tui.services.travel import point_travel
from tests.clock import DAY, MONDAY, ZONE, at
from tests.conftest import WEEKDAYS
from tests.unit.importdata import CUSTOMERS, REQUESTS, TECHNICIANS


def test_no_candidate_starts_before_now_and_a_passed_window_has_none(engine: Engine) -> None:
    for kind, content in ((ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, CUSTOMERS),
                          (ImportKind.REQUESTS, REQUESTS)):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    travel = point_travel(Settings(timezone="Europe/Paris"), engine)

    def starts(now: datetime | None) -> list[str]:  # R3: hvac, 90 min, window 10:00-14:00, Ana only
        with Session(engine) as session:
            found = rank_candidates(session, "R3", zone=ZONE, travel=travel, now=now)
        return [c.start.astimezone(ZONE).strftime("%H:%M") for c in found]

    assert starts(None) == ["10:00"]
    assert starts(at(DAY, "11:40")) == ["11:40"]
    assert starts(at(DAY, "14:05")) == []  # its window closed at 14:00
    assert starts(at(MONDAY, "18:00")) == ["10:00"]  # the evening before: all of it
