"""Word that another process committed a change, so that an open console can reload within a second.

PostgreSQL: a connection of its own LISTENs on the channel that the store's triggers NOTIFY at every
commit touching what the board shows (migration 0004), whoever the writer is. SQLite has no
notifications: ``PRAGMA data_version`` on a connection of its own changes when any other connection
commits, and reading it costs no table scan, so it is polled often.

A feed only says "look again": the caller's change token decides whether anything it shows changed.
When the feed cannot tell (its connection dropped), it says "look again" rather than miss a change.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Protocol

from sqlalchemy import Engine

CHANNEL = "dispatch_changes"  # the store's triggers NOTIFY here (migration 0004)
SQLITE_POLL_S = 0.1


class ChangeFeed(Protocol):
    def wait(self, timeout_s: float) -> bool:
        """True as soon as another process committed since the last call; False after ``timeout_s``."""
        ...

    def close(self) -> None: ...


def open_feed(engine: Engine) -> ChangeFeed:
    if engine.dialect.name == "postgresql":
        return _PostgresFeed(engine)
    return _SqliteFeed(engine)


class _SqliteFeed:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Any = None
        self._version: int | None = None
        self._read()

    def _read(self) -> int | None:
        try:
            if self._connection is None:
                self._connection = self._engine.raw_connection()
            cursor = self._connection.cursor()
            try:
                version = int(cursor.execute("PRAGMA data_version").fetchone()[0])
            finally:
                cursor.close()
        except Exception:  # noqa: BLE001 - a store being replaced or locked: try again, and say "look"
            self.close()
            return None
        return version

    def wait(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            version = self._read()
            if version is None or version != self._version:
                changed = self._version is not None or version is None
                self._version = version
                if changed:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(SQLITE_POLL_S, max(0.0, deadline - time.monotonic())))

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection: nothing left to do
                self._connection.close()
            self._connection = None


class _PostgresFeed:
    def __init__(self, engine: Engine) -> None:
        self._url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection: Any = None
        self._connect()

    def _connect(self) -> bool:
        import psycopg

        try:
            self._connection = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
            self._connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error:
            self.close()
            return False
        return True

    def wait(self, timeout_s: float) -> bool:
        import psycopg

        if self._connection is None:
            if not self._connect():
                time.sleep(timeout_s)
                return False
            return True  # reconnected: what happened meanwhile was not heard, so look
        try:
            heard = any(True for _ in self._connection.notifies(timeout=timeout_s, stop_after=1))
            if heard:  # several commits heard at once are one "look again"
                for _ in self._connection.notifies(timeout=0):
                    pass
            return heard
        except (psycopg.Error, OSError):
            self.close()
            return True

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection: nothing left to do
                self._connection.close()
            self._connection = None
