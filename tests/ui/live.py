"""Shared by the SQLite and PostgreSQL live tests: another writer commits, the open board shows it."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from dispatch_tui.clock import Clock
from dispatch_tui.config import Settings
from dispatch_tui.services.planning.assignment import assign
from dispatch_tui.services.planning.candidates import rank_candidates
from dispatch_tui.store import make_engine
from dispatch_tui.travel.haversine import travel_minutes
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from tests.clock import DAY, ZONE
from tests.ui.conftest import NOON
from tests.ui.helpers import settle, until


def _travel(a: tuple[float, float], b: tuple[float, float]) -> int:
    return travel_minutes(a[0], a[1], b[0], b[1])


def _assign_elsewhere(db: str, ref: str, tech_ref: str, start: datetime) -> float:
    """Assign through an engine of its own (its own connections, as another process has) and return
    the moment of the commit."""
    other = make_engine(db)
    try:
        with Session(other) as session:
            assign(session, ref, tech_ref, start, zone=ZONE, travel=_travel, actor="elsewhere")
            session.commit()
            return time.monotonic()
    finally:
        other.dispose()


async def another_writers_assign_shows_within(db: str, engine: Engine, limit_s: float) -> float:
    """Open the board (its interval poll too slow to matter), assign a waiting request through other
    connections, and return how long after that commit the board stopped listing it."""
    app = DispatchApp(
        Settings(db=db, timezone=ZONE.key),
        clock=Clock.at(NOON, frozen=True),
        day=DAY,
        poll_interval=600.0,  # only the change feed can make the board see the write in time
        optimize_time_limit=1.0,
        actor="tester",
    )
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        with Session(engine) as session:
            ref, best = next(
                (row.ref, found[0])
                for row in requests.rows
                if (found := rank_candidates(session, row.ref, zone=ZONE, travel=_travel, limit=1))
            )
        written = await asyncio.to_thread(_assign_elsewhere, db, ref, best.technician_ref, best.start)
        await until(pilot, lambda: ref not in [r.ref for r in requests.rows], timeout=limit_s)
        return time.monotonic() - written
