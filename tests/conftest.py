"""Shared fixtures: the suite's clock (``tests/clock.py``), a fresh store per test (made by the real
migrations) on SQLite and, for the store-level suite, on PostgreSQL too; and isolated settings.

PostgreSQL is the server at ``DISPATCH_TEST_PG`` (default 127.0.0.1:5432, user postgres). A test that needs
it is skipped, saying why, when the server cannot be reached; with ``CI`` set it fails instead, so that a
CI job without its server cannot pass by skipping the PostgreSQL half of the suite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from dispatch_tui import clock
from dispatch_tui.store import make_engine, upgrade
from tests.clock import NOW

if TYPE_CHECKING:
    import psycopg

WEEKDAYS = [0, 1, 2, 3, 4]
PG_SERVER = os.environ.get("DISPATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


SUITE_CLOCK = clock.Clock.at(NOW, frozen=True)


def in_ci() -> bool:
    """Whether CI runs the suite (CI set, and not to false): there a missing tool or server fails, never skips."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config file, data directory or environment."""
    for name in [name for name in os.environ if name.startswith("DISPATCH_") and name != "DISPATCH_TEST_PG"]:
        monkeypatch.delenv(name)
    config = tmp_path / "empty-config.toml"  # it must exist: a DISPATCH_CONFIG naming no file is refused
    config.touch()
    monkeypatch.setenv("DISPATCH_CONFIG", str(config))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture(autouse=True)
def suite_clock(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, isolated_settings: None
) -> Iterator[None]:
    """Every test runs under a set, frozen clock: ``NOW`` (the evening before ``DAY``), or the moment its
    ``@pytest.mark.clock("...")`` gives. In process, and for the commands it starts (``DISPATCH_NOW``)."""
    marker = request.node.get_closest_marker("clock")
    moment = datetime.fromisoformat(marker.args[0]) if marker else NOW
    _set_clock(monkeypatch, moment)
    yield
    clock.use(SUITE_CLOCK)


def pytest_configure(config: pytest.Config) -> None:
    """The suite's clock from the start, before fixtures of any scope: a module- or session-scoped store
    is built under it too (``suite_clock`` then sets it again around each test)."""
    clock.use(SUITE_CLOCK)
    os.environ["DISPATCH_NOW"], os.environ["DISPATCH_NOW_FROZEN"] = NOW.isoformat(), "true"


@pytest.fixture
def set_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Move the frozen clock to another moment, for this test and the commands it starts from then on."""
    return lambda moment: _set_clock(monkeypatch, moment)


def _set_clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError(f"a test's clock is set to an aware moment, not {moment.isoformat()}")
    clock.use(clock.Clock.at(moment, frozen=True))
    monkeypatch.setenv("DISPATCH_NOW", moment.isoformat())
    monkeypatch.setenv("DISPATCH_NOW_FROZEN", "true")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dispatch.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    engine = make_engine(db_path)
    upgrade(engine)
    yield engine
    engine.dispose()


# --- PostgreSQL ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[psycopg.Connection[Any]]:
    """One autocommit connection to the server's ``postgres`` database, to create and drop databases.

    Session-scoped, so an unreachable server is tried once: pytest hands the same skip (or failure) to
    every later test that asks."""
    import psycopg

    try:
        admin = psycopg.connect(PG_SERVER.replace("postgresql+psycopg", "postgresql") + "/postgres",
                                autocommit=True, connect_timeout=3)  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means: skip, and say why
        if in_ci():
            pytest.fail(f"PostgreSQL at {PG_SERVER} is not reachable in CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG_SERVER} is not reachable: {exc}")
    with admin:
        yield admin


@contextmanager
def _fresh_database(admin: psycopg.Connection[Any], template: str | None = None) -> Iterator[str]:
    """A new database named for this test only (copied from ``template`` if given), dropped afterwards even
    if connections to it are still open."""
    name = f"dispatch_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_template(pg_admin: psycopg.Connection[Any]) -> Iterator[str]:
    """A database brought to head by the migrations once per run: copying it (about 0.25 s) is half the
    price of migrating each fresh database. Made on first use, so a run without PostgreSQL tests never
    builds it."""
    with _fresh_database(pg_admin) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()  # CREATE DATABASE ... TEMPLATE refuses a source with open connections
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def pg_url(pg_admin: psycopg.Connection[Any]) -> Iterator[str]:
    """The URL of a fresh, empty database: no schema, not even Alembic's table."""
    with _fresh_database(pg_admin) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def store_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The store-level suite's engine, once per backend: "sqlite" is the ``engine`` fixture's file store
    (``db_path``); "postgresql" a fresh database on the server, made by the same migrations. For the CLI,
    ``db_arg(store_engine)`` is the matching ``--db``."""
    if request.param == "sqlite":
        yield request.getfixturevalue("engine")
        return
    admin, template = request.getfixturevalue("pg_admin"), request.getfixturevalue("pg_template")
    with _fresh_database(admin, template) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes a PostgreSQL database is a ``pg`` test, so that ``-m "not pg"`` leaves out all of
    them (the ``store_engine`` param is marked where it is declared)."""
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pg)


def db_arg(engine: Engine) -> str:
    """What to give ``--db`` (or ``Settings.db``) to reach the store behind ``engine``."""
    return engine.url.render_as_string(hide_password=False)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table as the database holds it, to compare a store before and after on one
    backend. Rows come in primary-key order, a total order: ``ORDER BY 1`` left ties (composite keys) in
    whatever order PostgreSQL's sort happens to give."""
    import dispatch_tui.store.models  # noqa: F401

    def order(table: Any) -> str:
        columns = list(table.primary_key.columns) or list(table.columns)
        return ", ".join(f'"{column.name}"' for column in columns)

    with engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(text(f'SELECT * FROM "{name}" ORDER BY {order(table)}'))]
            for name, table in sorted(SQLModel.metadata.tables.items())
        }
