"""Shared fixtures: a fresh SQLite store per test (made by the real migrations) and isolated settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from dispatch_tui.store import make_engine, upgrade

ZONE = ZoneInfo("Europe/Paris")  # not UTC, so that offsets are exercised
WEEKDAYS = [0, 1, 2, 3, 4]


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config file, data directory or environment."""
    for name in ("DISPATCH_DB", "DISPATCH_TIMEZONE", "DISPATCH_TRAVEL_ROAD_FACTOR", "DISPATCH_WORKING_DAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISPATCH_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dispatch.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    engine = make_engine(db_path)
    upgrade(engine)
    yield engine
    engine.dispose()


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare a store before and after."""
    import dispatch_tui.store.models  # noqa: F401

    with engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(text(f'SELECT * FROM "{name}" ORDER BY 1'))]
            for name in sorted(SQLModel.metadata.tables)
        }
