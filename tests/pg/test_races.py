"""Eight dispatchers at once, on PostgreSQL and on SQLite: one job gets one technician, and one
technician never gets two overlapping visits. Each booking is slowed down between its check and its
write, so that without the locks every one of them would check a day that has none of the others."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from dispatch_tui.config import Settings
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.store import make_engine, upgrade
from tests.clock import DAY, ZONE, at, naive
from tests.conftest import WEEKDAYS

DISPATCHERS = 8
NINE = at(DAY, "09:00")
TECHS = "ref,name,skills,home_lat,home_lon,shift_start,shift_end,hourly_cost\n" + "".join(
    f"T{i},Tech {i},hvac,45.76,4.84,08:00,17:00,40\n" for i in range(1, DISPATCHERS + 1)
)
CUSTOMERS = "ref,name,address,lat,lon\nC1,Claire Dubois,12 Rue Garibaldi,45.759,4.852\n"
REQUESTS = "ref,customer_ref,skill,duration_min,priority,window_start,window_end,description,source\n" + "".join(
    f"R{i},C1,hvac,60,2,{naive(DAY, '09:00')},{naive(DAY, '12:00')},Fan,phone\n" for i in range(1, DISPATCHERS + 1)
)


def race_store(url: str, technicians: str = TECHS, customers: str = CUSTOMERS, requests: str = REQUESTS) -> str:
    """A store at ``url`` made by the migrations and filled by the import (the booking race shares it)."""
    engine = make_engine(url)
    upgrade(engine)
    for kind, content in ((ImportKind.TECHNICIANS, technicians), (ImportKind.CUSTOMERS, customers),
                          (ImportKind.REQUESTS, requests)):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return race_store(f"sqlite:///{tmp_path / 'race.db'}")
    return race_store(request.getfixturevalue("pg_url"))


def _book(url: str, job_ref: str, tech_ref: str, start: Any, gate: Any, results: Any) -> None:
    """One dispatcher's assign, in its own process and connection."""
    from sqlmodel import Session

    from dispatch_tui.services import errors
    from dispatch_tui.services.planning import assignment
    from dispatch_tui.services.travel import point_travel

    engine = make_engine(url)
    travel = point_travel(Settings(db=url, timezone="Europe/Paris"), engine)
    checked = assignment._check

    def slow_check(*args: Any, **kwargs: Any) -> list[str]:
        reasons = checked(*args, **kwargs)
        time.sleep(0.2)  # the others all run their checks in this gap, unless something holds them
        return reasons

    assignment._check = slow_check
    gate.wait()
    try:
        with Session(engine) as session:
            assignment.assign(session, job_ref, tech_ref, start, zone=ZONE, travel=travel, actor=f"d-{tech_ref}")
            session.commit()
        results.put((job_ref, tech_ref, "assigned"))
    except errors.Refused as refused:
        results.put((job_ref, tech_ref, f"refused: {refused.reasons[0]}"))
    except errors.Conflict as conflict:
        results.put((job_ref, tech_ref, f"conflict: {conflict}"))
    finally:
        engine.dispose()


def _race(url: str, bookings: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    context = multiprocessing.get_context("fork")
    gate, results = context.Barrier(len(bookings)), context.Queue()
    workers = [context.Process(target=_book, args=(url, job, tech, NINE, gate, results)) for job, tech in bookings]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return outcomes


def _appointments(url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT j.ref, t.ref, a.start FROM appointment a JOIN job j ON j.id = a.job_id "
                "JOIN technician t ON t.id = a.technician_id ORDER BY j.ref"
            )
        ).all()
    engine.dispose()
    return [(job, tech, str(start)) for job, tech, start in rows]


def test_one_job_eight_dispatchers_one_winner(store_url: str) -> None:
    outcomes = _race(store_url, [("R1", f"T{i}") for i in range(1, DISPATCHERS + 1)])
    winners = [o for o in outcomes if o[2] == "assigned"]
    assert len(winners) == 1, outcomes
    assert all("R1 is already scheduled" in o[2] for o in outcomes if o[2] != "assigned"), outcomes
    assert [(job, tech) for job, tech, _ in _appointments(store_url)] == [("R1", winners[0][1])]


def test_one_technician_eight_overlapping_bookings_at_most_one(store_url: str) -> None:
    outcomes = _race(store_url, [(f"R{i}", "T1") for i in range(1, DISPATCHERS + 1)])
    assert sum(o[2] == "assigned" for o in outcomes) == 1, outcomes
    assert all("overlaps" in o[2] for o in outcomes if o[2] != "assigned"), outcomes
    assert len(_appointments(store_url)) == 1
