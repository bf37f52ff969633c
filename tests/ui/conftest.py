"""A demo store at noon of DAY (the suite's Tuesday ahead), and the console over it with its clock frozen there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from dispatch_tui.clock import Clock
from dispatch_tui.config import Settings
from dispatch_tui.services.intake.demo import build_demo
from dispatch_tui.services.intake.demo_data import DemoSpec
from dispatch_tui.store.models import Job, JobEvent
from dispatch_tui.tui.app import DispatchApp
from tests.clock import DAY, ZONE, at

NOON = at(DAY, "12:00")


def build_fixed_demo(engine: Engine, day: date = DAY, noon: datetime = NOON) -> None:
    """The demo at noon, with every request received at 08:00 that day: round waiting times for the snapshots."""
    build_demo(engine, DemoSpec(day=day), ZONE, now=noon)
    received = noon - timedelta(hours=4)
    with Session(engine) as session:
        session.execute(update(Job).values(created_at=received))
        session.execute(update(JobEvent).where(col(JobEvent.from_status).is_(None)).values(at=received))
        session.commit()


@pytest.fixture
def demo(engine: Engine) -> Engine:
    build_fixed_demo(engine)
    return engine


@pytest.fixture
def make_app(db_path: Path) -> Callable[..., DispatchApp]:
    def make(**settings: Any) -> DispatchApp:
        return DispatchApp(
            Settings(db=str(db_path), timezone=ZONE.key, **settings),
            clock=Clock.at(NOON, frozen=True),
            day=DAY,
            poll_interval=0.2,
            optimize_time_limit=1.0,
            actor="tester",
        )

    return make
