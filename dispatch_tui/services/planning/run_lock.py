"""One optimizer run at a time per store: an exclusive, non-blocking lock.

On PostgreSQL a session advisory lock, so that runs from any machine exclude each other; on SQLite a
file lock beside the store (an SQLite store is on one machine). Either is released by the server or
the operating system when the process dies, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from platformdirs import user_runtime_dir


class Busy(Exception):
    """Another run holds the lock."""


def lock_path(db_url: str, name: str) -> Path:
    if db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        return Path(f"{db_url.removeprefix('sqlite:///')}.{name}.lock")
    digest = hashlib.sha256(db_url.encode()).hexdigest()[:16]
    return Path(user_runtime_dir("dispatch")) / f"{name}-{digest}.lock"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``, per lock name."""
    return int.from_bytes(hashlib.sha256(f"dispatch:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive(db_url: str, name: str = "optimize") -> Iterator[None]:
    if db_url.startswith("postgresql"):
        with _advisory(db_url, name):
            yield
        return
    path = lock_path(db_url, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"another {name} run holds {path}; try again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory(db_url: str, name: str) -> Iterator[None]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(db_url, poolclass=NullPool)  # its own connection: the lock lives as long as it
    try:
        with engine.connect() as connection:
            key = advisory_key(name)
            if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
                raise Busy(f"another {name} run holds the store's lock; try again when it has finished")
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        engine.dispose()
