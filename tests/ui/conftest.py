"""A demo store at a fixed moment, and the console over it with the clock fixed too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from dispatch_tui.config import Settings
from dispatch_tui.localtime import local_at
from dispatch_tui.services.demo import build_demo
from dispatch_tui.services.demo_data import DemoSpec
from dispatch_tui.store.models import Job, JobEvent
from dispatch_tui.tui.app import DispatchApp
from tests.conftest import ZONE

DAY = date(2026, 12, 1)
NOON = local_at(DAY, 12 * 60, ZONE)


def build_fixed_demo(engine: Engine) -> None:
    """The demo at noon, with every request received at 08:00 that day: round waiting times for the snapshots."""
    build_demo(engine, DemoSpec(day=DAY), ZONE, now=NOON)
    received = NOON - timedelta(hours=4)
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
    def make(**settings: object) -> DispatchApp:
        return DispatchApp(
            Settings(db=str(db_path), timezone=ZONE.key, **settings),  # type: ignore[arg-type]
            now=lambda: NOON,
            day=DAY,
            poll_interval=0.2,
            optimize_time_limit=1.0,
            actor="tester",
        )

    return make
