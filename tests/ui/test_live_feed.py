"""Live across consoles on SQLite: a commit by another process is on the board within a second."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from tests.ui.live import another_process_assign_shows_within


async def test_another_process_write_shows_within_one_second(demo: Engine, db_path: Path) -> None:
    took = await another_process_assign_shows_within(str(db_path), demo, limit_s=1.0)
    assert took <= 1.0
