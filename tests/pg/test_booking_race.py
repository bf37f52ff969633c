"""Eight dispatchers on the phone at once, each booking a different customer into the last free window of
the one technician who can do the work (PostgreSQL and SQLite): exactly one visit lands, the seven others
are told the time is taken, and nothing of theirs is written. Each booking's rule check is slowed down,
so that without the locks every one of them would see the day still free."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from dispatch_tui.config import Settings
from dispatch_tui.store import make_engine
from dispatch_tui.store.models import Appointment, Job
from tests.clock import DAY, NOW, at, naive
from tests.pg.test_races import race_store

CALLERS = 8
# One technician, free 09:00–10:30: room for one 60-minute visit, not two.
TECHS = (
    "ref,name,skills,home_lat,home_lon,shift_start,shift_end,hourly_cost\nT1,Tech 1,hvac,45.76,4.84,09:00,10:30,40\n"
)
CUSTOMERS = "ref,name,address,lat,lon\n" + "".join(
    f"C{i},Customer {i},{i} Rue Garibaldi,45.76,4.84\n" for i in range(1, CALLERS + 1)
)
REQUESTS = "ref,customer_ref,skill,duration_min,priority,window_start,window_end,description,source\n" + "".join(
    f"R{i},C{i},hvac,60,2,{naive(DAY, '08:00')},{naive(DAY, '18:00')},Fan,phone\n" for i in range(1, CALLERS + 1)
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return race_store(f"sqlite:///{tmp_path / 'booking.db'}", TECHS, CUSTOMERS, REQUESTS)
    return race_store(request.getfixturevalue("pg_url"), TECHS, CUSTOMERS, REQUESTS)


def _caller(url: str, job_ref: str, gate: Any, results: Any) -> None:
    """One dispatcher's `book`, through the core, in its own process and connection."""
    from dispatch_tui.clock import Clock
    from dispatch_tui.services.core import Core
    from dispatch_tui.services.errors import Conflict, Refused
    from dispatch_tui.services.planning import assignment

    checked = assignment._check

    def slow_check(*args: Any, **kwargs: Any) -> list[str]:
        reasons = checked(*args, **kwargs)
        time.sleep(0.2)  # the others all run their checks in this gap, unless something holds them
        return reasons

    assignment._check = slow_check
    core = Core(Settings(db=url, timezone="Europe/Paris"), Clock.at(NOW, frozen=True), actor=f"d-{job_ref}")
    gate.wait()
    try:
        booked = core.book(job_ref, at(DAY, "09:00"))
        results.put((job_ref, f"booked {booked.technician_ref}"))
    except Refused as refused:
        results.put((job_ref, f"refused: {refused.reasons[0]}"))
    except Conflict as conflict:
        results.put((job_ref, f"conflict: {conflict}"))
    finally:
        core.close()


def test_eight_callers_one_last_window_one_visit(store_url: str) -> None:
    context = multiprocessing.get_context("fork")
    gate, results = context.Barrier(CALLERS), context.Queue()
    workers = [context.Process(target=_caller, args=(store_url, f"R{i}", gate, results)) for i in range(1, CALLERS + 1)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=90) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    winners = [job for job, outcome in outcomes if outcome == "booked T1"]
    assert len(winners) == 1, outcomes
    assert all("nobody can start" in outcome for job, outcome in outcomes if job not in winners), outcomes
    engine = make_engine(store_url)
    with Session(engine) as session:
        visits = session.exec(select(Job.ref).join(Appointment, col(Appointment.job_id) == col(Job.id))).all()
        promised = [job.ref for job in session.exec(select(Job)) if job.window_start == at(DAY, "09:00")]
    engine.dispose()
    assert list(visits) == winners
    assert promised == winners  # the others' promised windows rolled back with their bookings
